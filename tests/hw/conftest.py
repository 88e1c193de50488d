"""Shared fixtures of the RTL suites: one build directory per simulator and parameter set, reused
across the session (and across sessions while the sources do not change)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

BUILD_ROOT = Path(__file__).resolve().parents[2] / "build" / "hw-tests"


@pytest.fixture(scope="session")
def hw_build_root() -> Path:
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    return BUILD_ROOT


def lit_showers(n_events: int, n_simulated: int, seed: int,
                particles: Sequence[str] = ("proton", "kaon", "pion")) -> np.ndarray:
    """The first ``n_events`` of ``n_simulated`` showers (the particles in turn) that light the front end,
    threshold-encoded: bool (n_events, 100 ticks, 400 channels)."""
    from neurocal.sim.frontend import encode_thresholds
    from neurocal.sim.simulate import simulate

    spikes = encode_thresholds(simulate(list(particles), n_simulated, seed=seed).photons)
    spikes = spikes[spikes.any(axis=(1, 2))][:n_events]
    assert len(spikes) == n_events, f"only {len(spikes)} of the simulated showers light the front end"
    return spikes
