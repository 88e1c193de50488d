"""Scintillation light of the readout cubelet → photon counts per (tick, sensor).

Optics are precomputed once per convention as pairs of (1000 cells × 100 sensors) matrices: the
photons per MeV that reach each sensor (solid angle of the 3 × 12 mm sensor seen from the cell)
and the propagation delay, one pair for the direct light and one per mirror image when
reflections are on. The readout cubelet is treated as optically isolated: only its own cells
light its sensors (no absorption).

Reflections (SNN-Cal's emission matrix, up to 5 orders): the cubelet's faces other than the sensor
face mirror the light. An image of a point is its mirror through the x and z faces (any number of
times, a lattice of images) and through the bottom face y = 0 at most once (a second y bounce
would need the sensor face to reflect). Order n holds the images with n reflections: 1 direct
point, then 5, then 4(2n − 1) — SNN-Cal's ``total_reflections`` count. Each reflection keeps
``reflectivity`` of the light.

Conventions (docs/design.md §4):

* ``physical``: photons = E · yield · Ω/4π, light at c/n, each photon emitted after an
  exponential scintillation delay (PbWO4, two components);
* ``paper``: the neuromorphic-readout paper's generator, photons = E · yield · Ω (Ω in sr, not
  divided by 4π, so ~4π× more photons), Ω and the distance taken at the cell centre, light at
  c/n². That generator applies no scintillation decay, so by default the paper convention leaves
  it out (photons arrive at deposit time + time of flight); it is a separate setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .calorimeter import (
    C_MM_PER_NS,
    CELL_MM,
    DECAY_TIMES_NS,
    DECAY_WEIGHTS,
    N_CELLS,
    N_SENSORS,
    REFRACTIVE_INDEX,
    SENSOR_PITCH_MM,
    cell_centres,
    sensor_centres_mm,
)

SUBSAMPLES = (2, 2, 4)  # points per cell along x, y, z for averaging Ω and the distance


def rectangle_solid_angle(dx: np.ndarray, dz: np.ndarray, h: np.ndarray, wx: float, wz: float) -> np.ndarray:
    """Solid angle (sr) of a wx × wz rectangle centred at (dx, dz) in its plane, seen from height h > 0."""
    omega = np.zeros(np.broadcast(dx, dz, h).shape)
    for sx, sz, sign in ((1, 1, 1), (-1, -1, 1), (1, -1, -1), (-1, 1, -1)):
        x = dx + sx * wx / 2
        z = dz + sz * wz / 2
        omega += sign * np.arctan(x * z / (h * np.sqrt(x * x + z * z + h * h)))
    return omega


def image_orders(max_order: int) -> list[tuple[int, int, int]]:
    """Mirror images (mx, my, mz) with |mx| + my + |mz| <= max_order, my ∈ {0, 1}; (0, 0, 0) first."""
    out = [(0, 0, 0)]
    for order in range(1, max_order + 1):
        for my in (0, 1):
            rest = order - my
            for mx in range(-rest, rest + 1):
                left = rest - abs(mx)
                for mz in sorted({-left, left}):
                    out.append((mx, my, mz))
    return out


def _mirror(u: np.ndarray, m: int, length: float) -> np.ndarray:
    """Coordinate of the m-th mirror image of u in a box [0, length]: m·L + (u if m even else L − u)."""
    return m * length + (u if m % 2 == 0 else length - u)


@lru_cache(maxsize=256)
def geometry_matrices(
    subsamples: tuple[int, int, int] = SUBSAMPLES, image: tuple[int, int, int] = (0, 0, 0)
) -> tuple[np.ndarray, np.ndarray]:
    """(Ω in sr, distance in mm), each (1000 cells, 100 sensors), averaged over sub-points of each cell.

    ``subsamples`` (1, 1, 1) takes the cell centre; ``image`` = (mx, my, mz) uses that mirror image
    of each point (module docstring).
    """
    n = np.array(subsamples)
    grid = np.stack(np.meshgrid(*[(np.arange(k) + 0.5) / k for k in n], indexing="ij"), -1).reshape(-1, 3)
    # sub-point positions in mm: (cells, sub, 3)
    pts = ((cell_centres() - 0.5)[:, None, :] + grid[None, :, :]) * CELL_MM
    mx, my, mz = image
    cub = CELL_MM * 10
    pts = np.stack([_mirror(pts[..., 0], mx, cub[0]), np.where(my, -pts[..., 1], pts[..., 1]),
                    _mirror(pts[..., 2], mz, cub[2])], axis=-1)
    sens = sensor_centres_mm()
    dx = sens[None, None, :, 0] - pts[:, :, None, 0]
    dz = sens[None, None, :, 2] - pts[:, :, None, 2]
    h = sens[None, None, :, 1] - pts[:, :, None, 1]
    omega = rectangle_solid_angle(dx, dz, h, SENSOR_PITCH_MM[0], SENSOR_PITCH_MM[1]).mean(axis=1)
    dist = np.sqrt(dx**2 + dz**2 + h**2).mean(axis=1)
    return omega, dist


@dataclass(frozen=True)
class Optics:
    """Per convention: photons per MeV per (cell, sensor) and delay in ticks, per light path; the decay kernel."""

    paths: tuple[tuple[np.ndarray, np.ndarray], ...]  # (photons per MeV (1000, 100), delay in ticks (1000, 100))
    kernel: np.ndarray | None  # (ticks,) share of a photon's emission in each tick after arrival; None = prompt
    n_ticks: int
    tick_ns: float

    @property
    def photons_per_mev(self) -> np.ndarray:
        """(1000, 100) photons per MeV reaching each sensor over all paths."""
        return sum(p for p, _ in self.paths)


def decay_kernel(n_ticks: int, tick_ns: float, oversample: int = 32) -> np.ndarray:
    """Share of scintillation light emitted in tick j after the deposit, the deposit uniform in its tick."""
    edges = np.arange(n_ticks + 1) * tick_ns
    u = (np.arange(oversample) + 0.5) / oversample * tick_ns  # deposit time within its tick
    cdf = np.zeros((oversample, n_ticks + 1))
    for tau, w in zip(DECAY_TIMES_NS, DECAY_WEIGHTS, strict=True):
        cdf += w * (1.0 - np.exp(-np.clip(edges[None, :] - u[:, None], 0.0, None) / tau))
    return np.diff(cdf, axis=1).mean(axis=0)


@lru_cache(maxsize=16)
def optics(light: str, yield_per_mev: float, decay: bool, n_ticks: int, tick_ns: float,
           reflections: int = 0, reflectivity: float = 1.0) -> Optics:
    """Optics matrices for convention ``light`` ('physical' or 'paper'), direct light plus ``reflections`` orders."""
    if light == "physical":
        scale, speed, sub = yield_per_mev / (4 * np.pi), C_MM_PER_NS / REFRACTIVE_INDEX, SUBSAMPLES
    elif light == "paper":
        scale, speed, sub = yield_per_mev, C_MM_PER_NS / REFRACTIVE_INDEX**2, (1, 1, 1)
    else:
        raise ValueError(f"unknown light convention {light!r}")
    paths = []
    for image in image_orders(reflections):
        omega, dist = geometry_matrices(sub, image)
        order = abs(image[0]) + image[1] + abs(image[2])
        paths.append((scale * reflectivity**order * omega, dist / speed / tick_ns))
    kernel = decay_kernel(n_ticks, tick_ns) if decay else None
    return Optics(tuple(paths), kernel, n_ticks, tick_ns)


def expected_frames(
    event: np.ndarray, cell: np.ndarray, t_ns: np.ndarray, e_mev: np.ndarray, n_events: int, opt: Optics
) -> tuple[np.ndarray, np.ndarray]:
    """Mean photon counts (n_events, ticks, sensors) and the total over all time (n_events,).

    ``event``, ``cell``, ``t_ns``, ``e_mev`` describe the deposit points of the readout cubelets.
    The total counts every photon that reaches a sensor, inside the window or not.
    """
    T, S = opt.n_ticks, N_SENSORS
    # merge points that share (event, cell, emission tick): a few hundred per event instead of thousands
    t_tick = t_ns / opt.tick_ns
    keep = t_tick < T  # light emitted after the window never lands in it
    emit = np.floor(t_tick[keep]).astype(np.int64)
    key = (event[keep].astype(np.int64) * N_CELLS + cell[keep]) * T + emit
    uniq, inv = np.unique(key, return_inverse=True)
    energy = np.bincount(inv, weights=e_mev[keep])
    u_emit = uniq % T
    u_cell = (uniq // T) % N_CELLS
    u_event = uniq // (T * N_CELLS)

    frames = np.zeros(n_events * S * T)
    base = (u_event[:, None] * S + np.arange(S)[None, :]) * T
    for photons_per_mev, delay_ticks in opt.paths:
        weights = energy[:, None] * photons_per_mev[u_cell]  # (U, S)
        # arrival (or start of emission, with the decay) = deposit time (mid-tick) + flight time
        arrival = np.floor(u_emit[:, None] + 0.5 + delay_ticks[u_cell]).astype(np.int64)
        inside = arrival < T
        frames += np.bincount((base + arrival)[inside], weights=weights[inside], minlength=n_events * S * T)
    frames = frames.reshape(n_events, S, T)
    if opt.kernel is not None:
        frames = frames @ _toeplitz(opt.kernel)  # spread each arrival over the following ticks
    cells = np.bincount(event * N_CELLS + cell, weights=e_mev, minlength=n_events * N_CELLS)
    total = cells.reshape(n_events, N_CELLS) @ opt.photons_per_mev.sum(axis=1)
    return frames.transpose(0, 2, 1), total


def _toeplitz(kernel: np.ndarray) -> np.ndarray:
    """Upper-triangular (T, T) matrix M with M[i, j] = kernel[j − i]: frames @ M is the causal convolution."""
    t = len(kernel)
    lag = np.arange(t)[None, :] - np.arange(t)[:, None]
    return np.where(lag >= 0, kernel[np.clip(lag, 0, t - 1)], 0.0)
