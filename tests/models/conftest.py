"""Fixtures of the models tests: a small synthetic dataset and one trained multi-target run."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurocal.sim.dataset import write_h5

from .synthetic import synthetic_events


@pytest.fixture(scope="session")
def synthetic_h5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "synthetic.h5"
    write_h5(synthetic_events(240, seed=7), path)
    return path


@pytest.fixture(scope="session")
def trained_run(synthetic_h5: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small multi-target run (SNN + ANN, 1 epoch) shared by the evaluate/export tests."""
    from neurocal.models.config import TrainConfig
    from neurocal.models.training import train

    config = TrainConfig(target="all", hidden=[24, 16], epochs=1, batch_size=48, seed=0)
    return train(config, synthetic_h5, tmp_path_factory.mktemp("runs") / "all", progress=False)
