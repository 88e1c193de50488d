"""``neurocal rtl …``: simulate, synthesise and export the RTL accelerator from the command line.

* ``rtl sim``: bulk co-simulation (``neurocal.hw.bulk``) of a bundle on events, every event checked
  against the golden model; prints the hardware's cycles (and the cycle model's prediction beside them),
  latency and event rate at the profile's PL clock and the simulator's own speed. Two ways to feed events:

  - *serial*: an event enters once the previous one has left, so its cycle count is its latency
    (first input word → last output word);
  - *streamed*: events follow each other at full rate (layers overlap), so
    ``total cycles / events`` is the sustained cost of an event and the clock divided by it the
    event rate of one core.

  Events run in chunks (one simulator process each; the build is reused) so that long runs report
  progress; a streamed chunk starts with an empty pipeline, which adds at most one event's latency
  per chunk to the total.
* ``rtl synth``: yosys resources against a profile's part, the verdict per resource, and an estimated clock
  (``neurocal.hw.synth``).
* ``rtl build``: the generated RTL project (sources, ``nc_params.vh``, memories) in one folder.
* ``rtl regmap``: the register map; with a bundle, the capability registers and memory CRC its core reads back.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from neurocal.cli.options import COUNT, TIMEOUT, junit_option, positive, timeout_no_limit
from neurocal.errors import NeurocalError
from neurocal.hw.generate import DEFAULT_WORDS, MAX_WORDS
from neurocal.hw.synth import hw_config, sources_digest
from neurocal.profiles import DEFAULT_PROFILE, PROFILES, profile

MODES = ("both", "serial", "streamed")
DEFAULT_CHUNK = {"verilator": 250, "icarus": 10}  # events per simulator process: progress every ~10–60 s
PROJECT_KIND = "rtl-project"


class PerLayer(click.ParamType):
    """``8`` (every layer), ``50,30,1`` (one per layer) or ``all`` (fully parallel: None)."""

    name = "per-layer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, (int, list)):
            return value
        text = str(value).strip()
        if text.lower() == "all":
            return None
        try:
            numbers = [int(p, 10) for p in text.split(",")]
        except ValueError:
            self.fail(f"{value!r}: expected an integer (every layer), a comma list (one per layer) or 'all'",
                      param, ctx)
        if any(n < 1 for n in numbers):
            self.fail(f"{value!r}: every value must be at least 1", param, ctx)
        return numbers[0] if len(numbers) == 1 else numbers


PER_LAYER = PerLayer()


def _shape_dict(shape: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(shape).items()}


def _write_json(out: Path | None, report: dict[str, Any]) -> None:
    if out is not None:
        from neurocal.atomic import write_text_atomic

        write_text_atomic(out, json.dumps(report, indent=1) + "\n")
        click.echo(f"wrote {out}")


def _check_json_out(out: Path | None) -> None:
    """Before any work: --out must be a .json file we can replace."""
    if out is not None:
        from neurocal.atomic import check_output_file

        if out.suffix != ".json":
            raise NeurocalError(f"{out}: --out must end in .json (the report is JSON)")
        check_output_file(out)


def _knob_options(fn: Any) -> Any:
    fn = click.option("--words", type=positive("AER words per input beat", MAX_WORDS), default=None,
                      help=f"AER words per s_axis beat, 1..{MAX_WORDS} (default {DEFAULT_WORDS}; 1: a 32-bit DMA "
                           "stream)")(fn)
    fn = click.option("--rows", type=PER_LAYER, default=None,
                      help="weight banks per layer: spikes whose weight rows are added per cycle (default 31 for "
                           "the input layer, 8 for hidden layers)")(fn)
    fn = click.option("--lif-lanes", type=PER_LAYER, default=None,
                      help="LIF updaters (neurons updated per cycle, 2 DSPs each), each dividing its layer's lanes: N "
                           "for every layer or a comma list (default: half the lanes of a one-group layer)")(fn)
    fn = click.option("--lanes", type=PER_LAYER, default=None,
                      help="accumulator lanes (weights added per bank per cycle): N for every layer, a comma list "
                           "per layer, or 'all' (default)")(fn)
    return fn


def _input_options(fn: Any) -> Any:
    """The input stage a build takes (HwConfig.input, line_k, line_ticks)."""
    from neurocal.hw.generate import DEFAULT_LINE_K, DEFAULT_LINE_TICKS, INPUTS

    fn = click.option("--line-ticks", type=positive("ticks per detector window", 16000), default=DEFAULT_LINE_TICKS,
                      show_default=True, help="--input lines: ticks per event window, a multiple of --line-k")(fn)
    fn = click.option("--line-k", type=positive("line samples per clock", 1024), default=DEFAULT_LINE_K,
                      show_default=True, help="--input lines: 0.2 ns samples per clock (the clock period is "
                                              "line-k × 0.2 ns; 25 at the PYNQ-Z2's 200 MHz)")(fn)
    fn = click.option("--input", "input_kind", type=click.Choice(INPUTS), default="aer", show_default=True,
                      help="input stage: AER words from the host over s_axis, or the detector front end's spike "
                           "lines sampled every 0.2 ns straight into layer 0 (nc_line_rx)")(fn)
    return fn


def _input_flags(input_kind: str, line_k: int, line_ticks: int) -> list[str]:
    """The --input options as a command line repeats them (none for the AER default)."""
    return [] if input_kind == "aer" else ["--input", input_kind, "--line-k", str(line_k), "--line-ticks",
                                           str(line_ticks)]


def _fitted(net: Any, profile_name: str, lanes: Any, rows: Any, words: Any, lif_lanes: Any, writable: bool,
            debug: bool, input_kind: str = "aer", line_k: int | None = None, line_ticks: int | None = None) -> Any:
    """The build of ``net`` fitted to the profile (:mod:`neurocal.hw.fit`) for its input stage, the knobs given
    kept; the choice on stderr."""
    from neurocal.hw.fit import fit_network

    chosen = fit_network(net, profile(profile_name), lanes=lanes, rows=rows, words=words, lif_lanes=lif_lanes,
                         writable=writable, debug=debug, input_kind=input_kind, line_k=line_k, line_ticks=line_ticks)
    click.echo(chosen.summary(), err=True)
    return chosen.shape


@click.group("rtl")
def rtl() -> None:
    """The RTL accelerator: co-simulate against the golden model, estimate resources, export the project."""


@dataclasses.dataclass
class _ModeRun:
    """One feeding mode over all events (chunks joined)."""

    cycles: list[int] = dataclasses.field(default_factory=list)
    total_cycles: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    build_seconds: float = 0.0
    mismatched: list[int] = dataclasses.field(default_factory=list)
    first: Any = None  # Divergence of the earliest mismatching event
    model_cycles: list[int] = dataclasses.field(default_factory=list)  # the cycle model's prediction
    model_total_cycles: int = 0
    chunks: list[Any] = dataclasses.field(default_factory=list)  # (start, stop, Comparison, seconds) per chunk

    def summary(self, n: int, synops: int, clock_mhz: float) -> dict[str, Any]:
        cyc = np.asarray(self.cycles, dtype=np.float64)
        model = np.asarray(self.model_cycles, dtype=np.float64)
        ns = 1e3 / clock_mhz
        per_event = self.total_cycles / n
        return {
            "cycles_mean": float(cyc.mean()), "cycles_max": int(cyc.max()),
            "latency_us_mean": float(cyc.mean()) * ns / 1e3, "latency_us_max": float(cyc.max()) * ns / 1e3,
            "total_cycles": self.total_cycles, "cycles_per_event": per_event,
            "events_per_s": clock_mhz * 1e6 / per_event,
            "model_cycles_mean": float(model.mean()), "model_total_cycles": self.model_total_cycles,
            "model_events_differing": int(np.count_nonzero(model != cyc)),
            "synops_per_cycle": synops / max(self.total_cycles, 1),
            "sim_wall_s": self.wall, "sim_cpu_s": self.cpu,
            "sim_events_per_wall_s": n / max(self.wall, 1e-9), "sim_events_per_cpu_s": n / max(self.cpu, 1e-9),
            "build_s": self.build_seconds, "mismatched_events": len(self.mismatched),
            "first_divergence": None if self.first is None else self.first.to_dict(),
        }


def _run_mode(net: Any, spikes: np.ndarray, reference: Any, *, sim: str, serial: bool, build_root: Path,
              config: Any, shape: Any, chunk: int, timeout: float | None, out: _ModeRun | None = None) -> _ModeRun:
    """All events through one feeding mode, ``chunk`` events per simulator process, each chunk compared
    with the golden model's events as it finishes (into ``out``, which keeps the chunks done if one fails)."""
    from neurocal.backends import compare_results
    from neurocal.hw.bulk import run_stream
    from neurocal.hw.costmodel import predict_run

    label = "serial" if serial else "streamed"
    out = _ModeRun() if out is None else out
    n = spikes.shape[0]
    t0 = time.perf_counter()
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        if start == 0:
            click.echo(f"{sim} ({label}): building or reusing the simulation model under {build_root}", err=True)
        run = run_stream(net, spikes[start:stop], sim=sim, build_root=build_root, config=config, shape=shape,
                         serial=serial,
                         timeout=timeout, debug=config.debug)
        if start == 0 and run.build_seconds:
            click.echo(f"{sim}: built in {run.build_seconds:.0f} s", err=True)
        out.build_seconds += run.build_seconds
        out.cycles.extend(int(c) for c in run.cycles)
        out.total_cycles += run.total_cycles
        out.wall += run.run_seconds
        out.cpu += run.cpu_seconds
        expected = _slice(reference, start, stop)
        predicted = predict_run(run.shape, spikes[start:stop], expected, serial=serial)
        out.model_cycles.extend(int(c) for c in predicted.cycles)
        out.model_total_cycles += predicted.total_cycles
        comparison = compare_results(expected, run.result)
        out.chunks.append((start, stop, comparison, run.build_seconds + run.run_seconds))
        if comparison.mismatched.size:
            out.mismatched.extend(int(e) + start for e in comparison.mismatched)
            if out.first is None and comparison.first is not None:
                out.first = dataclasses.replace(comparison.first, event=comparison.first.event + start)
        if n > chunk:
            click.echo(f"{sim} ({label}): {stop}/{n} events, {time.perf_counter() - t0:.0f} s, "
                       f"{len(out.mismatched)} mismatched so far", err=True)
    if len(out.cycles) != n:
        raise NeurocalError(f"{sim} reported cycle counts for {len(out.cycles)} of {n} events")
    return out


def _junit_cases(runs: dict[str, _ModeRun], sim: str, failed: tuple[int, int, str] | None = None) -> list[Any]:
    """One JUnit case per feeding mode and chunk of events, failed by a mismatch (events keep their global index).

    ``failed``: events [start, stop) of the last mode did not finish, with this error: an error case.
    """
    from neurocal.junit import Case, agreement_case

    cases = []
    for label, run in runs.items():
        for start, stop, comparison, seconds in run.chunks:
            first = comparison.first
            cases.append(agreement_case(
                f"rtl-{sim} ({label}) vs golden, events {start}-{stop - 1}", f"neurocal.rtl_sim.{sim}",
                events=stop - start, mismatched=[int(e) + start for e in comparison.mismatched],
                first=None if first is None else dataclasses.replace(first, event=first.event + start),
                seconds=seconds, by_field={k: int(v.size) for k, v in comparison.by_field.items()}))
    if failed is not None and runs:
        label, (start, stop, message) = list(runs)[-1], failed
        cases.append(Case(f"rtl-{sim} ({label}) vs golden, events {start}-{stop - 1}", f"neurocal.rtl_sim.{sim}",
                          error=message))
    return cases


def _slice(result: Any, start: int, stop: int) -> Any:
    """Events [start, stop) of a BackendResult (golden's per-event arrays)."""
    def cut(items: Sequence[Any]) -> list[Any]:
        return [None if a is None else a[start:stop] for a in items]

    return dataclasses.replace(result, output_spikes=result.output_spikes[start:stop], v_final=cut(result.v_final),
                               u_final=cut(result.u_final), layer_spikes=cut(result.layer_spikes),
                               ops={k: v[start:stop] for k, v in result.ops.items()}, trace=None)


@rtl.command("sim")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="events (.h5/.dat)")
@click.option("--events", "n_events", type=COUNT, default=100, show_default=True, help="first N events")
@click.option("--sim", "sim", default="verilator", show_default=True,
              help="verilator or icarus (Icarus defaults to a narrow shape it runs at a useful speed: --words 2 "
                   "--rows 2; Verilator to the board's)")
@_knob_options
@click.option("--mode", type=click.Choice(MODES), default="both", show_default=True,
              help="serial: latency per event; streamed: sustained event rate; both: each (two runs)")
@click.option("--chunk", type=positive("events per simulator run"), default=None,
              help="events per simulator process (progress between chunks; default 250 Verilator, 10 Icarus)")
@click.option("--build-root", type=click.Path(path_type=Path), default=Path("build") / "rtl", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="write the report as JSON")
@click.option("--timeout", type=TIMEOUT, default=None, callback=timeout_no_limit,
              help="seconds per simulator run before it counts as stalled (default: from the run's size; 0: none)")
@click.option("--profile", "profile_name", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE,
              show_default=True, help="target board: the core is fitted to its part (knobs not given are chosen), and "
                                      "its PL clock turns cycles into µs and events/s")
@click.option("--debug/--no-debug", default=True, show_default=True,
              help="compare every hidden layer's spikes too (the core's debug output), not only the output layer")
@junit_option("feeding mode and chunk of events")
def sim_cmd(bundle: Path, data: Path, n_events: int, sim: str, lanes: Any, lif_lanes: Any, rows: Any, words: Any,
            mode: str, chunk: int | None, build_root: Path, out: Path | None, timeout: float | None, profile_name: str,
            debug: bool, junit: Path | None) -> None:
    """Co-simulate BUNDLE's network on events of DATA, bit for bit against the golden model.

    Exit status 1 if any event differs (the first divergence is printed).
    """
    from neurocal.bundle import load_network_and_spikes
    from neurocal.golden import GoldenBackend
    from neurocal.hw.generate import check_fits
    from neurocal.hw.simulators import check_simulator
    from neurocal.junit import Suite, write_junit

    check_simulator(sim)
    _check_json_out(out)
    suite = Suite(f"neurocal rtl sim --sim {sim}")
    from neurocal.hw.bulk import sim_defaults

    rows, words = sim_defaults(sim, rows, words)
    config = dataclasses.replace(hw_config(lanes, rows, words, lif_lanes=lif_lanes), debug=debug)
    net, spikes = load_network_and_spikes(bundle, data, n_events)
    shape = _fitted(net, profile_name, lanes, rows, words, lif_lanes, True, debug)
    check_fits(shape, config, str(bundle))
    reference = GoldenBackend().run(net, spikes)
    synops = int(reference.ops["synops"].sum()) if "synops" in reference.ops else 0
    n, ticks = spikes.shape[0], spikes.shape[1]
    click.echo(f"{n} events × {ticks} ticks, network {'-'.join(map(str, shape.sizes))} "
               f"({net.content_hash[:19]}…), lanes {'-'.join(map(str, shape.lanes))}, {sim}")
    runs: dict[str, _ModeRun] = {}
    chunk = min(n, chunk or DEFAULT_CHUNK[sim])
    suite.properties = {"bundle": bundle, "data": data, "content_hash": net.content_hash, "events": n,
                        "shape": "-".join(map(str, shape.sizes)), "lanes": "-".join(map(str, shape.lanes)),
                        "rtl_sources_sha256": sources_digest()}
    for label in ("serial", "streamed"):
        if mode in (label, "both"):
            runs[label] = _ModeRun()
            try:
                _run_mode(net, spikes, reference, sim=sim, serial=label == "serial",
                          build_root=Path(build_root).resolve(), config=config, shape=shape, chunk=chunk,
                          timeout=timeout, out=runs[label])
            except NeurocalError as err:  # CI still gets the chunks that ran and the one that failed
                if junit is not None:
                    start = runs[label].chunks[-1][1] if runs[label].chunks else 0
                    failed = (start, min(n, start + chunk)) if start < n else (0, n)  # else: a check after all
                    suite.cases = _junit_cases(runs, sim, failed=(*failed, str(err)))
                    write_junit(junit, [suite])
                raise
    clock_mhz = profile(profile_name).clock_mhz
    report: dict[str, Any] = {
        "bundle": str(bundle), "data": str(data), "content_hash": net.content_hash, "events": int(n),
        "ticks": int(ticks), "layers": net.n_layers, "simulator": sim, "profile": profile_name,
        "clock_mhz": clock_mhz,
        "shape": _shape_dict(shape), "rtl_sources_sha256": sources_digest(), "synops": synops,
        "input_spikes_per_event": float(spikes.sum(axis=(1, 2)).mean()),
        "modes": {label: run.summary(n, synops, clock_mhz) for label, run in runs.items()},
    }
    target = profile(profile_name)
    bytes_per_event = 4.0 * (float(spikes.sum(axis=(1, 2)).mean()) + ticks + 1)  # spikes, end-of-tick words, EOE
    report["host_feed"] = {"bytes_per_event": bytes_per_event,
                           "events_per_s": target.host_events_per_s(bytes_per_event), "source": target.dma_source}
    bad = sorted({e for run in runs.values() for e in run.mismatched})
    report["mismatched_events"] = len(bad)
    report["exact"] = not bad
    _print_sim(report, ticks + net.n_layers)
    for label, run in runs.items():
        if run.first is not None:
            click.echo(f"rtl-{sim} ({label}) vs golden: first divergence at {run.first}")
    hidden = ", every hidden layer's spikes" if debug else ""
    click.echo(f"{len(bad)} events differ: {bad[:10]}" if bad else f"bit-exact: {n} events, output spikes{hidden} "
               f"and every state the RTL reports equal to the golden model's")
    _write_json(out, report)
    if junit is not None:
        suite.cases = _junit_cases(runs, sim)
        write_junit(junit, [suite])
        click.echo(f"wrote {junit}")
    if bad:
        raise SystemExit(1)


def _print_sim(report: dict[str, Any], ticks_run: int) -> None:
    modes, mhz = report["modes"], report["clock_mhz"]
    rate_head = f"events/s@{mhz:.0f}MHz"
    click.echo(f"{'mode':<9} {'cycles/event':>12} {'model':>7} {'max':>7} {'latency µs':>10} {'max µs':>7} "
               f"{'stream cyc/ev':>13} {rate_head:>15} {'synops/cyc':>10} {'sim ev/s':>9} {'ev/CPU-s':>9}")
    for label, m in modes.items():
        click.echo(f"{label:<9} {m['cycles_mean']:12.1f} {m['model_cycles_mean']:7.1f} {m['cycles_max']:7d} "
                   f"{m['latency_us_mean']:10.3f} {m['latency_us_max']:7.3f} {m['cycles_per_event']:13.0f} "
                   f"{m['events_per_s']:15.4g} {m['synops_per_cycle']:10.2f} {m['sim_events_per_wall_s']:9.3g} "
                   f"{m['sim_events_per_cpu_s']:9.3g}")
    for label, m in modes.items():
        same = m["model_events_differing"] == 0 and m["model_total_cycles"] == m["total_cycles"]
        click.echo(f"cycle model ({label}): " + ("equal to the RTL on every event and in total" if same else
                   f"differs from the RTL on {m['model_events_differing']} events (total {m['model_total_cycles']} "
                   f"vs {m['total_cycles']}): a cycle-model bug, please report it"))
    if "serial" in modes:
        m = modes["serial"]
        click.echo(f"latency (serial, first input word → last output word): {m['latency_us_mean']:.3f} µs mean, "
                   f"{m['latency_us_max']:.3f} µs max at {mhz:.0f} MHz, the {report['profile']} profile's PL clock "
                   f"({ticks_run} ticks per event incl. the layers' delay)")
    rate = modes.get("streamed", modes.get("serial"))
    which = "streamed" if "streamed" in modes else "serial, no overlap"
    click.echo(f"event rate per core ({which}): {rate['events_per_s']:.4g} events/s at {mhz:.0f} MHz; "
               f"{rate['synops_per_cycle']:.2f} synaptic events per cycle")
    host = report["host_feed"]
    click.echo(f"host feed ({report['profile']}): {host['bytes_per_event']:.0f} bytes of AER words per event → at most "
               f"{host['events_per_s']:.4g} events/s through one DMA stream ({host['source']}); the detector path "
               f"(nc_line_rx) does not go through it")
    click.echo(f"simulator: {rate['sim_events_per_wall_s']:.3g} events per wall second, "
               f"{rate['sim_events_per_cpu_s']:.3g} per CPU second")


@rtl.command("synth")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@_knob_options
@click.option("--writable/--fixed", default=True, show_default=True,
              help="memories loadable over AXI4-Lite, or the network baked into the bitstream")
@click.option("--build-root", type=click.Path(path_type=Path), default=Path("build") / "rtl", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="write the report as JSON")
@click.option("--timeout", type=TIMEOUT, default=None, help="seconds before yosys is stopped (default: no limit)")
@click.option("--profile", "profile_name", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE,
              show_default=True, help="target board: its part's resources, fit limits and PL clock")
def synth_cmd(bundle: Path, lanes: Any, lif_lanes: Any, rows: Any, words: Any, writable: bool, build_root: Path,
              out: Path | None,
              timeout: float | None, profile_name: str) -> None:
    """Resources of BUNDLE's accelerator from yosys (synth_xilinx) against the profile's part, with the verdict
    per resource, and an estimated clock (yosys sta logic delay plus a routing allowance: an estimate, not a
    Vivado timing report)."""
    from neurocal.bundle import load_bundle
    from neurocal.hw.cosim import shape_key
    from neurocal.hw.generate import generate
    from neurocal.hw.synth import synthesize, yosys_version

    yosys_version()  # a missing yosys: one line before any work
    _check_json_out(out)
    config = hw_config(lanes, rows, words, writable, lif_lanes=lif_lanes)
    net = load_bundle(bundle)
    shape = _fitted(net, profile_name, lanes, rows, words, lif_lanes, writable, False)
    root = Path(build_root).resolve()
    project = generate(net, root / f"gen-{shape_key(shape)}", config, shape=shape,
                       command="neurocal rtl synth")
    report = synthesize(project, root, timeout=timeout, progress=lambda line: click.echo(line, err=True),
                        target=profile_name)
    click.echo(report.to_text())
    _write_json(out, {"bundle": str(bundle), "content_hash": net.content_hash, "shape": _shape_dict(shape),
                      "rtl_sources_sha256": sources_digest(), **report.to_dict()})


@rtl.command("build")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="bundle dir or intnet.json")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="project folder to write (as a whole)")
@_knob_options
@click.option("--writable/--fixed", default=True, show_default=True,
              help="memories loadable over AXI4-Lite, or the network baked into the bitstream")
@click.option("--debug/--no-debug", default=False, show_default=True,
              help="nc_top's dbg_* output with every hidden layer's spikes (for simulation; costs resources)")
@click.option("--profile", "profile_name", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE,
              show_default=True, help="target board: the core is fitted to its part (knobs not given are chosen)")
@_input_options
def build_cmd(bundle: Path, out: Path, lanes: Any, lif_lanes: Any, rows: Any, words: Any, writable: bool,
              debug: bool, profile_name: str, input_kind: str, line_k: int, line_ticks: int) -> None:
    """Write BUNDLE's RTL project, a folder that works wherever it is copied: rtl/*.v (top nc_top),
    nc_params.vh and nc_ports.vh, mem/*.mem, filelist.f, and the testbench: the AER stream testbench
    sim/nc_stream_tb.v, or with --input lines the line deserialiser and its wrapper (sim/nc_line_deser.v,
    sim/nc_top_lines_tb.v, driven by a cocotb test).

    Memory paths are relative: run simulators and synthesis from the project folder (or define NC_MEM_DIR,
    e.g. +define+NC_MEM_DIR=\\"/abs/mem/\\"). Icarus, from the folder: iverilog -g2005 -f filelist.f
    -s nc_top. Written as a whole; nothing on error; the same inputs give the same bytes.
    """
    from neurocal.atomic import atomic_dir, check_output_dir
    from neurocal.bundle import load_bundle
    from neurocal.hw.generate import check_input, generate
    from neurocal.hw.sources import rtl_dir, rtl_sources
    from neurocal.quoting import command_line

    check_output_dir(out, "--out", PROJECT_KIND)
    config = dataclasses.replace(hw_config(lanes, rows, words, writable, lif_lanes=lif_lanes), debug=debug,
                                 input=input_kind, line_k=line_k, line_ticks=line_ticks)
    net = load_bundle(bundle)
    check_input(config, net.n_layers, net.source)  # before the fit: a bad window is the one line printed
    shape = _fitted(net, profile_name, lanes, rows, words, lif_lanes, writable, debug, input_kind, line_k, line_ticks)
    # names, not paths: the project is the same bytes wherever it is written; quoted, on one line
    command = command_line("neurocal", "rtl", "build", "--bundle", bundle.name, "--out", out.name, "--profile",
                           profile_name, *_input_flags(input_kind, line_k, line_ticks)) + (" --debug" if debug else "")
    benches = ["nc_stream_tb.v"] if input_kind == "aer" else ["nc_line_deser.v", "nc_top_lines_tb.v"]
    with atomic_dir(out, PROJECT_KIND) as tmp:
        generate(net, tmp, config, shape=shape, command=command)
        (tmp / "rtl").mkdir()
        sources = [*sorted(rtl_dir().glob("*.vh")), *rtl_sources()]
        for path in sources:
            shutil.copyfile(path, tmp / "rtl" / path.name)
        (tmp / "sim").mkdir()
        for name in benches:
            shutil.copyfile(rtl_dir() / "sim" / name, tmp / "sim" / name)
        (tmp / "filelist.f").write_text(
            f"// Generated by `{command}` (neurocal.hw.cli); do not edit.\n"
            f"// {net.content_hash}; shape {json.dumps(_shape_dict(shape))}\n"
            "// paths relative to this folder: run tools from here (mem/ is read at time zero)\n"
            "+incdir+.\n+incdir+rtl\n" + "".join(f"rtl/{p.name}\n" for p in sources if p.suffix == ".v"))
    click.echo(f"wrote {out}: {len(sources)} RTL files, nc_params.vh, {len(list((out / 'mem').iterdir()))} memory "
               f"files, filelist.f, {', '.join('sim/' + b for b in benches)} (top nc_top, shape "
               f"{'-'.join(map(str, shape.sizes))}, lanes {'-'.join(map(str, shape.lanes))}, input {input_kind}"
               f"{', debug output' if debug else ''}); run tools from {out}")


@rtl.command("regmap")
@click.option("--bundle", type=click.Path(path_type=Path), default=None,
              help="bundle dir or intnet.json: print what a core built for it reads back")
@_knob_options
@click.option("--writable/--fixed", default=True, show_default=True,
              help="memories loadable over AXI4-Lite, or the network baked into the bitstream")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="also write the values as JSON")
@click.option("--profile", "profile_name", type=click.Choice(sorted(PROFILES)), default=DEFAULT_PROFILE,
              show_default=True, help="target board: the core is fitted to its part, as rtl build does")
@_input_options
def regmap_cmd(bundle: Path | None, lanes: Any, lif_lanes: Any, rows: Any, words: Any, writable: bool,
               out: Path | None, profile_name: str, input_kind: str, line_k: int, line_ticks: int) -> None:
    """The AXI4-Lite register map (neurocal.regmap). With --bundle: the capability registers (global, then
    per LAYER_SEL), the HASH words and the memory CRC that a core built for BUNDLE with these knobs reads back,
    the values a driver compares before trusting the core."""
    from neurocal import regmap
    from neurocal.hw.generate import memory_images
    from neurocal.hw.regmap import markdown_table, memory_crc
    from neurocal.hw.sources import rtl_source_hash

    if bundle is None:
        click.echo(markdown_table(), nl=False)
        return
    _check_json_out(out)
    from neurocal.bundle import load_bundle

    net = load_bundle(bundle)
    shape = _fitted(net, profile_name, lanes, rows, words, lif_lanes, writable, False, input_kind, line_k,
                    line_ticks)
    values: dict[str, Any] = dict(regmap.capabilities(shape, rtl_source_hash()))
    values["layers"] = [regmap.layer_capabilities(shape, i) for i in range(shape.n_layers)]
    hash_word = int(memory_images(net, shape)["hash.mem"][0], 16)
    values.update(HASH_LO=hash_word & 0xFFFFFFFF, HASH_HI=hash_word >> 32, CRC=memory_crc(net, shape))
    for name, value in values.items():
        if name != "layers":
            click.echo(f"{name:<12} 0x{value:08X}")
    for i, layer in enumerate(values["layers"]):
        click.echo(f"LAYER_SEL={i}  " + "  ".join(f"{k}=0x{v:X}" for k, v in layer.items()))
    _write_json(out, {"bundle": str(bundle), "shape": _shape_dict(shape), "registers": values})


COMMANDS: list[click.Command] = [rtl]
