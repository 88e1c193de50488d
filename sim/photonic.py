"""The InP nanowire photonic front end: a behavioural model of the 4-channel superpixel.

Each sensor of the readout face is a superpixel of ``n_levels`` channels. Channel i receives a
share a of the sensor's light (``area_share``) through an absorber of transmission ``T_i``; an
InP nanowire photodetector turns photons into photoelectrons with the quantum efficiency η
averaged over the PbWO4 emission spectrum; the photocurrent drives a photonic leaky
integrate-and-fire neuron with picosecond time constants. Write P_i = a·T_i·η.

Per event (all state starts at zero, like the integer network), per tick t of ``tick_ns`` and
per channel c = sensor · n_levels + i, with N the sensor's photon count in the tick:

* photoelectrons: n ~ Binomial(N, P_i) (shot noise of detection), plus dark counts
  ~ Poisson(dark_rate · tick);
* arrival times: uniform within the tick (the photon frames resolve no finer), each delayed by
  max(0, latency + jitter · z), z ~ N(0, 1), cut at latency + 6σ; binned on a sub-tick grid of
  dt = tick/K. Drawn photon by photon up to 128 photoelectrons per channel and tick; above that,
  one multinomial over the sub-step shares p_k (the same distribution, p_k integrated numerically);
* neuron, per sub-step k: ``v ← α·v + q_k`` with α = exp(−dt/τ) (exact for charge arriving at
  the start of the step, q_k = photoelectrons in step k); during a refractory period v is held
  at 0 and input is lost; otherwise a spike when ``v > θ``, then ``v ← 0`` and the neuron is
  refractory for round(t_ref/dt) steps;
* output: channel c fires in tick t when its neuron spiked at least once in the tick's K
  sub-steps; photoelectrons that land after the window are dropped.

With ``stochastic=False`` nothing is drawn: the neuron is driven by the mean current
q_k = N·P_i · p_k + dark_rate · dt, p_k being the share of a uniformly arriving photon that
lands in step k after latency and jitter.

Design of the defaults (the "ideal" limit reproduces the ideal encoder exactly). A uniformly lit
tick with no latency and jitter leaves ``r = (1 − α^K) / (K (1 − α))`` of its charge in v at the
tick's end, where v peaks, so channel i fires iff N·P_i·r > θ. With m_i = ⌊L_i⌋ + ½ halfway
between the integer counts around the encoder level L_i, the defaults are

    T_i = m_0 / m_i        (T_0 = 1, then ≈ 0.1, 0.01, 0.001: absorbers of optical density i)
    θ   = m_0 · a · η · r  (photoelectrons; threshold_design "mean")

so channel i fires iff N > m_i ⟺ N > L_i for integer N. The previous tick leaves at most α^K·θ
in v (v never exceeds θ without firing); when α^K < 1 / (2·m_max) that residue is below half a
photon of the highest level and the equivalence is exact, which :func:`ideal_settings` checks
(τ = 10 ps on a 0.2 ns tick: α^K = e^−20 ≈ 2·10⁻⁹).

With noise the mean-current threshold lets a channel fire well below its level (the peak of v
over a tick fluctuates above its mean), so the default for the stochastic model is
threshold_design "median": θ is the median of the pre-spike peak of v for a lone tick of L_0 or
L_0 + 1 photons (:func:`median_threshold`), and each channel then fires half of the time at its
decade.

Randomness: event e (its index in the dataset) draws from its own ``default_rng([seed, e])``, tick
after tick, so any slice of a dataset, any batch size, and the Lava process give the same spikes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from neurocal.config import StreamConfig
from neurocal.errors import NeurocalError

from .frontend import check_photons, validate_settings

PS_PER_NS = 1000.0
PER_PHOTON_MAX = 128  # above this many photoelectrons in a tick, one multinomial draw replaces per-photon times
JITTER_TAIL_SIGMAS = 6.0  # delays beyond latency + 6σ (probability 1e-9) are cut: the buffer is finite
_SPECTRUM_NM = np.arange(300.0, 701.0, 1.0)  # integration grid for the emission-weighted QE


MAX_PHOTONS = 2**32  # photon frames are uint32
MAX_MEMORY_STEPS = 1e9  # τ/dt above which 1 − exp(−dt/τ) loses most of its digits
MAX_DARK_RATE_HZ = 1e15  # a dark count per femtosecond: far beyond any detector
MAX_DELAY_TICKS = 10  # detection delay (latency + 6σ jitter) the model carries over into later ticks


class PhotonicSettings(BaseModel):
    """Settings of the photonic superpixel; every default names its source or says "assumption"."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # NaN passes order checks

    levels: tuple[float, ...] = Field(
        (1e2, 1e3, 1e4, 1e5),
        min_length=1,
        description="photons per tick above which channel i is designed to fire: the ideal encoder's thresholds "
        "(docs/design.md §3); sets the default absorbers and neuron threshold",
    )
    transmission: tuple[float, ...] | None = Field(
        None,
        description="absorber transmission per channel, 0..1; None = designed from levels, T_i = m_0/m_i "
        "(≈ 1, 0.1, 0.01, 0.001: neutral-density absorbers of optical density i — design choice of this model)",
    )
    area_share: float = Field(
        1.0,
        gt=0,
        le=1,
        description="share of the sensor's light that reaches each channel (assumption: 1, a stacked superpixel "
        "where every channel sees the whole sensor through its absorber; 0.25 for four side-by-side sub-pixels, "
        "which quarters the photoelectrons and raises the relative shot noise)",
    )
    emission_peaks_nm: tuple[float, ...] = Field(
        (420.0, 500.0),
        description="PbWO4 emission bands: blue ~420 nm (regular WO4 groups) and green ~500 nm (defect WO3 "
        "groups) — Lecoq et al., NIM A 365 (1995) 291; Springis, Tale, Tale, J. Lumin. 72-74 (1997), "
        "doi:10.1016/S0022-2313(96)00405-X; PDG 'Particle detectors' table: λmax 420-425 nm",
    )
    emission_fwhm_nm: tuple[float, ...] = Field(
        (80.0, 100.0), description="FWHM of each band (assumption, broad bands spanning ~350-600 nm as reported)"
    )
    emission_weights: tuple[float, ...] = Field(
        (0.75, 0.25), description="share of the light in each band (assumption: blue dominates in CMS-grade crystals)"
    )
    qe_wavelength_nm: tuple[float, ...] = Field(
        (350.0, 400.0, 450.0, 500.0, 550.0, 600.0, 650.0), description="wavelengths of the QE curve"
    )
    qe: tuple[float, ...] = Field(
        (0.55, 0.65, 0.70, 0.72, 0.73, 0.72, 0.70),
        description="InP nanowire detector external QE at qe_wavelength_nm (assumption shaped after InP nanowire "
        "arrays absorbing ~70 % of above-band-gap light: Wallentin et al., Science 339 (2013) 1057; InP band gap "
        "1.34 eV → absorbs below ~920 nm; room-temperature InP nanowire photodetectors: Zhu et al., "
        "arXiv:2109.07099)",
    )
    tick_ns: float = Field(0.2, gt=0, description="tick of the photon frames (docs/design.md §3: 0.2 ns)")
    sub_steps: int = Field(40, ge=1, le=1000, description="integration steps per tick (dt = tick/sub_steps = 5 ps)")
    tau_membrane_ps: float = Field(
        10.0,
        description="membrane time constant of the photonic LIF (assumption: picosecond photonic neurons as "
        "proposed for the readout, Lupi et al., Particles 8 (2025) 52, arXiv:2502.12693)",
    )
    refractory_ps: float = Field(
        20.0, description="refractory time after a spike (assumption; RTD photonic neurons show a refractory time)"
    )
    threshold_pe: float | None = Field(
        None, gt=0, description="neuron threshold in photoelectrons; None = designed (threshold_design)"
    )
    threshold_design: Literal["median", "mean"] = Field(
        "median",
        description="how a None threshold_pe is designed when stochastic: 'median' — a tick of L_0 or L_0 + 1 "
        "photons fires channel 0 half of the time on average (Monte Carlo of this model, so that the noisy channel "
        "fires at the encoder's level); 'mean' — the mean current crosses θ at m_0 = ⌊L_0⌋ + ½ (always used when "
        "stochastic is False)",
    )
    stochastic: bool = Field(
        True, description="draw shot noise, arrival times, jitter and dark counts (False: follow the mean current)"
    )
    dark_rate_hz: float = Field(
        1e4,
        description="dark counts per second per channel (assumption; room-temperature InP nanowire detectors show "
        "very low dark current, Zhu et al. arXiv:2109.07099; 10 kHz gives 2e-4 counts per channel per 20 ns)",
    )
    jitter_ps: float = Field(10.0, description="σ of the Gaussian detection-time jitter (assumption)")
    latency_ps: float = Field(
        30.0, description="mean detection delay (assumption: 3 σ, so that the Gaussian jitter rarely clips at 0)"
    )
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the noise; event e draws from rng([seed, e])")

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def dt_ps(self) -> float:
        return self.tick_ns * PS_PER_NS / self.sub_steps

    @model_validator(mode="after")
    def _physical(self) -> PhotonicSettings:
        lv = self.levels
        if lv[0] < 0 or any(b <= a for a, b in itertools.pairwise(lv)):
            raise ValueError(f"levels must be non-negative and strictly increasing, got {lv}")
        if lv[-1] >= MAX_PHOTONS:  # photon frames are uint32: a higher level can never fire
            raise ValueError(f"levels[{len(lv) - 1}] = {lv[-1]:g} is above the {MAX_PHOTONS - 1} photons a tick can "
                             "hold (uint32 frames); choose levels below it")
        if self.transmission is not None:
            if len(self.transmission) != len(lv):
                raise ValueError(f"transmission has {len(self.transmission)} values for {len(lv)} levels")
            for i, t in enumerate(self.transmission):
                if not 0.0 <= t <= 1.0:
                    raise ValueError(f"transmission[{i}] = {t} is outside [0, 1] (a fraction of the light)")
        for i, q in enumerate(self.qe):
            if not 0.0 <= q <= 1.0:
                raise ValueError(f"qe[{i}] = {q} is outside [0, 1] (an efficiency cannot exceed 1)")
        if len(self.qe) != len(self.qe_wavelength_nm) or any(
            b <= a for a, b in zip(self.qe_wavelength_nm, self.qe_wavelength_nm[1:], strict=False)
        ):
            raise ValueError("qe_wavelength_nm must be increasing and as long as qe")
        n_bands = len(self.emission_peaks_nm)
        if not (len(self.emission_fwhm_nm) == len(self.emission_weights) == n_bands) or n_bands == 0:
            raise ValueError("emission_peaks_nm, emission_fwhm_nm and emission_weights need one value per band")
        if any(w < 0 for w in self.emission_weights) or sum(self.emission_weights) <= 0:
            raise ValueError(f"emission_weights must be >= 0 with a positive sum, got {self.emission_weights}")
        if any(f <= 0 for f in self.emission_fwhm_nm):
            raise ValueError(f"emission_fwhm_nm must be > 0, got {self.emission_fwhm_nm}")
        dt = self.dt_ps
        if not self.tau_membrane_ps <= MAX_MEMORY_STEPS * dt:  # beyond it exp(-dt/τ) rounds to 1: no leak at all
            raise ValueError(
                f"tau_membrane_ps = {self.tau_membrane_ps:g} is above {MAX_MEMORY_STEPS:g} sub-tick steps "
                f"({MAX_MEMORY_STEPS * dt:g} ps), where the membrane no longer leaks in float64; lower it"
            )
        if not self.tau_membrane_ps >= dt:
            raise ValueError(
                f"tau_membrane_ps = {self.tau_membrane_ps} is below the sub-tick step {dt:g} ps "
                f"(tick_ns·1000/sub_steps); raise sub_steps or tau_membrane_ps"
            )
        if self.refractory_ps != 0 and not self.refractory_ps >= dt:
            raise ValueError(
                f"refractory_ps = {self.refractory_ps} is below the sub-tick step {dt:g} ps; set 0 (none) or >= {dt:g}"
            )
        for name in ("dark_rate_hz", "jitter_ps", "latency_ps"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} = {value} must be a finite number >= 0")
        if self.refractory_ps > MAX_MEMORY_STEPS * dt:
            raise ValueError(f"refractory_ps = {self.refractory_ps:g} is above {MAX_MEMORY_STEPS:g} sub-tick steps "
                             f"({MAX_MEMORY_STEPS * dt:g} ps); lower it")
        if self.dark_rate_hz > MAX_DARK_RATE_HZ:
            raise ValueError(f"dark_rate_hz = {self.dark_rate_hz:g} is above {MAX_DARK_RATE_HZ:g} (a count per "
                             "femtosecond); lower it")
        horizon = self.latency_ps + JITTER_TAIL_SIGMAS * self.jitter_ps
        if horizon > MAX_DELAY_TICKS * self.tick_ns * PS_PER_NS:  # the delay buffer and profile grow with it
            raise ValueError(f"latency_ps + {JITTER_TAIL_SIGMAS:g}·jitter_ps = {horizon:g} ps is above "
                             f"{MAX_DELAY_TICKS} ticks ({MAX_DELAY_TICKS * self.tick_ns * PS_PER_NS:g} ps) of "
                             "detection delay; lower latency_ps or jitter_ps")
        return self


def ideal_settings(levels: tuple[float, ...] = (1e2, 1e3, 1e4, 1e5), **overrides: Any) -> PhotonicSettings:
    """The noise-free limit that reproduces the ideal encoder at ``levels`` bit for bit.

    No randomness, no dark counts, no latency or jitter, no refractory time; the default
    picosecond membrane. Raises if the settings keep more than half a photon of memory across a
    tick at the highest level (module docstring), where the equivalence would not be exact.
    """
    values: dict[str, Any] = dict(
        levels=tuple(float(x) for x in levels),
        stochastic=False,
        dark_rate_hz=0.0,
        jitter_ps=0.0,
        latency_ps=0.0,
        refractory_ps=0.0,
    )
    values.update(overrides)
    settings = PhotonicSettings(**values)
    d = design(settings)
    if d.tick_memory * 2 * (math.floor(settings.levels[-1]) + 0.5) >= 1:
        raise NeurocalError(
            f"tau_membrane_ps = {settings.tau_membrane_ps} keeps {d.tick_memory:.2g} of v across a tick: more than "
            f"half a photon at level {settings.levels[-1]:g}; lower tau_membrane_ps for an exact ideal limit"
        )
    return settings


def emission_spectrum(settings: PhotonicSettings, nm: np.ndarray = _SPECTRUM_NM) -> np.ndarray:
    """PbWO4 emission, normalised to unit sum on the grid ``nm``: a sum of Gaussian bands."""
    s = np.zeros_like(nm, dtype=np.float64)
    for peak, fwhm, w in zip(
        settings.emission_peaks_nm, settings.emission_fwhm_nm, settings.emission_weights, strict=True
    ):
        sigma = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
        s += w * np.exp(-0.5 * ((nm - peak) / sigma) ** 2)
    return s / s.sum()


def effective_qe(settings: PhotonicSettings) -> float:
    """η = ∫ S(λ) QE(λ) dλ / ∫ S(λ) dλ: the detector efficiency for PbWO4 light (QE interpolated, flat outside)."""
    qe = np.interp(_SPECTRUM_NM, settings.qe_wavelength_nm, settings.qe)
    return float(np.sum(emission_spectrum(settings) * qe))


@dataclass(frozen=True)
class Design:
    """Numbers derived once from the settings (see the module docstring)."""

    n_levels: int
    sub_steps: int  # K
    dt_ps: float
    alpha: float  # exp(-dt/τ)
    eta: float  # spectrum-averaged QE
    area_share: float  # share of the sensor's light that reaches each channel
    transmission: np.ndarray  # (n_levels,)
    threshold_pe: float  # θ
    refractory_steps: int
    retained: float  # r: share of a uniform tick's charge left in v at the tick's end
    tick_memory: float  # α^K
    profile: np.ndarray  # (bins,) share of a photon arriving uniformly in a tick that lands in each sub-step
    dark_per_step: float  # mean dark counts per sub-step per channel
    dark_per_tick: float

    @property
    def detection(self) -> np.ndarray:
        """Probability that a photon reaching the sensor becomes a photoelectron of channel i: a·T_i·η."""
        return self.area_share * self.transmission * self.eta

    @property
    def photon_thresholds(self) -> np.ndarray:
        """Photons per uniformly lit tick at which each channel's mean current crosses θ (no noise, latency, jitter)."""
        with np.errstate(divide="ignore"):
            return self.threshold_pe / (self.detection * self.retained)

    @property
    def bins(self) -> int:
        return int(self.profile.size)


@lru_cache(maxsize=32)
def design(settings: PhotonicSettings) -> Design:
    k = settings.sub_steps
    dt = settings.dt_ps
    alpha = math.exp(-dt / settings.tau_membrane_ps)
    eta = effective_qe(settings)
    half = np.floor(np.asarray(settings.levels)) + 0.5  # m_i: halfway between the integer counts around L_i
    trans = np.asarray(settings.transmission if settings.transmission is not None else half[0] / half, np.float64)
    retained = (1.0 - alpha**k) / (k * (1.0 - alpha))
    share = settings.area_share
    if settings.threshold_pe is None and not trans[0] * eta > 0:
        raise NeurocalError(
            "front_end.threshold_pe: cannot be designed with no light on channel 0 (transmission[0] "
            "or qe is 0); set threshold_pe"
        )
    tick_ps = settings.tick_ns * PS_PER_NS
    profile = arrival_profile(tick_ps, dt, k, settings.latency_ps, settings.jitter_ps)
    refractory_steps = round(settings.refractory_ps / dt)
    dark_per_step = settings.dark_rate_hz * dt * 1e-12
    if settings.threshold_pe is not None:
        theta = settings.threshold_pe
    elif settings.stochastic and settings.threshold_design == "median":
        p = float(share * trans[0] * eta)
        theta = median_threshold(math.floor(settings.levels[0]), p, alpha, tuple(profile), dark_per_step)
    else:
        theta = float(half[0] * share * trans[0] * eta * retained)
    return Design(
        n_levels=settings.n_levels,
        sub_steps=k,
        dt_ps=dt,
        alpha=alpha,
        eta=eta,
        area_share=share,
        transmission=trans,
        threshold_pe=float(theta),
        refractory_steps=refractory_steps,
        retained=retained,
        tick_memory=alpha**k,
        profile=profile,
        dark_per_step=dark_per_step,
        dark_per_tick=settings.dark_rate_hz * tick_ps * 1e-12,
    )


CALIBRATION_TRIALS = 10000  # per photon count: the firing probability at the designed θ is 0.5 ± 0.004
CALIBRATION_SEED = 20260425  # fixed: the designed θ must not depend on the noise seed


@lru_cache(maxsize=32)
def median_threshold(
    level: int, p_detect: float, alpha: float, profile: tuple[float, ...], dark_per_step: float
) -> float:
    """θ at which a lone tick of ``level`` or ``level + 1`` photons fires the channel half of the time on average.

    Monte Carlo of this model's own noise (binomial detection, multinomial arrival over the
    sub-steps ``profile``, Poisson dark counts) from zero state. Up to its first spike a neuron's
    v follows the trajectory without reset, so it fires at all iff max_j v_j > θ (refractory time
    plays no part): the answer is the median of that maximum over the trials, exactly, with a
    fixed seed so that θ does not depend on the noise seed.
    """
    rng = np.random.default_rng(CALIBRATION_SEED)
    shares = np.asarray(profile) / sum(profile)
    peaks = []
    for n_photons in (level, level + 1):
        n = rng.binomial(n_photons, p_detect, CALIBRATION_TRIALS)
        q = rng.multinomial(n, shares).astype(np.float64)
        if dark_per_step > 0:
            q += rng.poisson(dark_per_step, q.shape)
        v = np.zeros(CALIBRATION_TRIALS)
        peak = np.zeros(CALIBRATION_TRIALS)
        for j in range(shares.size):
            v = alpha * v + q[:, j]
            np.maximum(peak, v, out=peak)
        peaks.append(peak)
    return float(np.median(np.concatenate(peaks)))  # P(peak > θ) = ½ over both counts together


def _horizon_bins(tick_ps: float, dt: float, k: int, latency: float, jitter: float) -> int:
    """Sub-steps a tick's photoelectrons can reach, rounded up to whole ticks."""
    horizon = tick_ps + latency + JITTER_TAIL_SIGMAS * jitter
    ticks = max(1, math.ceil(horizon / tick_ps - 1e-9))
    return ticks * k


def arrival_profile(tick_ps: float, dt: float, k: int, latency: float, jitter: float) -> np.ndarray:
    """p_j: probability that a photon arriving uniformly in [0, tick) is detected in sub-step j.

    Detection time = arrival + max(0, latency + jitter·z). Without jitter the shares are exact
    overlaps (1/K per step when latency = 0); with jitter a midpoint rule over 64 arrival points
    per sub-step averages the Gaussian's mass per step, cut at latency + 6σ.
    """
    n = _horizon_bins(tick_ps, dt, k, latency, jitter)
    edges = np.arange(n + 1) * dt
    if jitter == 0:
        lo, hi = latency, latency + tick_ps
        return np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None) / tick_ps
    from scipy.special import ndtr

    x = (np.arange(64 * k) + 0.5) / (64 * k) * tick_ps  # arrival points in the tick
    # P(detect < edge | x) with delay = max(0, latency + σz): 0 below x, Φ((edge − x − latency)/σ) above
    cdf = np.where(edges[None, :] >= x[:, None], ndtr((edges[None, :] - x[:, None] - latency) / jitter), 0.0)
    cut = ndtr(JITTER_TAIL_SIGMAS)
    return np.clip(np.diff(np.minimum(cdf, cut), axis=1).mean(axis=0), 0.0, None)


@dataclass
class PhotonicState:
    """Per event and channel: membrane v, refractory steps left, photoelectrons already on their way.

    ``ring[(t + j) % ahead, k]`` holds the charge of sub-step k of tick t + j (j < ahead), so a
    photoelectron delayed into a later tick waits there without shifting arrays every tick.
    """

    v: np.ndarray  # (E, C) float64
    refractory: np.ndarray  # (E, C) int32
    ring: np.ndarray  # (ahead, K, E, C) float64
    rngs: list[np.random.Generator]  # per event, rng([seed, event]), drawn from tick by tick


class PhotonicCore:
    """The per-tick dynamics shared by the numpy front end and the Lava process (one implementation)."""

    def __init__(self, settings: PhotonicSettings) -> None:
        self.settings = settings
        self.design = design(settings)
        self.ahead = self.design.bins // self.design.sub_steps

    def new_state(self, events: np.ndarray, n_sensors: int) -> PhotonicState:
        """Zero state at the start of events ``events`` (their indices in the dataset seed their noise)."""
        c = n_sensors * self.design.n_levels
        n_events = len(events)
        return PhotonicState(
            v=np.zeros((n_events, c)),
            refractory=np.zeros((n_events, c), dtype=np.int32),
            ring=np.zeros((self.ahead, self.design.sub_steps, n_events, c)),
            rngs=[np.random.default_rng([self.settings.seed, int(e)]) for e in events]
            if self.settings.stochastic
            else [],
        )

    def deposit(self, state: PhotonicState, photons: np.ndarray, tick: int) -> None:
        """Add the photoelectrons caused by the photons ``(E, sensors)`` of tick ``tick`` to the ring.

        Draws happen tick after tick from each event's generator, in the same order whatever the
        batch, so the numpy front end and the Lava process (one event at a time) agree.
        """
        d, s = self.design, self.settings
        n_ev, n_sens = photons.shape
        c = n_sens * d.n_levels
        k = d.sub_steps
        slots = [(tick + j) % self.ahead for j in range(self.ahead)]
        if not s.stochastic:
            mean = (photons.astype(np.float64)[:, :, None] * d.detection).reshape(n_ev, c)
            for j, slot in enumerate(slots):
                state.ring[slot] += mean[None, :, :] * d.profile[j * k : (j + 1) * k, None, None]
            state.ring[slots[0]] += d.dark_per_step  # the mean dark current of this tick's sub-steps
            return
        p_detect = np.tile(d.detection, n_sens)
        tick_ps = s.tick_ns * PS_PER_NS
        max_delay = s.latency_ps + JITTER_TAIL_SIGMAS * s.jitter_ps
        for row, (counts, rng) in enumerate(zip(photons, state.rngs, strict=True)):
            if d.dark_per_tick == 0 and not counts.any():
                continue  # nothing to draw (the same decision in every implementation)
            n = rng.binomial(np.repeat(counts.astype(np.int64), d.n_levels), p_detect)
            if d.dark_per_tick > 0:
                n += rng.poisson(d.dark_per_tick, c)
            if not n.any():
                continue
            charge = np.zeros((d.bins, c))
            big = n > PER_PHOTON_MAX
            if big.any():  # many photoelectrons: split each count over the sub-steps at once
                charge[:, big] = rng.multinomial(n[big], d.profile / d.profile.sum()).T
                n = np.where(big, 0, n)
            total = int(n.sum())
            channel = np.repeat(np.arange(c), n)
            t = rng.random(total) * tick_ps
            if s.jitter_ps > 0:
                t += np.clip(s.latency_ps + s.jitter_ps * rng.standard_normal(total), 0.0, max_delay)
            else:
                t += s.latency_ps
            step = np.minimum((t / d.dt_ps).astype(np.int64), d.bins - 1)
            charge += np.bincount(step * c + channel, minlength=d.bins * c).reshape(d.bins, c)
            for j, slot in enumerate(slots):
                state.ring[slot, :, row] += charge[j * k : (j + 1) * k]

    def step(
        self, state: PhotonicState, photons: np.ndarray, tick: int, trace: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Advance one tick: returns (fired in the tick (E, C) bool, spikes in the tick (E, C) int).

        ``trace`` (K, E, C), if given, receives v after each sub-step (before a reset it shows the
        crossing value, so that a plot shows the threshold being crossed; 0 while refractory).
        """
        d = self.design
        self.deposit(state, photons, tick)
        charge = state.ring[tick % self.ahead]  # (K, E, C)
        v, refr = state.v, state.refractory
        n_spikes = np.zeros(v.shape, dtype=np.int32)
        use_refractory = d.refractory_steps > 0
        for k in range(d.sub_steps):
            v *= d.alpha
            v += charge[k]
            fire = v > d.threshold_pe
            if use_refractory:
                blocked = refr > 0
                fire &= ~blocked
                np.copyto(v, 0.0, where=blocked)
                refr -= blocked
                np.copyto(refr, d.refractory_steps, where=fire)
            if trace is not None:
                trace[k] = v
            np.copyto(v, 0.0, where=fire)
            n_spikes += fire
        charge[...] = 0.0  # the slot now serves tick + ahead
        return n_spikes > 0, n_spikes


@dataclass
class PhotonicOutput:
    spikes: np.ndarray  # bool (E, T, C): fired at least once in the tick
    n_spikes: np.ndarray  # int (E, C): neuron spikes over the event (for the energy)


class PhotonicFrontEnd:
    """The InP nanowire superpixel as a :class:`~neurocal.sim.frontend.FrontEnd`."""

    kind = "photonic"

    def __init__(self, settings: PhotonicSettings | None = None, n_ticks: int | None = None, chunk: int = 128) -> None:
        self.settings = settings or PhotonicSettings()
        self.core = PhotonicCore(self.settings)
        # the stream it was designed for: tick_ns is a setting of the model, n_ticks of the window
        self.stream = StreamConfig(tick_ns=self.settings.tick_ns, n_ticks=n_ticks or StreamConfig().n_ticks)
        self.chunk = chunk

    @property
    def n_levels(self) -> int:
        return self.settings.n_levels

    @property
    def design(self) -> Design:
        return self.core.design

    def encode(self, photons: np.ndarray, first_event: int = 0) -> np.ndarray:
        return self.run(photons, first_event).spikes

    def run(self, photons: np.ndarray, first_event: int = 0) -> PhotonicOutput:
        """Spikes ``(E, T, sensors · n_levels)`` and neuron spike counts of events ``first_event…``."""
        photons = check_photons(photons)
        n_ev, n_t, n_s = photons.shape
        c = n_s * self.n_levels
        spikes = np.zeros((n_ev, n_t, c), dtype=bool)
        counts = np.zeros((n_ev, c), dtype=np.int64)
        for start in range(0, n_ev, self.chunk):
            stop = min(start + self.chunk, n_ev)
            events = np.arange(start, stop) + int(first_event)
            state = self.core.new_state(events, n_s)
            for t in range(n_t):
                fired, n = self.core.step(state, photons[start:stop, t], t)
                spikes[start:stop, t] = fired
                counts[start:stop] += n
        return PhotonicOutput(spikes, counts)

    def trace(self, photons: np.ndarray, event: int, sensor: int) -> dict[str, np.ndarray]:
        """One sensor over one event: light per tick, each channel's v per sub-step, spikes in and out.

        ``photons`` is the event's ``(ticks, sensors)``; ``event`` its index in the dataset (seed).
        """
        photons = check_photons(np.asarray(photons)[None])[0]
        n_t, n_s = photons.shape
        if not 0 <= sensor < n_s:
            raise NeurocalError(f"sensor {sensor} is out of range 0..{n_s - 1}")
        d, lv = self.design, self.n_levels
        state = self.core.new_state(np.array([event]), n_s)
        chans = slice(sensor * lv, (sensor + 1) * lv)
        v = np.zeros((n_t, d.sub_steps, lv))
        fired = np.zeros((n_t, lv), dtype=bool)
        n_spikes = np.zeros((n_t, lv), dtype=np.int32)
        buf = np.zeros((d.sub_steps, 1, n_s * lv))
        for t in range(n_t):
            f, n = self.core.step(state, photons[None, t], t, trace=buf)
            v[t] = buf[:, 0, chans]
            fired[t], n_spikes[t] = f[0, chans], n[0, chans]
        return {
            "photons": photons[:, sensor].astype(np.int64),
            "time_ps": (np.arange(n_t * d.sub_steps) + 1) * d.dt_ps,
            "v": v.reshape(n_t * d.sub_steps, lv),
            "threshold_pe": np.float64(d.threshold_pe),
            "spikes": fired,
            "n_spikes": n_spikes,
            "tick_ns": np.float64(self.settings.tick_ns),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.settings.model_dump(mode="json"), "n_ticks": self.stream.n_ticks}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], source: str = "front end") -> PhotonicFrontEnd:
        settings = dict(settings)
        stream = validate_settings(StreamConfig, {"n_ticks": settings.pop("n_ticks", StreamConfig().n_ticks)}, source)
        return cls(validate_settings(PhotonicSettings, settings, source), n_ticks=stream.n_ticks)

    def __repr__(self) -> str:
        return f"PhotonicFrontEnd({self.settings!r})"


# ---------------------------------------------------------------------------------------------
# energy


class EnergyConstants(BaseModel):
    """Per-operation constants of the photonic front end, each with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # NaN passes order checks

    energy_per_spike_fj: float = Field(
        100.0,
        ge=0,
        description="energy per emitted spike: upper end of 10-100 fJ for resonant-tunnelling nanoLED neurons, "
        "Nanophotonics 9 (2020), doi:10.1515/nanoph-2020-0177",
    )
    link_energy_fj: float = Field(
        1.0,
        ge=0,
        description="energy per spike carried to the SNN: ~1 fJ per operation, the published estimate for InP/III-V "
        "nanowire photonic links quoted in issue 12 (Winge et al., ACS Photonics 7 (2020) 2787; Lupi et al., "
        "Particles 8 (2025) 52) — not re-derived here",
    )
    static_power_w: float = Field(
        1e-9,
        ge=0,
        description="static (bias) power per channel: assumption, 1 nW — 1000× the picowatt operating power "
        "reported for a nanowire photonic neuron, arXiv:2509.06696",
    )


def energy_per_event(
    n_spikes: np.ndarray, n_channels: int, window_ns: float, constants: EnergyConstants | None = None
) -> dict[str, Any]:
    """E = n_spikes · (E_spike + E_link) + P_static · n_channels · window, in joules per event.

    ``n_spikes`` is the neuron spike count per event (all spikes, not only one per tick).
    Returns the per-event energies and the constants with their sources.
    """
    k = constants or EnergyConstants()
    n = np.asarray(n_spikes, dtype=np.float64)
    dynamic = n * (k.energy_per_spike_fj + k.link_energy_fj) * 1e-15
    static = k.static_power_w * n_channels * window_ns * 1e-9
    fields = EnergyConstants.model_fields
    return {
        "energy_j": dynamic + static,
        "dynamic_j": dynamic,
        "static_j": static,
        "constants": {name: {"value": getattr(k, name), "source": fields[name].description} for name in fields},
    }
