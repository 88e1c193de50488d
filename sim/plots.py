"""Pictures of calorimeter events: photon frames over time and mean shower profiles per particle."""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np

from neurocal.atomic import atomic_path
from neurocal.errors import NeurocalError
from neurocal.sim.dataset import PARTICLE_NAMES, EventSet

GRID = 10  # sensors per side of the upper face: sensor index = z·10 + x
FACE_X_MM, FACE_Z_MM = 30.0, 120.0  # the cubelet's upper face


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    return save_figures({path: fig})[0]


def save_figures(figures: dict[Path, Any]) -> list[Path]:
    """Write PNGs together: every file is rendered to its temporary first, then all are committed.

    A failure (bad folder, full disk, SIGINT) leaves every previous PNG as it was.
    """
    plt = _pyplot()
    try:
        with contextlib.ExitStack() as stack:
            for path, fig in figures.items():
                tmp = stack.enter_context(atomic_path(path, suffix=".png"))
                fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    finally:
        for fig in figures.values():
            plt.close(fig)
    return [Path(p) for p in figures]


def sensor_map(frame: np.ndarray) -> np.ndarray:
    """(sensors,) → (z, x) image of the upper face."""
    return np.asarray(frame).reshape(GRID, GRID)


def plot_event_frames(events: EventSet, index: int, out: str | os.PathLike[str], n_frames: int = 10) -> Path:
    """One event: the sensor face at ``n_frames`` time slices, and its light curve per threshold level."""
    return _save(event_frames_figure(events, index, n_frames), Path(out))


def check_event_index(events: EventSet, index: int) -> None:
    """``--event`` must name an event of the file."""
    if events.n_events == 0:
        raise NeurocalError(f"{events.source}: holds no events; nothing to plot")
    if not 0 <= index < events.n_events:
        raise NeurocalError(f"{events.source}: --event {index} out of range 0..{events.n_events - 1}")


def event_frames_figure(events: EventSet, index: int, n_frames: int = 10) -> Any:
    """The figure of :func:`plot_event_frames`, not yet saved."""
    check_event_index(events, index)
    plt = _pyplot()
    photons = events.photons[index].astype(np.float64)  # (ticks, sensors)
    # Slice the ticks that carry light, so that no panel is wasted on darkness before or after.
    lit = np.flatnonzero(photons.sum(axis=1) > 0)
    first, last = (int(lit[0]), int(lit[-1]) + 1) if lit.size else (0, events.n_ticks)
    edges = np.unique(np.linspace(first, max(last, first + n_frames), n_frames + 1).astype(int))
    edges = np.minimum(edges, events.n_ticks)
    frames = np.stack([photons[a:b].sum(axis=0) for a, b in itertools.pairwise(edges)])
    from matplotlib.colors import LogNorm

    norm = LogNorm(vmin=1, vmax=max(frames.max(), 10.0))
    per_row = (len(frames) + 1) // 2
    fig = plt.figure(figsize=(1.3 * per_row + 4, 9))
    grid = fig.add_gridspec(
        3, per_row + 1, width_ratios=[1] * per_row + [0.08], height_ratios=[2.2, 2.2, 1.3], hspace=0.45
    )
    image = None
    for k, frame in enumerate(frames):
        ax = fig.add_subplot(grid[k // per_row, k % per_row])
        # The upper face is 30 mm (x, 10 sensors) by 120 mm (z, 10 sensors): draw it to scale.
        image = ax.imshow(
            np.maximum(sensor_map(frame), 0.5),
            origin="lower",
            norm=norm,
            cmap="inferno",
            extent=(0, FACE_X_MM, 0, FACE_Z_MM),
        )
        ax.set_title(f"{edges[k] * events.tick_ns:.1f}–{edges[k + 1] * events.tick_ns:.1f} ns", fontsize=8)
        ax.tick_params(labelsize=7)
        if k % per_row:
            ax.set_yticklabels([])
        else:
            ax.set_ylabel("z (mm)", fontsize=8)
        ax.set_xlabel("x (mm)", fontsize=7)
    if image is not None:
        fig.colorbar(image, cax=fig.add_subplot(grid[0:2, -1]), label="photons per sensor per slice")
    ax = fig.add_subplot(grid[2, :-1])
    t = np.arange(events.n_ticks) * events.tick_ns
    ax.step(t, photons.sum(axis=1), where="post", color="k", label="all sensors")
    ax.step(t, photons.max(axis=1), where="post", color="tab:red", label="brightest sensor")
    for level in (2, 3, 4, 5):
        ax.axhline(10.0**level, color="tab:blue", lw=0.6, ls=":")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("time (ns)")
    ax.set_ylabel("photons per tick")
    ax.legend(fontsize=8, loc="upper right")
    name = PARTICLE_NAMES.get(int(events.particle[index]), "?")
    fig.suptitle(
        f"event {index}: {name}, E_dep = {events.energy_mev[index] / 1e3:.2f} GeV, "
        f"{int(events.n_interactions[index])} interactions  (thresholds: dotted)"
    )
    return fig


def plot_profiles(events: EventSet, out: str | os.PathLike[str]) -> Path:
    """Mean longitudinal (z), lateral (x) and time profiles of the sensor light, one line per particle."""
    return _save(profiles_figure(events), Path(out))


def profiles_figure(events: EventSet) -> Any:
    """The figure of :func:`plot_profiles`, not yet saved."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    t = np.arange(events.n_ticks) * events.tick_ns
    for code in np.unique(events.particle):
        sel = events.photons[events.particle == code].astype(np.float64)
        if len(sel) == 0:
            continue
        face = sel.sum(axis=1).reshape(len(sel), GRID, GRID)  # (events, z, x)
        label = f"{PARTICLE_NAMES.get(int(code), code)} ({len(sel)})"
        axes[0].plot(np.arange(GRID), face.sum(axis=2).mean(axis=0), marker="o", label=label)
        axes[1].plot(np.arange(GRID), face.sum(axis=1).mean(axis=0), marker="o", label=label)
        axes[2].step(t, sel.sum(axis=2).mean(axis=0), where="post", label=label)
    axes[0].set(xlabel="sensor row z (12 mm)", ylabel="mean photons per event", title="longitudinal")
    axes[1].set(xlabel="sensor column x (3 mm)", title="lateral")
    axes[2].set(xlabel="time (ns)", ylabel="mean photons per tick", title="time", yscale="log")
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{events.source}: light profiles on the readout cubelet's upper face")
    return fig
