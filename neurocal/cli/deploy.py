"""`neurocal` sub-commands of the deploy stage: quantize, run, compare."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click
import numpy as np

from neurocal.atomic import atomic_path, write_text_atomic
from neurocal.errors import NeurocalError

COMMANDS: list[click.Command] = []

INTNET_FILE = "intnet.json"
NIR_FILE = "model.nir"


def _find_nir(source: Path) -> Path:
    """SOURCE is a .nir file or a run directory holding model.nir (or exactly one .nir)."""
    if source.is_file():
        return source
    if source.is_dir():
        if (source / NIR_FILE).is_file():
            return source / NIR_FILE
        found = sorted(source.glob("*.nir"))
        if len(found) == 1:
            return found[0]
        what = "no .nir file" if not found else f"{len(found)} .nir files ({', '.join(f.name for f in found)})"
        raise NeurocalError(f"{source}: holds {what}; name the file or put the network in {NIR_FILE}")
    raise NeurocalError(f"{source}: no such file or directory")


def _load_spikes(data: Path, n_events: int | None, metadata: dict[str, Any]) -> np.ndarray:
    """Input spikes (events, ticks, channels) of the first ``n_events`` events of ``data``.

    The front end is the one the network was trained with (its metadata's threshold levels).
    """
    from neurocal.sim import load_events
    from neurocal.sim.frontend import METADATA_KEY, encode_thresholds

    events = load_events(data)
    if events.n_events == 0:
        raise NeurocalError(f"{data}: holds no events")
    photons = events.photons if n_events is None else events.photons[:n_events]
    return encode_thresholds(photons, metadata.get(METADATA_KEY))


def _load_bundle(bundle: Path) -> Any:
    from neurocal.intnet import IntNetwork

    path = bundle / INTNET_FILE if bundle.is_dir() else bundle
    return IntNetwork.load(path)


def _check_width(net: Any, spikes: np.ndarray, data: Path) -> None:
    if spikes.shape[2] != net.n_inputs:
        raise NeurocalError(
            f"{data}: the front end makes {spikes.shape[2]} input channels but the network takes {net.n_inputs}"
        )


@click.command("quantize")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="calibration events (.h5/.dat)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="bundle directory to write")
@click.option("--events", "n_events", default=500, show_default=True, type=click.IntRange(1), help="calibration events")
@click.option("--vth-target", default=2048, show_default=True, type=click.IntRange(1, 131071),
              help="integer threshold of spiking layers")
def quantize_cmd(source: Path, data: Path, out: Path, n_events: int, vth_target: int) -> None:
    """Quantise a NIR network (SOURCE: .nir file or run directory) into an integer bundle.

    Writes OUT/intnet.json, OUT/model.nir (copy) and OUT/headroom.{json,md}; nothing on error.
    """
    from neurocal.headroom import headroom
    from neurocal.nirgraph import read_chain
    from neurocal.quantize import QuantConfig, quantize

    nir_path = _find_nir(source)
    chain = read_chain(nir_path)
    spikes = _load_spikes(data, n_events, chain.metadata)
    if spikes.shape[2] != chain.n_inputs:
        raise NeurocalError(
            f"{data}: the front end makes {spikes.shape[2]} input channels but {nir_path} takes {chain.n_inputs}"
        )
    net = quantize(chain, spikes, QuantConfig(vth_target=vth_target))
    report = headroom(net, spikes)
    net.calibration = {"data": str(data), "events": int(spikes.shape[0]), "headroom_ok": report.ok}
    # Everything is computed: only now touch the output directory.
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / NIR_FILE, suffix=".nir") as tmp:
        shutil.copyfile(nir_path, tmp)
    write_text_atomic(out / "headroom.json", json.dumps(report.to_dict(), indent=1) + "\n")
    write_text_atomic(out / "headroom.md", report.to_markdown())
    net.save(out / INTNET_FILE)
    click.echo(f"wrote {out / INTNET_FILE} ({net.content_hash[:19]}…), {net.n_layers} layers, "
               f"{spikes.shape[0]} calibration events")
    click.echo(report.to_markdown().split("\n\n", 2)[-1].rstrip())
    if not report.ok:
        click.echo("warning: the calibration set overflows a register; see headroom.md", err=True)


def _run_backend(name: str, net: Any, spikes: np.ndarray, progress: bool, timeout: float | None) -> Any:
    from neurocal.backends import get_backend

    options: dict[str, Any] = {"progress": progress}
    if timeout is not None:
        options["timeout"] = timeout
    return get_backend(name, **options).run(net, spikes)


def _write_results(path: Path, result: Any, net: Any) -> None:
    arrays: dict[str, np.ndarray] = {"output_spikes": result.output_spikes}
    for i, v in enumerate(result.v_final):
        if v is not None:
            arrays[f"v_final_{i}"] = v
    arrays["readout_v_float"] = net.decode_voltage(result.readout_v)
    for key, value in result.ops.items():
        arrays[f"ops_{key}"] = value
    attrs = {"backend": result.backend, "content_hash": net.content_hash, "seconds": result.seconds}
    if path.suffix in (".h5", ".hdf5"):
        import h5py

        with atomic_path(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as f:
            for key, value in arrays.items():
                f.create_dataset(key, data=value, compression="gzip")
            for key, value in attrs.items():
                f.attrs[key] = value
    elif path.suffix == ".npz":
        with atomic_path(path, suffix=".npz") as tmp:
            with tmp.open("wb") as fh:
                np.savez_compressed(fh, **arrays, attrs=json.dumps(attrs))
    else:
        raise NeurocalError(f"{path}: --out must end in .npz or .h5")


@click.command("run")
@click.option("--backend", "backend", default="golden", show_default=True, help="golden, lava, …")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="events (.h5/.dat)")
@click.option("--events", "n_events", default=None, type=click.IntRange(1), help="first N events (default all)")
@click.option("--out", "out", default=None, type=click.Path(path_type=Path), help="results .npz or .h5")
@click.option("--timeout", default=None, type=float, help="seconds before a hung backend is killed")
def run_cmd(backend: str, bundle: Path, data: Path, n_events: int | None, out: Path | None,
            timeout: float | None) -> None:
    """Run the integer network of BUNDLE on events with one backend."""
    if out is not None and out.suffix not in (".npz", ".h5", ".hdf5"):
        raise NeurocalError(f"{out}: --out must end in .npz or .h5")
    net = _load_bundle(bundle)
    spikes = _load_spikes(data, n_events, net.metadata)
    _check_width(net, spikes, data)
    result = _run_backend(backend, net, spikes, progress=True, timeout=timeout)
    n = result.n_events
    click.echo(f"{backend}: {n} events in {result.seconds:.3f} s ({n / max(result.seconds, 1e-9):.1f} events/s)")
    readout = net.decode_voltage(result.readout_v)
    click.echo(f"output layer: {result.output_spikes.sum() / n:.2f} spikes/event, "
               f"readout voltage mean {readout.mean():.4g}, range [{readout.min():.4g}, {readout.max():.4g}]")
    if out is not None:
        _write_results(out, result, net)
        click.echo(f"wrote {out}")


@click.command("compare")
@click.option("--backends", default="golden,lava", show_default=True, help="comma-separated; first = reference")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="events (.h5/.dat)")
@click.option("--events", "n_events", default=100, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--timeout", default=None, type=float, help="seconds before a hung backend is killed")
def compare_cmd(backends: str, bundle: Path, data: Path, n_events: int, as_json: bool, timeout: float | None) -> None:
    """Run several backends on the same events and count the events whose outputs differ anywhere.

    Exit status 1 if any event differs (spikes of any layer, or any final voltage).
    """
    from neurocal.backends import compare_results

    names = [b.strip() for b in backends.split(",") if b.strip()]
    if len(names) < 2:
        raise NeurocalError(f"--backends needs at least two names, got {backends!r}")
    net = _load_bundle(bundle)
    spikes = _load_spikes(data, n_events, net.metadata)
    _check_width(net, spikes, data)
    results = [_run_backend(name, net, spikes, progress=not as_json, timeout=timeout) for name in names]
    comparisons = [compare_results(results[0], other) for other in results[1:]]
    mismatched = np.unique(np.concatenate([c.mismatched for c in comparisons]))
    summary = {
        "events": int(spikes.shape[0]),
        "ticks": int(spikes.shape[1]),
        "backends": names,
        "content_hash": net.content_hash,
        "mismatched_events": int(mismatched.size),
        "seconds": {r.backend: round(r.seconds, 4) for r in results},
        "comparisons": [c.to_dict() for c in comparisons],
    }
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"{summary['events']} events × {summary['ticks']} ticks, network {net.content_hash[:19]}…")
        click.echo(f"{'backend':<10} {'seconds':>9} {'events/s':>10} {'mismatched':>11}")
        for r in results:
            bad = next((c.n_mismatched for c in comparisons if c.other == r.backend), 0)
            label = "reference" if r is results[0] else str(bad)
            click.echo(f"{r.backend:<10} {r.seconds:>9.3f} {r.n_events / max(r.seconds, 1e-9):>10.1f} {label:>11}")
        verdict = f"{mismatched.size} events differ: {mismatched[:10].tolist()}" if mismatched.size else "bit-exact"
        click.echo(verdict)
    if mismatched.size:
        raise SystemExit(1)


COMMANDS.extend([quantize_cmd, run_cmd, compare_cmd])
