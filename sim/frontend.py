"""Front ends that turn photon frames into spike channels (DESIGN §3).

The ideal front end is a bank of discriminators: sensor s, level i fires in a tick when the
sensor's photon count in that tick is strictly greater than ``thresholds[i]`` (10^(i+2) by
default). Channel address = sensor · n_levels + i, so a sensor's levels are neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurocal.config import ThresholdConfig

METADATA_KEY = "threshold_levels"  # where a network's NIR/IntNetwork metadata records its front end


def channel_address(sensor: np.ndarray | int, level: np.ndarray | int, n_levels: int = 4) -> np.ndarray:
    """Input channel of (sensor, threshold level)."""
    return np.asarray(sensor) * n_levels + np.asarray(level)


def threshold_config(levels: ThresholdConfig | Sequence[float] | None) -> ThresholdConfig:
    """A validated front-end configuration from a config, a list of levels, or None (the default 10^2..10^5)."""
    if levels is None:
        return ThresholdConfig()
    if isinstance(levels, ThresholdConfig):
        return levels
    return ThresholdConfig(thresholds=tuple(float(t) for t in levels))


def encode_thresholds(photons: np.ndarray, levels: ThresholdConfig | Sequence[float] | None = None) -> np.ndarray:
    """Photon counts ``(..., ticks, sensors)`` → boolean spikes ``(..., ticks, sensors · n_levels)``.

    Writes each level straight into the output, so memory stays at the size of the result.
    """
    thresholds = threshold_config(levels).thresholds
    photons = np.asarray(photons)
    out = np.empty((*photons.shape, len(thresholds)), dtype=bool)
    for i, threshold in enumerate(thresholds):
        np.greater(photons, threshold, out=out[..., i])
    return out.reshape(*photons.shape[:-1], photons.shape[-1] * len(thresholds))
