"""`neurocal search`: the co-design study on the command line, and `neurocal search pick` to deploy a trial."""

from __future__ import annotations

from pathlib import Path

import click

from neurocal.cli.options import COUNT, SEED, TIMEOUT, positive, timeout_no_limit
from neurocal.errors import NeurocalError
from neurocal.targets import TARGETS


def _objectives(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    names = tuple(v.strip() for v in (value or "").split(",") if v.strip())
    if len(set(names)) != len(names):
        raise click.BadParameter(f"{value!r} names an objective twice", ctx, param)
    return names


@click.group("search", invoke_without_command=True)
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), help="Events to train and score on (.h5).")
@click.option("--target", type=click.Choice(TARGETS), default="energy", show_default=True)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Study folder (settings, SQLite storage, trial runs, plots); rerun to resume.")
@click.option("--trials", "n_trials", type=positive("trials", 100_000), default=20, show_default=True,
              help="Trials the study holds when done (complete, pruned, infeasible or failed), all workers together.")
@click.option("--workers", type=positive("workers", 64), default=1, show_default=True, help="Local worker processes.")
@click.option("--storage", default=None, help="SQLAlchemy URL of a shared study (e.g. postgresql://user@host/db); "
              "default: sqlite in the study folder.")
@click.option("--study", "study_name", default=None, help="Study name in the storage [default: the folder's name].")
@click.option("--physics", type=click.Choice(["P", "error"]), default="P", show_default=True,
              help="Physics objective of the integer network: P = mean of 1/error over targets (maximised) or the "
              "mean target error (minimised).")
@click.option("--objectives", callback=_objectives, default="",
              help="Hardware objectives besides physics, comma-separated (e.g. latency_us,cycles_per_event): a "
              "multi-objective study with a Pareto front.")
@click.option("--sampler", type=click.Choice(["gp", "tpe", "nsga2"]), default=None,
              help="Optuna sampler [default: gp single-objective, tpe multi-objective].")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seeds the samplers and every trial's run.")
@click.option("--space", type=click.Choice(["full", "quick", "tiny", "deployable"]), default="full",
              show_default=True,
              help="Search space; quick: demo-sized networks, 2-4 epochs, no QAT (a Pareto study within an hour); "
              "tiny: networks of a few neurons, 1-2 epochs (smoke tests); deployable: around the deployable preset "
              "(its first trial), 10-30 epochs, the demo board's core (a physics study).")
@click.option("--max-events", type=COUNT, default=None, help="Use only the first N usable events.")
@click.option("--eval-events", type=COUNT, default=1000, show_default=True,
              help="Validation events the integer network is scored on.")
@click.option("--cost-events", type=COUNT, default=200, show_default=True,
              help="Of those, events the cost model runs on.")
@click.option("--cost-model", default="cycles", show_default=True, help="Cost model (entry point); 'none' for none.")
@click.option("--timeout", type=TIMEOUT, default=0.0, callback=timeout_no_limit, show_default=True,
              help="Seconds after which no new trial starts (running ones finish; 0 = no limit).")
@click.option("--quiet", is_flag=True, help="No per-trial lines.")
@click.pass_context
def search(ctx: click.Context, data: Path | None, target: str, out: Path | None, n_trials: int, workers: int,
           storage: str | None, study_name: str | None, physics: str, objectives: tuple[str, ...],
           sampler: str | None, seed: int, space: str, max_events: int | None, eval_events: int, cost_events: int,
           cost_model: str, timeout: float | None, quiet: bool) -> None:
    """Search the front end, the network and the hardware together (Optuna); scores the integer network.

    \b
    neurocal search --data data.h5 --target energy --out studies/energy --trials 50
    neurocal search --data data.h5 --out studies/pareto --objectives latency_us --trials 100 --workers 2
    neurocal search --storage postgresql://user@host/db --study energy ...   # on several machines
    neurocal search pick studies/energy --out runs/best
    """
    if ctx.invoked_subcommand is not None:
        return
    from neurocal.models.search import SearchSettings, format_summary, open_study, run_search

    if data is None or out is None:
        raise NeurocalError("neurocal search needs --data (events) and --out (the study folder)")
    if not data.is_file():
        raise NeurocalError(f"--data {data}: no such file")
    settings = SearchSettings(
        data=str(data.resolve()), target=target, physics=physics, objectives=objectives,  # type: ignore[arg-type]
        sampler=sampler or ("tpe" if objectives else "gp"), seed=seed, space=space, max_events=max_events,
        eval_events=eval_events, cost_events=cost_events, costmodel=None if cost_model == "none" else cost_model)
    if settings.sampler == "gp" and settings.multi:
        raise NeurocalError("--sampler gp is single-objective here; use tpe or nsga2 with --objectives")
    ref = open_study(out, settings, storage=storage, name=study_name)
    summary = run_search(ref, n_trials, workers=workers, quiet=quiet, timeout=timeout)
    click.echo(format_summary(summary))
    click.echo(f"study: {ref.folder / 'summary.json'}, plots in {ref.folder / 'plots'}")


@search.command("pick")
@click.argument("study_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--trial", "number", type=click.IntRange(0), default=None,
              help="Trial number (a Pareto point of a multi-objective study) [default: the best trial].")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Run folder to write (evaluate, export, quantize accept it).")
@click.option("--storage", default=None, help="The study's SQLAlchemy URL, if not the one search.json records.")
def pick_cmd(study_dir: Path, number: int | None, out: Path, storage: str | None) -> None:
    """Turn the best trial (or --trial N) of a study into an ordinary run folder."""
    from neurocal.models.search import open_study, pick

    ref = open_study(study_dir, storage=storage)
    run = pick(ref, number, out)
    click.echo(f"wrote {run} (trial {number if number is not None else 'best'} of {ref.name})")


@search.command("show")
@click.argument("study_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--storage", default=None, help="The study's SQLAlchemy URL, if not the one search.json records.")
def show_cmd(study_dir: Path, storage: str | None) -> None:
    """Print the best trial (or the Pareto front) and rewrite summary.json and the plots, without running trials."""
    from neurocal.models.search import format_summary, open_study, report

    ref = open_study(study_dir, storage=storage)
    click.echo(format_summary(report(ref)))


COMMANDS: list[click.Command] = [search]
