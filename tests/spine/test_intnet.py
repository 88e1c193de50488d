"""Quantiser, JSON bundle and headroom of the integer network."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import nir
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocal.errors import NeurocalError
from neurocal.golden import simulate
from neurocal.headroom import headroom
from neurocal.intnet import ARITHMETIC, IntLayer, IntNetwork, lava_dense_weights, layer_widths
from neurocal.nirgraph import chain_from_graph
from neurocal.quantize import QuantConfig, float_int_agreement, quant_grid, quantize, simulate_float, spike_overlap
from neurocal.testnets import lif_graph, random_network


def _weights(rng, sizes, gain=2.0):
    return [rng.normal(0, gain / np.sqrt(a), (b, a)) for a, b in itertools.pairwise(sizes)]


@pytest.fixture
def net_and_data(rng):
    chain = chain_from_graph(lif_graph(_weights(rng, [60, 20, 5]), beta=0.9, readout="membrane"))
    spikes = rng.random((40, 30, 60)) < 0.05
    return chain, spikes


def test_quantize_integer_fields(net_and_data):
    chain, spikes = net_and_data
    net = quantize(chain, spikes)
    hidden, out = net.layers
    assert np.all(hidden.du == 4095) and np.all(hidden.dv == round(4096 * 0.1)) and np.all(hidden.vth == 2048)
    assert hidden.spiking and hidden.uniform
    assert not out.spiking and np.all(out.vth == 0)  # the flag alone marks the readout: no magic threshold
    for layer in net.layers:
        assert np.array_equal(lava_dense_weights(layer.weights), layer.weights)  # Lava leaves them unchanged
        assert -8 <= layer.weight_exp <= 7
    assert net.metadata == chain.metadata and net.readout == "membrane"


def test_grid_is_what_the_quantiser_uses(net_and_data):
    chain, spikes = net_and_data
    net = quantize(chain, spikes)
    for grid, layer, cl in zip(quant_grid(chain, spikes), net.layers, chain.layers, strict=True):
        assert grid.scale == pytest.approx(layer.scale) and grid.step == pytest.approx(layer.weight_step)
        float_of_int = layer.weights * 2.0**layer.weight_exp / layer.scale
        np.testing.assert_allclose(grid.fake_quantize(cl.weight), float_of_int, rtol=0, atol=1e-12)
        # one LSB of quantisation error at most
        assert np.abs(grid.fake_quantize(cl.weight) - cl.weight).max() <= grid.step / 2 + 1e-12


def test_integer_tracks_float(net_and_data):
    """Stated tolerance: the hidden spike sets overlap ≥ 85 % (Jaccard, so a silent network cannot pass); readout
    mean |error| ≤ 3 % of its range and correlation ≥ 0.98 (single flipped hidden spikes move a readout by one
    weight, so no max bound)."""
    chain, spikes = net_and_data
    net = quantize(chain, spikes)
    fl = simulate_float(chain, spikes)
    gi = simulate(net, spikes)
    assert fl[0]["spikes"].sum() > 500  # the hidden layer is active, so the overlap means something
    assert spike_overlap(fl[0]["spikes"], gi.spikes[0]) >= 0.85
    assert spike_overlap(fl[0]["spikes"], np.zeros_like(gi.spikes[0])) == 0.0
    v_int = net.decode_voltage(gi.v_final[-1])
    v_fl = fl[-1]["v_final"]
    assert np.abs(v_int - v_fl).mean() <= 0.03 * np.abs(v_fl).max()
    assert np.corrcoef(v_int.ravel(), v_fl.ravel())[0, 1] >= 0.98


def test_headroom_report(net_and_data):
    chain, spikes = net_and_data
    net = quantize(chain, spikes)
    h = headroom(net, spikes)
    assert h.ok and h.events == 40
    readout = h.layers[-1]
    assert 2**19 < readout.peak_v <= 2**21 + 2**18  # the readout peak is placed near 2^21
    assert "verdict" in h.to_markdown() and json.dumps(h.to_dict())


def test_save_load_roundtrip_and_hash(tmp_path, net_and_data):
    chain, spikes = net_and_data
    net = quantize(chain, spikes)
    path = net.save(tmp_path / "intnet.json")
    back = IntNetwork.load(path)
    assert back.content_hash == net.content_hash
    assert all(np.array_equal(a.weights, b.weights) for a, b in zip(net.layers, back.layers, strict=True))
    data = json.loads(path.read_text())
    data["layers"][0]["weights"][0][0] += 2
    (tmp_path / "edited.json").write_text(json.dumps(data))
    with pytest.raises(NeurocalError, match="content_hash"):
        IntNetwork.load(tmp_path / "edited.json")
    data["schema_version"] = 99
    (tmp_path / "v99.json").write_text(json.dumps(data))
    with pytest.raises(NeurocalError, match="schema_version"):
        IntNetwork.load(tmp_path / "v99.json")
    with pytest.raises(NeurocalError, match="no such"):
        IntNetwork.load(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("kwargs", "node", "field"),
    [
        (dict(beta=[0.9, 1.5]), "lif1", "tau"),  # β > 1: tau < 0 is caught by the NIR reader
        (dict(threshold=[0.0, 1.0], readout="spikes"), "lif0", "v_threshold"),
        (dict(threshold=[-1.0, 1.0]), "lif0", "v_threshold"),
    ],
)
def test_bad_parameters_name_node_and_field(rng, kwargs, node, field):
    with pytest.raises(NeurocalError) as err:
        quantize(chain_from_graph(lif_graph(_weights(rng, [6, 4, 2]), **kwargs)))
    assert node in str(err.value) and field in str(err.value)


def test_beta_outside_range(rng):
    graph = lif_graph(_weights(rng, [6, 4, 2]))
    graph.nodes["lif0"].tau[:] = 0.5e-4  # tau < dt: β = −1
    with pytest.raises(NeurocalError, match=r"lif0.*'tau'.*outside \(0, 1\]"):
        quantize(chain_from_graph(graph))


def test_per_neuron_beta_and_threshold_map_per_neuron(rng):
    beta = np.array([0.9, 0.5, 0.99, 0.9])
    theta = np.array([1.0, 2.0, 0.5, 1.0])
    chain = chain_from_graph(lif_graph(_weights(rng, [6, 4, 2]), beta=[beta, 0.8], threshold=[theta, 1.0]))
    net = quantize(chain)
    hidden = net.layers[0]
    assert hidden.dv.tolist() == np.round(4096 * (1 - beta)).astype(int).tolist()
    assert hidden.vth.tolist() == [1024, 2048, 512, 1024]  # λ = 2048 / max θ
    assert not hidden.uniform and [g.tolist() for g in hidden.parameter_groups()] == [[0, 3], [1], [2]]


def test_weight_overflow(rng):
    w = _weights(rng, [6, 4, 2])
    w[0][0, 0] = 500.0  # 500 thresholds in one spike: 8 bits × 2^7 cannot hold it at vth 2048
    with pytest.raises(NeurocalError, match=r"fc0.*'weight' overflows 8 bits"):
        quantize(chain_from_graph(lif_graph(w)))
    quantize(chain_from_graph(lif_graph(w)), config=QuantConfig(vth_target=64))  # the stated fix works


def test_unsupported_node(rng):
    graph = lif_graph(_weights(rng, [6, 4, 2]))
    graph.nodes["lif0"] = nir.Threshold(threshold=np.ones(4))
    with pytest.raises(NeurocalError, match=r"lif0.*Threshold"):
        chain_from_graph(graph)


# ----------------------------------------------------------------------------------------- CLI


@pytest.fixture
def workspace(tmp_path, rng):
    """A NIR file and a small event file (photons that fire a few % of the 400 channels)."""
    from neurocal.sim.dataset import EventSet, write_h5

    n = 24
    photons = (rng.random((n, 20, 100)) < 0.05) * rng.integers(150, 200000, size=(n, 20, 100))
    events = EventSet(
        photons=photons.astype(np.uint32), energy_mev=rng.random(n), centroid=rng.random((n, 3)),
        dispersion=rng.random((n, 2)), particle=np.ones(n, dtype=np.int32),
        n_interactions=np.ones(n, dtype=np.int32), cubelet=np.zeros(n, dtype=np.int32),
    )
    write_h5(events, tmp_path / "data.h5")
    graph = lif_graph(_weights(rng, [400, 16, 3], gain=4.0), beta=0.9, readout="membrane")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    nir.write(run_dir / "model.nir", graph)
    return tmp_path


def _cli(*args):
    from click.testing import CliRunner

    from neurocal.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_quantize_run_compare(workspace):
    bundle = workspace / "bundle"
    res = _cli("quantize", workspace / "run", "--data", workspace / "data.h5", "--out", bundle)
    assert res.exit_code == 0, res.output
    assert {p.name for p in bundle.iterdir()} == {"intnet.json", "model.nir", "headroom.json", "headroom.md",
                                                 "neurocal-manifest.json"}
    net = IntNetwork.load(bundle / "intnet.json")
    assert net.calibration["events"] == 24

    res = _cli("run", "--backend", "golden", "--bundle", bundle, "--data", workspace / "data.h5",
               "--events", 10, "--out", workspace / "res.npz")
    assert res.exit_code == 0, res.output
    saved = np.load(workspace / "res.npz")
    assert saved["output_spikes"].shape == (10, 22, 3) and saved["v_final_1"].shape == (10, 3)

    res = _cli("compare", "--backends", "golden,golden", "--bundle", bundle, "--data", workspace / "data.h5",
               "--events", 12, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output.strip().splitlines()[-1])
    assert summary["events"] == 12 and summary["mismatched_events"] == 0 and summary["backends"] == ["golden"] * 2


def test_cli_bad_network_writes_nothing(workspace, rng):
    w = _weights(rng, [400, 16, 3])
    w[0][0, 0] = 1e4
    nir.write(workspace / "bad.nir", lif_graph(w))
    bundle = workspace / "bundle"
    res = _cli("quantize", workspace / "bad.nir", "--data", workspace / "data.h5", "--out", bundle)
    assert res.exit_code == 2
    assert "fc0" in res.output and "'weight'" in res.output
    assert not bundle.exists()


def test_cli_unknown_backend(workspace):
    bundle = workspace / "bundle"
    assert _cli("quantize", workspace / "run", "--data", workspace / "data.h5", "--out", bundle).exit_code == 0
    res = _cli("run", "--backend", "nope", "--bundle", bundle, "--data", workspace / "data.h5")
    assert res.exit_code == 2 and "not installed" in res.output and "golden" in res.output


def test_calibration_keeps_the_input_port_inside_16_bits(rng):
    # Dense ticks into strong positive weights: at λ = 2048/θ one tick's input is ~4× the 16-bit port.
    w0 = rng.normal(0.5, 0.1, (16, 400))
    chain = chain_from_graph(lif_graph([w0, rng.normal(0, 0.3, (3, 16))], beta=0.9, threshold=1.0))
    spikes = rng.random((30, 20, 400)) < 0.3
    uncapped = quantize(chain, None)
    assert headroom(uncapped, spikes).layers[0].a_in_over_16bit > 0  # what the cap prevents
    net = quantize(chain, spikes)
    h = headroom(net, spikes)
    assert h.layers[0].a_in_over_16bit == 0 and h.layers[0].peak_a_in <= 0.75 * 2**15
    assert QuantConfig().min_vth <= net.layers[0].vth.max() < 2048  # λ was lowered, the threshold still resolved
    assert h.ok
    # The grid QAT fakes is the same one: it comes from the same calibration.
    assert quant_grid(chain, spikes)[0].scale == pytest.approx(net.layers[0].vth[0] / 1.0, rel=1e-3)


def test_calibration_refuses_a_threshold_without_resolution(rng):
    w0 = np.full((4, 400), 0.5)
    chain = chain_from_graph(lif_graph([w0, np.ones((2, 4))], threshold=0.01))
    with pytest.raises(NeurocalError, match=r"'fc0'.*'weight'.*integer steps"):
        quantize(chain, np.ones((2, 5, 400), dtype=bool))


# ----------------------------------------------------------------------------------------- contract v2


V1_FILE = Path(__file__).parent / "intnet_v1.json"  # written by the schema-1 quantiser (commit 2a2581e)


def test_v1_file_loads_with_the_default_front_end():
    net = IntNetwork.load(V1_FILE)
    assert [layer.vth.tolist() for layer in net.layers] == [[3615] * 4, [5] * 2]
    assert net.frontend["kind"] == "threshold" and net.frontend["thresholds"] == [1e2, 1e3, 1e4, 1e5]
    data = json.loads(V1_FILE.read_text())
    data["layers"][0]["du"] += 1
    with pytest.raises(NeurocalError, match="content_hash"):
        IntNetwork.from_dict(data, "edited v1")


def test_v3_file_carries_arithmetic_static_widths_and_front_end(tmp_path, net_and_data):
    chain, spikes = net_and_data
    net = quantize(chain, spikes, frontend={"kind": "threshold", "thresholds": [10.0, 100.0], "n_ticks": 30,
                                            "tick_ns": 0.2})
    data = json.loads(net.save(tmp_path / "intnet.json").read_text())
    assert data["schema_version"] == 3 and data["arithmetic"] == ARITHMETIC
    assert data["arithmetic"]["current"]["wrap_limit"] == 2**23 and data["arithmetic"]["sum_bits"] == 32
    assert data["layers"][0]["du"] == 4095  # uniform layer: a scalar in the file
    widths = data["layers"][0]["static_widths"]
    assert set(widths) == {"a_max", "u_max", "v_max", "a_bits", "u_bits", "v_bits", "wraps_int32"}
    # the front end is part of what the hash covers
    other = quantize(chain, spikes)
    assert other.content_hash != net.content_hash
    data["frontend"]["thresholds"] = [10.0, 101.0]
    with pytest.raises(NeurocalError, match="content_hash"):
        IntNetwork.from_dict(data, "edited front end")
    data = net.to_dict()  # so are the scales that decode the voltages (schema 3)
    data["layers"][0]["scale"] *= 2
    with pytest.raises(NeurocalError, match="content_hash"):
        IntNetwork.from_dict(data, "edited scale")


def test_v2_file_is_read_with_the_v2_hash_and_its_scales_range_checked(net_and_data):
    import hashlib

    chain, spikes = net_and_data
    net = quantize(chain, spikes)
    data = net.to_dict()
    data["schema_version"] = 2
    canonical = json.dumps(net.integer_content(), sort_keys=True, separators=(",", ":"))
    data["content_hash"] = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert IntNetwork.from_dict(data, "v2").content_hash == net.content_hash
    data["layers"][0]["scale"] = 0
    with pytest.raises(NeurocalError, match="'scale' must be a finite number > 0"):
        IntNetwork.from_dict(data, "v2 with scale 0")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("layers", 0, "weights", 0, 0), 58 + 2**32, "weights.*outside"),
        (("layers", 0, "weights", 0, 0), 58.9, "weights.*integers only"),
        (("layers", 0, "weight_exp"), 1.7, "weight_exp.*integer"),
        (("layers", 0, "spiking"), "no", "spiking.*true or false"),
        (("layers", 0, "num_weight_bits"), 0, "num_weight_bits.*outside 8..8"),
        (("layers", 0, "num_weight_bits"), 99, "num_weight_bits"),
        (("layers", 0, "du"), True, "du.*integers only"),
        (("layers", 1, "bias_mant"), [1], "bias_mant.*shape"),
        (("n_inputs",), "60", "n_inputs.*integer"),
        (("arithmetic", "current", "wrap_limit"), 2**24, "arithmetic"),
    ],
)
def test_edited_fields_are_refused_before_any_cast(tmp_path, net_and_data, path, value, message):
    chain, spikes = net_and_data
    data = quantize(chain, spikes).to_dict()
    data = json.loads(json.dumps(data, default=lambda o: o.tolist()))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(NeurocalError, match=message):
        IntNetwork.from_dict(data, "edited.json")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), groups=st.sampled_from([1, 3]))
def test_static_widths_bound_every_run(seed, groups):
    """The static widths hold what the golden model computes on any input (here: dense random spikes)."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 30)), int(rng.integers(1, 8)), int(rng.integers(1, 5))]
    net = random_network(sizes, rng, extreme=bool(rng.random() < 0.5), groups=groups)
    spikes = rng.random((6, 15, sizes[0])) < rng.choice([0.3, 1.0])
    stats = simulate(net, spikes, stats=True).stats
    for widths, s in zip(net.static_widths(), stats, strict=True):
        assert s["peak_a_in"] <= widths.a_max
        assert s["peak_u"] <= widths.u_max and s["peak_v"] <= widths.v_max
        assert widths.u_bits <= 32 and widths.a_bits <= 32


def test_static_widths_of_a_plain_layer():
    layer = IntLayer(name="l", synapse="s", kind="LIF", weights=[[254, 254, -256], [2, 0, 0]], weight_exp=2,
                     bias_mant=[100, 0], bias_exp=1, du=4095, dv=0, vth=10)
    widths = layer_widths(layer)
    assert widths.a_max == 508 * 4  # Σ positive weights of the first row << 2
    assert widths.u_max == 508 * 4 * 64  # du = 4095: no current memory, |u| = |a| << 6
    assert widths.v_max == 2**23 - 1 + widths.u_max + 200
    assert (widths.a_bits, widths.u_bits, widths.v_bits) == (12, 18, 25) and not widths.wraps_int32


def test_clustering_bounds_groups_and_reports_its_cost(rng):
    n = 20
    graph = lif_graph(_weights(rng, [40, n, 3]), beta=[rng.uniform(0.7, 0.99, n), 0.9],
                      threshold=[rng.uniform(0.8, 1.2, n), 1.0])
    chain = chain_from_graph(graph)
    spikes = rng.random((30, 25, 40)) < 0.1
    full = quantize(chain, spikes)
    assert len(full.layers[0].parameter_groups()) == n
    clustered = quantize(chain, spikes, QuantConfig(max_groups=3))
    assert len(clustered.layers[0].parameter_groups()) <= 3
    report = clustered.calibration["clustering"]
    assert report["max_groups"] == 3 and report["clustered"]["layers"][0]["spike_overlap"] > 0.3
    exact = float_int_agreement(chain, full, spikes)["layers"][0]["spike_overlap"]
    assert report["clustered"]["layers"][0]["spike_overlap"] <= exact + 0.05  # clustering does not help


def test_cubalif_bias_mapping_is_stated_and_measured(rng):
    graph = lif_graph(_weights(rng, [30, 8, 2]), alpha=0.7, beta=0.9, threshold=1.0,
                      biases=[np.full(8, 0.05), np.full(2, 0.1)])
    chain = chain_from_graph(graph)
    spikes = rng.random((20, 30, 30)) < 0.1
    nir_sem, mapped = simulate_float(chain, spikes), simulate_float(chain, spikes, bias="voltage")
    assert not np.array_equal(nir_sem[-1]["v_final"], mapped[-1]["v_final"])  # the two meanings differ
    net = quantize(chain, spikes)
    stated = {a["node"]: a for a in net.calibration["approximations"]}
    assert set(stated) == {"lif0", "lif1"}
    assert 0 <= stated["lif0"]["spike_overlap"] <= 1 and stated["lif1"]["readout_max_rel_diff"] > 0
    lif_only = quantize(chain_from_graph(lif_graph(_weights(rng, [30, 8, 2]), biases=[np.full(8, 0.05),
                                                                                      np.zeros(2)])), spikes)
    assert "approximations" not in lif_only.calibration  # LIF: the mapping is exact, nothing to state
