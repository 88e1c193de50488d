"""Lava fixed_pt runs the integer network bit for bit like the golden model (docs/design.md §2 acceptance)."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocal.backends import compare_results, get_backend
from neurocal.golden import GoldenBackend
from neurocal.nirgraph import chain_from_graph
from neurocal.quantize import quantize, simulate_float
from neurocal.testnets import corner_networks, lif_graph, random_network

pytestmark = [pytest.mark.lava, pytest.mark.timeout(300)]


def _calorimeter_spikes(n_events: int, seed: int) -> np.ndarray:
    """Encoded calorimeter-like showers (the shower simulator when present, else sparse random spikes)."""
    from neurocal.sim.frontend import encode_thresholds

    try:
        from neurocal.sim.simulate import simulate
    except ImportError:
        rng = np.random.default_rng(seed)
        return rng.random((n_events, 100, 400)) < 0.01
    return encode_thresholds(simulate(["proton", "kaon", "pion"], n_events, seed=seed).photons)


def _assert_bit_exact(net, spikes):
    golden = GoldenBackend().run(net, spikes)
    lava = get_backend("lava").run(net, spikes)
    cmp = compare_results(golden, lava)
    assert cmp.n_mismatched == 0, cmp.to_dict()
    return golden, lava


@pytest.mark.slow
def test_realistic_400_input_network_200_events():
    spikes = _calorimeter_spikes(400, seed=7)
    rng = np.random.default_rng(3)
    weights = [rng.normal(0, 3 / np.sqrt(400), (50, 400)), rng.normal(0, 1 / np.sqrt(50), (30, 50))]
    chain = chain_from_graph(lif_graph(weights, beta=0.9, readout="membrane"))
    net = quantize(chain, spikes[:200])
    golden, lava = _assert_bit_exact(net, spikes[200:])
    assert golden.ops["spikes"][:, 0].sum() > 1000  # the hidden layer is really active
    assert np.abs(lava.readout_v).max() > 2**18  # the readout voltage is far from trivial
    assert np.array_equal(lava.ops["spikes"], golden.ops["spikes"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    seed=st.integers(0, 2**32 - 1),
    readout=st.sampled_from(["membrane", "spikes"]),
    groups=st.sampled_from([1, 2, 4]),
)
def test_extreme_random_networks(seed: int, readout: str, groups: int):
    """du/dv at 0 and 4095, saturating and negative weights, u wrapping and v clipping, per-neuron parameter
    groups, up to ~100 inputs and 40 events × 20 ticks per Lava run (about 50× the first version's
    examples × events × ticks × inputs)."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(2, 100)), int(rng.integers(1, 12)), int(rng.integers(1, 6))]
    net = random_network(sizes, rng, extreme=True, readout=readout, groups=groups)
    spikes = rng.random((40, 20, sizes[0])) < rng.choice([0.02, 0.1, 0.5, 0.9])
    _assert_bit_exact(net, spikes)


@pytest.mark.parametrize("case", [name for name, _, _ in corner_networks()])
def test_corner_networks(case: str):
    """The contract's edges, always run: u driven to −2^23, |a| > 2^15, vth = 0, weight_exp −8 and 7,
    du/dv at 0 and 4095, per-neuron groups (one needing a sign-mode pad row), a saturating non-firing readout."""
    _, net, spikes = next(c for c in corner_networks() if c[0] == case)
    from neurocal.golden import simulate

    stats = simulate(net, spikes, stats=True).stats
    if case == "u_to_minus_2^23":
        assert stats[0]["peak_u"] == 2**23 and stats[0]["a_in_over_16bit"] > 0
    if case == "readout_saturates":
        assert stats[0]["v_clips"] > 0
    _assert_bit_exact(net, spikes)


@pytest.mark.slow
def test_foreign_per_neuron_nir_graph_on_calorimeter_events():
    """A NIR graph as other frameworks write it — per-neuron tau and threshold in every layer; a LIF and a CubaLIF
    hidden layer and a CubaLIF readout — quantises, and golden equals Lava bit for bit on 100 encoded calorimeter
    events. (A LIF readout is the realistic network above.)"""
    spikes = _calorimeter_spikes(140, seed=21)
    rng = np.random.default_rng(8)
    sizes = [400, 24, 12, 4]
    weights = [rng.normal(0, 3 / np.sqrt(a), (b, a)) for a, b in itertools.pairwise(sizes)]
    # Per-neuron values drawn from a few sets (Lava runs one LIF process per distinct set: keep the test lean).
    g0, g1, g2 = rng.integers(0, 3, 24), rng.integers(0, 2, 12), np.array([0, 1, 0, 1])
    graph = lif_graph(
        weights,
        beta=[np.array([0.8, 0.9, 0.95])[g0], np.array([0.85, 0.9])[g1], np.array([0.9, 0.97])[g2]],
        threshold=[np.array([0.8, 1.0, 1.25])[g0], np.array([0.7, 1.0])[g1], np.ones(4)],
        alpha=[np.zeros(24), np.array([0.3, 0.6])[g1], np.array([0.5, 0.8])[g2]],
        biases=[np.zeros(24), rng.normal(0, 0.02, 12), rng.normal(0, 0.02, 4)],
        readout="membrane",
    )
    graph.nodes["lif0"] = _as_lif(graph.nodes["lif0"])
    chain = chain_from_graph(graph)
    assert [layer.kind for layer in chain.layers] == ["LIF", "CubaLIF", "CubaLIF"]
    net = quantize(chain, spikes[:40])
    assert all(len(layer.parameter_groups()) > 1 for layer in net.layers)
    assert [a["node"] for a in net.calibration["approximations"]] == ["lif1", "lif2"]  # CubaLIF bias: stated
    golden, _ = _assert_bit_exact(net, spikes[40:])
    assert golden.ops["spikes"][:, 0].sum() > 500 and golden.ops["spikes"][:, 1].sum() > 100  # really active


def _as_lif(node):
    import nir

    return nir.LIF(tau=node.tau_mem, r=node.r, v_leak=node.v_leak, v_threshold=node.v_threshold,
                   v_reset=node.v_reset)


def test_voltages_driven_to_the_24_bit_limits():
    rng = np.random.default_rng(11)
    net = random_network([6, 3, 2], rng, readout="membrane")
    for layer in net.layers:  # integrate without leak, saturating excitatory weights at the top exponent
        layer.weights = np.full_like(layer.weights, 254)
        layer.weight_exp = 7
        layer.du, layer.dv, layer.vth = (np.full(layer.n_out, x, dtype=np.int32) for x in (0, 0, 131071))
    spikes = np.ones((6, 12, 6), dtype=bool)
    spikes[::2] = rng.random((3, 12, 6)) < 0.5
    from neurocal.golden import simulate

    stats = simulate(net, spikes, stats=True).stats
    assert stats[-1]["v_clips"] > 0 and stats[-1]["u_wraps"] > 0  # the test really reaches the limits
    _assert_bit_exact(net, spikes)


def test_floating_pt_matches_float_reference():
    from neurocal.sim.lava_backend import run_chain_float

    rng = np.random.default_rng(5)
    chain = chain_from_graph(
        lif_graph([rng.normal(0, 0.6, (5, 12)), rng.normal(0, 0.5, (3, 5))], beta=0.8,
                  biases=[rng.normal(0, 0.05, 5), np.zeros(3)], readout="membrane")
    )
    spikes = rng.random((8, 10, 12)) < 0.3
    lava = run_chain_float(chain, spikes)
    ref = simulate_float(chain, spikes, bias="voltage")  # floating_pt adds the bias to v, as the integer LIF
    np.testing.assert_allclose(lava["v_final"][-1], ref[-1]["v_final"], rtol=1e-9, atol=1e-9)
    assert np.array_equal(lava["layer_spikes"][0], ref[0]["spikes"])


def test_importing_neurocal_sim_does_not_import_lava():
    code = "import sys, neurocal.sim, neurocal.sim.lava_backend, neurocal.backends; print('lava' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_compat_rewrites_only_bytecoder_defaults():
    from neurocal.sim.lava_compat import patch_source

    src = (
        "from __future__ import annotations\n@dataclass\nclass C:\n"
        "    x: ByteEncoder = ByteEncoder()\n    n: int = 0\n"
    )
    out = patch_source(src)
    assert "x: ByteEncoder = field(default_factory=ByteEncoder)" in out and "n: int = 0" in out
    assert out.index("from __future__") < out.index("import field")


def test_cli_compare_golden_lava(tmp_path):
    import json

    import nir
    from click.testing import CliRunner

    from neurocal.cli import main
    from neurocal.sim.dataset import EventSet, write_h5

    rng = np.random.default_rng(2)
    n = 6
    photons = (rng.random((n, 15, 100)) < 0.05) * rng.integers(150, 200000, size=(n, 15, 100))
    write_h5(EventSet(photons=photons.astype(np.uint32), energy_mev=np.ones(n), centroid=np.zeros((n, 3)),
                      dispersion=np.zeros((n, 2)), particle=np.ones(n, dtype=np.int32),
                      n_interactions=np.ones(n, dtype=np.int32), cubelet=np.zeros(n, dtype=np.int32)),
             tmp_path / "data.h5")
    nir.write(tmp_path / "m.nir", lif_graph([rng.normal(0, 0.2, (8, 400)), rng.normal(0, 0.3, (2, 8))]))
    runner = CliRunner()
    res = runner.invoke(main, ["quantize", str(tmp_path / "m.nir"), "--data", str(tmp_path / "data.h5"),
                               "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["compare", "--backends", "golden,lava", "--bundle", str(tmp_path / "b"),
                               "--data", str(tmp_path / "data.h5"), "--events", "6", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output.strip().splitlines()[-1])
    assert summary["mismatched_events"] == 0 and set(summary["seconds"]) == {"golden", "lava"}
