"""`neurocal demo`: the whole chain on a small simulated dataset, stage by stage.

Each stage calls the same library function (or the same sub-command) as a user would, so the demo
is nothing but a script over the CLI's building blocks. Re-running it reuses what is there: the
dataset is kept, the training run resumes (a finished run returns at once).
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
@click.option("--epochs", type=int, default=None, help="Training epochs (default: the demo configuration's).")
@click.option("--compare-events", type=int, default=40, show_default=True, help="Events for golden vs Lava.")
@click.option("--fresh", is_flag=True, help="Start over: simulate and train again.")
@click.pass_context
def demo(
    ctx: click.Context, out: Path, n_events: int, seed: int, epochs: int | None, compare_events: int, fresh: bool
) -> None:
    """Simulate showers, plot them, train an energy SNN, export it to NIR, quantise it, compare backends."""
    import shutil

    from neurocal.cli.deploy import compare_cmd, quantize_cmd
    from neurocal.models import TrainConfig, evaluate, export, format_metrics, train
    from neurocal.sim import load_events
    from neurocal.sim.dataset import write_h5
    from neurocal.sim.plots import plot_event_frames, plot_profiles
    from neurocal.sim.simulate import SimConfig, simulate
    from neurocal.sim.summary import format_summary, summarize

    # The 10^2..10^5 thresholds were chosen for the paper's photon generator (Ω, not Ω/4π):
    # under the physical convention only the lowest level fires, and the network would see one bit.
    sim_config = SimConfig(light="paper")
    if fresh and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    data, plots, run, nir_file, bundle = (
        out / "data.h5",
        out / "plots",
        out / "runs" / "energy",
        out / "model.nir",
        out / "bundle",
    )
    plots.mkdir(exist_ok=True)

    if not data.exists():
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

    config = TrainConfig.demo("energy", **({"epochs": epochs} if epochs else {}))
    run.parent.mkdir(parents=True, exist_ok=True)
    _stage(
        f"train the energy SNN {config.hidden} and its ANN baseline ({config.epochs} epochs)",
        lambda: train(config, data, run, progress=True, resume=(run / "run.json").exists()),
    )
    metrics = _stage("evaluate on the test split", lambda: evaluate(run))
    click.echo(format_metrics(metrics))
    _stage("export to NIR", lambda: export(run, nir_file))
    click.echo(f"wrote {nir_file}")
    _stage(
        "quantise to the integer network (Loihi 2 arithmetic)",
        lambda: ctx.invoke(quantize_cmd, source=nir_file, data=data, out=bundle, n_events=500, vth_target=2048),
    )
    integer = _stage("physics metrics of the integer network (golden model) next to the float SNN",
                     lambda: evaluate(run, bundle=bundle, plots=False))
    click.echo(format_metrics(integer))
    _stage(
        f"golden model vs Lava (Loihi 2 fixed_pt) on {compare_events} events, bit for bit",
        lambda: ctx.invoke(
            compare_cmd,
            backends="golden,lava",
            bundle=bundle,
            data=data,
            n_events=compare_events,
            as_json=False,
            timeout=600.0,
        ),
    )

    click.secho(f"\nplots: {plots.resolve()} and {run.resolve()}", bold=True)
    click.secho(f"integer network: {(bundle / 'intnet.json').resolve()}", bold=True)


COMMANDS: list[click.Command] = [demo]
