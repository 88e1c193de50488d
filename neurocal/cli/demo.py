"""`neurocal demo`: the whole chain on a small simulated dataset, stage by stage.

Each stage calls the same library function as its own sub-command, so the demo is nothing but a
script over the CLI's building blocks; re-running it reuses what is already there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def _stage(title: str, fn: Callable[[], Any]) -> Any:
    click.secho(f"\n== {title}", bold=True)
    start = time.perf_counter()
    result = fn()
    click.echo(f"   ({time.perf_counter() - start:.1f} s)")
    return result


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build/demo"), show_default=True)
@click.option("--events", "n_events", type=int, default=3000, show_default=True, help="Simulated events.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--fresh", is_flag=True, help="Simulate again even if the dataset exists.")
def demo(out: Path, n_events: int, seed: int, fresh: bool) -> None:
    """Simulate showers, encode and plot them, train, export, quantise and compare backends."""
    from neurocal.sim import load_events
    from neurocal.sim.dataset import write_h5
    from neurocal.sim.plots import plot_event_frames, plot_profiles
    from neurocal.sim.simulate import SimConfig, simulate
    from neurocal.sim.summary import format_summary, summarize

    # The 10^2..10^5 thresholds were chosen for the paper's photon generator (Ω, not Ω/4π):
    # under the physical convention only the lowest level fires, and the network would see one bit.
    sim_config = SimConfig(light="paper")
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data.h5"
    plots = out / "plots"
    plots.mkdir(exist_ok=True)

    if fresh or not data.exists():
        events = _stage(
            f"simulate {n_events} events (p, K, π at 100 GeV, the paper's light convention)",
            lambda: simulate(["proton", "kaon", "pion"], n_events, seed, sim_config, progress=True),
        )
        write_h5(events, data)
    events = load_events(data)
    summary = _stage("inspect", lambda: summarize(events))
    click.echo(format_summary(summary))
    (out / "inspect.json").write_text(json.dumps(summary, indent=2, default=str))
    _stage(
        "plot",
        lambda: (plot_event_frames(events, 0, plots / "event_0.png"), plot_profiles(events, plots / "profiles.png")),
    )

    click.secho(f"\nplots: {plots.resolve()}", bold=True)


COMMANDS: list[click.Command] = [demo]
