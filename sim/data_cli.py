"""`neurocal` sub-commands for data: simulate, inspect, plot-event (the sim room registers them through the
entry-point group ``neurocal.commands``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from neurocal.cli.options import COUNT, SEED, ModelBounds
from neurocal.errors import NeurocalError
from neurocal.sim.photonic_cli import front_end_from_options, front_end_options

PARTICLES = ("proton", "kaon", "pion")


@click.command()
@click.option(
    "--particle",
    "particles",
    multiple=True,
    default=PARTICLES,
    show_default=True,
    help="Primary particle (repeat for a mix: proton, kaon, pion). Events alternate between them.",
)
@click.option("--events", "n_events", type=COUNT, default=300, show_default=True,
              help="Total number of events (streamed to disk: any count that fits there).")
@click.option("--seed", type=SEED, default=1, show_default=True, help="Random seed: same seed, same file.")
@click.option("--energy-gev", type=ModelBounds("neurocal.sim.simulate:SimConfig", "energy_gev", "GeV"), default=100.0,
              show_default=True,
              help="Beam energy in GeV.")
@click.option(
    "--gun",
    type=click.Choice(["corner", "uniform"]),
    default="uniform",
    show_default=True,
    help="corner: where four cubelets meet; uniform: over one cubelet's front face.",
)
@click.option(
    "--light",
    type=click.Choice(["physical", "paper"]),
    default="paper",
    show_default=True,
    help="physical: Ω/4π and light at c/n; paper: the paper's generator (Ω, light at c/n²).",
)
@click.option("--reflections", type=click.IntRange(0, 5), default=1, show_default=True,
              help="Orders of mirror reflections on the cubelet's non-sensor faces (SNN-Cal: up to 5).")
@click.option("--readout-cubelet", type=click.Choice(["primary_vertex", "most_energy"]), default="primary_vertex",
              show_default=True, help="Cubelet read out: the primary's first interaction (SNN-Cal) or the most energy.")
@click.option("--energy", "energy_window", type=click.Choice(["window", "all"]), default="window", show_default=True,
              help="Targets from deposits before the window end (SNN-Cal) or from every deposit.")
@front_end_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output HDF5 file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def simulate(
    particles: tuple[str, ...],
    n_events: int,
    seed: int,
    energy_gev: float,
    gun: str,
    light: str,
    reflections: int,
    readout_cubelet: str,
    energy_window: str,
    front_end: str,
    front_end_settings: Path | None,
    out: Path,
    quiet: bool,
) -> None:
    """Simulate 100 GeV hadron showers in the PbWO4 block and write the readout cubelet's photon frames.

    Each event: first interaction, electromagnetic and hadronic shower parts, scintillation light
    at 200 photons/MeV, counted by 100 sensors on the cubelet's upper face in 0.2 ns ticks.
    Events are written batch by batch; an interrupted run leaves the previous OUT unchanged.
    """
    from neurocal.sim.simulate import SimConfig, simulate_to_file

    config = SimConfig(energy_gev=energy_gev, gun=gun, light=light, reflections=reflections,
                       readout_cubelet=readout_cubelet, energy_window=energy_window)
    # Checked before any work; recorded in the file so that training encodes with it (ideal: nothing to record).
    front = front_end_from_options(front_end, front_end_settings, config.stream)
    recorded = front.to_dict() if front.kind != "threshold" else None
    per_class = simulate_to_file(list(particles), n_events, seed, out, config, progress=not quiet, frontend=recorded)
    counts = ", ".join(f"{k} {v}" for k, v in per_class.items())
    click.echo(f"wrote {out}: {n_events} events ({counts})")


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts and CI).")
@click.option("--max-files-per-folder", type=click.IntRange(1), default=None,
              help="For a folder tree of .dat files: read at most N files from each folder (SNN-Cal's max_files).")
def inspect(path: Path, as_json: bool, max_files_per_folder: int | None) -> None:
    """Summarise a dataset: a neurocal HDF5 file, a paper .dat file, or a folder of .dat files."""
    from neurocal.sim import load_events
    from neurocal.sim.summary import format_summary, summarize

    events = load_events(path, max_files_per_folder=max_files_per_folder)
    if events.n_events == 0:
        raise NeurocalError(f"{path}: holds no events; nothing to inspect")
    summary = summarize(events)
    click.echo(json.dumps(summary, indent=2, default=str) if as_json else format_summary(summary))


@click.command("plot-event")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--event", "index", type=click.IntRange(0), default=0, show_default=True, help="Which event to draw.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("plots"),
    show_default=True,
    help="Folder for the PNG files.",
)
def plot_event(path: Path, index: int, out: Path) -> None:
    """Draw one event's photon frames over time, and the mean profiles per particle (PNG)."""
    from neurocal.atomic import check_output_dir, output_dir
    from neurocal.sim import load_events
    from neurocal.sim.plots import check_event_index, event_frames_figure, profiles_figure, save_figures

    check_output_dir(out)
    events = load_events(path)
    check_event_index(events, index)
    with output_dir(out) as folder:  # a folder created here is removed again if drawing fails
        paths = save_figures({folder / f"event_{index}.png": event_frames_figure(events, index),
                              folder / "profiles.png": profiles_figure(events)})
    click.echo("\n".join(f"wrote {p}" for p in paths))


COMMANDS: list[click.Command] = [simulate, inspect, plot_event]
