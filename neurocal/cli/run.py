"""`neurocal` sub-commands that make and run integer networks: quantize, run, compare (the bundle loader is
:mod:`neurocal.bundle`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click
import numpy as np

from neurocal.atomic import atomic_file, atomic_h5
from neurocal.bundle import (
    BUNDLE_FILES,
    BUNDLE_KIND,
    INTNET_FILE,
    NIR_FILE,
    encode,
    load_events,
    load_network_and_spikes,
)
from neurocal.cli.options import TIMEOUT, junit_option, timeout_no_limit
from neurocal.errors import NeurocalError

COMMANDS: list[click.Command] = []

TRACE_KIND = "trace folder"  # compare --trace --out: written as a whole


def _find_nir(source: Path, workdir: Path) -> Path:
    """SOURCE is a .nir file, a folder holding model.nir (or exactly one .nir), or a training run
    (run.json), whose network is exported to ``workdir`` first."""
    if source.is_file():
        return source
    if source.is_dir():
        if (source / "run.json").is_file():  # a run: its checkpoint, never a .nir file lying in the folder
            from neurocal.models.nir_io import export
            from neurocal.models.training import read_run

            read_run(source)  # a damaged run.json is refused before any work
            exported = export(source, workdir / NIR_FILE)
            click.echo(f"exported the network of run {source} to NIR first", err=True)
            return exported
        if (source / NIR_FILE).is_file():
            return source / NIR_FILE
        found = sorted(source.glob("*.nir"))
        if len(found) == 1:
            return found[0]
        what = "no .nir file" if not found else f"{len(found)} .nir files ({', '.join(f.name for f in found)})"
        raise NeurocalError(f"{source}: holds {what} and no run.json; name the file or put the network in {NIR_FILE}")
    raise NeurocalError(f"{source}: no such file or directory")


@click.command("quantize")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="calibration events (.h5/.dat)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="bundle directory to write")
@click.option("--events", "n_events", default=500, show_default=True, type=click.IntRange(1), help="calibration events")
@click.option("--vth-target", default=2048, show_default=True, type=click.IntRange(1, 131071),
              help="integer threshold of spiking layers")
@click.option("--max-groups", default=None, type=click.IntRange(1),
              help="cluster each layer's per-neuron (tau, threshold) to at most this many sets (fewer Lava "
                   "processes, smaller hardware parameter memories); prints what it costs")
def quantize_cmd(source: Path, data: Path, out: Path, n_events: int, vth_target: int, max_groups: int | None) -> None:
    """Quantise a NIR network into an integer bundle.

    SOURCE is a .nir file, a folder holding one, or a training run (exported first).
    Writes OUT/intnet.json, OUT/model.nir (copy) and OUT/headroom.{json,md} as a whole; nothing on error.
    """
    import tempfile

    from neurocal.atomic import atomic_dir, check_output_dir
    from neurocal.config import StreamConfig
    from neurocal.headroom import headroom
    from neurocal.nirgraph import read_chain
    from neurocal.quantize import QuantConfig, float_int_agreement, quantize
    from neurocal.sim.frontend import frontend_from_metadata

    check_output_dir(out, "--out", BUNDLE_KIND, known_files=BUNDLE_FILES)
    with tempfile.TemporaryDirectory(prefix="neurocal-export-") as workdir:
        nir_path = _find_nir(source, Path(workdir))
        chain = read_chain(nir_path)
        events = load_events(data)
        # a graph that does not state its time base is quantised for the calibration data's
        stream = StreamConfig(n_ticks=events.n_ticks, tick_ns=events.tick_ns)
        frontend = frontend_from_metadata(chain.metadata, source=str(nir_path), stream=stream)
        spikes = encode(data, events, n_events, frontend)
        if spikes.shape[2] != chain.n_inputs:
            raise NeurocalError(
                f"{data}: the front end makes {spikes.shape[2]} input channels but {nir_path} takes {chain.n_inputs}"
            )
        config = QuantConfig(vth_target=vth_target, max_groups=max_groups)
        net = quantize(chain, spikes, config, frontend=frontend.to_dict())
        report = headroom(net, spikes)
        net.calibration.update({"data": str(data), "events": int(spikes.shape[0]), "headroom_ok": report.ok})
        if max_groups is not None:
            net.calibration["clustering"]["unclustered"] = float_int_agreement(
                chain, quantize(chain, spikes, QuantConfig(vth_target=vth_target), frontend=frontend.to_dict()),
                spikes)
        # Everything is computed: only now is the bundle written, as a whole.
        with atomic_dir(out, BUNDLE_KIND, known_files=BUNDLE_FILES) as tmp:
            shutil.copyfile(nir_path, tmp / NIR_FILE)
            (tmp / "headroom.json").write_text(json.dumps(report.to_dict(), indent=1) + "\n")
            (tmp / "headroom.md").write_text(report.to_markdown())
            net.save(tmp / INTNET_FILE)
    click.echo(f"wrote {out / INTNET_FILE} ({net.content_hash[:19]}…), {net.n_layers} layers, "
               f"{spikes.shape[0]} calibration events")
    click.echo(report.to_text())
    for layer, widths in zip(net.layers, net.static_widths(), strict=True):
        groups = len(layer.parameter_groups())
        click.echo(f"{layer.name}: {groups} parameter set{'s' * (groups > 1)}; static widths a {widths.a_bits} b, "
                   f"u {widths.u_bits} b, v {widths.v_bits} b{' (int32 wrap possible)' * widths.wraps_int32}")
    for approx in net.calibration.get("approximations", []):
        measured = {k: v for k, v in approx.items() if k not in ("node", "what")}
        click.echo(f"approximation at {approx['node']}: {approx['what']}; measured on the calibration events: "
                   f"{measured}", err=True)
    if max_groups is not None:
        for name in ("unclustered", "clustered"):
            click.echo(f"float vs int, {name}: {net.calibration['clustering'][name]['layers']}")
    if not report.ok:
        click.echo("warning: the calibration set overflows a register; see headroom.md", err=True)


def _run_backend(name: str, net: Any, spikes: np.ndarray, timeout: float | None, trace: bool = False) -> Any:
    """Run one backend (progress on stderr) and validate what it returns against the network and the input."""
    from neurocal.backends import get_backend, validate_result

    options: dict[str, Any] = {"progress": True, "trace": trace}
    if timeout is not None:
        options["timeout"] = timeout
    return validate_result(get_backend(name, **options).run(net, spikes), net, spikes.shape, name)


class _BackendsOption(click.Option):
    """``--backends``/``--backend`` whose help lists the backends installed now (entry points)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from neurocal.backends import available_backends

        record = super().get_help_record(ctx)
        if record is None:
            return None
        return record[0], f"{record[1]} Installed: {', '.join(sorted(available_backends()))}."


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
        with atomic_h5(path) as f:  # safe on a full disk: HDF5 would crash closing a failed file
            for key, value in arrays.items():
                f.create_dataset(key, data=value, compression="gzip")
            for key, value in attrs.items():
                f.attrs[key] = value
    elif path.suffix == ".npz":
        with atomic_file(path, suffix=".npz") as fh:
            np.savez_compressed(fh, **arrays, attrs=json.dumps(attrs))
    else:
        raise NeurocalError(f"{path}: --out must end in .npz or .h5")


@click.command("run")
@click.option("--backend", "backend", default="golden", show_default=True, cls=_BackendsOption,
              help="the backend to run.")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="events (.h5/.dat)")
@click.option("--events", "n_events", default=None, type=click.IntRange(1), help="first N events (default all)")
@click.option("--out", "out", default=None, type=click.Path(path_type=Path), help="results .npz or .h5")
@click.option("--timeout", default=None, type=TIMEOUT, callback=timeout_no_limit,
              help="seconds before a hung backend is killed (default: from the run's size; 0: no limit)")
def run_cmd(backend: str, bundle: Path, data: Path, n_events: int | None, out: Path | None,
            timeout: float | None) -> None:
    """Run the integer network of BUNDLE on events with one backend."""
    if out is not None:
        from neurocal.atomic import check_output_file

        if out.suffix not in (".npz", ".h5", ".hdf5"):
            raise NeurocalError(f"{out}: --out must end in .npz or .h5")
        check_output_file(out)  # before the work, not after
    net, spikes = load_network_and_spikes(bundle, data, n_events)
    result = _run_backend(backend, net, spikes, timeout)
    n = result.n_events
    click.echo(f"{backend}: {n} events in {result.seconds:.3f} s ({n / max(result.seconds, 1e-9):.1f} events/s)")
    readout = net.decode_voltage(result.readout_v)
    click.echo(f"output layer: {result.output_spikes.sum() / n:.2f} spikes/event, "
               f"readout voltage mean {readout.mean():.4g}, range [{readout.min():.4g}, {readout.max():.4g}]")
    if out is not None:
        _write_results(out, result, net)
        click.echo(f"wrote {out}")


@click.command("compare")
@click.option("--backends", default="golden,lava", show_default=True, cls=_BackendsOption,
              help="comma-separated; the first is the reference.")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="events (.h5/.dat)")
@click.option("--events", "n_events", default=100, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object (progress still goes to stderr)")
@click.option("--timeout", default=None, type=TIMEOUT, callback=timeout_no_limit,
              help="seconds before a hung backend is killed (default: from the run's size; 0: no limit)")
@click.option("--trace", "trace_event", default=None, type=click.IntRange(0),
              help="also run event N with per-tick state recording and write each backend's trace (.npz) and a "
                   "VCD of the reference's to --out")
@click.option("--out", "out", default=None, type=click.Path(path_type=Path), help="folder for --trace output")
@junit_option("backend compared with the reference")
def compare_cmd(backends: str, bundle: Path, data: Path, n_events: int, as_json: bool, timeout: float | None,
                trace_event: int | None, out: Path | None, junit: Path | None) -> None:
    """Run several backends on the same events and compare them bit for bit.

    Checks output spikes, every layer's spikes and final u and v that a backend exposes; names the
    first divergence (event, layer, tick, neuron, quantity, expected, got). Exit status 1 if any
    event differs.
    """
    from neurocal.backends import Divergence, compare_results
    from neurocal.junit import Suite, write_junit

    suite = Suite("neurocal compare")
    names = [b.strip() for b in backends.split(",") if b.strip()]
    if len(names) < 2:
        raise NeurocalError(f"--backends needs at least two names, got {backends!r}")
    if (trace_event is None) != (out is None):
        raise NeurocalError("--trace EVENT and --out DIR go together: the traces are written to DIR")
    if out is not None:
        from neurocal.atomic import check_output_dir

        check_output_dir(out, "--out", TRACE_KIND)
    net, spikes = load_network_and_spikes(bundle, data, n_events)
    if trace_event is not None and trace_event >= spikes.shape[0]:
        raise NeurocalError(f"--trace {trace_event}: only {spikes.shape[0]} events are compared (--events)")
    suite.properties = {"bundle": bundle, "data": data, "content_hash": net.content_hash,
                        "events": spikes.shape[0], "reference": names[0]}
    results: list[Any] = []
    try:
        for name in names:
            results.append(_run_backend(name, net, spikes, timeout))
    except NeurocalError as err:  # CI still gets its results: the backend that failed is an error case
        if junit is not None:
            suite.cases = _compare_cases(names, [compare_results(results[0], r) for r in results[1:]], results,
                                         failed=str(err))
            write_junit(junit, [suite])
        raise
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
    if trace_event is not None:
        summary["trace_files"], summary["traced_divergences"] = _write_traces(
            names, net, spikes[trace_event : trace_event + 1], trace_event, timeout, out
        )
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"{summary['events']} events × {summary['ticks']} ticks, network {net.content_hash[:19]}…")
        click.echo(f"{'backend':<14} {'seconds':>9} {'events/s':>10} {'mismatched':>11}")
        for r in results:
            bad = next((c.n_mismatched for c in comparisons if c.other == r.backend), 0)
            label = "reference" if r is results[0] else str(bad)
            click.echo(f"{r.backend:<14} {r.seconds:>9.3f} {r.n_events / max(r.seconds, 1e-9):>10.1f} {label:>11}")
        for r in results:
            if "cycles" in r.info and "clock_ns" in r.info:  # hardware simulation: the time the hardware took
                cycles = np.asarray(r.info["cycles"], dtype=np.float64)
                clock_ns = float(r.info["clock_ns"])
                click.echo(f"{r.backend}: {cycles.mean():.0f} cycles per event (max {cycles.max():.0f}), latency "
                           f"{cycles.mean() * clock_ns / 1e3:.2f} µs (max {cycles.max() * clock_ns / 1e3:.2f} µs) at "
                           f"{1e3 / clock_ns:.0f} MHz, {1e9 / (cycles.mean() * clock_ns):.3g} events/s")
        for c in comparisons:
            if c.first is not None:
                click.echo(f"{c.other} vs {c.reference}: first divergence at {c.first}")
        verdict = f"{mismatched.size} events differ: {mismatched[:10].tolist()}" if mismatched.size else "bit-exact"
        click.echo(verdict)
        for name, first in summary.get("traced_divergences", {}).items():
            where = "none" if first is None else Divergence(**{**first, "event": trace_event})
            click.echo(f"traced event {trace_event}, {name} vs {names[0]}: first divergence {where}")
        for path in summary.get("trace_files", []):
            click.echo(f"wrote {path}")
    if junit is not None:
        suite.cases = _compare_cases(names, comparisons, results)
        suite.seconds = sum(r.seconds for r in results)  # the reference's run too
        write_junit(junit, [suite])
        if not as_json:
            click.echo(f"wrote {junit}")
    if mismatched.size:
        raise SystemExit(1)


def _compare_cases(names: list[str], comparisons: list[Any], results: list[Any],
                   failed: str | None = None) -> list[Any]:
    """One JUnit case per backend compared with the reference (``names[0]``), in the order given.

    ``failed``: the error of the backend after the last of ``results``. It is that backend's case (every
    case's, if the reference failed); the backends after it are skipped, not run.
    """
    from neurocal.junit import Case, comparison_case

    reference, classname = names[0], "neurocal.compare"
    cases = [comparison_case(c, r.seconds, classname) for c, r in zip(comparisons, results[1:], strict=True)]
    if failed is None:
        return cases
    broken = names[len(results)]
    for name in names[max(len(results), 1):]:
        case = f"{name} vs {reference}"
        if broken == reference:
            cases.append(Case(case, classname, error=f"the reference {reference} failed: {failed}"))
        elif name == broken:
            cases.append(Case(case, classname, error=failed))
        else:
            cases.append(Case(case, classname, skipped=f"not run, because {broken} failed"))
    return cases


def _write_traces(names: list[str], net: Any, spikes: np.ndarray, event: int, timeout: float | None,
                  out: Path) -> tuple[list[str], dict[str, Any]]:
    """Run one event on every backend with per-tick recording; write ``<backend>_event<N>.npz`` and the
    reference's VCD (``<backend>_event<N>.vcd``) into ``out`` as a whole (an interrupt or a full disk
    leaves the previous folder as it was). A backend without per-tick state still gives its spikes.

    Returns the files written and, per other backend, the first per-tick divergence from the reference.
    """
    from neurocal.atomic import atomic_dir
    from neurocal.backends import compare_results
    from neurocal.trace import event_trace, write_npz, write_vcd

    divergences: dict[str, Any] = {}
    traced = []  # every backend runs before anything is written: the folder is replaced whole or not at all
    for name in names:
        result = _run_backend(name, net, spikes, timeout, trace=True)
        if traced:
            first = compare_results(traced[0][1], result).first
            divergences[name] = first.to_dict() if first else None
        traced.append((name, result))
    written: list[str] = []
    with atomic_dir(out, TRACE_KIND) as tmp:
        for k, (name, result) in enumerate(traced):
            arrays = event_trace(result, 0)
            stem = f"{name}_event{event}"
            write_npz(tmp / f"{stem}.npz", arrays, backend=name, event=event, content_hash=net.content_hash,
                      per_tick_state=result.trace is not None)
            written.append(str(out / f"{stem}.npz"))
            if k == 0:
                tick_ns = float(net.frontend.get("tick_ns", 0.2))
                write_vcd(tmp / f"{stem}.vcd", arrays, inputs=spikes[0], tick_ns=tick_ns,
                          comment=f"neurocal compare --trace {event}: {name}, {net.content_hash}")
                written.append(str(out / f"{stem}.vcd"))
    return written, divergences


COMMANDS.extend([quantize_cmd, run_cmd, compare_cmd])
