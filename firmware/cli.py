"""``neurocal firmware build|csim``: the hls4ml project of a bundle, and its bit-exact C-simulation.

Registered by the spine's CLI (``neurocal/cli/__init__.py`` adds :data:`COMMANDS`); errors are
:class:`~neurocal.errors.NeurocalError`, printed as one line by the ``neurocal`` group.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click

from neurocal.bundle import load_bundle, load_network_and_spikes
from neurocal.cli.options import COUNT, Finite, IntRange

DEFAULT_OUT = Path("build") / "firmware"


@click.group("firmware")
def firmware() -> None:
    """HLS firmware: the hls4ml project of a bundle (hls4ml Dense layers + neurocal's LIF layer).

    \b
      neurocal firmware build --bundle bundle/ --out build/firmware/energy
      neurocal firmware csim --bundle bundle/ --data data.h5 --events 500
    """


@firmware.command("build")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--out", "out", default=None, type=click.Path(path_type=Path),
              help=f"project folder (default {DEFAULT_OUT}/<network hash>)")
@click.option("--force", is_flag=True, help="replace a project of another network or config in --out")
@click.option("--part", default=None, help="FPGA part for Vitis HLS (default: the ZCU104's xczu7ev-ffvc1156-2-e)")
@click.option("--clock-ns", default=None, type=Finite(0.5, 100.0, unit="ns"), help="clock period (default 4 ns)")
@click.option("--probes", type=click.Choice(["all", "output"]), default="all", show_default=True,
              help="top-level outputs: every layer's [spikes, v, u], or the output layer's only")
@click.option("--strategy", type=click.Choice(["Latency", "Resource"]), default="Latency", show_default=True,
              help="hls4ml Dense strategy (Resource shares multipliers over --reuse-factor cycles)")
@click.option("--reuse-factor", default=1, show_default=True, type=IntRange(1, 4096, "a reuse factor"),
              help="hls4ml ReuseFactor of the Dense layers")
@click.option("--no-compile", is_flag=True, help="write the project only (skip the g++ C-simulation library)")
@click.option("--data", "data", default=None, type=click.Path(path_type=Path),
              help="events (.h5/.dat) whose golden outputs become tb_data/ of hls4ml's testbench (Vitis csim/cosim)")
@click.option("--events", "n_events", default=10, show_default=True, type=COUNT,
              help="events written to tb_data/ (with --data)")
def build_cmd(bundle: Path, out: Path | None, force: bool, part: str | None, clock_ns: float | None, probes: str,
              strategy: str, reuse_factor: int, no_compile: bool, data: Path | None, n_events: int) -> None:
    """Write the hls4ml project of BUNDLE's integer network and compile its C-simulation with g++."""
    from neurocal.firmware.project import FirmwareConfig, generate
    from neurocal.quoting import command_line

    defaults = FirmwareConfig()
    config = FirmwareConfig(part=part or defaults.part, clock_period_ns=clock_ns or defaults.clock_period_ns,
                            probes=probes, strategy=strategy, reuse_factor=reuse_factor)
    if data is not None:
        net, stimulus = load_network_and_spikes(bundle, data, n_events)
    else:
        net, stimulus = load_bundle(bundle), None
    if out is None:
        out = DEFAULT_OUT / net.content_hash.removeprefix("sha256:")[:16]
        out.parent.mkdir(parents=True, exist_ok=True)
    command = command_line("neurocal", "firmware", "build", "--bundle", bundle, "--out", out,
                           *(("--data", data, "--events", n_events) if data is not None else ()))
    project = generate(net, out, config, command=command, compile=not no_compile, force=force, stimulus=stimulus)
    widths = ", ".join(f"{layer.n_in}→{layer.n_out} (u {w.u_bits} bit)"
                       for layer, w in zip(net.layers, net.static_widths(), strict=True))
    click.echo(f"hls4ml project of network {net.content_hash[:19]}… in {project.path}")
    click.echo(f"layers: {widths}; part {config.part} at {1000 / config.clock_period_ns:.0f} MHz")
    if not no_compile:
        click.echo(f"C-simulation library: {project.library}")
    click.echo(f"standalone testbench: cd {project.path} && ./build_tb.sh && ./neurocal_tb in.aer out.aer")
    if stimulus is not None:
        click.echo(f"tb_data/: {stimulus.shape[0]} events × {stimulus.shape[1] + net.n_layers} ticks for hls4ml's "
                   f"testbench, expected outputs from the golden model")
    if shutil.which("vitis-run") is None:
        click.echo("Vitis HLS not found on this machine: nothing synthesised; where Vitis is installed run "
                   f"{project.path}/vitis_build.sh csynth cosim export")
    else:
        click.echo(f"Vitis HLS found: run {project.path}/vitis_build.sh csynth cosim export")


@firmware.command("csim")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="events (.h5/.dat)")
@click.option("--events", "n_events", default=100, show_default=True, type=COUNT)
@click.option("--build-dir", default=Path("build") / "hls", show_default=True, type=click.Path(path_type=Path),
              help="where compiled projects are cached (by network hash)")
@click.option("--out", "out", default=None, type=click.Path(path_type=Path),
              help="write the output stream (neurocal AER: spikes, readout voltages, end of event) to this file")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def csim_cmd(bundle: Path, data: Path, n_events: int, build_dir: Path, out: Path | None, as_json: bool) -> None:
    """C-simulate BUNDLE's firmware on events and check it bit for bit against the golden model (exit 1 if not)."""
    from neurocal import aer
    from neurocal.atomic import check_output_dir, check_output_file, write_bytes_atomic
    from neurocal.backends import compare_results, validate_result
    from neurocal.firmware.backend import HlsBackend
    from neurocal.golden import GoldenBackend

    check_output_dir(build_dir, "--build-dir")  # a cache folder: never a file, a bundle or another whole output
    if out is not None:
        check_output_file(out)
    net, spikes = load_network_and_spikes(bundle, data, n_events)
    hls = validate_result(HlsBackend(build_dir=build_dir, progress=True).run(net, spikes), net, spikes.shape, "hls")
    golden = GoldenBackend().run(net, spikes)
    cmp = compare_results(golden, hls)
    summary = {
        "events": int(spikes.shape[0]), "ticks": int(spikes.shape[1]), "content_hash": net.content_hash,
        "project": hls.info["project"], "build_seconds": round(hls.info["build_seconds"], 3),
        "csim_seconds": round(hls.seconds, 3), "csim_events_per_second": round(hls.n_events / hls.seconds, 2),
        "comparison": cmp.to_dict(),
    }
    if out is not None:
        words = aer.encode_output(hls.output_spikes, hls.readout_v)
        write_bytes_atomic(out, words.astype("<u4").tobytes())
        summary["output_stream"] = str(out)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"hls C-simulation of {net.content_hash[:19]}… ({hls.info['project']})")
        click.echo(f"{summary['events']} events × {summary['ticks']} ticks in {hls.seconds:.2f} s "
                   f"({summary['csim_events_per_second']} events/s; build {summary['build_seconds']} s)")
        click.echo("bit-exact with the golden model" if cmp.first is None
                   else f"{cmp.n_mismatched} events differ; first divergence at {cmp.first}")
        if out is not None:
            click.echo(f"wrote {out}")
    if cmp.n_mismatched:
        sys.exit(1)


COMMANDS: list[click.Command] = [firmware]
