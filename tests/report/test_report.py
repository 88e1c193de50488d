"""``neurocal report`` end to end on a tiny trained network: every derived number recomputes from what is stored
beside it, sections say why they did not run, ``--sections`` picks, a second run reuses the stage cache, and
bad input is one line with exit 2.

Real parts only: a trained snnTorch run (1 epoch, 400-8-1 on synthetic events), the quantised bundle, the
golden model and Lava; the hardware section from the cycle and resource models (no RTL build, no yosys).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from neurocal.cli import main
from neurocal.energy import ALL
from neurocal.sim.dataset import write_h5
from tests.models.synthetic import synthetic_events

EVENTS = 4


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A trained energy run (400-8-1, one epoch), its quantised bundle and the events."""
    from neurocal.models.config import TrainConfig
    from neurocal.models.training import train

    root = tmp_path_factory.mktemp("report")
    write_h5(synthetic_events(60, seed=3), root / "d.h5")
    run = train(TrainConfig(target="energy", hidden=[8], epochs=1, batch_size=20, seed=0), root / "d.h5",
                root / "run", progress=False)
    done = CliRunner().invoke(main, ["quantize", str(run), "--data", str(root / "d.h5"), "--out", str(root / "bundle"),
                                     "--events", "20"])
    assert done.exit_code == 0, done.output
    return {"root": root, "data": root / "d.h5", "run": run, "bundle": root / "bundle"}


def _report(tiny: dict[str, Path], out: Path, *extra: str) -> Any:
    args = ["report", "--bundle", str(tiny["bundle"]), "--data", str(tiny["data"]), "--out", str(out),
            "--events", str(EVENTS), "--cache", str(tiny["root"] / "cache"),
            "--build-root", str(tiny["root"] / "build"), *extra]
    return CliRunner().invoke(main, args)


def _recompute(q: dict[str, Any]) -> float:
    """The test's own evaluation of a stored formula: Python arithmetic over the stored inputs, nothing else."""
    if "formula" not in q:
        return float(q["value"])
    names = {name: _recompute(sub) for name, sub in q["inputs"].items()}
    return float(eval(q["formula"], {"__builtins__": {}, "min": min, "max": max}, names))


def _quantities(node: Any, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        if "value" in node and "unit" in node:
            found.append(node)
        for value in node.values():
            _quantities(value, found)
    elif isinstance(node, list):
        for value in node:
            _quantities(value, found)
    return found


def test_every_derived_number_recomputes_and_the_page_shows_report_json(tiny, tmp_path):
    done = _report(tiny, tmp_path / "rep", "--run", str(tiny["run"]), "--backends", "golden,lava")
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["schema"] == "neurocal.report/1"
    quantities = _quantities(report["sections"], [])
    derived = [q for q in quantities if "formula" in q]
    assert len(derived) >= 10
    for q in derived:
        assert math.isclose(_recompute(q), q["value"], rel_tol=1e-9, abs_tol=1e-300), q["formula"]
    # every leaf is either measured here or a constant that names its source
    for q in quantities:
        assert "formula" in q or q.get("measured") or q.get("source"), q
    energy = report["sections"]["energy"]["numbers"]
    assert {"Loihi", "CPU (golden model)", "FPGA (pynq-z2)", "InP photonic front end"} <= set(energy)
    assert all(c.source for c in ALL.values())
    assert any("Davies et al., IEEE Micro 38(1)" in c for c in report["constants"])

    # operations: layer 0's synaptic operations are the input spikes times its fan-out, counted here independently
    from neurocal.bundle import load_network_and_spikes

    net, spikes = load_network_and_spikes(tiny["bundle"], tiny["data"], EVENTS)
    ops = report["sections"]["operations"]["numbers"]
    first = net.layers[0].name
    assert ops[f"{first}: synops"]["value"] == pytest.approx(spikes.sum(axis=(1, 2)).mean() * net.layers[0].n_out)

    # agreement: Lava ran the same events and matched the golden model
    rows = {r[0]: r for r in report["sections"]["agreement"]["tables"][0]["rows"]}
    assert rows["lava"][1] == EVENTS and rows["lava"][2] == 0

    # physics: the run's own metrics (neurocal.models.metrics.evaluate), float SNN beside the integer network
    metrics = json.loads((tiny["run"] / "metrics.json").read_text())
    physics = report["sections"]["physics"]["numbers"]
    assert physics["integer: energy: resolution"]["value"] == metrics["models"]["integer"]["energy"]["resolution"]
    assert physics["snn: energy: resolution"]["value"] == metrics["models"]["snn"]["energy"]["resolution"]
    assert "baseline: energy: resolution" in physics and "ann: energy: resolution" in physics

    # the page: self-contained, headline elements carry report.json's values
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "<script" not in html and not re.search(r"""(src|href)=["'](?!data:|#)""", html)
    assert set(report["headlines"]) == {"physics", "agreement", "hardware", "energy"}
    for name, headline in report["headlines"].items():
        found = re.search(rf'id="headline-{name}" data-value="([^"]+)"', html)
        assert found and float(found.group(1)) == headline["value"], name
    for section in report["sections"].values():
        for fig in section["figures"]:
            assert (tmp_path / "rep" / fig["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"]({fig['file']})" in (tmp_path / "rep" / "report.md").read_text()


def test_missing_inputs_give_not_run_lines_and_sections_pick(tiny, tmp_path):
    done = _report(tiny, tmp_path / "rep", "--sections", "physics,hardware", "--backends", "golden")
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert list(report["sections"]) == ["physics", "hardware"]
    assert report["sections"]["physics"]["not_run"] == ["not run, because no --run (the bundle's training run) "
                                                        "was given"]
    assert report["sections"]["physics"]["status"] == "not run" and not report["sections"]["physics"]["numbers"]
    hardware = report["sections"]["hardware"]
    reasons = " | ".join(hardware["not_run"])
    assert "measured cycles: not run, because neither a deploy folder's driver nor an RTL backend ran" in reasons
    assert "yosys: not run, because no cached 'neurocal rtl synth' report" in reasons
    assert "Vivado/Vitis" in reasons and "HLS pragma estimate: not run" in reasons
    # the cycle model alone: its numbers and nothing claiming to come from an RTL run
    assert "cycles per event mean (cycle model)" in hardware["numbers"]
    assert not any("(measured)" in key for key in hardware["numbers"])
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "not run, because no --run" in md and "## Agreement" not in md


def test_second_run_reuses_every_stage(tiny, tmp_path):
    first = _report(tiny, tmp_path / "a", "--sections", "operations,hardware,energy", "--backends", "golden")
    assert first.exit_code == 0, first.output
    second = _report(tiny, tmp_path / "b", "--sections", "operations,hardware,energy", "--backends", "golden")
    assert second.exit_code == 0, second.output
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((tmp_path / "b" / "report.json").read_text())
    assert b["cache"]["misses"] == [] and set(b["cache"]["hits"]) == set(a["cache"]["hits"]) | set(
        a["cache"]["misses"])
    assert "0 run" in second.output
    assert a["sections"] == b["sections"]
    # a different number of events is a different stage
    third = CliRunner().invoke(main, ["report", "--bundle", str(tiny["bundle"]), "--data", str(tiny["data"]),
                                      "--out", str(tmp_path / "c"), "--events", str(EVENTS + 1), "--sections",
                                      "operations", "--backends", "golden", "--cache", str(tiny["root"] / "cache")])
    assert third.exit_code == 0, third.output
    assert json.loads((tmp_path / "c" / "report.json").read_text())["cache"]["misses"] == ["backend-golden"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("neurocal") or "neurocal", *args], capture_output=True, text=True,
                          check=False)


@pytest.mark.parametrize("case", ["missing bundle", "data is not events", "unknown section", "run is a file"])
def test_bad_input_is_one_line_and_exit_2(tiny, tmp_path, case):
    (tmp_path / "notes.txt").write_text("not events\n")
    args = {"bundle": str(tiny["bundle"]), "data": str(tiny["data"]), "sections": "agreement"}
    expect = {"missing bundle": "no such file or folder", "data is not events": "notes.txt",
              "unknown section": "unknown nonsense", "run is a file": "--run"}[case]
    extra: list[str] = []
    if case == "missing bundle":
        args["bundle"] = str(tmp_path / "nope")
    elif case == "data is not events":
        args["data"] = str(tmp_path / "notes.txt")
    elif case == "unknown section":
        args["sections"] = "agreement,nonsense"
    else:
        extra = ["--run", str(tmp_path / "notes.txt")]
    argv = ["report", "--bundle", args["bundle"], "--data", args["data"], "--sections", args["sections"],
            "--out", str(tmp_path / "rep"), "--events", "2", "--backends", "golden", "--no-cache", *extra]
    if case == "missing bundle":  # once as the installed program, as a user sees it
        done = _cli(*argv)
        code, stderr = done.returncode, done.stderr
    else:
        result = CliRunner().invoke(main, argv)
        code, stderr = result.exit_code, result.stderr
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurocal: error:") and expect in lines[0], stderr
    assert "Traceback" not in stderr and not (tmp_path / "rep").exists()


def test_formulas_are_arithmetic_only():
    from neurocal.report.quantity import derived, evaluate, measured

    q = derived("a * b + 1", "J", a=measured(2, "s"), b=measured(3.5, "W"))
    assert q["value"] == 8.0 and q["inputs"]["a"]["value"] == 2
    with pytest.raises(ValueError, match="not arithmetic"):
        evaluate("__import__('os').getcwd()", {})
    with pytest.raises(ValueError, match="finite"):
        measured(float("nan"), "J")


def test_junit_has_a_case_per_backend_and_skips_what_could_not_run(tiny, tmp_path):
    import xml.etree.ElementTree as ET

    done = _report(tiny, tmp_path / "rep", "--sections", "agreement", "--backends", "golden,lava,no-such-backend",
                   "--junit", str(tmp_path / "report.xml"))
    assert done.exit_code == 0, done.output
    suite = ET.parse(tmp_path / "report.xml").getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"lava vs golden", "no-such-backend vs golden"}
    assert list(cases["lava vs golden"]) == []  # passed: bit-exact
    skipped = cases["no-such-backend vs golden"].find("skipped")
    assert skipped is not None and "no backend of that name is installed" in skipped.get("message")
    assert suite.get("tests") == "2" and suite.get("failures") == "0" and suite.get("skipped") == "1"


def test_a_vivado_power_report_replaces_the_fpga_power_model(tiny, tmp_path):
    # the lines of Vivado's report_power summary the report reads (a folder that is not a whole deploy folder:
    # its driver row says why it did not run, the power is still read)
    folder = tmp_path / "deploy" / "overlay"
    folder.mkdir(parents=True)
    (folder / "nc_power.rpt").write_text("+--------------------------+--------------+\n"
                                         "| Total On-Chip Power (W)  | 0.254        |\n"
                                         "| Dynamic (W)              | 0.149        |\n")
    done = _report(tiny, tmp_path / "rep", "--sections", "agreement,energy", "--backends", "golden",
                   "--deploy", str(tmp_path / "deploy"))
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    fpga = report["sections"]["energy"]["numbers"]["FPGA (pynq-z2)"]
    assert fpga["inputs"]["power"]["value"] == 0.254 and "nc_power.rpt" in fpga["inputs"]["power"]["source"]
    assert math.isclose(_recompute(fpga), fpga["value"], rel_tol=1e-12)
    assert fpga["value"] == pytest.approx(0.254 * fpga["inputs"]["cycles"]["value"] / 200e6)
    assert any("driver over the RTL" in r and "not run, because" in r
               for r in report["sections"]["agreement"]["not_run"])


def _hardware(out: Path) -> dict[str, Any]:
    report = json.loads((out / "report.json").read_text())
    for q in [q for q in _quantities(report["sections"], []) if "formula" in q]:
        assert math.isclose(_recompute(q), q["value"], rel_tol=1e-9), q["formula"]
    return report


def test_without_deploy_the_section_is_the_fitted_build_and_a_low_clock_estimate_is_flagged(tiny, tmp_path):
    """The build is the one fitted to the profile (not the unfitted default); a cached yosys report for that very
    build adds the latency at its clock estimate, which becomes the headline, and a clock estimate below the
    profile's is flagged. The yosys report is written here as ``rtl synth`` caches it (the ~minutes of yosys are
    the synth suite's business, as the Vivado power report's lines are above)."""
    from neurocal.bundle import load_bundle
    from neurocal.hw.fit import fit_network
    from neurocal.hw.report_section import describe
    from neurocal.hw.synth import yosys_version
    from neurocal.profiles import profile

    net = load_bundle(tiny["bundle"])
    part = profile("pynq-z2")
    shape = fit_network(net, part).shape
    first = _report(tiny, tmp_path / "a", "--sections", "hardware", "--backends", "golden")
    assert first.exit_code == 0, first.output
    hardware = _hardware(tmp_path / "a")["sections"]["hardware"]
    assert hardware["notes"][0] == f"build: the build fitted to the pynq-z2 (hw/fit.py), {describe(shape)}, for " \
                                   "the pynq-z2"
    assert hardware["numbers"]["resources over the profile's fit limits"]["value"] == 0
    assert not any("DOES NOT FIT" in n or "CLOCK BELOW" in n for n in hardware["notes"])
    assert "latency mean at the estimated clock" not in hardware["numbers"]

    # the look-up's key is that of 'neurocal rtl synth --bundle B --profile pynq-z2' (its project of this shape)
    yosys_version()  # yosys is installed wherever the report's yosys look-up can work
    from neurocal.hw.cosim import shape_key
    from neurocal.hw.generate import HwConfig, generate
    from neurocal.hw.sources import rtl_dir, rtl_sources
    from neurocal.hw.synth import content_key

    project = generate(net, tmp_path / f"gen-{shape_key(shape)}", HwConfig(), shape=shape, command="neurocal rtl synth")
    key = content_key(project, yosys_version(), [*rtl_sources(), *sorted(rtl_dir().glob("*.vh"))], part)
    cached = tiny["root"] / "build" / f"synth-{key[:16]}" / "report.json"
    cached.parent.mkdir(parents=True)
    cached.write_text(json.dumps({"key": key, "yosys": yosys_version(), "estimated_clock_mhz": 150.0,
                                  "resources": {"LUT": 9000.0, "FF": 4000.0, "BRAM36": 8.0, "DSP": 12.0}}))
    try:
        second = _report(tiny, tmp_path / "b", "--sections", "hardware", "--backends", "golden")
        assert second.exit_code == 0, second.output
        report = _hardware(tmp_path / "b")
    finally:
        shutil.rmtree(cached.parent)
    numbers = report["sections"]["hardware"]["numbers"]
    cycles = numbers["cycles per event mean (cycle model)"]["value"]
    assert numbers["latency mean at the estimated clock"]["value"] == pytest.approx(cycles * 1000 / 150.0)
    assert numbers["latency mean at the profile clock"]["value"] == pytest.approx(cycles * 1000 / 200.0)
    assert report["headlines"]["hardware"]["number"] == "latency mean at the estimated clock"
    assert "yosys-estimated" in report["headlines"]["hardware"]["text"]
    assert any(n.startswith("CLOCK BELOW THE PROFILE: yosys estimates 150 MHz") for n in
               report["sections"]["hardware"]["notes"])


def test_a_build_that_does_not_fit_its_profile_is_flagged_with_its_numbers(tiny, tmp_path):
    """A network no pynq-z2 build holds (400-1200-1; 400-600-1 fits with its neuron state in RAM): the section says
    so and flags the build it shows, per resource, in the page and in report.json."""
    from neurocal.bundle import load_bundle
    from neurocal.hw.fit import violations
    from neurocal.hw.generate import HwConfig, shape_from_config
    from neurocal.intnet import IntNetwork
    from neurocal.profiles import profile
    from neurocal.testnets import random_network

    big = random_network([400, 1200, 1], np.random.default_rng(0), readout="membrane")
    big.frontend = load_bundle(tiny["bundle"]).frontend
    big.save(tmp_path / "intnet.json")
    big = IntNetwork.load(tmp_path / "intnet.json")
    done = CliRunner().invoke(main, ["report", "--bundle", str(tmp_path / "intnet.json"), "--data", str(tiny["data"]),
                                     "--out", str(tmp_path / "rep"), "--events", "2", "--sections", "hardware",
                                     "--backends", "golden", "--no-cache", "--build-root", str(tmp_path / "build")])
    assert done.exit_code == 0, done.output
    report = _hardware(tmp_path / "rep")
    hardware = report["sections"]["hardware"]
    over = violations(shape_from_config(big, HwConfig()), profile("pynq-z2"))
    assert len(over) >= 2
    flag = next(n for n in hardware["notes"] if n.startswith("DOES NOT FIT the pynq-z2"))
    assert all(o in flag for o in over)
    assert any(n.startswith("NO BUILD FITS the pynq-z2") for n in hardware["notes"])
    assert hardware["numbers"]["resources over the profile's fit limits"]["value"] == len(over)
    assert "DOES NOT FIT the profile" in report["headlines"]["hardware"]["text"]
    assert "DOES NOT FIT the pynq-z2" in (tmp_path / "rep" / "report.html").read_text()


@pytest.mark.rtl
def test_with_a_deploy_folder_the_section_is_the_deployed_build_and_its_driver_cycles(showers, tmp_path):
    """``--deploy``: the build of deploy.json, the cycles the driver reads from the core (LAST_CYCLES, one event at
    a time, Verilator), the cycle model of that shape beside them and equal event for event; the headline is the
    deployed build's."""
    from neurocal.bundle import load_network_and_spikes
    from neurocal.fpga.deploy import load_deploy
    from neurocal.golden import GoldenBackend
    from neurocal.hw.costmodel import predict_run
    from neurocal.hw.report_section import describe
    from tests.hw.conftest import BUILD_ROOT

    folder, data = showers
    n = 4
    done = CliRunner().invoke(main, ["report", "--bundle", str(folder.parent / "bundle"), "--data", str(data),
                                     "--out", str(tmp_path / "rep"), "--events", str(n), "--sections",
                                     "agreement,hardware,energy", "--backends", "golden", "--deploy", str(folder),
                                     "--build-root", str(BUILD_ROOT), "--cache", str(tmp_path / "cache")])
    assert done.exit_code == 0, done.output
    report = _hardware(tmp_path / "rep")
    hardware = report["sections"]["hardware"]
    _, net, shape = load_deploy(folder)
    assert hardware["notes"][0] == f"build: the deployed build ({folder}), {describe(shape)}, for the pynq-z2"
    driver = next(r for r in report["sections"]["agreement"]["tables"][0]["rows"] if "driver over the RTL" in r[0])
    assert driver[1] == n and driver[2] == 0
    numbers = hardware["numbers"]
    assert "driver over the RTL" in numbers["cycles per event mean (measured)"]["measured"]
    _, spikes = load_network_and_spikes(folder / "intnet.json", data, n)
    model = predict_run(shape, spikes, GoldenBackend().run(net, spikes), serial=True).cycles
    assert numbers["cycles per event mean (measured)"]["value"] == pytest.approx(model.mean())
    assert numbers["cycles per event max (measured)"]["value"] == model.max()
    assert numbers["events where the cycle model differs from the measured cycles"]["value"] == 0
    assert numbers["latency mean at the profile clock"]["value"] == pytest.approx(model.mean() * 1000 / 200.0)
    headline = report["headlines"]["hardware"]
    assert "driver over the RTL" in headline["text"] and "deployed build" in headline["text"]
    assert headline["value"] == numbers[headline["number"]]["value"]
