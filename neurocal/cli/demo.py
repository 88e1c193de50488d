"""`neurocal demo`: the whole chain on a small simulated dataset, stage by stage.

Shower simulation → training of the deployable preset → evaluation → NIR → integer network → golden
model, Lava, HLS C-simulation and RTL (Verilator, every layer compared) → a PYNQ-Z2 deploy folder and its
driver over the simulated RTL → the report. Each stage calls the same library function or the same
sub-command (looked up by name, as a user types it) as a user would, so the demo is nothing but a script
over the CLI's building blocks. Re-running reuses what is there: the dataset is kept, the training run
resumes (a finished run returns at once), the Verilator builds are cached by shape.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from neurocal.cli.options import COUNT, HIDDEN, SEED, TIMEOUT, positive

#: the board whose deploy folder the demo writes and whose driver it runs over the simulated RTL
DEMO_BOARD = "pynq-z2"
#: the report's agreement section reruns the compared backends (its stage cache is in the demo folder); the demo's
#: RTL runs on Verilator, so Icarus is left out
REPORT_BACKENDS = "golden,lava,hls,rtl-verilator"


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (compilers, simulators)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _stage(title: str, fn: Callable[[], Any]) -> Any:
    """Run one stage under its title; print its wall time and CPU time (on a shared machine the CPU time is
    what the stage costs, the wall time what it took here)."""
    click.secho(f"\n== {title}", bold=True)
    start, cpu = time.perf_counter(), _cpu_seconds()
    result = fn()
    click.echo(f"   ({time.perf_counter() - start:.1f} s, {_cpu_seconds() - cpu:.1f} s CPU)")
    return result


def _subcommand(ctx: click.Context, *path: str) -> click.Command | None:
    """The ``neurocal`` sub-command at ``path`` (e.g. ``("deploy", "run")``), None where it is not installed.

    Looked up through the root group, as the command line does, so the demo depends on the commands'
    names, not on the module or room that provides them.
    """
    command: click.Command | None = ctx.find_root().command
    for name in path:
        if not isinstance(command, click.Group):
            return None
        command = command.get_command(ctx, name)
    return command


def _invoke(ctx: click.Context, *path: str, **params: Any) -> Any:
    command = _subcommand(ctx, *path)
    if command is None:
        raise click.ClickException(f"'neurocal {' '.join(path)}' is not installed; reinstall neurocal")
    return ctx.invoke(command, **params)  # click fills the options not given with their defaults


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build/demo"), show_default=True)
@click.option("--events", "n_events", type=COUNT, default=3000, show_default=True, help="Simulated events.")
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--epochs", type=positive("epochs", 10**6), default=None,
              help="Training epochs (default: the deployable preset's).")
@click.option("--hidden", type=HIDDEN, default=None,
              help="Hidden layer sizes, e.g. 16,8 (default: the deployable preset's; smaller builds faster).")
@click.option("--compare-events", type=COUNT, default=40, show_default=True, help="Events for the backend comparison.")
@click.option("--driver-events", type=COUNT, default=100, show_default=True,
              help="Events run through the deploy folder's driver over the simulated RTL.")
@click.option("--timeout", type=TIMEOUT, default=600.0, show_default=True,
              help="Seconds before a hung Lava run is stopped (0 = no limit).")
@click.option("--fresh", is_flag=True, help="Start over: simulate and train again.")
@click.pass_context
def demo(
    ctx: click.Context, out: Path, n_events: int, seed: int, epochs: int | None, hidden: list[int] | None,
    compare_events: int, driver_events: int, timeout: float | None, fresh: bool,
) -> None:
    """Simulate showers, train the deployable energy SNN, take it to an integer network, run it bit for bit on
    every backend and through the PYNQ-Z2 driver over the simulated RTL, and write the report."""
    import shutil

    from neurocal.atomic import check_output_dir, write_text_atomic
    from neurocal.limits import check_memory
    from neurocal.models import TrainConfig, evaluate, export, format_metrics, train
    from neurocal.sim import load_events
    from neurocal.sim.plots import plot_event_frames, plot_profiles
    from neurocal.sim.simulate import SimConfig, simulate_to_file
    from neurocal.sim.summary import format_summary, summarize

    # The 10^2..10^5 thresholds were chosen for the paper's photon generator (Ω, not Ω/4π):
    # under the physical convention only the lowest level fires, and the network would see one bit.
    sim_config = SimConfig(light="paper")
    check_output_dir(out)
    # The demo holds the events and their spike encoding in memory (uint32 photons + 4 bool levels per sensor).
    check_memory(n_events * sim_config.stream.n_ticks * 100 * (4 + 4) * 1.5, f"--events {n_events}",
                 "the demo trains in memory: choose fewer --events")
    data, plots, run, nir_file, bundle, deploy, report = (
        out / "data.h5",
        out / "plots",
        out / "runs" / "energy",
        out / "model.nir",
        out / "bundle",
        out / "deploy",
        out / "report",
    )
    if fresh:  # only the demo's own outputs: `--out ~ --fresh` must not empty a home folder
        for path in (data, plots, run, nir_file, bundle, deploy, report, out / "report-cache", out / "inspect.json"):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    plots.mkdir(exist_ok=True)

    if not data.exists():
        _stage(
            f"simulate {n_events} events (p, K, π at 100 GeV, the paper's light convention)",
            lambda: simulate_to_file(["proton", "kaon", "pion"], n_events, seed, data, sim_config, progress=True),
        )
    events = load_events(data)
    summary = _stage("inspect", lambda: summarize(events))
    click.echo(format_summary(summary))
    write_text_atomic(out / "inspect.json", json.dumps(summary, indent=2, default=str))
    _stage(
        "plot",
        lambda: (plot_event_frames(events, 0, plots / "event_0.png"), plot_profiles(events, plots / "profiles.png")),
    )

    config = TrainConfig.from_preset("deployable", "energy").with_overrides(epochs=epochs, hidden=hidden)
    run.parent.mkdir(parents=True, exist_ok=True)
    readout = f"{config.population} readout neurons averaged" if config.population > 1 else "one readout neuron"
    _stage(
        f"train the deployable energy SNN 400-{'-'.join(map(str, config.hidden))} ({readout}) and its ANN "
        f"baseline ({config.epochs} epochs)",
        lambda: train(config, data, run, progress=True, resume=(run / "run.json").exists()),
    )
    metrics = _stage("evaluate on the test split", lambda: evaluate(run))
    click.echo(format_metrics(metrics))
    _stage("export to NIR (the readout population folds into one neuron)", lambda: export(run, nir_file))
    click.echo(f"wrote {nir_file}")
    _stage(
        "quantise to the integer network (Loihi 2 arithmetic)",
        lambda: _invoke(ctx, "quantize", source=nir_file, data=data, out=bundle, n_events=500, vth_target=2048),
    )
    integer = _stage("physics metrics of the integer network (golden model) next to the float SNN",
                     lambda: evaluate(run, bundle=bundle, plots=False))
    click.echo(format_metrics(integer))
    _stage(
        f"golden model vs Lava (Loihi 2 fixed_pt), HLS C-simulation and RTL (Verilator, every layer) on "
        f"{compare_events} events, bit for bit",
        lambda: _invoke(ctx, "compare", backends="golden,lava,hls,rtl-verilator", bundle=bundle, data=data,
                        n_events=compare_events, as_json=False, timeout=timeout),
    )
    _stage(
        f"deploy folder for the {DEMO_BOARD} (RTL project, Vivado scripts, driver)",
        lambda: _invoke(ctx, "deploy", "build", bundle=bundle, board=DEMO_BOARD, out=deploy),
    )
    _stage(
        f"{driver_events} events through the {DEMO_BOARD} driver over the simulated RTL (Verilator), bit for bit",
        lambda: _invoke(ctx, "deploy", "run", target="rtl-sim", folder=deploy, data=data, n_events=driver_events),
    )
    _stage(
        f"report on {compare_events} events (physics, agreement, operations, hardware, energy)",
        lambda: _invoke(ctx, "report", bundle=bundle, data=data, out=report, n_events=compare_events,
                        backends=REPORT_BACKENDS, deploy=deploy, run_dir=run, cache_dir=out / "report-cache"),
    )

    click.secho(f"\nplots: {plots.resolve()} and {run.resolve()}", bold=True)
    click.secho(f"integer network: {(bundle / 'intnet.json').resolve()}", bold=True)
    click.secho(f"deploy folder: {deploy.resolve()}", bold=True)
    click.secho(f"report: {(report / 'report.html').resolve()}", bold=True)
    for headline in json.loads((report / "report.json").read_text())["headlines"].values():
        click.echo(f"  {headline['text']}")


COMMANDS: list[click.Command] = [demo]
