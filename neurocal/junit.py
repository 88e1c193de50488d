"""JUnit XML results, so that a CI that runs a co-simulation shows each comparison as a test.

``neurocal compare``, ``neurocal rtl sim`` and ``neurocal report`` take ``--junit FILE``: one
``<testsuite>`` per command run, one ``<testcase>`` per backend compared (or per event range of
one), the first divergence — event, layer, tick, neuron, as :class:`~neurocal.backends.Divergence`
prints it — as the failure. The subset written is the one the common readers agree on:

* root ``<testsuites>`` holding ``<testsuite name tests failures errors skipped time timestamp
  hostname id package>``; ``timestamp`` is ISO 8601 without a zone (the Ant/Jenkins schema's
  pattern), in UTC;
* ``<testcase classname name time>``; GitLab shows ``classname`` as the suite and ``name`` as the
  test, and keeps only the first of two cases with the same pair, so names are unique per suite;
  Jenkins splits ``classname`` at its last dot into package and class;
* ``time`` in seconds, as a plain decimal with three places (Surefire's schema has no exponent);
* ``<failure message type>`` with the same text in its body too: GitLab ignores ``message``
  and shows the body; ``<error>`` for a case that could not run; ``<skipped message>`` for a case
  that was not run, saying why.

Characters XML 1.0 cannot hold (control characters other than tab and newline) are dropped from
every text. The file is written atomically (:mod:`neurocal.atomic`): a reader never sees half a
file, and a previous result survives a failed write.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from neurocal.backends import Comparison, Divergence
from neurocal.errors import NeurocalError

OPTION = "--junit"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_LISTED = 10  # mismatching event indices named in a failure's body


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


@dataclass(frozen=True)
class Case:
    """One ``<testcase>``: passed unless it carries a ``failure``, an ``error`` or a ``skipped`` reason.

    ``failure``/``error`` is the one-line message; ``details`` the body below it (defaults to the message).
    """

    name: str
    classname: str
    seconds: float = 0.0
    failure: str | None = None
    error: str | None = None
    skipped: str | None = None
    details: str = ""

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.failure, self.error, self.skipped)) > 1:
            raise ValueError(f"test case {self.name!r}: at most one of failure, error and skipped")
        if not self.seconds >= 0:
            raise ValueError(f"test case {self.name!r}: seconds must be ≥ 0, got {self.seconds}")


@dataclass
class Suite:
    """One ``<testsuite>``: a command run. ``seconds`` defaults to the sum of its cases'."""

    name: str
    cases: list[Case] = field(default_factory=list)
    properties: Mapping[str, Any] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float | None = None

    @property
    def failures(self) -> int:
        return sum(c.failure is not None for c in self.cases)

    @property
    def errors(self) -> int:
        return sum(c.error is not None for c in self.cases)

    @property
    def skipped(self) -> int:
        return sum(c.skipped is not None for c in self.cases)


def agreement_case(name: str, classname: str, *, events: int, mismatched: Sequence[int],
                   first: Divergence | Mapping[str, Any] | None, seconds: float,
                   by_field: Mapping[str, int] | None = None) -> Case:
    """A case for one backend (or event range) compared bit for bit with a reference.

    It fails if any event differs; the message names how many and the first divergence, the body
    adds the first mismatching events and how many events differ per compared field.
    """
    if not mismatched:
        return Case(name, classname, seconds)
    if isinstance(first, Mapping):
        first = Divergence(**first)
    message = f"{len(mismatched)} of {events} events differ"
    if first is not None:
        message += f"; first divergence at {first}"
    listed = ", ".join(str(int(e)) for e in list(mismatched)[:_MAX_LISTED])
    more = f" and {len(mismatched) - _MAX_LISTED} more" if len(mismatched) > _MAX_LISTED else ""
    lines = [f"{name}: {len(mismatched)} of {events} events differ (events {listed}{more})",
             f"first divergence: {first if first is not None else 'not located'}"]
    if by_field:
        lines.append("events differing per field: " + ", ".join(f"{k} {v}" for k, v in by_field.items() if v))
    return Case(name, classname, seconds, failure=message, details="\n".join(lines))


def comparison_case(comparison: Comparison, seconds: float, classname: str, name: str | None = None) -> Case:
    """:func:`agreement_case` from a :class:`~neurocal.backends.Comparison` (named "OTHER vs REFERENCE")."""
    return agreement_case(name or f"{comparison.other} vs {comparison.reference}", classname,
                          events=comparison.events, mismatched=comparison.mismatched.tolist(),
                          first=comparison.first, seconds=seconds,
                          by_field={k: int(v.size) for k, v in comparison.by_field.items()})


def _seconds(value: float) -> str:
    return f"{max(float(value), 0.0):.3f}"


def _case_element(case: Case) -> ET.Element:
    element = ET.Element("testcase", {"classname": _text(case.classname), "name": _text(case.name),
                                      "time": _seconds(case.seconds)})
    for tag, message, kind in (("failure", case.failure, "mismatch"), ("error", case.error, "error")):
        if message is not None:
            child = ET.SubElement(element, tag, {"message": _text(message), "type": kind})
            child.text = _text(case.details or message)
    if case.skipped is not None:
        ET.SubElement(element, "skipped", {"message": _text(case.skipped), "type": "not run"})
    return element


def to_xml(suites: Sequence[Suite]) -> bytes:
    """The JUnit XML document (UTF-8, with declaration) of ``suites``."""
    hostname = socket.gethostname() or "localhost"
    root = ET.Element("testsuites")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_seconds = 0.0
    for index, suite in enumerate(suites):
        seconds = suite.seconds if suite.seconds is not None else sum(c.seconds for c in suite.cases)
        counts = {"tests": len(suite.cases), "failures": suite.failures, "errors": suite.errors,
                  "skipped": suite.skipped}
        element = ET.SubElement(root, "testsuite", {
            "name": _text(suite.name), **{k: str(v) for k, v in counts.items()}, "time": _seconds(seconds),
            "timestamp": suite.started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": _text(hostname), "id": str(index), "package": _text(suite.name),
        })
        if suite.properties:
            props = ET.SubElement(element, "properties")
            for key, value in suite.properties.items():
                ET.SubElement(props, "property", {"name": _text(str(key)), "value": _text(str(value))})
        for case in suite.cases:
            element.append(_case_element(case))
        for key, value in counts.items():
            totals[key] += value
        total_seconds += seconds
    root.attrib.update({k: str(v) for k, v in totals.items()})
    root.set("time", _seconds(total_seconds))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def check_junit_path(path: str | Path, option: str = OPTION) -> Path:
    """Refuse, before any work, a ``--junit`` path that is not a writable ``.xml`` file; return it."""
    from neurocal.atomic import check_output_file

    if Path(path).suffix.lower() != ".xml":
        raise NeurocalError(f"{path}: {option} must end in .xml (CI test reporters read JUnit files named *.xml)")
    return check_output_file(path, option)


def write_junit(path: str | Path, suites: Sequence[Suite], option: str = OPTION) -> None:
    """Write ``suites`` to ``path`` as JUnit XML, atomically (check the path first with :func:`check_junit_path`)."""
    from neurocal.atomic import write_bytes_atomic

    write_bytes_atomic(path, to_xml(suites), option)
