"""The cycle model (``neurocal.hw.costmodel``) against the RTL: the same cycles on every event, serial and
streamed, on random shapes (banks, lanes, LIF lanes, AER words per beat) — the count is a deterministic function of
the rasters and the build, so any difference is a bug in one of them."""

from __future__ import annotations

import numpy as np
import pytest

from neurocal.golden import GoldenBackend
from neurocal.hw import bulk
from neurocal.hw.costmodel import EOE, EOT, NONE, bank_reads, input_steps, predict_run
from neurocal.hw.generate import HwConfig, shape_from_config
from neurocal.testnets import random_network

pytestmark = pytest.mark.rtl


def test_bank_reads_are_the_fullest_bank_times_the_groups() -> None:
    raster = np.zeros((2, 10), dtype=bool)
    raster[0, [0, 3, 6, 9]] = True  # banks of 3: 0, 0, 0, 0 -> 4 in bank 0
    raster[1, [1, 2]] = True  # banks 1 and 2, one each
    assert bank_reads(raster, rows=3, groups=2).tolist() == [8, 2]
    assert bank_reads(np.zeros((1, 5), dtype=bool), rows=5, groups=3).tolist() == [0]


def test_input_beats_take_a_cycle_per_marker() -> None:
    # ticks of 2, 0, 5 spikes: words s s EOT | EOT | s s s s s EOT | EOE = 12 words
    assert input_steps(np.array([2, 0, 5]), words=4) == [[EOT, EOT], [NONE], [EOT, EOE]]
    assert input_steps(np.array([2, 0, 5]), words=16) == [[EOT, EOT, EOT, EOE]]
    assert input_steps(np.array([0]), words=1) == [[EOT], [EOE]]


@pytest.mark.parametrize("seed", range(4))
def test_model_equals_the_rtl_on_random_builds(seed: int, hw_build_root) -> None:
    rng = np.random.default_rng(100 + seed)
    sizes = [int(x) for x in rng.integers(2, 14, size=rng.integers(2, 5))]
    net = random_network(sizes, rng, readout="spikes" if seed % 2 else "membrane")
    spikes = rng.random((5, int(rng.integers(1, 9)), sizes[0])) < rng.uniform(0.1, 0.8)
    lanes = [int(rng.integers(1, n + 1)) for n in sizes[1:]]
    config = HwConfig(lanes=lanes, rows=[int(rng.integers(1, n + 1)) for n in sizes[:-1]],
                      words=int(rng.choice([1, 2, 3, 8])),
                      lif_lanes=[int(rng.choice([f for f in range(1, k + 1) if k % f == 0])) for k in lanes])
    reference = GoldenBackend().run(net, spikes)
    shape = shape_from_config(net, config)
    for serial in (True, False):
        run = bulk.run_stream(net, spikes, sim="icarus", build_root=hw_build_root, config=config, serial=serial)
        predicted = predict_run(shape, spikes, reference, serial=serial)
        assert predicted.cycles.tolist() == run.cycles.tolist(), f"serial={serial}"
        assert predicted.total_cycles == run.total_cycles, f"serial={serial}"


def test_model_tells_a_busier_event_costs_more() -> None:
    """More spikes in one bank cost more cycles, in the model alone (no simulator): the reason banks exist."""
    rng = np.random.default_rng(7)
    net = random_network([12, 6, 2], rng)
    shape = shape_from_config(net, HwConfig(rows=[3, 2], words=4))
    quiet = np.zeros((1, 4, 12), dtype=bool)
    busy = quiet.copy()
    busy[0, :, 0::3] = True  # four spikes per tick, all in bank 0
    spread = quiet.copy()
    spread[0, :, 0:4] = True  # four spikes per tick over banks 0, 1, 2, 0
    cycles = [predict_run(shape, s, GoldenBackend().run(net, s)).cycles[0] for s in (quiet, spread, busy)]
    assert cycles[0] < cycles[1] < cycles[2]
