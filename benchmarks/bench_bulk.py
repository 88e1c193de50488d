"""Issue 17's volume acceptance: the demo network fitted to a profile, thousands of simulated showers through the
bulk stream testbench, every layer compared with the golden model and every event's cycles with the cycle model.

    python benchmarks/bench_bulk.py [--events 1000] [--icarus-events 200] [--lines 0] [--profile pynq-z2]
        [--estimate-mhz 89] [--build-root build/bench-bulk]

* Verilator, AER input: the build ``hw.fit.fit_network`` chooses for the profile (debug output on, so every hidden
  layer is compared), ``--events`` events serial (latency) and streamed (rate), both bit-exact on every layer
  (first divergence named: event, layer, tick, neuron) and equal to the cycle model, event by event and in total.
* Icarus, AER input: ``--icarus-events`` events on the ``rtl-icarus`` backend's shape (``hw.bulk.ICARUS_DEFAULTS``:
  2 weight banks, 2 words per beat, full lanes), which Icarus runs faster than the fitted build (it pays for every
  bank's adder tree every cycle: 0.23 events per CPU-second against 0.12 at lanes 10-6-1 and 1 bank, where the
  cycles grow 6-fold, measured on 4 demo events), streamed, same checks.
* Verilator, line input (``--lines N``): the first N events as detector windows through the line receiver, on the
  fitter's choice for ``--input lines`` (the C++ harness drives the lines a beat of ``line_k`` ticks per clock),
  same checks.

Speed: "ev/cpu-s" is events per CPU second of the simulator process (start-up and file I/O included: the honest
figure on a shared machine). Latency: the serial run's cycles at the profile's clock and at ``--estimate-mhz``, the
clock the yosys logic-delay estimate gives the fitted demo build (5.63 ns + 100 % routing allowance → ~89 MHz,
benchmarks/results/2026-12-04-fit.md; an estimate, not a Vivado timing report).

Network: the demo shape 400-50-30-1, quantised as ``bench_rtl.py`` does, driven by simulated calorimeter events
(protons, kaons, pions in turn; ideal 4-threshold front end).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from bench_rtl import network  # the quantised demo network of the RTL benchmark

from neurocal.backends import BackendResult, compare_results
from neurocal.golden import GoldenBackend
from neurocal.hw.bulk import StreamRun, run_stream, sim_defaults
from neurocal.hw.costmodel import predict_run
from neurocal.hw.fit import fit_network
from neurocal.hw.generate import HwShape, shape_for
from neurocal.intnet import IntNetwork
from neurocal.profiles import profile
from neurocal.sim.frontend import encode_thresholds
from neurocal.sim.simulate import simulate


def check(name: str, ref: BackendResult, run: StreamRun, spikes: np.ndarray, serial: bool) -> str:
    """One line: bit-exact on every layer (or the first divergence) and the cycle model against the RTL."""
    cmp = compare_results(ref, run.result)
    layers = sum(s is not None for s in run.result.layer_spikes)
    exact = "bit-exact" if cmp.first is None else f"DIFFERS, first divergence {cmp.first}"
    t0 = time.perf_counter()
    model = predict_run(run.shape, spikes, ref, serial=serial)
    seconds = time.perf_counter() - t0
    equal = int(np.sum(model.cycles == run.cycles))
    total = "equal" if model.total_cycles == run.total_cycles else f"{model.total_cycles} vs {run.total_cycles}"
    return (f"{name}: {len(spikes)} events, {exact} on {layers} of {len(ref.layer_spikes)} layers; cycle model equal "
            f"on {equal} of {len(spikes)} events, total {total} (model {seconds:.0f} s)")


def run_case(name: str, net: IntNetwork, spikes: np.ndarray, ref: BackendResult, shape: HwShape, sim: str,
             build_root: Path, serial: bool, clocks: list[float]) -> StreamRun:
    run = run_stream(net, spikes, sim=sim, build_root=build_root, shape=shape, serial=serial)
    print(check(name, ref, run, spikes, serial), flush=True)
    c = run.cycles
    lat = ", ".join(f"{c.mean() / mhz:.2f} / {c.max() / mhz:.2f} µs at {mhz:g} MHz" for mhz in clocks)
    rate = ", ".join(f"{mhz * 1e6 * len(c) / run.total_cycles:.3g} events/s at {mhz:g} MHz" for mhz in clocks)
    print(f"  cycles per event mean {c.mean():.1f}, max {c.max()}; total {run.total_cycles} "
          f"({run.total_cycles / len(c):.1f} per event); " + (f"latency mean / max {lat}" if serial else rate))
    print(f"  {sim}: build {run.build_seconds:.0f} s (0: reused), run {run.run_seconds:.1f} s wall, "
          f"{run.cpu_seconds:.1f} s CPU: {len(c) / run.cpu_seconds:.1f} events per CPU-second, "
          f"{run.total_cycles / run.cpu_seconds / 1e3:.1f} k cycles per CPU-second", flush=True)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1000, help="0: no Verilator run on the AER input")
    ap.add_argument("--icarus-events", type=int, default=200, help="0: no Icarus run")
    ap.add_argument("--icarus-first", type=int, default=0,
                    help="the Icarus run's first event (runs of events 0-99 and 100-199 can share two cores)")
    ap.add_argument("--icarus-sizes", default="400,50,30,1",
                    help="the Icarus run's network (quantised the same way): the demo's, or a narrower one")
    ap.add_argument("--lines", type=int, default=0, help="events through the line input (Verilator); 0: none")
    ap.add_argument("--profile", default="pynq-z2")
    ap.add_argument("--estimate-mhz", type=float, default=89.0, help="the estimated clock of the fitted build")
    ap.add_argument("--build-root", type=Path, default=Path("build") / "bench-bulk")
    args = ap.parse_args()

    t0 = time.perf_counter()
    n = max(args.events, args.icarus_first + args.icarus_events, args.lines)
    spikes = encode_thresholds(simulate(["proton", "kaon", "pion"], n + 60, seed=7).photons)
    calib, spikes = spikes[:60], spikes[60:]
    net = network([400, 50, 30, 1], calib)
    print(f"{len(spikes)} calorimeter events ({time.perf_counter() - t0:.0f} s to simulate and quantise), "
          f"{spikes.sum(axis=(1, 2)).mean():.0f} input spikes per event", flush=True)
    part = profile(args.profile)
    clocks = [part.clock_mhz, args.estimate_mhz]

    chosen = fit_network(net, part)
    print(chosen.summary(), flush=True)
    some = spikes[: args.events]
    if args.events:
        t1 = time.perf_counter()
        ref = GoldenBackend().run(net, some)
        print(f"golden model: {time.perf_counter() - t1:.1f} s for {len(some)} events", flush=True)
        for serial in (True, False):
            run_case(f"verilator, fitted build, {'serial' if serial else 'streamed'}", net, some, ref,
                     chosen.shape, "verilator", args.build_root, serial, clocks)

    if args.icarus_events:
        few = spikes[args.icarus_first : args.icarus_first + args.icarus_events]
        sizes = [int(n) for n in args.icarus_sizes.split(",")]
        small = net if sizes == [400, 50, 30, 1] else network(sizes, calib)
        rows, words = sim_defaults("icarus", None, None)
        shape = shape_for(small, rows=rows, words=words)
        first, last = args.icarus_first, args.icarus_first + len(few) - 1
        run_case(f"icarus, events {first}-{last}, {args.icarus_sizes}, lanes {shape.lanes}, banks {shape.rows}, "
                 f"{shape.words} words, streamed", small, few, GoldenBackend().run(small, few), shape, "icarus",
                 args.build_root, False, clocks)

    if args.lines:
        few = spikes[: args.lines]
        lines = fit_network(net, part, input_kind="lines")
        print(lines.summary(), flush=True)
        ref_few = GoldenBackend().run(net, few)
        for serial in (True, False):
            run_case(f"verilator, line input, {'serial' if serial else 'streamed'}", net, few, ref_few,
                     lines.shape, "verilator", args.build_root, serial, clocks)


if __name__ == "__main__":
    main()
