"""Small synthetic calorimeter datasets whose spikes carry information about every target.

Independent of the shower simulator on purpose: light of amplitude ∝ E, spread around the
centroid (x, z) on the sensor face with a width set by the dispersion, and a class-dependent
arrival time, so energy, centroid, dispersion and particle class are all learnable.
"""

from __future__ import annotations

import numpy as np

from neurocal.sim.dataset import EventSet


def synthetic_events(n: int, seed: int = 0, n_ticks: int = 100) -> EventSet:
    rng = np.random.default_rng(seed)
    energy = 10 ** rng.uniform(2.0, 4.0, n)
    particle = rng.integers(1, 4, n).astype(np.int32)
    centroid = rng.uniform(2.0, 8.0, (n, 3))
    width = rng.uniform(0.8, 2.0, n)
    dispersion = np.stack([width**2, width**2, width**2 * 1.5], axis=1)
    zs, xs = np.divmod(np.arange(100), 10)  # sensor index = z·10 + x
    r2 = (xs[None, :] - centroid[:, 0:1]) ** 2 + (zs[None, :] - centroid[:, 2:3]) ** 2
    face = np.exp(-r2 / (2 * width[:, None] ** 2))  # (n, sensors)
    t = np.arange(n_ticks)
    onset = np.array([0, 8, 14, 20])[particle]  # class-dependent arrival tick
    tau = np.array([0, 6.0, 10.0, 15.0])[particle]
    dt = t[None, :] - onset[:, None]
    profile = np.where(dt >= 0, np.exp(-np.clip(dt, 0, None) / tau[:, None]), 0.0)  # (n, ticks)
    mean = 40.0 * energy[:, None, None] * profile[:, :, None] * face[:, None, :]
    photons = rng.poisson(mean).astype(np.uint32)
    return EventSet(
        photons=photons,
        energy_mev=energy,
        centroid=centroid,
        dispersion=dispersion,
        particle=particle,
        n_interactions=np.ones(n, dtype=np.int32),
        cubelet=np.zeros(n, dtype=np.int32),
        generator={"name": "tests.models.synthetic", "seed": seed},
        source="<synthetic>",
    )
