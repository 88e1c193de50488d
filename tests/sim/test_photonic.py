"""The InP nanowire photonic front end: the ideal limit, the physics of each stage, errors, energy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurocal.errors import NeurocalError
from neurocal.sim.frontend import encode_thresholds, frontend_from_dict
from neurocal.sim.photonic import (
    EnergyConstants,
    PhotonicCore,
    PhotonicFrontEnd,
    PhotonicSettings,
    design,
    effective_qe,
    energy_per_event,
    ideal_settings,
)
from neurocal.sim.simulate import SimConfig, simulate

from .helpers import random_events


@pytest.fixture(scope="module")
def paper_events():
    """Simulated calorimeter events in the paper's light convention (all four levels fire)."""
    return simulate(["proton", "kaon", "pion"], 24, seed=11, config=SimConfig(light="paper"))


@pytest.fixture(scope="module")
def physical_events():
    return simulate(["proton", "kaon", "pion"], 12, seed=12)


def per_level(spikes: np.ndarray, n_levels: int = 4) -> np.ndarray:
    return spikes.reshape(*spikes.shape[:-1], -1, n_levels).sum(axis=tuple(range(spikes.ndim)))


# --- the ideal limit ------------------------------------------------------------------------------


def test_ideal_photonic_reproduces_the_threshold_encoder_on_simulated_events(paper_events, physical_events):
    fe = PhotonicFrontEnd(ideal_settings())
    for events in (paper_events, physical_events):
        expected = encode_thresholds(events.photons)
        got = fe.encode(events.photons)
        assert got.dtype == bool and got.shape == expected.shape
        diff = np.argwhere(got != expected)
        assert diff.size == 0, f"first divergence (event, tick, channel) {diff[:1].tolist()}"
    assert (per_level(encode_thresholds(paper_events.photons)) > 0).all()  # every level is exercised


def test_ideal_limit_holds_at_the_exact_boundary_counts():
    levels = (1e2, 1e3, 1e4, 1e5)
    counts = [int(x) + d for x in levels for d in (-1, 0, 1)]
    photons = np.zeros((1, len(counts), 3), dtype=np.uint32)
    photons[0, :, 0] = counts
    photons[0, :, 1] = counts[::-1]  # the previous tick's light must not leak into the next
    photons[0, :, 2] = 200_000
    got = PhotonicFrontEnd(ideal_settings(levels)).encode(photons)
    assert np.array_equal(got, encode_thresholds(photons))


def test_ideal_limit_follows_custom_levels(rng):
    levels = (10.0, 500.0, 2500.5)
    photons = random_events(4, seed=3).photons // 40
    photons[0, :3, 0] = [10, 11, 2501]
    got = PhotonicFrontEnd(ideal_settings(levels)).encode(photons)
    assert np.array_equal(got, encode_thresholds(photons, levels))
    assert per_level(got, 3).min() > 0


def test_ideal_limit_refuses_a_membrane_that_remembers_the_last_tick():
    with pytest.raises(NeurocalError, match="tau_membrane_ps"):
        ideal_settings(tau_membrane_ps=60.0)


# --- design and physics ---------------------------------------------------------------------------


def test_mean_design_realises_the_decade_levels():
    d = design(PhotonicSettings(threshold_design="mean"))
    assert d.transmission[0] == 1.0
    assert np.allclose(d.transmission, [1, 0.1, 0.01, 0.001], rtol=0.006)  # optical densities 0..3
    assert np.allclose(d.photon_thresholds, [100.5, 1000.5, 10000.5, 100000.5])
    assert 0.6 < d.eta < 0.75  # QE averaged over the PbWO4 bands
    assert d.dt_ps == 5.0 and d.sub_steps == 40


def test_median_design_fires_each_channel_half_the_time_at_its_decade():
    """The default (noisy) superpixel: a lone tick of L_i or L_i + 1 photons fires channel i ~50 % of the time."""
    fe = PhotonicFrontEnd(PhotonicSettings(seed=3))
    assert fe.design.threshold_pe > design(PhotonicSettings(threshold_design="mean")).threshold_pe  # noise lifts θ
    n = 300
    photons = np.zeros((2 * n, 3, 4), dtype=np.uint32)  # the tick's light may spill into the next tick
    for i, level in enumerate((100, 1000, 10_000, 100_000)):
        photons[:n, 1, i], photons[n:, 1, i] = level, level + 1
    fired = fe.run(photons).spikes.reshape(2 * n, 3, 4, 4).any(axis=1)  # (events, sensor, channel)
    for i in range(4):
        assert fired[:, i, i].mean() == pytest.approx(0.5, abs=0.07)  # its own level: half the time
        assert fired[:, i, :i].all() and not fired[:, i, i + 1 :].any()  # lower levels always, higher never


def test_effective_qe_is_the_spectrum_weighted_mean():
    flat = PhotonicSettings(qe=(0.4,) * 7)
    assert effective_qe(flat) == pytest.approx(0.4)
    blue_only = PhotonicSettings(emission_weights=(1.0, 0.0))
    green_only = PhotonicSettings(emission_weights=(0.0, 1.0))
    assert effective_qe(blue_only) < effective_qe(PhotonicSettings()) < effective_qe(green_only)


def test_membrane_of_a_uniformly_lit_tick_follows_the_closed_form():
    s = ideal_settings(threshold_pe=1e12)  # never fires: watch v
    fe = PhotonicFrontEnd(s)
    d = fe.design
    photons = np.zeros((3, 5), dtype=np.uint32)
    photons[0, 2] = 5000
    tr = fe.trace(photons, event=0, sensor=2)
    q = 5000 * d.eta * d.transmission  # photoelectrons per channel in tick 0
    end_of_tick0 = tr["v"][d.sub_steps - 1]
    assert np.allclose(end_of_tick0, q * d.retained, rtol=1e-12)
    assert np.allclose(tr["v"][2 * d.sub_steps - 1], q * d.retained * d.alpha**d.sub_steps, rtol=1e-9)
    assert not tr["spikes"].any()


def test_refractory_time_caps_the_spike_rate():
    s = ideal_settings(refractory_ps=20.0)
    fe = PhotonicFrontEnd(s)
    photons = np.full((1, 3, 1), 10**7, dtype=np.uint32)
    out = fe.run(photons)
    n_ref = fe.design.refractory_steps
    assert n_ref == 4
    # every channel sees far more than threshold each step: it fires, rests 4 steps, fires …
    assert (out.n_spikes == 3 * fe.design.sub_steps // (n_ref + 1)).all()


def test_shot_noise_has_the_binomial_mean_and_spread():
    s = PhotonicSettings(jitter_ps=0.0, latency_ps=0.0, dark_rate_hz=0.0, threshold_pe=1e12)
    core = PhotonicCore(s)
    n_ev, n_photons = 400, 2000
    state = core.new_state(np.arange(n_ev), 1)
    core.deposit(state, np.full((n_ev, 1), n_photons), tick=0)
    detected = state.ring.sum(axis=(0, 1))  # (events, channels)
    p = core.design.eta * core.design.transmission
    mean, sd = n_photons * p, np.sqrt(n_photons * p * (1 - p))
    assert np.all(np.abs(detected.mean(axis=0) - mean) < 5 * sd / math.sqrt(n_ev))
    assert np.allclose(detected.std(axis=0), sd, rtol=0.2)


def test_latency_and_jitter_delay_the_arrivals():
    s = PhotonicSettings(jitter_ps=20.0, latency_ps=60.0, dark_rate_hz=0.0)
    core = PhotonicCore(s)
    state = core.new_state(np.arange(50), 1)
    core.deposit(state, np.full((50, 1), 100), tick=0)
    per_step = state.ring[:, :, :, 0].sum(axis=2).reshape(-1)  # channel 0, ticks 0..ahead-1 in order
    t = (np.arange(per_step.size) + 0.5) * core.design.dt_ps
    mean = (per_step * t).sum() / per_step.sum()
    assert mean == pytest.approx(100.0 + 60.0, abs=4.0)  # mid-tick arrival + latency
    assert per_step[core.design.sub_steps :].sum() > 0  # light spills into the next tick
    expected = PhotonicCore(s.model_copy(update={"stochastic": False}))
    st2 = expected.new_state(np.arange(1), 1)
    expected.deposit(st2, np.full((1, 1), 100), tick=0)
    mean_expected = (st2.ring[:, :, 0, 0].reshape(-1) * t).sum() / st2.ring[:, :, 0, 0].sum()
    assert mean_expected == pytest.approx(mean, abs=4.0)  # the mean-current path has the same profile


def test_dark_counts_fire_a_sensitive_channel_at_the_dark_rate():
    rate = 1e9  # 0.2 counts per tick per channel
    s = PhotonicSettings(dark_rate_hz=rate, threshold_pe=0.5, refractory_ps=0.0, jitter_ps=0.0, latency_ps=0.0)
    out = PhotonicFrontEnd(s).run(np.zeros((20, 100, 2), dtype=np.uint32))
    expected = rate * 20 * 100 * 0.2e-9  # counts per channel over all events
    assert out.n_spikes.sum(axis=0) == pytest.approx(np.full(8, expected), rel=0.25)


def test_noise_changes_the_spikes_and_is_reproducible(paper_events):
    photons = paper_events.photons[:4]
    fe = PhotonicFrontEnd(PhotonicSettings(seed=5))
    a = fe.encode(photons)
    assert np.array_equal(a, PhotonicFrontEnd(PhotonicSettings(seed=5), chunk=3).encode(photons))
    assert np.array_equal(a[2:4], fe.encode(photons[2:4], first_event=2))  # a slice encodes as in the file
    assert not np.array_equal(a, PhotonicFrontEnd(PhotonicSettings(seed=6)).encode(photons))
    ideal = encode_thresholds(photons)
    assert not np.array_equal(a, ideal)
    # the noisy channels still follow the light: level 0 agrees with the ideal encoder on most lit ticks
    lit = ideal.reshape(4, 100, 100, 4)[..., 0]
    assert a.reshape(4, 100, 100, 4)[..., 0][lit].mean() > 0.8


def test_photonic_settings_round_trip_through_a_dict():
    fe = PhotonicFrontEnd(PhotonicSettings(seed=9, jitter_ps=5.0, transmission=(1.0, 0.2, 0.05, 0.01)))
    d = fe.to_dict()
    assert d["kind"] == "photonic" and d["transmission"] == [1.0, 0.2, 0.05, 0.01]
    assert d["n_ticks"] == 100 and d["tick_ns"] == 0.2
    again = frontend_from_dict(d)
    assert isinstance(again, PhotonicFrontEnd) and again.settings == fe.settings
    photons = random_events(1, seed=1).photons // 20
    assert np.array_equal(again.encode(photons), fe.encode(photons))


# --- bad settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("update", "words"),
    [
        ({"transmission": [1.0, 0.1, 1.2, 0.001]}, ["transmission[2] = 1.2", "[0, 1]"]),
        ({"transmission": [1.0, -0.1, 0.01, 0.001]}, ["transmission[1] = -0.1"]),
        ({"transmission": [1.0, 0.1]}, ["transmission has 2 values for 4 levels"]),
        ({"qe": [0.5, 0.6, 1.3, 0.7, 0.7, 0.7, 0.7]}, ["qe[2] = 1.3", "cannot exceed 1"]),
        ({"tau_membrane_ps": 2.0}, ["tau_membrane_ps = 2.0", "below the sub-tick step 5 ps"]),
        ({"tau_membrane_ps": 4.0, "sub_steps": 20}, ["below the sub-tick step 10 ps"]),
        ({"refractory_ps": 1.0}, ["refractory_ps = 1.0", "sub-tick step"]),
        ({"dark_rate_hz": -1.0}, ["dark_rate_hz = -1.0", ">= 0"]),
        ({"jitter_ps": float("nan")}, ["jitter_ps"]),
        ({"levels": [float("nan"), 1e3, 1e4, 1e5]}, ["front_end.levels[0]", "finite"]),
        ({"emission_fwhm_nm": [80.0, float("inf")]}, ["front_end.emission_fwhm_nm[1]", "finite"]),
        ({"levels": [100.0, 10.0]}, ["levels", "increasing"]),
        ({"seed": -1}, ["front_end.seed"]),
        ({"threshold_pe": 0.0}, ["front_end.threshold_pe"]),
        ({"sub_step": 3}, ["front_end.sub_step", "not permitted"]),
    ],
)
def test_out_of_range_settings_name_the_setting(update, words):
    with pytest.raises(NeurocalError) as err:
        frontend_from_dict({"kind": "photonic", **update}, source="run.yaml")
    msg = str(err.value)
    assert msg.startswith("run.yaml: front_end") and "\n" not in msg
    for w in words:
        assert w in msg


# --- energy ---------------------------------------------------------------------------------------


def test_energy_per_event_is_spikes_times_energy_plus_static_power():
    k = EnergyConstants(energy_per_spike_fj=50.0, link_energy_fj=2.0, static_power_w=1e-6)
    out = energy_per_event(np.array([0, 1000]), n_channels=400, window_ns=20.0, constants=k)
    static = 1e-6 * 400 * 20e-9
    assert out["energy_j"] == pytest.approx([static, 1000 * 52e-15 + static])
    for name, c in out["constants"].items():
        assert c["source"], name  # every constant says where it comes from
    assert "10.1515/nanoph-2020-0177" in out["constants"]["energy_per_spike_fj"]["source"]


@pytest.mark.parametrize("model", [PhotonicSettings, EnergyConstants])
def test_every_physical_default_cites_a_source_or_says_assumption(model):
    numerics = {"qe_wavelength_nm", "sub_steps", "threshold_pe", "threshold_design", "stochastic", "seed"}
    markers = ("doi:", "arXiv:", "et al.", "docs/design.md §", "assumption", "design choice")
    for name, f in model.model_fields.items():
        if name in numerics:
            continue
        assert any(m in (f.description or "") for m in markers), f"{model.__name__}.{name}: no source"


def test_a_quarter_of_the_light_per_channel_keeps_the_levels_but_adds_noise():
    quarter = design(PhotonicSettings(area_share=0.25, threshold_design="mean"))
    assert np.allclose(quarter.photon_thresholds, [100.5, 1000.5, 10000.5, 100000.5])  # θ follows the light
    assert quarter.threshold_pe == pytest.approx(design(PhotonicSettings(threshold_design="mean")).threshold_pe / 4)
    photons = np.zeros((1, 4, 1), dtype=np.uint32)
    photons[0, 1, 0] = 150
    s = ideal_settings(area_share=0.25)
    assert np.array_equal(PhotonicFrontEnd(s).encode(photons), encode_thresholds(photons))


def test_mean_dark_current_is_counted_once_per_sub_step():
    s = PhotonicSettings(stochastic=False, dark_rate_hz=1e9, latency_ps=150.0, jitter_ps=20.0, threshold_pe=1e12)
    core = PhotonicCore(s)
    assert core.ahead > 1  # light reaches later ticks, dark current must not pile up there
    state = core.new_state(np.arange(1), 1)
    for tick in range(4):
        core.step(state, np.zeros((1, 1), dtype=np.uint32), tick)
    tr = np.zeros((core.design.sub_steps, 1, 4))
    core.step(state, np.zeros((1, 1), dtype=np.uint32), 4, trace=tr)
    steady = core.design.dark_per_step / (1 - core.design.alpha)  # v of a constant current
    assert tr[-1, 0] == pytest.approx(np.full(4, steady), rel=1e-9)
