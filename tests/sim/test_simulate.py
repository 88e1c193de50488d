"""The public entry point: shapes, reproducibility, validation, targets, front-end coverage."""

from __future__ import annotations

import json

import numpy as np
import pydantic
import pytest

from neurocal.config import StreamConfig
from neurocal.errors import NeurocalError
from neurocal.sim.dataset import EventSet, read_h5, write_h5
from neurocal.sim.frontend import encode_thresholds
from neurocal.sim.simulate import SimConfig, simulate, simulate_batch


@pytest.fixture(scope="module")
def events() -> EventSet:
    return simulate(["proton", "kaon", "pion"], 60, seed=11)


def test_shapes_and_dtypes(events: EventSet) -> None:
    assert events.photons.shape == (60, 100, 100)
    assert events.photons.dtype == np.uint32
    assert events.energy_mev.shape == (60,) and events.centroid.shape == (60, 3)
    assert events.dispersion.shape == (60, 2)
    assert events.particle.dtype == np.int32 and events.cubelet.dtype == np.int32
    assert events.tick_ns == 0.2
    g = events.generator
    assert g["seed"] == 11 and g["particles"] == ["proton", "kaon", "pion"]
    assert g["config"]["light"] == "physical" and "convention" in g
    json.dumps(g)  # the generator record must be storable


def test_round_robin_particles(events: EventSet) -> None:
    np.testing.assert_array_equal(events.particle[:6], [1, 2, 3, 1, 2, 3])
    assert events.events_per_class() == {"proton": 20, "kaon": 20, "pion": 20}
    odd = simulate(["pion", "proton"], 5, seed=0)
    np.testing.assert_array_equal(odd.particle, [3, 1, 3, 1, 3])


def test_reproducible_and_seed_dependent() -> None:
    a = simulate(["pion"], 12, seed=5, config=SimConfig(batch_size=5))
    b = simulate(["pion"], 12, seed=5, config=SimConfig(batch_size=5))
    c = simulate(["pion"], 12, seed=6, config=SimConfig(batch_size=5))
    np.testing.assert_array_equal(a.photons, b.photons)
    for name in ("energy_mev", "centroid", "dispersion", "n_interactions", "cubelet"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.photons, c.photons)
    assert not np.array_equal(a.energy_mev, c.energy_mev)


@pytest.mark.parametrize("bad", [["electron"], ["pion", "muon"], []])
def test_unknown_particle_is_a_user_error(bad: list[str]) -> None:
    with pytest.raises(NeurocalError, match="proton, kaon, pion"):
        simulate(bad, 3, seed=0)


@pytest.mark.parametrize("n", [0, -4])
def test_bad_event_count_is_a_user_error(n: int) -> None:
    with pytest.raises(NeurocalError, match="n_events"):
        simulate(["pion"], n, seed=0)


def test_config_validated_at_the_edge() -> None:
    with pytest.raises(pydantic.ValidationError):
        SimConfig(energy_gev=-1)
    with pytest.raises(pydantic.ValidationError):
        SimConfig(lite="paper")  # typo: extra fields are forbidden
    with pytest.raises(pydantic.ValidationError):
        SimConfig(gun_cubelet=(4, 12))
    with pytest.raises(pydantic.ValidationError):
        SimConfig(t0_ns=-1.0)
    assert SimConfig(light="paper").decay is False and SimConfig().decay is True


def test_targets_within_geometry(events: EventSet) -> None:
    # cell centres sit at 0.5 … 9.5 cell units, so must every energy-weighted mean
    assert np.all((events.centroid >= 0.5) & (events.centroid <= 9.5))
    # the largest variance of values in [0.5, 9.5] is 4.5² per axis
    assert np.all(events.dispersion >= 0)
    assert np.all(events.dispersion[:, 0] <= 2 * 4.5**2) and np.all(events.dispersion[:, 1] <= 4.5**2)
    assert np.all((events.cubelet >= 0) & (events.cubelet < 1000))
    # the corner gun hits x = y = 150 mm: the readout cubelet is one of the four that meet there,
    # except for rare showers whose most energetic cubelet is off-axis
    ix, iy = events.cubelet % 10, (events.cubelet // 10) % 10
    assert np.mean(np.isin(ix, [4, 5]) & np.isin(iy, [4, 5])) > 0.8
    assert np.all(events.energy_mev > 0) and np.all(events.n_interactions >= 0)


def test_uniform_gun_hits_its_cubelet() -> None:
    ev = simulate(["proton"], 30, seed=2, config=SimConfig(gun="uniform", gun_cubelet=(2, 7)))
    ix, iy = ev.cubelet % 10, (ev.cubelet // 10) % 10
    assert np.mean((ix == 2) & (iy == 7)) > 0.7


def test_threshold_encoder_fires_all_levels() -> None:
    # paper convention, prompt light: the paper's thresholds 10²…10⁵ are all crossed on some events
    ev = simulate(["proton", "kaon", "pion"], 60, seed=4, config=SimConfig(light="paper"))
    spikes = encode_thresholds(ev.photons).reshape(60, 100, 100, 4)
    per_level = spikes.any(axis=(1, 2)).sum(axis=0)  # events with at least one spike at each level
    assert np.all(per_level > 0), per_level
    assert per_level[0] >= per_level[1] >= per_level[2] >= per_level[3]


def test_stream_config_sets_the_window() -> None:
    cfg = SimConfig(stream=StreamConfig(tick_ns=0.5, n_ticks=40))
    ev = simulate(["pion"], 4, seed=1, config=cfg)
    assert ev.photons.shape == (4, 40, 100) and ev.tick_ns == 0.5


def test_time_offset_delays_the_light() -> None:
    codes = np.full(20, 3)
    early = simulate_batch(codes, np.random.default_rng(1), SimConfig())
    late = simulate_batch(codes, np.random.default_rng(1), SimConfig(t0_ns=5.0))
    t = np.arange(100)
    mean_tick = [(b.expected.sum(axis=(0, 2)) * t).sum() / b.expected.sum() for b in (early, late)]
    assert mean_tick[1] > mean_tick[0] + 10  # 5 ns = 25 ticks shift, partly cut by the window end


def test_progress_and_file_round_trip(tmp_path) -> None:
    ev = simulate(["kaon"], 3, seed=9, progress=True)
    back = read_h5(write_h5(ev, tmp_path / "ev.h5"))
    np.testing.assert_array_equal(back.photons, ev.photons)
    assert back.generator["config"] == ev.generator["config"]


def test_interaction_count_scope() -> None:
    codes = np.full(40, 3)
    cub = simulate_batch(codes, np.random.default_rng(8), SimConfig())
    block = simulate_batch(codes, np.random.default_rng(8), SimConfig(interactions_in="block"))
    assert np.all(block.n_interactions >= cub.n_interactions)
    # whole shower: 1 + Poisson(E_had / 2 GeV) with E_had ≈ 46 GeV for a 100 GeV pion → ~20 (minus leakage)
    assert 12 < block.n_interactions.mean() < 28
