"""JUnit XML results (``neurocal.junit``): what CI readers parse, on a real mismatch and on a clean run."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from neurocal.backends import compare_results
from neurocal.errors import NeurocalError
from neurocal.golden import GoldenBackend
from neurocal.junit import Case, Suite, agreement_case, check_junit_path, comparison_case, to_xml, write_junit
from tests.hw.mutants import reference_and_mutants


@pytest.fixture(scope="module")
def comparisons():
    """Golden model of a network against itself (clean) and against a one-weight mutant of it (a real mismatch)."""
    net, spikes, mutants = reference_and_mutants(31)
    golden = GoldenBackend().run(net, spikes)
    again = GoldenBackend().run(net, spikes)
    altered = GoldenBackend().run(mutants["weight"], spikes)
    altered.backend = "mutant"
    return compare_results(golden, again), compare_results(golden, altered)


def _parse(data: bytes) -> ET.Element:
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(data)


def test_a_mismatch_is_a_failure_carrying_the_first_divergence(comparisons, tmp_path):
    clean, bad = comparisons
    assert bad.n_mismatched and bad.first is not None and clean.n_mismatched == 0
    suite = Suite("neurocal compare", [comparison_case(clean, 0.25, "neurocal.compare", name="golden again"),
                                       comparison_case(bad, 1.5, "neurocal.compare")],
                  properties={"content_hash": "sha256:abc"})
    path = tmp_path / "results.xml"
    write_junit(path, [suite])
    root = _parse(path.read_bytes())
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    (element,) = root.findall("testsuite")
    assert {k: element.get(k) for k in ("name", "tests", "failures", "errors", "skipped", "time", "id")} == {
        "name": "neurocal compare", "tests": "2", "failures": "1", "errors": "0", "skipped": "0", "time": "1.750",
        "id": "0"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", element.get("timestamp"))  # no zone: Ant's pattern
    assert element.find("properties/property").attrib == {"name": "content_hash", "value": "sha256:abc"}
    passed, failed = element.findall("testcase")
    assert passed.attrib == {"classname": "neurocal.compare", "name": "golden again", "time": "0.250"}
    assert list(passed) == []
    assert failed.get("name") == "mutant vs golden" and failed.get("time") == "1.500"
    (failure,) = failed
    first = bad.first
    where = f"event {first.event}, layer {first.layer}, tick {first.tick}, neuron {first.neuron}: spike"
    assert failure.tag == "failure" and failure.get("type") == "mismatch"
    assert failure.get("message") == (f"{bad.n_mismatched} of {bad.events} events differ; first divergence at "
                                      f"{first}")
    assert where in failure.get("message") and first.layer == 0  # the mutation sits in hidden layer 0
    assert f"first divergence: {first}" in failure.text  # GitLab shows the body, not the message
    assert f"(events {', '.join(map(str, bad.mismatched.tolist()))})" in failure.text


def test_a_clean_run_has_no_failures(comparisons):
    clean, _ = comparisons
    root = _parse(to_xml([Suite("neurocal rtl sim", [comparison_case(clean, 0.1, "neurocal.rtl_sim", name=n)
                                                     for n in ("serial", "streamed")])]))
    assert root.get("failures") == root.find("testsuite").get("failures") == "0"
    assert root.get("tests") == "2" and not root.findall(".//failure")


def test_a_divergence_given_as_its_dict_reads_the_same(comparisons):
    """``neurocal report`` keeps divergences as report.json's dicts."""
    _, bad = comparisons
    from_dict = agreement_case("mutant vs golden", "neurocal.compare", events=bad.events,
                               mismatched=bad.mismatched.tolist(), first=bad.first.to_dict(), seconds=1.5,
                               by_field={k: int(v.size) for k, v in bad.by_field.items()})
    assert from_dict == comparison_case(bad, 1.5, "neurocal.compare")


def test_errors_skips_and_text_xml_cannot_hold():
    suite = Suite("neurocal report", [
        Case("hardware", "neurocal.report", error="yosys\x07 failed\non line 3"),
        Case("board", "neurocal.report", skipped="not run, because no board is attached"),
    ])
    root = _parse(to_xml([suite, Suite("empty")]))
    first, second = root.findall("testsuite")
    assert (first.get("errors"), first.get("skipped"), first.get("failures")) == ("1", "1", "0")
    assert second.get("tests") == "0" and second.get("id") == "1"
    assert root.get("errors") == "1" and root.get("tests") == "2"
    error = first.find("testcase/error")
    assert error.get("message") == error.text == "yosys failed\non line 3"
    assert first.find("testcase/skipped").get("message") == "not run, because no board is attached"
    with pytest.raises(ValueError, match="at most one"):
        Case("x", "y", failure="a", error="b")


def test_the_path_is_checked_before_the_work(tmp_path):
    with pytest.raises(NeurocalError, match=r"--junit must end in \.xml"):
        check_junit_path(tmp_path / "results.json")
    with pytest.raises(NeurocalError, match="is a directory"):
        (tmp_path / "d.xml").mkdir()
        check_junit_path(tmp_path / "d.xml")
    with pytest.raises(NeurocalError, match="does not exist"):
        check_junit_path(tmp_path / "missing" / "r.xml")
    assert check_junit_path(tmp_path / "r.xml") == tmp_path / "r.xml"
