"""Small synthetic event sets for tests that must not depend on the shower simulation."""

from __future__ import annotations

import numpy as np

from neurocal.sim.dataset import EventSet


def random_events(n: int = 6, n_ticks: int = 100, seed: int = 0, empty: tuple[int, ...] = ()) -> EventSet:
    rng = np.random.default_rng(seed)
    photons = (rng.random((n, n_ticks, 100)) < 0.05) * rng.integers(1, 200_000, (n, n_ticks, 100))
    photons[list(empty)] = 0
    return EventSet(
        photons=photons.astype(np.uint32),
        energy_mev=rng.uniform(1e3, 5e4, n),
        centroid=rng.uniform(0, 10, (n, 3)),
        dispersion=rng.uniform(0, 20, (n, 3)),
        particle=rng.integers(0, 5, n),  # class 0 (unclassified cubelet) is valid
        n_interactions=rng.integers(1, 30, n),
        cubelet=rng.integers(0, 1000, n),
        generator={"test": True, "seed": seed},
    )
