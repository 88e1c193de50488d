"""Command-line pieces of the photonic front end: ``neurocal plot-superpixel`` and the ``--front-end`` options.

``COMMANDS`` is registered by ``neurocal.cli`` like the other command modules.
:func:`front_end_options` adds ``--front-end ideal|photonic`` and ``--front-end-settings FILE`` to a
command (``neurocal simulate`` records the result in the dataset) and :func:`front_end_from_options`
turns them into a :class:`~neurocal.sim.frontend.FrontEnd`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from neurocal.config import StreamConfig
from neurocal.errors import NeurocalError
from neurocal.sim.frontend import FRONTEND_KEY, FrontEnd, frontend_from_dict

KIND_OF_OPTION = {"ideal": "threshold", "photonic": "photonic"}


def read_settings_file(path: Path) -> dict[str, Any]:
    """A YAML or JSON mapping of front-end settings (a ``kind`` in it must agree with ``--front-end``)."""
    import yaml

    try:
        values = yaml.safe_load(path.read_text())  # YAML is a superset of JSON
    except OSError as err:
        raise NeurocalError(f"{path}: cannot read the front-end settings ({err.strerror})") from err
    except UnicodeDecodeError as err:
        raise NeurocalError(f"{path}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start}); "
                            "save the front-end settings as UTF-8 YAML or JSON") from err
    except yaml.YAMLError as err:
        raise NeurocalError(f"{path}: not valid YAML or JSON ({str(err).splitlines()[0]})") from err
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise NeurocalError(f"{path}: expected a mapping of front-end settings, got {type(values).__name__}")
    return values


def front_end_from_options(kind: str, settings_file: Path | None, stream: StreamConfig | None = None) -> FrontEnd:
    """``--front-end`` (ideal|photonic) + ``--front-end-settings`` → a front end on ``stream``'s time base."""
    settings = read_settings_file(settings_file) if settings_file is not None else {}
    source = str(settings_file) if settings_file is not None else "--front-end"
    wanted = KIND_OF_OPTION[kind]
    if settings.get("kind", wanted) != wanted:
        raise NeurocalError(f"{source}: kind is {settings['kind']!r} but --front-end is {kind}; make them agree")
    settings["kind"] = wanted
    if stream is not None:
        for key, value in (("n_ticks", stream.n_ticks), ("tick_ns", stream.tick_ns)):
            if settings.setdefault(key, value) != value:
                raise NeurocalError(
                    f"{source}: {key} = {settings[key]} but the events use {value}; drop {key} from the settings"
                )
    return frontend_from_dict(settings, source)


def front_end_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: ``--front-end ideal|photonic`` and ``--front-end-settings FILE``."""
    command = click.option(
        "--front-end-settings",
        "front_end_settings",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="YAML/JSON file of front-end settings (photonic: see neurocal.sim.photonic.PhotonicSettings).",
    )(command)
    return click.option(
        "--front-end",
        "front_end",
        type=click.Choice(list(KIND_OF_OPTION)),
        default="ideal",
        show_default=True,
        help="ideal: 4-threshold encoder; photonic: InP nanowire superpixel model (noise, ps neurons).",
    )(command)


@click.command("plot-superpixel")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--event", "index", type=click.IntRange(0), default=0, show_default=True, help="Which event.")
@click.option("--sensor", type=click.IntRange(0), default=None, help="Which sensor [default: the brightest].")
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Photonic settings (YAML/JSON) [default: the dataset's photonic front end, else the model's defaults].",
)
@click.option("--ideal", is_flag=True, help="The noise-free ideal limit (reproduces the 4-threshold encoder).")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("plots"), show_default=True,
    help="Folder for the PNG file.",
)  # fmt: skip
def plot_superpixel(
    path: Path, index: int, sensor: int | None, settings_file: Path | None, ideal: bool, out: Path
) -> None:
    """Draw one photonic superpixel over one event: light in, each channel's membrane, spikes out (PNG)."""
    from neurocal.atomic import check_output_dir, output_dir
    from neurocal.sim import load_events
    from neurocal.sim.photonic import PhotonicFrontEnd, ideal_settings
    from neurocal.sim.photonic_plots import brightest_sensor, superpixel_figure
    from neurocal.sim.plots import check_event_index, save_figures

    check_output_dir(out)
    events = load_events(path)
    check_event_index(events, index)
    stream = StreamConfig(tick_ns=events.tick_ns, n_ticks=events.n_ticks)
    recorded = (events.generator or {}).get(FRONTEND_KEY)
    if settings_file is None and isinstance(recorded, dict) and recorded.get("kind") == "photonic":
        fe = frontend_from_dict(recorded, f"{path}: recorded front end")
    else:
        fe = front_end_from_options("photonic", settings_file, stream)
    assert isinstance(fe, PhotonicFrontEnd)
    if ideal:
        fe = PhotonicFrontEnd(ideal_settings(fe.settings.levels, tick_ns=fe.settings.tick_ns), n_ticks=events.n_ticks)
    if sensor is None:
        sensor = brightest_sensor(events, index)
    elif sensor >= events.n_sensors:
        raise NeurocalError(f"--sensor {sensor} out of range 0..{events.n_sensors - 1}")
    with output_dir(out) as folder:
        name = f"superpixel_event{index}_sensor{sensor}{'_ideal' if ideal else ''}.png"
        (written,) = save_figures({folder / name: superpixel_figure(events, index, sensor, fe)})
    click.echo(f"wrote {written}")
    click.echo(json.dumps({"front_end": fe.to_dict()}, separators=(",", ":")))


COMMANDS: list[click.Command] = [plot_superpixel]
