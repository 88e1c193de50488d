"""Picture of one photonic superpixel over one event: light in, each channel's membrane, spikes out."""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocal.sim.dataset import EventSet
from neurocal.sim.frontend import encode_thresholds
from neurocal.sim.photonic import PhotonicFrontEnd
from neurocal.sim.plots import _pyplot, check_event_index

LEVEL_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def brightest_sensor(events: EventSet, index: int) -> int:
    """The sensor that collects the most photons in event ``index`` (a sensible default to draw)."""
    return int(np.asarray(events.photons[index]).sum(axis=0).argmax())


def superpixel_figure(events: EventSet, index: int, sensor: int, frontend: PhotonicFrontEnd) -> Any:
    """Figure: photons per tick with each channel's level L_i; v(t) of each channel against θ; spikes out.

    The spike panel shows the photonic channels (filled) beside the ideal encoder at the same
    levels (open), so that what the noise and the picosecond dynamics change is visible.
    """
    check_event_index(events, index)
    tr = frontend.trace(events.photons[index], event=index, sensor=sensor)
    d, lv = frontend.design, frontend.n_levels
    tick_ns = float(tr["tick_ns"])
    n_t = tr["photons"].size
    t_tick = np.arange(n_t) * tick_ns
    ideal = encode_thresholds(tr["photons"][:, None], frontend.settings.levels)  # (ticks, levels)

    # zoom on the ticks that matter: light within a decade of the lowest level, or a spike
    busy = np.flatnonzero((tr["photons"] > frontend.settings.levels[0] / 10) | tr["spikes"].any(axis=1))
    lo, hi = (busy[0], busy[-1] + 1) if busy.size else (0, n_t)
    xlim = (max(lo * tick_ns - 1.0, 0.0), min(hi * tick_ns + 1.5, n_t * tick_ns))

    plt = _pyplot()
    fig, axes = plt.subplots(lv + 2, 1, figsize=(10, 2.0 * (lv + 2)), sharex=True)
    ax = axes[0]
    ax.step(t_tick, np.maximum(tr["photons"], 0.5), where="post", color="k", lw=1)
    for i, level in enumerate(frontend.settings.levels):  # what each channel is designed for (docs/design.md §3 levels)
        ax.axhline(level, color=LEVEL_COLOURS[i % len(LEVEL_COLOURS)], ls="--", lw=0.8, label=f"channel {i}")
    ax.set_yscale("log")
    ax.set_ylabel("photons / tick")
    ax.set_title(f"event {index}, sensor {sensor}: light in, photonic superpixel ({frontend.kind}), spikes out")
    ax.legend(loc="upper right", fontsize=7, ncol=lv)

    t_sub = tr["time_ps"] / 1000.0
    for i in range(lv):
        ax = axes[i + 1]
        colour = LEVEL_COLOURS[i % len(LEVEL_COLOURS)]
        ax.plot(t_sub, tr["v"][:, i], color=colour, lw=0.7)
        ax.axhline(d.threshold_pe, color="k", ls=":", lw=0.8)
        ax.set_ylim(0, 3 * d.threshold_pe)  # the crossing is what matters; a brighter pulse is clipped
        ax.set_ylabel(f"v{i} (pe)")
        ax.text(
            0.99, 0.9, f"T = {d.transmission[i]:.3g}, fires {int(tr['n_spikes'][:, i].sum())}× (v clipped at 3θ)",
            transform=ax.transAxes, ha="right", va="top", fontsize=7,
        )  # fmt: skip

    ax = axes[-1]
    for i in range(lv):
        colour = LEVEL_COLOURS[i % len(LEVEL_COLOURS)]
        ticks = np.flatnonzero(tr["spikes"][:, i])
        ax.scatter(t_tick[ticks] + tick_ns / 2, np.full(ticks.size, i + 0.12), s=9, marker="|", color=colour)
        ticks = np.flatnonzero(ideal[:, i])
        ax.scatter(t_tick[ticks] + tick_ns / 2, np.full(ticks.size, i - 0.12), s=9, marker="|", color="0.6")
    ax.set_yticks(range(lv), [f"ch {i}" for i in range(lv)])
    ax.set_ylim(-0.6, lv - 0.4)
    ax.set_ylabel("spikes\n(grey: ideal)")
    ax.set_xlabel("time in the event window (ns)")
    ax.set_xlim(*xlim)
    fig.tight_layout()
    return fig
