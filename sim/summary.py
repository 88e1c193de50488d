"""What is in an event set: the numbers `neurocal inspect` prints."""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocal.config import ThresholdConfig
from neurocal.sim.dataset import EventSet
from neurocal.sim.frontend import encode_thresholds, threshold_config


def _range(values: np.ndarray) -> dict[str, float] | None:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return {"min": float(values.min()), "mean": float(values.mean()), "max": float(values.max())}


def summarize(events: EventSet, thresholds: ThresholdConfig | None = None, chunk: int = 1024) -> dict[str, Any]:
    """A JSON-able summary: counts per class, photon totals, target ranges, spikes per channel level."""
    thresholds = threshold_config(thresholds)
    n_levels = thresholds.n_levels
    spikes_per_level = np.zeros(n_levels, dtype=np.int64)
    active_channels = np.zeros(events.n_sensors * n_levels, dtype=bool)
    for start in range(0, events.n_events, chunk):
        spikes = encode_thresholds(events.photons[start : start + chunk], thresholds)
        per_channel = spikes.sum(axis=(0, 1))
        active_channels |= per_channel > 0
        spikes_per_level += per_channel.reshape(events.n_sensors, n_levels).sum(axis=0)
    n = max(events.n_events, 1)
    photons_per_event = events.photons.reshape(events.n_events, -1).sum(axis=1, dtype=np.float64)
    return {
        "source": events.source,
        "n_events": events.n_events,
        "n_ticks": events.n_ticks,
        "n_sensors": events.n_sensors,
        "tick_ns": events.tick_ns,
        "events_per_class": events.events_per_class(),
        "total_photons": float(photons_per_event.sum()),
        "photons_per_event": _range(photons_per_event),
        "total_energy_mev": float(np.nansum(events.energy_mev)),
        "targets": {
            "energy_mev": _range(events.energy_mev),
            "centroid_x": _range(events.centroid[:, 0]),
            "centroid_y": _range(events.centroid[:, 1]),
            "centroid_z": _range(events.centroid[:, 2]),
            "dispersion_xy": _range(events.dispersion[:, 0]),
            "dispersion_z": _range(events.dispersion[:, 1]),
            "n_interactions": _range(events.n_interactions),
        },
        "spikes": {
            "thresholds": list(thresholds.thresholds),
            "per_event_per_level": [float(s / n) for s in spikes_per_level],
            "per_channel_per_event": float(spikes_per_level.sum() / n / (events.n_sensors * n_levels)),
            "active_channels": int(active_channels.sum()),
            "n_channels": int(events.n_sensors * n_levels),
        },
        "generator": events.generator,
    }


def format_summary(s: dict[str, Any]) -> str:
    """The summary as a short text for a terminal."""
    lines = [
        f"{s['source']}: {s['n_events']} events × {s['n_ticks']} ticks ({s['tick_ns']} ns) × {s['n_sensors']} sensors",
        "events per class: " + ", ".join(f"{k} {v}" for k, v in s["events_per_class"].items()),
        f"photons: total {s['total_photons']:.4g}"
        + (
            f", per event {s['photons_per_event']['min']:.3g} … {s['photons_per_event']['max']:.3g} "
            f"(mean {s['photons_per_event']['mean']:.3g})"
            if s["photons_per_event"]
            else ""
        ),
        f"deposited energy: total {s['total_energy_mev'] / 1e3:.4g} GeV",
        "targets:",
    ]
    for name, r in s["targets"].items():
        lines.append(
            f"  {name:15s} " + ("n/a" if r is None else f"{r['min']:10.4g} … {r['max']:10.4g}   mean {r['mean']:.4g}")
        )
    sp = s["spikes"]
    lines.append(
        "spikes per event per level (thresholds "
        + ", ".join(f"{t:g}" for t in sp["thresholds"])
        + "): "
        + ", ".join(f"{v:.1f}" for v in sp["per_event_per_level"])
    )
    lines.append(
        f"spikes per channel per event: {sp['per_channel_per_event']:.3f}; "
        f"channels that ever fire: {sp['active_channels']} of {sp['n_channels']}"
    )
    return "\n".join(lines)
