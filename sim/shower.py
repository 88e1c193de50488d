"""Parametric hadronic shower in PbWO4, as a cloud of energy-weighted deposit points.

A shower is drawn in four steps, vectorised over a batch of events:

1. the primary ionises as a MIP down to its first inelastic interaction, whose depth is
   exponential with the particle's own interaction length (p < π < K); the ionisation of each
   track segment is Landau-distributed (width ξ of the PDG review, mean the PDG dE/dx);
2. the available energy is split into an electromagnetic part (f_em, Groom's power law with an
   event-by-event Beta spread) and a hadronic part, of which a fraction is invisible (nuclear
   binding, Wigmans);
3. interaction vertices: the primary one, plus a Poisson number of secondary hadronic
   interactions placed along Bock's λ-profile with an exponential lateral halo. The EM energy is
   shared between the primary vertex (Bock's X0-scaled gamma profile) and π0 sub-showers at the
   secondary vertices (PDG gamma profile); the visible hadronic energy is deposited around the
   vertices, a part of it delayed (MeV neutrons);
4. points get a time: the shower front moves at c along z (t = 0 when the primary enters the
   block), the neutron part is delayed by an exponential of a few ns.

Every deposit point of an event carries the same energy within its component, so the points
are an unbiased sample of the energy density. Lengths in mm, energies in MeV, times in ns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calorimeter import (
    BLOCK_MM,
    C_MM_PER_NS,
    CRITICAL_ENERGY_MEV,
    DEDX_MIP_MEV_PER_MM,
    LAMBDA_I_MM,
    MOLIERE_MM,
    X0_MM,
)

# --- interaction lengths per particle --------------------------------------------------------
# λ_I(PbWO4) = 20.28 cm is the PDG value for nucleons. Mesons interact less: the absorption cross
# sections on Pb at 60–280 GeV/c (Carroll et al., Phys. Lett. B 80 (1979) 319) are about
# σ(p) ≈ 1.77 b, σ(π+) ≈ 1.59 b, σ(K+) ≈ 1.45 b, so λ_π ≈ 1.11 λ_p and λ_K ≈ 1.22 λ_p. W and O
# scale alike (A^0.7-ish), so we apply the Pb ratios to the compound.
INTERACTION_LENGTH_MM: dict[int, float] = {
    1: LAMBDA_I_MM,  # proton
    2: LAMBDA_I_MM * 1.77 / 1.45,  # K+
    3: LAMBDA_I_MM * 1.77 / 1.59,  # π+
    4: LAMBDA_I_MM * 1.77 / 1.59,  # other: treated as a pion
}

# --- electromagnetic fraction ----------------------------------------------------------------
# Groom, NIM A 572 (2007) 633 and the PDG calorimetry review: f_em = 1 − (E/E0)^(m−1), m ≈ 0.83,
# E0 ≈ 1 GeV for pions and ≈ 2.6 GeV for protons (baryon-number conservation keeps a leading
# baryon, fewer π0). For K+ no standard value exists; a leading strange meson also suppresses π0
# production, so we take E0 = 1.7 GeV, between the two (assumption).
FEM_M = 0.83
FEM_E0_GEV: dict[int, float] = {1: 2.6, 2: 1.7, 3: 1.0, 4: 1.0}
# Event-to-event spread of f_em: σ ≈ 0.1 at 10–300 GeV (Wigmans, "Calorimetry", 2nd ed. 2017, §2.3;
# Groom 2007 fig. 4). Sampled from a Beta distribution with that mean and spread.
FEM_SIGMA = 0.10

# --- invisible energy and the delayed neutron component --------------------------------------
# Wigmans (Calorimetry, table 2.3, lead): of the non-EM energy ~32 % goes to nuclear binding
# (invisible), ~12 % to the kinetic energy of evaporation neutrons; ionisation by charged hadrons
# makes the rest. Neutron energy is deposited late (MeV neutrons travel ~1–2 cm/ns and scatter over
# ~10 cm), so 12/68 ≈ 18 % of the visible hadronic energy is delayed.
INVISIBLE_MEAN = 0.32
INVISIBLE_SIGMA = 0.05  # event-to-event spread (model choice; binding losses fluctuate with the number of spallations)
DELAYED_FRACTION = 0.18
DELAYED_TAU_NS = 7.0  # ~ 10 cm mean free path / 1.4 cm/ns (1 MeV neutron); model constant
DELAYED_RANGE_MM = 80.0  # mean displacement of neutron-induced deposits (MeV-neutron mean free path, ~8 cm)
PROMPT_RANGE_MM = 20.0  # spallation protons / nuclear fragments of tens of MeV range over ~1–3 cm in PbWO4

# --- longitudinal profiles: Bock et al., NIM 186 (1981) 533 ----------------------------------
# dE/dx ∝ w (x/X0)^(a−1) e^(−b x/X0) + (1 − w)(x/λ)^(a−1) e^(−d x/λ), x from the first interaction,
# a = 0.6165 + 0.3183 ln E, b = 0.2198, d = 0.9099 − 0.0237 ln E (E in GeV), w = 0.4634.
BOCK_A0, BOCK_A1 = 0.6165, 0.3183
BOCK_B = 0.2198
BOCK_D0, BOCK_D1 = 0.9099, 0.0237
# The X0 component is the primary vertex's π0 energy; its share of the EM energy is Beta(7, 3),
# mean 0.7, chosen so that for a 100 GeV pion (f_em ≈ 0.55, 32 % of the rest invisible) the X0
# component carries ≈ 0.45 of the visible energy, Bock's w = 0.46.
PRIMARY_EM_SHARE_AB = (7.0, 3.0)
# π0 sub-showers of secondary vertices: PDG longitudinal EM profile, gamma with b = 0.5 and
# t_max = ln(E_γ/Ec) + 0.5 (photon-induced), E_γ = half the vertex's π0 energy (one π0 → γγ).
EM_B = 0.5

# --- number of hadronic interactions ---------------------------------------------------------
# Secondary inelastic interactions of shower hadrons above ~1 GeV: Poisson with mean E_had / 2 GeV.
# Model constant, not a measurement: π0 production (what shapes the profile) stops around Groom's
# E0 ≈ 1 GeV, so the interactions that matter are those of hadrons of a few GeV; Geant4 would count
# many more low-energy (nucleon, neutron) interactions.
ENERGY_PER_INTERACTION_MEV = 2000.0

# --- lateral profiles ------------------------------------------------------------------------
# EM: Grindhammer-style core + tail, f(r) ∝ 2 r R²/(r² + R²)², core R = 0.2 R_M (85 %) and tail
# R = 1.0 R_M (15 %): 89 % within 1 R_M and 96 % within 2 R_M, as the PDG review states (90 %, 95 %).
EM_CORE_R, EM_TAIL_R, EM_CORE_P = 0.2 * MOLIERE_MM, 1.0 * MOLIERE_MM, 0.85
# Hadronic halo: secondary vertices spread as dE/dr ∝ exp(−r/b) with b = 0.35 λ_I, so ~95 % of the
# non-EM energy lies within ~1 λ_I of the axis (PDG review: 95 % lateral containment in ~1 λ_I).
HADRON_HALO_MM = 0.35 * LAMBDA_I_MM

N_MIP_POINTS = 32

# --- Landau ionisation of the primary's track (PDG review "Passage of particles through matter", §34.2.9)
# ξ = (K/2)(Z/A) ρ x / β² with K = 0.307075 MeV cm²/mol, <Z/A> = 0.41315 for PbWO4 (PDG), β ≈ 1.
# Each of the N_MIP_POINTS segments loses Δ = mean + ξ (min(L, L_MAX) − ⟨min(L, L_MAX)⟩), L a standard
# Landau variable: the Landau shape and width, with the mean kept at the PDG dE/dx. The cut L_MAX stands
# for the kinematic limit of δ-ray energies (the pure Landau mean is infinite); losses are clipped at 0.
LANDAU_XI_MEV_PER_MM = 0.5 * 0.307075 * 0.41315 * 8.28 / 10.0
LANDAU_L_MAX = 100.0
LANDAU_TRUNCATED_MEAN = 3.278013366  # E[min(L, 100)] for scipy.stats.landau (checked in tests/sim)


@dataclass
class Showers:
    """Deposit points of a batch of B showers (arrays (B, P)) and per-event truth (arrays (B,))."""

    x: np.ndarray  # mm
    y: np.ndarray
    z: np.ndarray
    t: np.ndarray  # ns after the primary entered the block
    e: np.ndarray  # MeV per point
    vertices: np.ndarray  # (B, V, 3) mm; vertex 0 is the first interaction
    vertex_valid: np.ndarray  # (B, V) bool
    first_z: np.ndarray  # depth of the first interaction, mm (may exceed the block: punch-through)
    f_em: np.ndarray  # electromagnetic fraction (0 for non-interacting primaries)
    visible_mev: np.ndarray  # total visible energy, wherever it lands (inside or outside the block)


def bock_a(energy_gev: float) -> float:
    """Bock's common shape parameter a(E)."""
    return BOCK_A0 + BOCK_A1 * np.log(energy_gev)


def mean_f_em(code: np.ndarray, energy_mev: np.ndarray) -> np.ndarray:
    """Groom's mean EM fraction for particle codes at energy (MeV)."""
    e0 = np.vectorize(FEM_E0_GEV.get)(code) * 1000.0
    return 1.0 - np.power(np.maximum(energy_mev / e0, 1.0), FEM_M - 1.0)


def _beta_mean_sigma(rng: np.random.Generator, mean: np.ndarray, sigma: float) -> np.ndarray:
    mean = np.clip(mean, 1e-3, 1 - 1e-3)
    kappa = np.maximum(mean * (1 - mean) / sigma**2 - 1.0, 1.0)
    return rng.beta(mean * kappa, (1 - mean) * kappa)


def _assign(rng: np.random.Generator, shares: np.ndarray, n_points: int) -> np.ndarray:
    """Stratified draw of a vertex per point: (B, V) shares summing to 1 → (B, n_points) indices."""
    b, v = shares.shape
    cum = np.cumsum(shares, axis=1)
    cum /= np.where(cum[:, -1:] > 0, cum[:, -1:], 1.0)
    offset = 2.0 * np.arange(b)[:, None]  # rows never overlap in the flattened search
    u = (np.arange(n_points) + rng.random((b, n_points))) / n_points
    idx = np.searchsorted((cum + offset).ravel(), (u + offset).ravel(), side="right").reshape(b, n_points)
    return np.clip(idx - v * np.arange(b)[:, None], 0, v - 1)


def _isotropic(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    cos_t = rng.uniform(-1.0, 1.0, shape)
    phi = rng.uniform(0.0, 2 * np.pi, shape)
    sin_t = np.sqrt(1.0 - cos_t**2)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t])


def landau_losses(segment_mm: np.ndarray, n_segments: int, rng: np.random.Generator) -> np.ndarray:
    """(B, n_segments) ionisation losses in MeV of tracks cut into segments of ``segment_mm`` (B,) each."""
    from scipy.stats import landau

    u = rng.random((len(segment_mm), n_segments))
    lam = np.minimum(landau.ppf(u), LANDAU_L_MAX)
    xi = LANDAU_XI_MEV_PER_MM * segment_mm[:, None]
    return np.maximum(DEDX_MIP_MEV_PER_MM * segment_mm[:, None] + xi * (lam - LANDAU_TRUNCATED_MEAN), 0.0)


def generate_showers(
    codes: np.ndarray, energy_mev: float, gun_xy: np.ndarray, rng: np.random.Generator, n_points: int,
    landau: bool = True,
) -> Showers:
    """Draw B showers of primaries ``codes`` (B,) entering the front face at ``gun_xy`` (B, 2) mm."""
    codes = np.asarray(codes)
    b = codes.shape[0]
    e_gev = energy_mev / 1000.0
    block_z = BLOCK_MM[2]

    # 1. first interaction and the primary's ionisation before it
    lam = np.vectorize(INTERACTION_LENGTH_MM.get)(codes)
    first_z = rng.exponential(lam)
    interacts = first_z < block_z
    track = np.minimum(first_z, block_z)
    if landau:
        mip_losses = landau_losses(track / N_MIP_POINTS, N_MIP_POINTS, rng)
    else:
        mip_losses = np.repeat((DEDX_MIP_MEV_PER_MM * track / N_MIP_POINTS)[:, None], N_MIP_POINTS, axis=1)
    e_mip = mip_losses.sum(axis=1)
    e_avail = np.where(interacts, np.maximum(energy_mev - e_mip, 0.0), 0.0)

    # 2. energy split
    f_em = np.where(interacts, _beta_mean_sigma(rng, mean_f_em(codes, e_avail), FEM_SIGMA), 0.0)
    invisible = np.clip(rng.normal(INVISIBLE_MEAN, INVISIBLE_SIGMA, b), 0.05, 0.8)
    e_em = f_em * e_avail
    e_had = (1.0 - f_em) * e_avail
    e_had_vis = (1.0 - invisible) * e_had

    # 3. vertices: primary + Poisson secondaries along Bock's λ-profile with a lateral halo
    n_sec = np.where(interacts, rng.poisson(e_had / ENERGY_PER_INTERACTION_MEV), 0)
    v = int(n_sec.max()) + 1
    valid = np.arange(v)[None, :] <= n_sec[:, None]
    a = bock_a(e_gev)
    d = BOCK_D0 - BOCK_D1 * np.log(e_gev)
    depth = rng.gamma(a, LAMBDA_I_MM / d, (b, v))
    r = rng.exponential(HADRON_HALO_MM, (b, v))
    phi = rng.uniform(0, 2 * np.pi, (b, v))
    vx = gun_xy[:, :1] + r * np.cos(phi)
    vy = gun_xy[:, 1:] + r * np.sin(phi)
    vz = track[:, None] + depth
    vx[:, 0], vy[:, 0], vz[:, 0] = gun_xy[:, 0], gun_xy[:, 1], track

    # EM shares: primary ~ Beta(7,3), the rest split among secondaries with exponential weights
    rho = np.where(n_sec > 0, rng.beta(*PRIMARY_EM_SHARE_AB, b), 1.0)
    w = rng.exponential(1.0, (b, v)) * valid
    w[:, 0] = 0.0
    w_sum = w.sum(axis=1, keepdims=True)
    em_share = np.where(w_sum > 0, w / np.where(w_sum > 0, w_sum, 1.0), 0.0) * (1.0 - rho[:, None])
    em_share[:, 0] = rho
    had_w = rng.exponential(1.0, (b, v)) * valid
    had_share = had_w / had_w.sum(axis=1, keepdims=True)

    n_body = max(n_points - N_MIP_POINTS, 2)
    n_em, n_had = n_body // 2, n_body - n_body // 2
    rows = np.arange(b)[:, None]

    # MIP track points, uniform along the path (stratified)
    s = (np.arange(N_MIP_POINTS) + rng.random((b, N_MIP_POINTS))) / N_MIP_POINTS * track[:, None]
    mip = (
        np.broadcast_to(gun_xy[:, :1], s.shape),
        np.broadcast_to(gun_xy[:, 1:], s.shape),
        s,
        s / C_MM_PER_NS,
        mip_losses,
    )

    # EM points: primary vertex → Bock X0 component; secondaries → PDG gamma profile of E_γ = E_π0/2
    k = _assign(rng, em_share, n_em)
    e_vertex_em = (em_share * e_em[:, None])[rows, k]
    t_max = np.maximum(np.log(np.maximum(e_vertex_em / 2.0, 1.0) / CRITICAL_ENERGY_MEV) + 0.5, 0.5)
    shape = np.where(k == 0, a, 1.0 + EM_B * t_max)
    scale = np.where(k == 0, X0_MM / BOCK_B, X0_MM / EM_B)
    em_depth = rng.gamma(shape, scale)
    u = np.minimum(rng.random((b, n_em)), 0.999)
    radius = np.where(rng.random((b, n_em)) < EM_CORE_P, EM_CORE_R, EM_TAIL_R) * np.sqrt(u / (1.0 - u))
    phi = rng.uniform(0, 2 * np.pi, (b, n_em))
    em_z = vz[rows, k] + em_depth
    em = (
        vx[rows, k] + radius * np.cos(phi),
        vy[rows, k] + radius * np.sin(phi),
        em_z,
        em_z / C_MM_PER_NS,
        np.broadcast_to((e_em / n_em)[:, None], (b, n_em)),
    )

    # visible hadronic points: prompt (spallation, short range) or delayed (neutrons, long range)
    k = _assign(rng, had_share, n_had)
    delayed = rng.random((b, n_had)) < DELAYED_FRACTION
    dist = rng.exponential(1.0, (b, n_had)) * np.where(delayed, DELAYED_RANGE_MM, PROMPT_RANGE_MM)
    direction = _isotropic(rng, (b, n_had))
    t_had = vz[rows, k] / C_MM_PER_NS + dist / C_MM_PER_NS
    t_had = t_had + np.where(delayed, rng.exponential(DELAYED_TAU_NS, (b, n_had)), 0.0)
    had = (
        vx[rows, k] + dist * direction[0],
        vy[rows, k] + dist * direction[1],
        vz[rows, k] + dist * direction[2],
        t_had,
        np.broadcast_to((e_had_vis / n_had)[:, None], (b, n_had)),
    )

    x, y, z, t, e = (np.concatenate(parts, axis=1) for parts in zip(mip, em, had, strict=True))
    return Showers(
        x=x,
        y=y,
        z=z,
        t=t,
        e=e,
        vertices=np.stack([vx, vy, vz], axis=-1),
        vertex_valid=valid & interacts[:, None],
        first_z=first_z,
        f_em=f_em,
        visible_mev=e_mip + e_em + e_had_vis,
    )
