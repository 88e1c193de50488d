"""Front ends that turn photon frames into spike channels (DESIGN §3).

The ideal front end is a bank of discriminators: sensor s, level i fires in a tick when the
sensor's photon count in that tick is strictly greater than ``thresholds[i]`` (10^(i+2) by
default). Channel address = sensor · n_levels + i, so a sensor's levels are neighbours.
"""

from __future__ import annotations

import numpy as np

from neurocal.config import ThresholdConfig


def channel_address(sensor: np.ndarray | int, level: np.ndarray | int, n_levels: int = 4) -> np.ndarray:
    """Input channel of (sensor, threshold level)."""
    return np.asarray(sensor) * n_levels + np.asarray(level)


def encode_thresholds(photons: np.ndarray, config: ThresholdConfig | None = None) -> np.ndarray:
    """Photon counts ``(..., ticks, sensors)`` → boolean spikes ``(..., ticks, sensors · n_levels)``."""
    config = config or ThresholdConfig()
    photons = np.asarray(photons)
    levels = np.asarray(config.thresholds, dtype=np.float64)
    spikes = photons[..., None] > levels  # (..., ticks, sensors, levels)
    return spikes.reshape(*photons.shape[:-1], photons.shape[-1] * len(levels))
