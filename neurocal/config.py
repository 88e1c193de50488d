"""Typed configuration shared by every stage, validated at the edge."""

from __future__ import annotations

import itertools
import math

from pydantic import BaseModel, ConfigDict, Field


class StreamConfig(BaseModel):
    """Time base of a spike stream (docs/design.md §3): a tick of ``tick_ns`` and an event of ``n_ticks`` ticks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tick_ns: float = Field(0.2, gt=0, description="duration of one time tick in ns")
    n_ticks: int = Field(100, gt=0, le=16383, description="ticks per event window (fits the AER tick field)")

    @property
    def window_ns(self) -> float:
        return self.tick_ns * self.n_ticks


class ThresholdConfig(BaseModel):
    """The ideal front end: a sensor's channel i fires in a tick when its photon count exceeds thresholds[i]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thresholds: tuple[float, ...] = Field(
        (1e2, 1e3, 1e4, 1e5), min_length=1, description="photon-count thresholds, strictly increasing"
    )

    @property
    def n_levels(self) -> int:
        return len(self.thresholds)

    def model_post_init(self, __context: object) -> None:
        t = self.thresholds
        if not all(math.isfinite(x) for x in t):
            raise ValueError(f"thresholds must be finite photon counts, got {t}")
        if any(b <= a for a, b in itertools.pairwise(t)) or t[0] < 0:
            raise ValueError(f"thresholds must be non-negative and strictly increasing, got {t}")
