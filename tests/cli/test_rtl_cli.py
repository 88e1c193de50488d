"""``neurocal rtl sim|synth|build`` through the real CLI, on a small network (100 inputs, 6-2 LIF).

Real tools only: Verilator and Icarus simulate the RTL, yosys synthesises it, iverilog compiles the
exported project. The simulation models are built once per session (cached under a session folder).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import nir
import numpy as np
import pytest
from click.testing import CliRunner

from neurocal.cli import main
from neurocal.golden import GoldenBackend
from neurocal.hw.generate import HwConfig
from neurocal.intnet import IntNetwork
from neurocal.junit import Suite, to_xml
from neurocal.profiles import DEFAULT_PROFILE, PROFILES
from neurocal.sim.dataset import write_h5
from neurocal.testnets import lif_graph, random_network
from tests.sim.helpers import random_events

N_EVENTS = 6


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """A quantised bundle (100 inputs: one threshold level per sensor), events, and a build folder."""
    root = tmp_path_factory.mktemp("rtl-cli")
    rng = np.random.default_rng(3)
    graph = lif_graph([rng.normal(0, 0.4, (6, 100)), rng.normal(0, 0.6, (2, 6))], threshold=1.0)
    graph.metadata["neurocal"]["threshold_levels"] = [1000.0]
    nir.write(root / "net.nir", graph)
    write_h5(random_events(12, seed=5), root / "d.h5")
    done = CliRunner().invoke(main, ["quantize", str(root / "net.nir"), "--data", str(root / "d.h5"),
                                     "--out", str(root / "bundle"), "--events", "12"])
    assert done.exit_code == 0, done.output
    return {"bundle": root / "bundle", "data": root / "d.h5", "build": root / "build", "root": root}


def _cli(*args: str) -> subprocess.CompletedProcess:
    """The installed ``neurocal`` command (stdout and stderr apart, as a user sees them)."""
    return subprocess.run([shutil.which("neurocal") or "neurocal", *args], capture_output=True, text=True,
                          check=False)


@pytest.mark.parametrize("sim", ["verilator", "icarus"])
def test_rtl_sim_is_bit_exact_and_reports_the_hardware_numbers(small, sim, tmp_path):
    out = tmp_path / "report.json"
    n = N_EVENTS if sim == "verilator" else 2
    done = _cli("rtl", "sim", "--bundle", str(small["bundle"]), "--data", str(small["data"]), "--events", str(n),
                "--sim", sim, "--chunk", str(max(1, n // 2)), "--build-root", str(small["build"]), "--out", str(out),
                "--junit", str(tmp_path / "rtl.xml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"bit-exact: {n} events" in done.stdout
    suite = ET.parse(tmp_path / "rtl.xml").getroot().find("testsuite")  # a case per mode and chunk, none failed
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "0", "0")
    assert [c.get("name") for c in suite.iter("testcase")][1::2] == [
        f"rtl-{sim} ({mode}) vs golden, events {n // 2}-{n - 1}" for mode in ("serial", "streamed")]
    assert f"{sim} (streamed): {n}/{n} events" in done.stderr  # progress between chunks
    report = json.loads(out.read_text())
    assert report["exact"] and report["mismatched_events"] == 0 and report["events"] == n
    net = IntNetwork.load(small["bundle"] / "intnet.json")
    ticks_run = report["ticks"] + net.n_layers
    serial, streamed = report["modes"]["serial"], report["modes"]["streamed"]
    # every tick of every layer costs at least a cycle: an event cannot take fewer cycles than ticks
    assert serial["cycles_max"] >= serial["cycles_mean"] >= ticks_run
    clock_mhz = PROFILES[DEFAULT_PROFILE].clock_mhz
    assert report["clock_mhz"] == clock_mhz and report["profile"] == DEFAULT_PROFILE
    assert serial["latency_us_mean"] == pytest.approx(serial["cycles_mean"] / clock_mhz)
    # overlapping events cannot be slower than one at a time, nor faster than the serial chain allows per layer
    assert 0 < streamed["cycles_per_event"] <= serial["cycles_per_event"] * 1.01
    assert streamed["events_per_s"] == pytest.approx(clock_mhz * 1e6 / streamed["cycles_per_event"])
    # the cycle model predicts every event's count and the total exactly, serial and streamed
    for mode in (serial, streamed):
        assert mode["model_events_differing"] == 0 and mode["model_total_cycles"] == mode["total_cycles"]
    assert "cycle model (serial): equal to the RTL on every event" in done.stdout
    # the host path: every input spike, end-of-tick and end-of-event word is 4 bytes through the profile's DMA
    host = report["host_feed"]
    assert host["bytes_per_event"] == pytest.approx(4 * (report["input_spikes_per_event"] + report["ticks"] + 1))
    assert host["events_per_s"] == pytest.approx(1200e6 / host["bytes_per_event"])  # UG585's HP-port figure
    assert "host feed (pynq-z2)" in done.stdout
    synops = int(GoldenBackend().run(*_net_and_spikes(small, n)).ops["synops"].sum())
    assert report["synops"] == synops > 0
    assert streamed["synops_per_cycle"] == pytest.approx(synops / streamed["total_cycles"])
    assert streamed["sim_events_per_cpu_s"] > 0 and streamed["sim_events_per_wall_s"] > 0
    assert f"{serial['latency_us_mean']:.3f} µs mean" in done.stdout


def _net_and_spikes(small, n):
    from neurocal.bundle import load_network_and_spikes

    return load_network_and_spikes(small["bundle"], small["data"], n)


def test_a_mismatch_is_reported_at_its_first_divergence_with_the_event_offset_of_its_chunk(small):
    """The RTL runs the bundle's network; the reference is the golden model of the same network with one
    weight changed, so they differ for real. Chunks of 2 events: divergences keep their global event index."""
    from neurocal.hw.cli import _junit_cases, _run_mode
    from neurocal.hw.fit import fit_network
    from neurocal.hw.synth import hw_config

    net, spikes = _net_and_spikes(small, N_EVENTS)
    altered = IntNetwork.load(small["bundle"] / "intnet.json")
    altered.layers[1].weights[0] += 40  # output neuron 0 hears every hidden neuron louder
    reference = GoldenBackend().run(altered, spikes)
    expected = GoldenBackend().run(net, spikes)
    differs = np.flatnonzero(np.any(reference.v_final[-1] != expected.v_final[-1], axis=1)
                             | np.any(reference.output_spikes != expected.output_spikes, axis=(1, 2)))
    assert differs.size, "the altered weight must change some event"
    run = _run_mode(net, spikes, reference, sim="verilator", serial=False, build_root=small["build"].resolve(),
                    config=dataclasses.replace(hw_config(), debug=True), chunk=2, timeout=None,
                    shape=fit_network(net, PROFILES[DEFAULT_PROFILE], debug=True).shape)  # rtl sim's build
    assert run.mismatched and set(differs) <= set(run.mismatched)
    assert run.first is not None and run.first.event == min(run.mismatched)
    assert str(run.first).startswith(f"event {run.first.event}, layer ")
    suite = ET.fromstring(to_xml([Suite("neurocal rtl sim", _junit_cases({"streamed": run}, "verilator"))]))[0]
    cases = suite.findall("testcase")
    assert len(cases) == N_EVENTS // 2 and int(suite.get("failures")) == len({e // 2 for e in run.mismatched}) > 0
    failed = next(c for c in cases if c.find("failure") is not None)
    start = run.first.event // 2 * 2
    assert failed.get("name") == f"rtl-verilator (streamed) vs golden, events {start}-{start + 1}"
    assert failed.find("failure").get("message").endswith(f"first divergence at {run.first}")


def test_a_simulator_that_fails_is_an_error_case_in_the_junit_file(small, tmp_path):
    """A stalled run (a 1 ms limit no simulator process meets) stops the command with one line; the JUnit
    file still tells CI which chunk of which mode failed, and why."""
    done = _cli("rtl", "sim", "--bundle", str(small["bundle"]), "--data", str(small["data"]), "--events", "4",
                "--chunk", "2", "--build-root", str(small["build"]), "--timeout", "0.001",
                "--junit", str(tmp_path / "rtl.xml"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    error = done.stderr.strip().splitlines()[-1]  # after the progress lines
    suite = ET.parse(tmp_path / "rtl.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "0")
    case = suite.find("testcase")
    assert case.get("name") == "rtl-verilator (serial) vs golden, events 0-1"
    assert error == f"neurocal: error: {case.find('error').get('message')}" and "did not finish within" in error


def test_rtl_synth_prints_resources_and_a_clock_estimate_against_the_profile_and_caches(small, tmp_path):
    out = tmp_path / "synth.json"
    # the smallest build: one lane, one weight bank, one AER word per beat (where the RTL has those knobs), the
    # network baked in (WORDS 16 alone costs ~7 k LUT and minutes of yosys)
    fields = {f.name for f in dataclasses.fields(HwConfig)}
    knobs = [arg for name in ("rows", "words") if name in fields for arg in (f"--{name}", "1")]
    args = ["rtl", "synth", "--bundle", str(small["bundle"]), "--lanes", "1", *knobs, "--fixed",
            "--build-root", str(small["build"])]
    done = _cli(*args, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert report["lanes"] == [1, 1] and report["writable"] is False
    res, pct = report["resources"], report["percent"]
    assert res["LUT"] > 0 and res["FF"] > 0
    part = PROFILES[DEFAULT_PROFILE]
    assert report["profile"] == DEFAULT_PROFILE and report["part"] == part.part
    assert pct["LUT"] == pytest.approx(100 * res["LUT"] / part.resources["LUT"], abs=0.01) and report["fits"] is True
    assert report["limits"]["LUT"] == pytest.approx(0.8 * part.resources["LUT"])
    # a path through at least one LUT between two registers; the estimate adds the routing allowance
    assert 0.1 < report["logic_ns"] < 100
    assert report["estimated_clock_mhz"] == pytest.approx(1000 / (2 * report["logic_ns"]), rel=1e-3)
    for name in ("LUT", "FF", "BRAM36", "DSP", f"fits the {DEFAULT_PROFILE} profile: yes",
                 "critical path (estimate, not a Vivado timing report)"):
        assert name in done.stdout
    again = _cli(*args)
    assert again.returncode == 0 and "(cached)" in again.stdout


def test_rtl_build_writes_a_project_that_simulates_after_being_copied(small, tmp_path):
    """The project names its memories relative to itself: copied to a new folder (with a space and a non-ASCII
    character in its path) and the original deleted, Icarus simulates the copy from its filelist and the
    output equals the golden model's. Every generated file carries the banner; building twice gives the same
    bytes."""
    from neurocal import aer
    from neurocal.backends import compare_results
    from neurocal.hw.cosim import decode_result

    args = ["rtl", "build", "--bundle", str(small["bundle"]), "--words", "2", "--rows", "4"]
    out, again = tmp_path / "proj", tmp_path / "again" / "proj"
    again.parent.mkdir()
    for folder in (out, again):
        done = _cli(*args, "--out", str(folder))
        assert done.returncode == 0, done.stdout + done.stderr
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel
        if rel.parts[0] not in ("rtl", "sim") and rel.suffix in (".vh", ".mem", ".f"):
            assert (out / rel).read_text().startswith("// Generated by `neurocal rtl build"), rel
    assert str(tmp_path) not in "".join((out / rel).read_text(errors="replace") for rel in files)

    copy = tmp_path / "moved here é" / "proj"
    shutil.copytree(out, copy)
    shutil.rmtree(out)
    net, spikes = _net_and_spikes(small, 2)
    (copy / "in.txt").write_text("".join(f"{w:08x}\n" for w in aer.encode_events(spikes).tolist()))
    built = subprocess.run(["iverilog", "-g2005", "-f", "filelist.f", "-s", "nc_stream_tb", "-o", "sim.vvp",
                            "sim/nc_stream_tb.v"], cwd=copy, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    ran = subprocess.run(["vvp", "-n", "sim.vvp", "+in=in.txt", "+out=out.txt", "+cycles=cycles.txt"], cwd=copy,
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0 and "nc_stream_tb: 2 events" in ran.stdout, ran.stdout + ran.stderr
    words = np.array([int(x, 16) for x in (copy / "out.txt").read_text().split()], dtype=np.uint32)
    cmp = compare_results(GoldenBackend().run(net, spikes), decode_result(net, words, spikes.shape, "rtl-icarus"))
    assert cmp.first is None, f"the copied project: {cmp.first}"


def test_rtl_build_with_the_line_input_writes_the_detector_project(small, tmp_path):
    """--input lines: the build is fitted to the profile for the line receiver, nc_params.vh selects it, the
    project ships the line deserialiser and its wrapper instead of the AER stream testbench and compiles with
    them; rtl regmap shows CAPS.INPUT; a window that is not whole clocks is one line, exit 2, nothing written."""
    from neurocal import regmap

    out = tmp_path / "proj"
    done = _cli("rtl", "build", "--bundle", str(small["bundle"]), "--out", str(out), "--input", "lines",
                "--line-k", "20", "--rows", "4")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "input lines" in done.stdout
    assert "fitted to pynq-z2" in done.stderr and "line input (100 ticks, K 20)" in done.stderr  # fitted for the lines
    params = (out / "nc_params.vh").read_text()
    assert "NC_INPUT = 1;" in params and "NC_LINE_K = 20;" in params and "NC_LINE_TICKS = 100;" in params
    assert "--input lines --line-k 20 --line-ticks 100" in params.splitlines()[0]
    assert sorted(p.name for p in (out / "sim").iterdir()) == ["nc_line_deser.v", "nc_top_lines_tb.v"]
    built = subprocess.run(["iverilog", "-g2005", "-f", "filelist.f", "-s", "nc_top_lines_tb", "-o", "sim.vvp",
                            "-Pnc_top_lines_tb.CHANNELS=100", "-Pnc_top_lines_tb.K=20", "sim/nc_line_deser.v",
                            "sim/nc_top_lines_tb.v"], cwd=out, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    shown = _cli("rtl", "regmap", "--bundle", str(small["bundle"]), "--input", "lines")
    assert shown.returncode == 0, shown.stderr
    caps = next(line for line in shown.stdout.splitlines() if line.split()[:1] == ["CAPS"])
    assert int(caps.split()[-1], 0) & regmap.bit("CAPS", "INPUT"), caps
    bad = _cli("rtl", "build", "--bundle", str(small["bundle"]), "--out", str(tmp_path / "bad"), "--input", "lines",
               "--line-k", "3")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "a window of 100 ticks at 3 samples per clock" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_bad_inputs_give_one_line(small, tmp_path):
    bundle, data = str(small["bundle"]), str(small["data"])
    cases = [
        (["rtl", "sim", "--bundle", str(tmp_path / "nope"), "--data", data], "nope"),
        (["rtl", "sim", "--bundle", bundle, "--data", data, "--sim", "modelsim"], "simulator 'modelsim' is unknown"),
        (["rtl", "sim", "--bundle", bundle, "--data", data, "--lanes", "0"], "at least 1"),
        (["rtl", "sim", "--bundle", bundle, "--data", data, "--out", str(tmp_path / "r.txt")], "must end in .json"),
        (["rtl", "sim", "--bundle", bundle, "--data", data, "--junit", str(tmp_path / "r.json")], "must end in .xml"),
        (["rtl", "synth", "--bundle", str(tmp_path / "nope.json")], "nope.json"),
    ]
    # a network whose weights exceed the PYNQ-Z2's block RAM: 100 × 6000 × 9 bits > 140 BRAM36
    big = random_network([100, 6000, 2], np.random.default_rng(0))
    big.save(tmp_path / "big.json")
    cases.append((["rtl", "synth", "--bundle", str(tmp_path / "big.json")], "does not fit the pynq-z2"))
    cases.append((["rtl", "sim", "--bundle", str(tmp_path / "big.json"), "--data", data], "input channels"))
    for args, needle in cases:
        done = _cli(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "r.txt").exists()


@pytest.mark.parametrize("sim", ["verilator", "icarus"])
def test_rtl_sim_takes_spaces_and_non_ascii_in_its_paths(small, sim, tmp_path):
    """A build root with a space and a non-ASCII character: Verilator's make refuses to build in such a folder
    (it builds in a temporary one and keeps the executable), Icarus mangled the memory path in $readmemh (the
    path no longer reaches Verilog: mem/ is relative). Icarus also from a working folder with a space, with
    the default build root under it. Hidden layers compared too (the debug output, on by default)."""
    odd = tmp_path / "my builds é"
    odd.mkdir()
    small_shape = ["--words", "2", "--rows", "4", "--events", "2", "--mode", "streamed"]
    common = ["rtl", "sim", "--bundle", str(small["bundle"]), "--data", str(small["data"]), "--sim", sim, *small_shape]
    runs = [subprocess.run([shutil.which("neurocal") or "neurocal", *common, "--build-root", str(odd / "rtl é")],
                           capture_output=True, text=True, check=False)]
    if sim == "icarus":
        runs.append(subprocess.run([shutil.which("neurocal") or "neurocal", *common], cwd=odd, capture_output=True,
                                   text=True, check=False))
        assert (odd / "build" / "rtl").is_dir()  # the default build root, under the working folder
    for done in runs:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "bit-exact: 2 events, output spikes, every hidden layer's spikes" in done.stdout
