"""What a report section is, what it gets (:class:`Context`), and how sections and energy rows are found.

A section is a class with ``name``, ``title`` and ``build(ctx) -> SectionResult``, declared in the
entry-point group ``neurocal.report_sections`` (``name = "package.module:Class"``): the spine never
imports a room; a room offers its section in its own packaging. A section that cannot be filled
returns ``not_run`` reasons ("not run, because …"), never a placeholder number.

The energy section adds one row per target from the group ``neurocal.report_energy``
(``name = "package.module:function"``, ``function(ctx) -> list[EnergyRow]``), so the FPGA's and the
photonic front end's estimates come from the rooms that know their models; the agreement section adds
rows beyond the backends from ``neurocal.report_agreement`` (``function(ctx) -> list[dict]``, each row as
:meth:`Context.backend_row` returns, or ``{"backend": …, "not_run": reason}``), e.g. a deploy folder's driver.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from neurocal.backends import BackendResult, compare_results, get_backend, validate_result
from neurocal.intnet import IntNetwork
from neurocal.report.cache import StageCache, code_digest
from neurocal.report.quantity import Quantity

SECTIONS_GROUP = "neurocal.report_sections"
ENERGY_GROUP = "neurocal.report_energy"
AGREEMENT_GROUP = "neurocal.report_agreement"
ORDER = ("physics", "agreement", "operations", "hardware", "energy")  # the report's reading order
RAPL = Path("/sys/class/powercap/intel-rapl:0/energy_uj")


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]  # cells: text, numbers, or quantities


@dataclass
class Figure:
    file: str  # PNG file name in the report folder
    png: bytes
    caption: str


@dataclass
class SectionResult:
    """What a section found: ``numbers`` (quantities by name), tables, figures, ``not_run`` reasons, notes;
    ``headline`` (one line) with ``headline_key`` naming the number the page shows as its value."""

    numbers: dict[str, Quantity] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headline: str | None = None
    headline_key: str | None = None


@dataclass
class EnergyRow:
    """One target's energy per event (a derived quantity whose inputs name their constants), or why not."""

    target: str
    energy: Quantity | None
    basis: str  # "published figures", "power model", "measured", …
    not_run: str | None = None


class Section(Protocol):
    name: str
    title: str

    def build(self, ctx: Context) -> SectionResult: ...


def available_sections() -> dict[str, Any]:
    """Installed sections by name (entry points, not imported yet)."""
    return {ep.name: ep for ep in entry_points(group=SECTIONS_GROUP)}


def energy_providers() -> list[Callable[[Context], list[EnergyRow]]]:
    return [ep.load() for ep in sorted(entry_points(group=ENERGY_GROUP), key=lambda e: e.name)]


def agreement_providers() -> list[Callable[[Context], list[dict[str, Any]]]]:
    return [ep.load() for ep in sorted(entry_points(group=AGREEMENT_GROUP), key=lambda e: e.name)]


def _rapl_uj() -> int | None:
    """The package's cumulative energy counter (µJ), where the kernel lets us read it."""
    try:
        return int(RAPL.read_text())
    except (OSError, ValueError):
        return None


@dataclass
class Context:
    """The inputs of a report and the runs sections share: every backend runs once per report, and its
    summary is kept in the stage cache for the next report on the same inputs."""

    bundle: Path
    data: Path
    net: IntNetwork
    spikes: np.ndarray  # bool (events, ticks, n_in)
    data_sha256: str
    profile: str
    backends: list[str]
    cache: StageCache
    deploy: Path | None = None
    run: Path | None = None
    build_root: Path = Path("build") / "rtl"
    progress: Callable[[str], None] = lambda _msg: None
    published: dict[str, Any] = field(default_factory=dict)  # what one section hands a later one
    _results: dict[str, BackendResult] = field(default_factory=dict)
    _golden_cost: dict[str, Any] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return int(self.spikes.shape[0])

    def parts(self, **more: Any) -> dict[str, Any]:
        """The cache key of a stage on this report's inputs, plus ``more``."""
        return {"network": self.net.content_hash, "data": self.data_sha256, "events": self.n_events, **more}

    def stage(self, name: str, compute: Callable[[], dict[str, Any]], **more: Any) -> dict[str, Any]:
        return self.cache.get(name, self.parts(**more), compute)

    def result(self, name: str) -> BackendResult:
        """Run backend ``name`` on the report's events (once per report), validated against the network."""
        if name not in self._results:
            self.progress(f"running {name} on {self.n_events} events")
            options: dict[str, Any] = {"progress": True}
            if name.startswith("rtl-"):
                options["build_root"] = self.build_root
            energy0, cpu0 = _rapl_uj(), time.process_time()
            raw = get_backend(name, **options).run(self.net, self.spikes)
            cpu, energy1 = time.process_time() - cpu0, _rapl_uj()
            result = validate_result(raw, self.net, self.spikes.shape, name)
            result.info.setdefault("report_cpu_seconds", cpu)
            if energy0 is not None and energy1 is not None and energy1 >= energy0:
                result.info["report_rapl_joules"] = (energy1 - energy0) * 1e-6
            self._results[name] = result
        return self._results[name]

    def provided_rows(self) -> list[dict[str, Any]]:
        """The agreement rows the rooms add (:func:`agreement_providers`, e.g. a deploy folder's driver), computed
        once per report: the agreement section lists them, the hardware section reads a deploy row's shape and
        cycles."""
        if "provided rows" not in self.published:
            self.published["provided rows"] = [row for provider in agreement_providers() for row in provider(self)]
        return self.published["provided rows"]

    def backend_row(self, name: str) -> dict[str, Any]:
        """One backend's run compared with the golden model: events, mismatches, first divergence, seconds, CPU
        seconds, and the hardware's cycles where it counts them (cached by inputs and backend)."""

        def compute() -> dict[str, Any]:
            result = self.result(name)
            row: dict[str, Any] = {"backend": name, "events": result.n_events, "seconds": float(result.seconds),
                                   "cpu_seconds": float(result.info.get("report_cpu_seconds", 0.0))}
            if "report_rapl_joules" in result.info:
                row["rapl_joules"] = float(result.info["report_rapl_joules"])
            if name == "golden":
                row.update(mismatched_events=0, mismatched=[], first_divergence=None,
                           ops={k: np.asarray(v).tolist() for k, v in result.ops.items()})
            else:
                cmp = compare_results(self.result("golden"), result)
                row.update(mismatched_events=int(cmp.n_mismatched), mismatched=cmp.mismatched.tolist(),
                           first_divergence=cmp.first.to_dict() if cmp.first else None)
            if "cycles" in result.info:  # a hardware simulation: its cycles and the shape it was built for
                row.update(cycles=[int(c) for c in result.info["cycles"]], clock_ns=float(result.info["clock_ns"]),
                           serial=bool(result.info.get("serial", False)),
                           shape={k: result.info[k] for k in ("lanes", "rows", "words") if k in result.info})
                if "hw_shape" in result.info:  # the whole build shape, as the simulating room writes it
                    row["hw_shape"] = result.info["hw_shape"]
            return row

        from neurocal.backends import available_backends

        found = available_backends().get(name)
        code = code_digest(found.module) if found is not None else None
        return self.stage(f"backend-{name}", compute, backend=name, code=code)
