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


# A level that fires on fewer events than this is reported as (nearly) dead.
RARE_LEVEL_FRACTION = 0.01


def summarize(events: EventSet, thresholds: ThresholdConfig | None = None, chunk: int = 1024) -> dict[str, Any]:
    """A JSON-able summary: counts per class, photon totals, target ranges, spikes per channel level, warnings.

    ``warnings`` lists what makes the data a poor network input through this front end: a threshold
    level that never fires (or on under 1 % of events), and events with no input spike at all
    (every such event gets the same prediction).
    """
    thresholds = threshold_config(thresholds)
    n_levels = thresholds.n_levels
    spikes_per_level = np.zeros(n_levels, dtype=np.int64)
    events_per_level = np.zeros(n_levels, dtype=np.int64)
    silent_events = 0
    active_channels = np.zeros(events.n_sensors * n_levels, dtype=bool)
    for start in range(0, events.n_events, chunk):
        spikes = encode_thresholds(events.photons[start : start + chunk], thresholds)
        per_event_channel = spikes.sum(axis=1)  # (n, channels)
        per_channel = per_event_channel.sum(axis=0)
        active_channels |= per_channel > 0
        spikes_per_level += per_channel.reshape(events.n_sensors, n_levels).sum(axis=0)
        per_event_level = per_event_channel.reshape(len(spikes), events.n_sensors, n_levels).sum(axis=1)
        events_per_level += (per_event_level > 0).sum(axis=0)
        silent_events += int((per_event_level.sum(axis=1) == 0).sum())
    n = max(events.n_events, 1)
    warnings = []
    for level, (count, threshold) in enumerate(zip(events_per_level, thresholds.thresholds, strict=True)):
        if count == 0:
            warnings.append(f"threshold level {level} (> {threshold:g} photons) never fires: its "
                            f"{events.n_sensors} channels are dead inputs; raise the light or lower the thresholds")
        elif count < RARE_LEVEL_FRACTION * n:
            warnings.append(f"threshold level {level} (> {threshold:g} photons) fires on only {int(count)} of "
                            f"{events.n_events} events")
    if silent_events:
        warnings.append(f"{silent_events} of {events.n_events} events have no input spike at all: the network "
                        "gives them all the same prediction")
    photons_per_event = events.photons.reshape(events.n_events, -1).sum(axis=1, dtype=np.float64)
    return {
        "source": events.source,
        "n_events": events.n_events,
        "files": int(events.generator.get("files", 1)),
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
            "sigma2_x": _range(events.dispersion[:, 0]),
            "sigma2_y": _range(events.dispersion[:, 1]),
            "sigma2_z": _range(events.dispersion[:, 2]),
            "sigma2_r": _range(events.dispersion_r),
            "n_interactions": _range(events.n_interactions),
        },
        "spikes": {
            "thresholds": list(thresholds.thresholds),
            "per_event_per_level": [float(s / n) for s in spikes_per_level],
            "per_channel_per_event": float(spikes_per_level.sum() / n / (events.n_sensors * n_levels)),
            "active_channels": int(active_channels.sum()),
            "n_channels": int(events.n_sensors * n_levels),
            "events_with_level": [int(c) for c in events_per_level],
            "events_without_spikes": silent_events,
        },
        "warnings": warnings,
        "generator": events.generator,
    }


def format_summary(s: dict[str, Any]) -> str:
    """The summary as a short text for a terminal."""
    lines = [
        f"{s['source']}: {s['n_events']} events × {s['n_ticks']} ticks ({s['tick_ns']} ns) × {s['n_sensors']} sensors"
        + (f", from {s['files']} files" if s.get("files", 1) > 1 else ""),
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
    if "events_with_level" in sp:
        lines.append("events on which each level fires: " + ", ".join(
            f"{c} ({c / max(s['n_events'], 1):.0%})" for c in sp["events_with_level"]))
    lines += [f"warning: {w}" for w in s.get("warnings", [])]
    return "\n".join(lines)
