"""Geometry of the PbWO4 block and the physical constants of the material.

Coordinates are in mm, in the block frame: x, y ∈ [0, 300], z ∈ [0, 1200], the beam along +z
entering the front face z = 0. The block is cut into 10 × 10 × 10 cubelets of 30 × 30 × 120 mm,
each of 10 × 10 × 10 cells of 3 × 3 × 12 mm.

Index conventions (used everywhere in neurocal.sim):

* cubelet index = iz·100 + iy·10 + ix, with ix = ⌊x/30⌋, iy = ⌊y/30⌋, iz = ⌊z/120⌋;
* cell index inside a cubelet = cz·100 + cy·10 + cx, same ordering;
* cell coordinates in "cell units": a cell's centre sits at (cx + 0.5, cy + 0.5, cz + 0.5), so a
  centroid lies within 0..10 along each axis of its cubelet;
* sensors sit on the upper face (y = max) of each cubelet on a 10 × 10 grid of pitch 3 mm (x) ×
  12 mm (z): sensor index = sz·10 + sx (docs/design.md §4).
"""

from __future__ import annotations

import numpy as np

# --- geometry (the issue / the neuromorphic-readout paper's set-up) ---------------------------
N_CUBELETS_PER_AXIS = 10
N_CELLS_PER_AXIS = 10
N_CELLS = N_CELLS_PER_AXIS**3  # cells per cubelet
N_CUBELETS = N_CUBELETS_PER_AXIS**3
CELL_MM = np.array([3.0, 3.0, 12.0])  # cell size x, y, z
CUBELET_MM = CELL_MM * N_CELLS_PER_AXIS  # 30 × 30 × 120 mm
BLOCK_MM = CUBELET_MM * N_CUBELETS_PER_AXIS  # 300 × 300 × 1200 mm
N_SENSORS = 100  # 10 × 10 grid on a cubelet's upper face
SENSOR_PITCH_MM = np.array([CELL_MM[0], CELL_MM[2]])  # 3 mm in x, 12 mm in z: one sensor per cell column

# --- PbWO4 (PDG, "Atomic and nuclear properties of materials": lead tungstate; and the PDG
# review "Passage of particles through matter", table of inorganic scintillators) -------------
DENSITY_G_CM3 = 8.28  # PDG
X0_MM = 8.903  # radiation length 0.8903 cm, PDG
LAMBDA_I_MM = 202.8  # nuclear interaction length 20.28 cm (nucleons), PDG
MOLIERE_MM = 19.59  # Molière radius 1.959 cm, PDG
CRITICAL_ENERGY_MEV = 9.31  # critical energy for electrons (Rossi definition), PDG
DEDX_MIP_MEV_PER_MM = 1.229 * DENSITY_G_CM3 / 10.0  # minimum ionisation 1.229 MeV cm²/g, PDG → 1.02 MeV/mm
REFRACTIVE_INDEX = 2.20  # at the 420 nm emission peak, PDG scintillator table
# Scintillation decay: PDG lists two components for PbWO4, τ_fast = 10 ns and τ_slow = 30 ns. Their
# light shares are not in the PDG table; we take the fast share so that 80 % of the light comes in
# the first 25 ns, the CMS ECAL TDR figure (CERN/LHCC 97-33): 0.918 f + 0.565 (1 − f) = 0.80 → f ≈ 0.67.
DECAY_TIMES_NS = (10.0, 30.0)
DECAY_WEIGHTS = (0.67, 0.33)
LIGHT_YIELD_PER_MEV = 200.0  # the value (PbWO4 gives ~100–200 photons/MeV, PDG relative output ~0.3 % NaI)
C_MM_PER_NS = 299.792458  # speed of light


def cubelet_index(ix: np.ndarray, iy: np.ndarray, iz: np.ndarray) -> np.ndarray:
    """Cubelet index iz·100 + iy·10 + ix."""
    return (np.asarray(iz) * N_CUBELETS_PER_AXIS + np.asarray(iy)) * N_CUBELETS_PER_AXIS + np.asarray(ix)


def cubelet_origin_mm(index: np.ndarray | int) -> np.ndarray:
    """Lower corner (x, y, z) in mm of cubelet ``index``; shape (..., 3)."""
    index = np.asarray(index)
    ix = index % N_CUBELETS_PER_AXIS
    iy = (index // N_CUBELETS_PER_AXIS) % N_CUBELETS_PER_AXIS
    iz = index // (N_CUBELETS_PER_AXIS**2)
    return np.stack([ix, iy, iz], axis=-1) * CUBELET_MM


def locate(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points (mm) → (inside-block mask, cubelet index, cell index within the cubelet).

    Indices of points outside the block are meaningless (clipped); use the mask.
    """
    inside = (x >= 0) & (x < BLOCK_MM[0]) & (y >= 0) & (y < BLOCK_MM[1]) & (z >= 0) & (z < BLOCK_MM[2])
    # global cell indices along each axis, then split into cubelet and cell-in-cubelet
    gx = np.clip((x / CELL_MM[0]).astype(np.int64), 0, N_CELLS_PER_AXIS * N_CUBELETS_PER_AXIS - 1)
    gy = np.clip((y / CELL_MM[1]).astype(np.int64), 0, N_CELLS_PER_AXIS * N_CUBELETS_PER_AXIS - 1)
    gz = np.clip((z / CELL_MM[2]).astype(np.int64), 0, N_CELLS_PER_AXIS * N_CUBELETS_PER_AXIS - 1)
    n = N_CELLS_PER_AXIS
    cubelet = cubelet_index(gx // n, gy // n, gz // n)
    cell = (gz % n * n + gy % n) * n + gx % n
    return inside, cubelet, cell


def cell_centres() -> np.ndarray:
    """(1000, 3) cell centres in cell units, row = cell index cz·100 + cy·10 + cx."""
    i = np.arange(N_CELLS)
    n = N_CELLS_PER_AXIS
    return np.stack([i % n, (i // n) % n, i // (n * n)], axis=1) + 0.5


def sensor_centres_mm() -> np.ndarray:
    """(100, 3) sensor centres in mm in the cubelet frame, on the upper face y = 30 mm; row = sz·10 + sx."""
    s = np.arange(N_SENSORS)
    sx, sz = s % 10, s // 10
    return np.stack(
        [(sx + 0.5) * SENSOR_PITCH_MM[0], np.full(N_SENSORS, CUBELET_MM[1]), (sz + 0.5) * SENSOR_PITCH_MM[1]],
        axis=1,
    )
