"""Backend plug-ins, result validation, strict comparison and first-divergence reports (docs/design.md §2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import replace

import nir
import numpy as np
import pytest
from click.testing import CliRunner

from neurocal.backends import available_backends, compare_results, get_backend, validate_result
from neurocal.cli import main
from neurocal.errors import NeurocalError
from neurocal.golden import GoldenBackend
from neurocal.sim.dataset import write_h5
from neurocal.testnets import lif_graph, random_network
from tests.sim.helpers import random_events


def test_project_backends_come_from_entry_points():
    found = available_backends()
    assert found["golden"].value == "neurocal.golden:GoldenBackend"
    assert found["lava"].value == "neurocal.sim.lava_backend:LavaBackend"
    with pytest.raises(NeurocalError, match=r"not installed.*golden"):
        get_backend("no-such-backend")


@pytest.fixture
def golden_pair(rng):
    net = random_network([10, 6, 3], rng, groups=2, readout="spikes")
    spikes = rng.random((5, 8, 10)) < 0.4
    ref = GoldenBackend(trace=True).run(net, spikes)
    return net, spikes, ref


def _copy(result):
    return replace(
        result,
        backend="altered",
        output_spikes=result.output_spikes.copy(),
        v_final=[v.copy() for v in result.v_final],
        u_final=[u.copy() for u in result.u_final],
        layer_spikes=[s.copy() for s in result.layer_spikes],
        trace=[{q: a.copy() for q, a in t.items()} for t in result.trace],
        ops={k: v.copy() for k, v in result.ops.items()},
    )


def test_first_divergence_names_event_layer_tick_neuron(golden_pair):
    _, _, ref = golden_pair
    other = _copy(ref)
    other.trace[1]["v"][3, 4, 2] += 1  # event 3, layer 1, tick 4, neuron 2
    other.trace[0]["u"][4, 1, 0] += 1  # a later event: not the first
    cmp = compare_results(ref, other)
    assert cmp.mismatched.tolist() == [3, 4]
    first = cmp.first
    assert (first.event, first.layer, first.tick, first.neuron, first.quantity) == (3, 1, 4, 2, "v")
    assert first.got == first.expected + 1
    assert "event 3, layer 1, tick 4, neuron 2: v expected" in str(first)


def test_earliest_tick_wins_across_layers(golden_pair):
    _, _, ref = golden_pair
    other = _copy(ref)
    other.layer_spikes[0][2, 6, 1] ^= True  # layer 0 at tick 6
    other.v_final[1][2, 0] += 5  # a final value: after every tick
    other.trace[1]["u"][2, 3, 2] -= 1  # layer 1 at tick 3: the earliest
    first = compare_results(ref, other).first
    assert (first.event, first.layer, first.tick, first.quantity) == (2, 1, 3, "u")


def test_final_only_difference_is_reported_as_final(golden_pair):
    _, _, ref = golden_pair
    other = _copy(ref)
    other.trace = None
    other.v_final[0][1, 5] = 12345
    first = compare_results(ref, other).first
    assert (first.event, first.layer, first.tick, first.neuron, first.got) == (1, 0, None, 5, 12345)
    assert "final" in str(first)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda r: setattr(r, "output_spikes", r.output_spikes[:, :-1]), "output_spikes"),
        (lambda r: setattr(r, "output_spikes", r.output_spikes.astype(np.int8)), "output_spikes"),
        (lambda r: setattr(r, "v_final", r.v_final[:1]), "v_final"),
        (lambda r: r.v_final.__setitem__(0, r.v_final[0].astype(np.float64)), "v_final[0]"),
        (lambda r: r.v_final.__setitem__(1, None), "v_final[1]"),
        (lambda r: r.layer_spikes.__setitem__(0, r.layer_spikes[0][:, :, :2]), "layer_spikes[0]"),
        (lambda r: r.ops.__setitem__("spikes", r.ops["spikes"][:2]), "ops['spikes']"),
        (lambda r: r.trace[0].pop("u"), "trace[0]['u']"),
    ],
)
def test_malformed_result_names_backend_and_field(golden_pair, edit, field):
    net, spikes, ref = golden_pair
    bad = _copy(ref)
    edit(bad)
    with pytest.raises(NeurocalError, match=rf"backend 'altered'.*field '{field}'".replace("[", r"\[").replace(
            "]", r"\]")):
        validate_result(bad, net, spikes.shape, "altered")
    assert validate_result(ref, net, spikes.shape, "golden") is ref


# ----------------------------------------------------------------------------------------- through the CLI


@pytest.fixture
def deployed(tmp_path, rng):
    """A bundle quantised from a per-neuron NIR graph and a small event file."""
    graph = lif_graph([rng.normal(0, 0.25, (12, 400)), rng.normal(0, 0.3, (3, 12))],
                      beta=[rng.choice([0.8, 0.9], 12), 0.9], threshold=[rng.choice([0.8, 1.0], 12), 1.0])
    nir.write(tmp_path / "m.nir", graph)
    write_h5(random_events(10, seed=3, n_ticks=20), tmp_path / "d.h5")
    res = CliRunner().invoke(main, ["quantize", str(tmp_path / "m.nir"), "--data", str(tmp_path / "d.h5"),
                                    "--out", str(tmp_path / "bundle")])
    assert res.exit_code == 0, res.output
    return tmp_path


PLUGIN = '''
import numpy as np
from neurocal.golden import GoldenBackend

class Altered(GoldenBackend):
    """The golden model with one deliberately wrong voltage: what a buggy hardware backend looks like."""
    name = "altered"

    def run(self, net, spikes):
        result = GoldenBackend.run(self, net, spikes)
        result.backend = self.name
        if result.trace is not None:
            result.trace[-1]["v"][:, 7:, 0] += 1
        result.v_final[-1][:, 0] += 1
        return result

class Broken(GoldenBackend):
    name = "broken"

    def run(self, net, spikes):
        result = GoldenBackend.run(self, net, spikes)
        result.output_spikes = result.output_spikes[:, :3]
        return result
'''


def _plugin_env(tmp_path) -> dict[str, str]:
    """A package registered only through an entry point (a dist-info on sys.path, as pip would install it)."""
    site = tmp_path / "site"
    (site / "nc_plugin").mkdir(parents=True)
    (site / "nc_plugin" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "nc_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nc-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[neurocal.backends]\naltered = nc_plugin:Altered\nbroken = nc_plugin:Broken\n"
    )
    return {**os.environ, "PYTHONPATH": str(site)}


def _neurocal(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "neurocal.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_entry_point_backend_is_listed_compared_and_traced(deployed):
    env = _plugin_env(deployed)
    helped = _neurocal(["compare", "--help"], env, deployed)
    assert "altered" in helped.stdout and "golden" in helped.stdout and "lava" in helped.stdout

    res = _neurocal(["compare", "--backends", "golden,altered", "--bundle", "bundle", "--data", "d.h5",
                     "--events", 4, "--json", "--junit", "results.xml"], env, deployed)
    assert res.returncode == 1, res.stderr
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    first = summary["comparisons"][0]["first_divergence"]
    assert first == {**first, "event": 0, "layer": 1, "tick": None, "neuron": 0, "quantity": "v"}
    assert summary["mismatched_events"] == 4
    assert first["got"] == first["expected"] + 1
    suite = ET.parse(deployed / "results.xml").getroot().find("testsuite")  # CI sees the same as a failed test
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("neurocal compare", "1", "1")
    (case,) = suite.iter("testcase")
    assert case.get("name") == "altered vs golden" and float(case.get("time")) == pytest.approx(
        summary["seconds"]["altered"], abs=1e-3)
    assert case.find("failure").get("message") == (
        f"4 of 4 events differ; first divergence at event 0, layer 1, final, neuron 0: v expected "
        f"{first['expected']}, got {first['got']}")

    res = _neurocal(["compare", "--backends", "golden,altered", "--bundle", "bundle", "--data", "d.h5",
                     "--events", 4, "--trace", 1, "--out", "traces"], env, deployed)
    assert res.returncode == 1
    assert "traced event 1, altered vs golden: first divergence event 1, layer 1, tick 7, neuron 0: v" in res.stdout
    golden_trace = np.load(deployed / "traces" / "golden_event1.npz")
    altered_trace = np.load(deployed / "traces" / "altered_event1.npz")
    assert golden_trace["v_1"].shape == (22, 3) and golden_trace["spikes_0"].shape == (22, 12)
    assert np.array_equal(altered_trace["v_1"][7:, 0], golden_trace["v_1"][7:, 0] + 1)
    vcd = (deployed / "traces" / "golden_event1.vcd").read_text()
    assert "$timescale 1ps $end" in vcd and "$scope module layer1 $end" in vcd and "#200\n" in vcd
    assert vcd.count("$var integer 32") == 2 * (12 + 3)  # u and v of every neuron


def test_malformed_plugin_result_is_one_clear_line(deployed):
    env = _plugin_env(deployed)
    res = _neurocal(["compare", "--backends", "golden,broken,altered", "--bundle", "bundle", "--data", "d.h5",
                     "--events", 3, "--junit", "results.xml"], env, deployed)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
    assert "backend 'broken'" in res.stderr and "field 'output_spikes'" in res.stderr
    suite = ET.parse(deployed / "results.xml").getroot().find("testsuite")  # CI still gets a result per backend
    assert [(c.get("name"), [e.tag for e in c]) for c in suite.iter("testcase")] == [
        ("broken vs golden", ["error"]), ("altered vs golden", ["skipped"])]
    assert res.stderr.strip().endswith(suite.find("testcase/error").get("message"))
    assert suite.find("testcase/skipped").get("message") == "not run, because broken failed"


def test_a_clean_compare_is_a_passed_test_and_a_bad_junit_path_stops_before_the_work(deployed):
    args = ["compare", "--backends", "golden,golden", "--bundle", str(deployed / "bundle"), "--data",
            str(deployed / "d.h5"), "--events", "2", "--junit"]
    res = CliRunner().invoke(main, [*args, str(deployed / "clean.xml")])
    assert res.exit_code == 0, res.output
    root = ET.parse(deployed / "clean.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    res = CliRunner().invoke(main, [*args, str(deployed / "no-folder" / "r.xml")])
    assert res.exit_code == 2 and "does not exist" in res.output and "events ×" not in res.output


@pytest.mark.parametrize(("value", "ok"), [("-1", False), ("nan", False), ("inf", False), ("0", True), ("30", True)])
def test_timeout_is_validated_and_zero_means_no_limit(deployed, value, ok):
    res = CliRunner().invoke(main, ["run", "--backend", "golden", "--bundle", str(deployed / "bundle"),
                                    "--data", str(deployed / "d.h5"), "--events", "2", "--timeout", value])
    assert (res.exit_code == 0) == ok, res.output
    if not ok:
        assert "--timeout" in res.output


def test_run_checks_its_output_before_the_work(deployed):
    """A read-only output folder is refused before Lava starts (root's override dropped with setpriv)."""
    (deployed / "ro").mkdir()
    os.chmod(deployed / "ro", 0o500)
    cmd = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", sys.executable, "-m", "neurocal.cli", "run",
           "--backend", "lava", "--bundle", "bundle", "--data", "d.h5", "--out", "ro/r.npz"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=deployed, timeout=120)
    finally:
        os.chmod(deployed / "ro", 0o700)
    assert res.returncode == 2 and "not writable" in res.stderr, res.stderr
    assert "lava fixed_pt" not in res.stderr  # no progress bar: the backend never ran
