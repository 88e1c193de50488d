"""Small synthetic calorimeter datasets whose spikes carry information about every target.

Independent of the shower simulator on purpose: light of amplitude ∝ E, spread around the
centroid (x, z) on the sensor face with a width set by the dispersion, and a class-dependent
arrival time, so energy, centroid, dispersion and particle class are all learnable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurocal.sim.dataset import EventSet, write_h5


def synthetic_events(n: int, seed: int = 0, n_ticks: int = 100) -> EventSet:
    rng = np.random.default_rng(seed)
    energy = 10 ** rng.uniform(2.0, 4.0, n)
    particle = rng.integers(1, 4, n).astype(np.int32)
    centroid = rng.uniform(2.0, 8.0, (n, 3))
    width = rng.uniform(0.8, 2.0, n)
    dispersion = np.stack([2 * width**2, width**2 * 1.5], axis=1)
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


@pytest.fixture(scope="session")
def synthetic_h5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "synthetic.h5"
    write_h5(synthetic_events(240, seed=7), path)
    return path


@pytest.fixture(scope="session")
def trained_run(synthetic_h5: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small multi-target run (SNN + ANN, 2 epochs) shared by the evaluate/export tests."""
    from neurocal.models.config import TrainConfig
    from neurocal.models.training import train

    config = TrainConfig(target="all", hidden=[24, 16], epochs=2, batch_size=32, seed=0)
    return train(config, synthetic_h5, tmp_path_factory.mktemp("runs") / "all", progress=False)
