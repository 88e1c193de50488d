"""The hls4ml C-simulation runs the integer network bit for bit like the golden model (docs/design.md §2 acceptance).

Every network here is generated as an hls4ml project, compiled with g++ (hls4ml's build_lib.sh) and run
tick by tick; spikes of every layer, u and v after every tick and the final u, v are compared.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocal.firmware.backend import HlsBackend
from neurocal.golden import simulate
from tests.firmware.conftest import assert_bit_exact, extreme_network, per_neuron

pytestmark = [pytest.mark.hls, pytest.mark.timeout(600)]


def test_calorimeter_network_on_encoded_showers(hls_build_dir, calorimeter):
    """A quantised 400-50-30 membrane-readout network on simulated, threshold-encoded showers."""
    net, events, _ = calorimeter
    result = HlsBackend(build_dir=hls_build_dir, trace=True).run(net, events)
    assert_bit_exact(net, events, result)
    assert result.layer_spikes[0].sum() > 1000  # the hidden layer is really active
    assert np.abs(result.readout_v).max() > 2**15  # the readout voltage is far from trivial
    assert len(np.unique(result.readout_v[:, 0])) > len(events) // 2  # and differs from event to event


@pytest.mark.parametrize("readout", ["membrane", "spikes"])
def test_wraps_clips_and_per_neuron_parameters(hls_build_dir, readout):
    """Saturating weights at the top exponent, no leak on some neurons: u wraps and v clips (checked)."""
    net = extreme_network([7, 6, 4], seed=11, readout=readout)
    rng = np.random.default_rng(5)
    for layer in net.layers:
        layer.weights = np.where(rng.random(layer.weights.shape) < 0.7, 254, -256).astype(np.int32)
        layer.weight_exp = 7
    net = per_neuron(net, rng)  # re-validated network; du/dv/vth differ per neuron, edges included
    spikes = rng.random((40, 16, 7)) < rng.choice([0.2, 0.6, 0.95], size=(40, 1, 1))
    stats = simulate(net, spikes, stats=True).stats
    assert sum(s["u_wraps"] for s in stats) > 0 and sum(s["v_clips"] for s in stats) > 0  # the limits are reached
    result = HlsBackend(build_dir=hls_build_dir, trace=True).run(net, spikes)
    assert_bit_exact(net, spikes, result)
    again = HlsBackend(build_dir=hls_build_dir).run(net, spikes[:5])  # a new backend object, same network
    assert again.info["project"] == result.info["project"]
    assert again.info["build_seconds"] == 0.0  # compiled once: the loaded library is reused
    assert np.array_equal(again.readout_v, result.readout_v[:5])


@pytest.mark.slow  # three g++ compiles
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    seed=st.integers(0, 2**32 - 1),
    readout=st.sampled_from(["membrane", "spikes"]),
    n_layers=st.integers(1, 3),
    dense=st.sampled_from([("Latency", 1), ("Resource", 2), ("Resource", 3)]),
)
def test_random_extreme_networks(hls_build_dir, seed, readout, n_layers, dense):
    """Hypothesis-drawn networks: 1–3 layers, per-neuron du/dv/vth at their edges, negative exponents, biases;
    hls4ml's Dense in its latency or its resource implementation."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 24))] + [int(rng.integers(1, 10)) for _ in range(n_layers)]
    net = extreme_network(sizes, seed, readout=readout)
    spikes = rng.random((30, int(rng.integers(1, 12)), sizes[0])) < rng.choice([0.05, 0.5, 0.9])
    strategy, reuse = dense
    result = HlsBackend(build_dir=hls_build_dir, trace=True, strategy=strategy, reuse_factor=reuse).run(net, spikes)
    assert_bit_exact(net, spikes, result)


def test_output_probe_only_build(hls_build_dir):
    """probes='output': hidden layers stay internal; the output layer is still exact."""
    net = extreme_network([6, 5, 4, 3], seed=4, readout="spikes")
    spikes = np.random.default_rng(1).random((20, 10, 6)) < 0.5
    result = HlsBackend(build_dir=hls_build_dir / "new" / "cache", probes="output").run(net, spikes)  # created
    assert result.layer_spikes[:2] == [None, None] and result.v_final[0] is None
    assert_bit_exact(net, spikes, result)


def test_standalone_aer_testbench(tmp_path):
    """The project's own testbench (g++ only) feeds an AER input file through the synthesisable AXI4-Stream top
    (nc::aer_event around hls4ml's top) and writes the output stream of neurocal.aer."""
    import subprocess

    from neurocal import aer
    from neurocal.firmware.project import generate

    rng = np.random.default_rng(21)
    net = extreme_network([8, 6, 5], seed=21, readout="spikes")
    for layer in net.layers:  # excitable: low thresholds, excitatory weights, so the output layer fires
        layer.weights = np.minimum(np.abs(layer.weights), 254)
        layer.vth = np.full(layer.n_out, 3, dtype=np.int32)
    spikes = rng.random((25, 10, 8)) < 0.4
    project = generate(net, tmp_path / "p", compile=False)
    build = subprocess.run(["bash", "build_tb.sh"], cwd=project.path, capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stderr[-3000:]
    aer.encode_events(spikes, first_event=70000).astype("<u4").tofile(tmp_path / "in.aer")
    run = subprocess.run([str(project.path / "neurocal_tb"), str(tmp_path / "in.aer"), str(tmp_path / "out.aer")],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    out_spikes, v, numbers = aer.decode_output(np.fromfile(tmp_path / "out.aer", dtype="<u4"), net.n_outputs)
    golden = simulate(net, spikes)
    assert golden.spikes[-1].sum() > 20  # the output stream really carries spikes
    assert np.array_equal(out_spikes, golden.spikes[-1])
    assert np.array_equal(v, golden.v_final[-1])
    assert numbers.tolist() == [(70000 + e) % 2**16 for e in range(25)]

    words = np.fromfile(tmp_path / "in.aer", dtype="<u4")
    words[:-1].tofile(tmp_path / "truncated.aer")
    bad = subprocess.run([str(project.path / "neurocal_tb"), str(tmp_path / "truncated.aer"), str(tmp_path / "x")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "does not end with an end-of-event marker" in bad.stderr


def test_hls4ml_testbench_reproduces_the_golden_tb_data(tmp_path):
    """tb_data/ from the golden model; hls4ml's own testbench (what Vitis csim/cosim run), built with g++, agrees."""
    import subprocess

    from neurocal.firmware.project import generate

    rng = np.random.default_rng(8)
    net = extreme_network([7, 5, 4], seed=8)
    spikes = rng.random((6, 9, 7)) < 0.5
    project = generate(net, tmp_path / "p", compile=False, stimulus=spikes)
    name = project.config.project_name
    build = subprocess.run(
        ["g++", "-O1", "-std=c++14", "-Ifirmware/ap_types", "-I.", f'-DWEIGHTS_DIR="{project.path}/firmware/weights"',
         f"{name}_test.cpp", f"firmware/{name}.cpp", "-o", "hls4ml_tb"],
        cwd=project.path, capture_output=True, text=True, check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    run = subprocess.run(["./hls4ml_tb"], cwd=project.path, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-2000:]
    got = np.array((project.path / "tb_data/csim_results.log").read_text().split(), dtype=np.int64)
    expected = np.array((project.path / "tb_data/tb_output_predictions.dat").read_text().split(), dtype=np.int64)
    lines = (project.path / "tb_data/tb_input_features.dat").read_text().splitlines()
    assert len(lines) == 6 * (9 + 2)  # one line per tick, T + L ticks per event
    assert got.size == expected.size and np.array_equal(got, expected)


@pytest.mark.slow  # one more g++ compile, for a mutant
def test_an_arithmetic_slip_in_the_core_is_caught_at_its_first_divergence(tmp_path):
    """Mutation check: the same project with floor instead of trunc-toward-zero in the decay is caught, and the
    comparison names where it first shows (a u or v value at a tick), so these tests can fail."""
    from neurocal.backends import BackendResult, compare_results
    from neurocal.firmware import project as project_mod
    from neurocal.firmware.csim import CSim
    from neurocal.golden import GoldenBackend

    net = extreme_network([6, 5, 3], seed=12)
    for layer in net.layers:  # leaky, so that the decay's rounding matters, and inhibitory drive (negative u)
        layer.du = np.full(layer.n_out, 2000, dtype=np.int32)
        layer.dv = np.full(layer.n_out, 1000, dtype=np.int32)
        layer.weights = -np.minimum(np.abs(layer.weights), 255)
    project = project_mod.generate(net, tmp_path / "p", compile=False)
    core = project.path / "firmware/nnet_utils/nc_lif.h"
    exact = "(p < 0) ? -((-p) >> 12) : (p >> 12)"
    assert exact in core.read_text()
    core.write_text(core.read_text().replace(exact, "p >> 12"))  # floors negative products: off by one
    project_mod._compile(project.path, project.path)  # in place: the project lives where it is compiled
    spikes = np.random.default_rng(2).random((10, 8, 6)) < 0.6
    res = CSim(project).run(spikes, trace=True)
    mutant = BackendResult(backend="mutant", output_spikes=res.spikes[-1], v_final=res.v_final,
                           u_final=res.u_final, layer_spikes=res.spikes, trace=res.trace)
    cmp = compare_results(GoldenBackend(trace=True).run(net, spikes), mutant)
    assert cmp.n_mismatched > 0 and cmp.first is not None
    assert cmp.first.quantity in ("u", "v") and cmp.first.tick is not None
    assert abs(cmp.first.expected - cmp.first.got) == 1  # the one-LSB rounding difference, located
