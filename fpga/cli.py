"""``neurocal deploy build|check|run`` and ``neurocal fpga build``: the deploy folder and the board."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import click
import numpy as np

from neurocal.errors import NeurocalError

EXIT_NO_TOOL = 3  # the tool or device this command needs is not on this machine
TARGETS = ("rtl-sim", "pynq")


def _no_tool(message: str) -> None:
    click.echo(f"neurocal: {message}", err=True)
    sys.exit(EXIT_NO_TOOL)


@click.group("deploy")
def deploy() -> None:
    """A deploy folder for a PYNQ board: build it, check it, run events through its driver."""


@deploy.command("build")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--board", required=True, type=click.Choice(["pynq-z2", "zcu104"]), help="target board profile")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="deploy folder to write (as a whole)")
def build_cmd(bundle: Path, board: str, out: Path) -> None:
    """Write BUNDLE's deploy folder: network, RTL project, Vivado Tcl and settings, driver, expected capability
    values and memory CRC, a slot for the .bit/.hwh, and a manifest with every file's sha256."""
    from neurocal.atomic import check_output_dir
    from neurocal.bundle import load_bundle
    from neurocal.fpga.deploy import DEPLOY_KIND, write_deploy

    check_output_dir(out, "--out", DEPLOY_KIND)
    net = load_bundle(bundle)
    info = write_deploy(net, board, out, f"neurocal deploy build --bundle {bundle} --board {board} --out {out}")
    shape = info["shape"]
    click.echo(f"wrote {out}: {board} ({info['part']}, {info['clock_mhz']:g} MHz), core "
               f"{'-'.join(map(str, shape['sizes']))}, {shape['words']} AER words per beat, memory CRC "
               f"{info['expected']['memory_crc']:#010x}")


@deploy.command("check")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--hardware", is_flag=True, help="also connect to the board's core and check it against the folder")
def check_cmd(folder: Path, hardware: bool) -> None:
    """Verify FOLDER against its manifest and check its Vivado script under tclsh (the script, not a build)."""
    from neurocal.fpga import tclcheck
    from neurocal.fpga.deploy import check_deploy
    from neurocal.profiles import profile

    info = check_deploy(folder)
    errors = tclcheck.check_script(folder / "tcl" / "build.tcl", folder / "tcl" / "settings.tcl", folder,
                                   profile(info["board"]), folder / info["core_top"], info["shape"]["words"])
    if errors:
        raise NeurocalError(f"{folder / 'tcl' / 'build.tcl'}: {errors[0]}" + (
            f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    click.echo(f"{folder}: manifest verified ({info['board']}), build script checked under tclsh")
    if hardware:
        drv = _board_driver(folder, info)
        drv.check(info["expected"])
        click.echo(f"{folder}: the board's core matches (capabilities, hash, memory CRC)")


def _board_driver(folder: Path, info: dict[str, Any]) -> Any:
    """The driver of the board this runs on (exit 3 where there is no PYNQ device)."""
    try:
        with warnings.catch_warnings():  # pynq warns "No devices found" on stderr; the one line below says it
            warnings.simplefilter("ignore")
            from pynq import Device

            devices = Device.devices
    except Exception as err:  # pynq raises RuntimeError and others where there is no board
        devices, reason = [], str(err)
    else:
        reason = "pynq finds no device"
    if not devices:
        _no_tool(f"no PYNQ board here ({reason}); run this on the board")
    bit = folder / "overlay" / "neurocal.bit"
    if not bit.is_file():
        raise NeurocalError(f"{bit}: no bitstream; build it with 'neurocal fpga build --deploy {folder}'")
    from neurocal.fpga.overlay import NeurocalOverlay

    return NeurocalOverlay(str(bit)).driver(info["n_outputs"])


@deploy.command("run")
@click.option("--target", required=True, type=click.Choice(TARGETS), help="the board, or its RTL simulated")
@click.option("--deploy", "folder", required=True, type=click.Path(path_type=Path), help="deploy folder")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="events (.h5/.dat)")
@click.option("--events", "n_events", default=200, show_default=True, type=click.IntRange(1))
@click.option("--batch", "batch", default=None, type=click.IntRange(1), help="events per batch, one DMA send and "
              "one receive (default: as many as the length register allows)")
@click.option("--serial", is_flag=True, help="one event at a time, each meeting an idle core: the driver reads "
              "every event's latency in cycles (LAST_CYCLES) instead of streaming batches")
@click.option("--sim", default="verilator", show_default=True, type=click.Choice(["verilator", "icarus"]),
              help="simulator of --target rtl-sim")
@click.option("--build-root", type=click.Path(path_type=Path), default=Path("build") / "rtl", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def run_cmd(target: str, folder: Path, data: Path, n_events: int, batch: int | None, serial: bool, sim: str,
            build_root: Path, as_json: bool) -> None:
    """Run events through the deploy folder's driver on TARGET and compare with the golden model bit for bit
    (exit 1 if any event differs)."""
    from neurocal.backends import compare_results
    from neurocal.bundle import load_network_and_spikes
    from neurocal.fpga.deploy import INTNET_FILE, deploy_core, load_deploy, predictions
    from neurocal.golden import GoldenBackend

    info, net, shape = load_deploy(folder)
    _, spikes = load_network_and_spikes(folder / INTNET_FILE, data, n_events)
    t0 = time.perf_counter()
    if target == "rtl-sim":
        from neurocal.fpga.rtlsim import run_driver

        run = run_driver(info, net, shape, spikes, sim=sim, build_root=build_root, batch_events=batch, serial=serial)
        words, device_s, max_cycles = run.words, run.device_seconds, run.registers["MAX_CYCLES"]
        sends, receives, cycles = run.sends, run.receives, run.cycles
    else:
        drv = _board_driver(folder, info)
        drv.batch_events, drv.serial = batch, serial
        drv.check(info["expected"])
        t_dev = time.perf_counter()
        words = drv.run_events(spikes, net.n_layers)
        device_s, max_cycles = time.perf_counter() - t_dev, drv.read("MAX_CYCLES")
        sends, receives, cycles = drv.sends, drv.receives, drv.cycles
    wall = time.perf_counter() - t0
    result = deploy_core(info).decode(net, words, spikes.shape, f"driver-{target}")
    reference = GoldenBackend().run(net, spikes)
    cmp = compare_results(reference, result)
    n = int(spikes.shape[0])
    summary = {
        "target": target, "events": n, "board": info["board"], "content_hash": net.content_hash,
        "mismatched_events": int(cmp.n_mismatched), "first_divergence": cmp.first.to_dict() if cmp.first else None,
        "device_seconds": device_s, "events_per_second_device": n / device_s if device_s > 0 else None,
        "us_per_event": 1e6 * device_s / n, "wall_seconds": wall, "send_transfers": sends,
        "receive_transfers": receives,
        # the core's own count, first input word to last output word of an event (MAX_CYCLES register)
        "latency_us_max": max_cycles / float(info["clock_mhz"]),
        # --serial: every event's own count (LAST_CYCLES after its answer); otherwise the last event's of each batch
        "event_cycles": cycles if serial else None, "batch_last_cycles": None if serial else cycles,
        "predictions": predictions(net, result),
    }
    if as_json:
        click.echo(json.dumps(summary))
    else:
        where = f"{sim} simulation at {info['clock_mhz']:g} MHz" if target == "rtl-sim" else "the board"
        click.echo(f"{n} events through the driver on {where}: {summary['events_per_second_device']:.4g} events/s, "
                   f"{summary['us_per_event']:.3g} µs per event (device time), latency at most "
                   f"{summary['latency_us_max']:.3g} µs (the core's MAX_CYCLES), {wall:.1f} s wall"
                   + f", {sends} DMA sends and {receives} receives")
        if serial and cycles:
            click.echo(f"  cycles per event (LAST_CYCLES, one event at a time): mean {np.mean(cycles):.1f}, max "
                       f"{max(cycles)}; {np.mean(cycles) / float(info['clock_mhz']):.3g} µs at "
                       f"{info['clock_mhz']:g} MHz")
        for name, values in summary["predictions"].items():
            shown = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in np.ravel(values)[:5])
            click.echo(f"  {name}: {shown}{' …' if len(values) > 5 else ''}")
        click.echo("bit-exact with the golden model" if cmp.first is None else
                   f"{cmp.n_mismatched} events differ from the golden model; first divergence at {cmp.first}")
    if cmp.first is not None:
        raise SystemExit(1)


@click.group("fpga")
def fpga() -> None:
    """Board builds (Vivado)."""


@fpga.command("build")
@click.option("--deploy", "folder", required=True, type=click.Path(path_type=Path), help="deploy folder")
@click.option("--board", required=True, type=click.Choice(["pynq-z2", "zcu104"]))
def fpga_build_cmd(folder: Path, board: str) -> None:
    """Run the deploy folder's Vivado script: bitstream, .hwh and reports into FOLDER/overlay (needs Vivado)."""
    from neurocal.fpga.deploy import check_deploy

    info = check_deploy(folder)
    if info["board"] != board:
        raise NeurocalError(f"{folder}: made for {info['board']}, not {board}; rerun 'neurocal deploy build "
                            f"--board {board}'")
    vivado = shutil.which("vivado")
    if vivado is None:
        _no_tool("Vivado is not on PATH; run 'neurocal fpga build' where Vivado is installed")
    from neurocal.fpga.deploy import add_overlay

    work = (Path("build") / "vivado" / folder.resolve().name).resolve()
    out = work / "overlay"
    proc = subprocess.run([vivado, "-mode", "batch", "-source", "tcl/build.tcl", "-tclargs", "tcl/settings.tcl",
                           str(work / "project"), str(out)], cwd=folder, check=False)
    if proc.returncode != 0:
        raise NeurocalError(f"Vivado stopped with exit {proc.returncode}; its log: {folder / 'vivado.log'}")
    add_overlay(folder, out)
    click.echo(f"wrote {folder / 'overlay'}: neurocal.bit, neurocal.hwh and the utilisation, timing and power "
               "reports")


COMMANDS: list[click.Command] = [deploy, fpga]
