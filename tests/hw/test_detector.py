"""The detector path end to end: showers simulated by ``neurocal.sim``, encoded into the front end's 400 spike
lines, sampled every 0.2 ns of simulated time into ``nc_top`` built with the line input, compared with the
golden model on every layer; the cycle model's count equals the RTL's."""

from __future__ import annotations

import numpy as np
import pytest

from neurocal import regmap
from neurocal.backends import compare_results
from neurocal.errors import NeurocalError
from neurocal.golden import GoldenBackend
from neurocal.hw import cosim
from neurocal.hw.costmodel import predict_run
from neurocal.hw.generate import HwConfig, generate
from neurocal.testnets import random_network

pytestmark = pytest.mark.rtl
ERRORS = regmap.bit("STATUS", "MALFORMED") | regmap.bit("STATUS", "OVERFLOW")


def _check(net, spikes: np.ndarray, run: cosim.CosimRun, *, cycles: bool) -> None:
    reference = GoldenBackend().run(net, spikes)
    cmp = compare_results(reference, run.result)
    assert cmp.first is None, f"detector path differs from the golden model: first divergence {cmp.first}"
    assert all(s is not None for s in run.result.layer_spikes), "every layer compared"
    assert run.registers["events_in"] == run.registers["events_out"] == len(spikes)
    assert run.registers["status"] & ERRORS == 0
    # the core says which input it was built for
    assert run.registers["caps"] == regmap.capabilities(run.shape, 0)["CAPS"]
    assert run.registers["caps"] & regmap.bit("CAPS", "INPUT")
    if cycles:  # an always-ready output: the model's count is the RTL's, event by event
        predicted = predict_run(run.shape, spikes, reference).cycles
        assert predicted.tolist() == run.cycles.tolist()


def test_simulated_showers_through_the_lines_match_the_golden_model_icarus(hw_build_root) -> None:
    from neurocal.sim.frontend import encode_thresholds
    from neurocal.sim.simulate import simulate

    spikes = encode_thresholds(simulate(["proton", "kaon", "pion"], 6, seed=3).photons)
    spikes = spikes[spikes.any(axis=(1, 2))][:3]  # events that light the front end
    assert spikes.shape[1:] == (100, 400) and len(spikes) == 3 and spikes.sum() > 1000
    net = random_network([400, 16, 8, 2], np.random.default_rng(5))
    # Icarus on a narrow layer 0 (2 weight banks): a wide one costs minutes of simulation for nothing more
    run = cosim.run_detector(net, spikes, sim="icarus", build_root=hw_build_root, config=HwConfig(rows=[2, 4, 4]))
    assert run.shape.input == "lines" and run.shape.line_ticks == 100 and run.shape.line_k == 25
    _check(net, spikes, run, cycles=True)
    # the window arrives at line rate and layer 0 takes a raster per tick: at least T + L + 1 cycles
    assert np.all(run.cycles >= 100 + net.n_layers + 1)


@pytest.mark.parametrize("seed", range(3))
def test_random_networks_through_the_lines_icarus(seed: int, hw_build_root) -> None:
    """Small random networks, windows of 1..4 clocks, output back-pressure on odd seeds (cycles compared
    without it)."""
    rng = np.random.default_rng(100 + seed)
    sizes = [int(x) for x in rng.integers(1, 13, size=rng.integers(2, 5))]
    net = random_network(sizes, rng, extreme=seed % 2 == 1, readout="spikes" if seed % 3 else "membrane", groups=3)
    k = int(rng.integers(1, 6))
    spikes = rng.random((3, k * int(rng.integers(1, 5)), sizes[0])) < rng.uniform(0.1, 0.8)
    lanes = [int(rng.integers(1, n + 1)) for n in sizes[1:]]
    rows = [int(rng.integers(1, n + 1)) for n in sizes[:-1]]
    run = cosim.run_detector(net, spikes, sim="icarus", build_root=hw_build_root,
                             config=HwConfig(lanes=lanes, rows=rows, line_k=k), backpressure=seed % 2 == 1)
    _check(net, spikes, run, cycles=seed % 2 == 0)


@pytest.mark.parametrize(("k", "ticks", "match"), [(3, 10, "a window of 10 ticks at 3 samples per clock"),
                                                   (0, 10, "at 0 samples per clock"),
                                                   (5, 20000, "at most 16381 ticks")])
def test_a_window_that_is_not_whole_clocks_is_refused_in_one_line(k, ticks, match, tmp_path, rng) -> None:
    net = random_network([6, 4, 2], rng)
    with pytest.raises(NeurocalError, match=match):
        generate(net, tmp_path, HwConfig(input="lines", line_k=k, line_ticks=ticks))
    with pytest.raises(NeurocalError, match=r"input 'usb'; choose one of aer, lines \(HwConfig.input\)"):
        generate(net, tmp_path, HwConfig(input="usb"))
