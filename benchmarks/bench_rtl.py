"""RTL accelerator: cycles per event, latency and event rate at 250 MHz, bulk co-simulation speed,
build times; sweep of weight banks (rows) and input beat width (words). Every run is also checked bit
for bit against the golden model.

    python benchmarks/bench_rtl.py [--events 200] [--icarus-events 5] [--build-root build/bench-rtl]
                                   [--only 400-50-30-1] [--quick]

Bulk co-simulation speed: "sim ev/s" is simulated events per wall-clock second, "ev/cpu-s" per CPU second
of the simulator process (start-up and file I/O included: the honest figure on a shared machine), "kcyc/cpu-s"
the clock cycles simulated per CPU second. Goal (issue 11): >= 1000 events per CPU-second for 400-50-30-1.

Networks: the demo shape 400-50-30-1 and 400-120-120-20, quantised by neurocal's own quantiser from
random float weights (gain 2/sqrt(n_in): about one hidden spike per tick, like a trained network),
calibrated and driven by simulated calorimeter events (ideal 4-threshold front end).
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

from neurocal.backends import compare_results
from neurocal.errors import NeurocalError
from neurocal.golden import GoldenBackend
from neurocal.hw.bulk import run_stream
from neurocal.hw.cosim import CLOCK_NS
from neurocal.hw.generate import HwConfig
from neurocal.nirgraph import chain_from_graph
from neurocal.quantize import quantize
from neurocal.sim.frontend import encode_thresholds
from neurocal.sim.simulate import simulate
from neurocal.testnets import lif_graph

# events per CPU-second of the streamed run before the C++ stream harness (the Verilog testbench read a word per
# $fscanf), on the RTL and build of that line: for reference only, printed next to the new figure
PREVIOUS = {"400-50-30-1": "209 (40eb59d: 31-31-30 banks); 241 (4f1d6d4: 31-8-8 banks)",
            "400-120-120-20": "112 (40eb59d: 31-31-31 banks)"}


def network(sizes: list[int], calibration: np.ndarray, seed: int = 1, gain: float = 2.0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, gain / np.sqrt(a), size=(b, a)) for a, b in itertools.pairwise(sizes)]
    return quantize(chain_from_graph(lif_graph(weights, beta=0.9, threshold=1.0)), calibration)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--icarus-events", type=int, default=5, help="0: no Icarus run")
    ap.add_argument("--build-root", type=Path, default=Path("build") / "bench-rtl")
    ap.add_argument("--icarus-only", action="store_true", help="skip the Verilator table")
    ap.add_argument("--only", default=None, help="one network, e.g. 400-50-30-1")
    ap.add_argument("--quick", action="store_true", help="the default build of each network only")
    ap.add_argument("--sweep-only", action="store_true", help="every build but the default")
    args = ap.parse_args()

    t0 = time.perf_counter()
    spikes = encode_thresholds(simulate(["proton", "kaon", "pion"], args.events + 60, seed=7).photons)
    calib, spikes = spikes[:60], spikes[60:]
    print(f"{len(spikes)} calorimeter events ({time.perf_counter() - t0:.1f} s to simulate): "
          f"{spikes.sum(axis=(1, 2)).mean():.0f} input spikes/event on average, {spikes.shape[1]} ticks")

    # (lanes, rows, words): None = the generator's default (full lanes, min(n_in, 31) banks, 16 words)
    default = (None, None, None)
    ap_cases = [([400, 50, 30, 1], [default, (None, 51, None), (None, 16, None), (None, None, 1), (8, 8, 4)]),
                ([400, 120, 120, 20], [default, (None, 51, None)])]
    cases = [] if args.icarus_only else ap_cases
    if args.only:
        cases = [c for c in cases if "-".join(map(str, c[0])) == args.only]
    if args.quick:
        cases = [(sizes, options[:1]) for sizes, options in cases]
    if args.sweep_only:
        cases = [(sizes, options[1:]) for sizes, options in cases]
    print(f"{'network':>16} {'lanes':>10} {'rows':>10} {'words':>5} {'build s':>8} {'cyc/ev mean':>11} {'max':>5} "
          f"{'lat us':>6} {'lat max':>7} {'stream cyc/ev':>13} {'Mev/s@250MHz':>12} {'synops/cyc':>10} "
          f"{'sim ev/s':>8} {'ev/cpu-s':>8} {'kcyc/cpu-s':>10} {'exact':>5}", flush=True)
    speeds = []
    for sizes, options in cases:
        net = network(sizes, calib)
        ref = GoldenBackend().run(net, spikes)
        synops = int(ref.ops["synops"].sum())
        for lanes, rows, words in options:
            config = HwConfig(lanes=lanes, rows=rows, **({} if words is None else {"words": words}))
            serial = run_stream(net, spikes, sim="verilator", build_root=args.build_root, config=config, serial=True)
            stream = run_stream(net, spikes, sim="verilator", build_root=args.build_root, config=config)
            exact = all(compare_results(ref, r.result).first is None for r in (serial, stream))
            per_event = stream.total_cycles / len(spikes)
            shape = serial.shape
            print(f"{'-'.join(map(str, sizes)):>16} {'-'.join(map(str, shape.lanes)):>10} "
                  f"{'-'.join(map(str, shape.rows)):>10} {shape.words:5d} "
                  f"{serial.build_seconds:8.1f} {serial.cycles.mean():11.0f} {serial.cycles.max():5d} "
                  f"{serial.cycles.mean() * CLOCK_NS / 1000:6.2f} {serial.cycles.max() * CLOCK_NS / 1000:7.2f} "
                  f"{per_event:13.0f} {1e3 / (per_event * CLOCK_NS):12.3f} {synops / stream.total_cycles:10.1f} "
                  f"{len(spikes) / stream.run_seconds:8.0f} {len(spikes) / stream.cpu_seconds:8.0f} "
                  f"{stream.total_cycles / stream.cpu_seconds / 1e3:10.1f} {'yes' if exact else 'NO':>5}", flush=True)
            if (lanes, rows, words) == default:
                speeds.append((sizes, serial.build_seconds, stream))

    for sizes, build_seconds, stream in speeds:
        name = "-".join(map(str, sizes))
        print(f"bulk Verilator co-simulation, {name} (default build): {len(spikes) / stream.cpu_seconds:.0f} events "
              f"per CPU-second, {len(spikes) / stream.run_seconds:.0f} per wall-second "
              f"({stream.cpu_seconds / stream.total_cycles * 1e6:.2f} us CPU per clock cycle), Verilator build "
              f"{build_seconds:.0f} s (0: reused); before: {PREVIOUS.get(name, 'not measured')} events per CPU-second")

    if args.icarus_events < 1:  # --icarus-events 0: the Verilator figures only
        return
    net = network([400, 50, 30, 1], calib)
    few = spikes[: args.icarus_events]
    try:
        run = run_stream(net, few, sim="icarus", build_root=args.build_root)
    except NeurocalError as err:  # the Verilator figures above stand; say why there is no Icarus one
        print(f"icarus 400-50-30-1 (default build): {err}")
        return
    exact = compare_results(GoldenBackend().run(net, few), run.result).first is None
    print(f"icarus 400-50-30-1 (default build): build {run.build_seconds:.1f} s, "
          f"{len(few) / run.run_seconds:.1f} events/s "
          f"({len(few) / run.cpu_seconds:.1f} per CPU second), exact: {'yes' if exact else 'NO'}")


if __name__ == "__main__":
    main()
