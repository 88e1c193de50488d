"""The detector-line input against the host's AER input: cycles per event (serial: one event in the core at a
time; streamed: the next event as soon as the input stage is free), latency and event rate at the profile's
clock, from the exact cycle model; with ``--rtl N`` the first N events also run through nc_top built with the
line input (cocotb + Verilator, the lines sampled every 0.2 ns), bit-exact on every layer and equal to the model.

    python benchmarks/bench_line_input.py [--events 100] [--rtl 0] [--build-root build/bench-line]

Network: the demo shape 400-50-30-1, quantised as ``bench_rtl.py`` does, driven by simulated calorimeter
events (ideal 4-threshold front end).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from bench_rtl import network  # the quantised demo network of the RTL benchmark

from neurocal.backends import compare_results
from neurocal.golden import GoldenBackend
from neurocal.hw.costmodel import predict_run
from neurocal.hw.generate import HwConfig, shape_from_config
from neurocal.profiles import DEFAULT_PROFILE, profile
from neurocal.sim.frontend import encode_thresholds
from neurocal.sim.simulate import simulate

BUILDS = {
    "AER, 16 words per beat": HwConfig(),
    "AER, 2 words per beat (PYNQ-Z2 DMA)": HwConfig(words=2),
    "lines (K = 25)": HwConfig(input="lines"),
    "lines, lanes 25-30-1, banks 16-8-8": HwConfig(input="lines", lanes=[25, 30, 1], rows=[16, 8, 8]),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--rtl", type=int, default=0, help="events to run through the RTL as well (Verilator)")
    ap.add_argument("--build-root", type=Path, default=Path("build") / "bench-line")
    args = ap.parse_args()

    spikes = encode_thresholds(simulate(["proton", "kaon", "pion"], args.events + 60, seed=7).photons)
    calib, spikes = spikes[:60], spikes[60:]
    net = network([400, 50, 30, 1], calib)
    ref = GoldenBackend().run(net, spikes)
    clock = profile(DEFAULT_PROFILE).clock_mhz
    print(f"{len(spikes)} calorimeter events, {spikes.sum(axis=(1, 2)).mean():.0f} input spikes/event; "
          f"400-50-30-1 at {clock:g} MHz ({DEFAULT_PROFILE}), cycle model")
    print(f"{'build':>38} {'serial mean':>11} {'max':>5} {'latency us':>10} {'streamed cyc/ev':>15} {'events/s':>9}")
    for name, config in BUILDS.items():
        shape = shape_from_config(net, config)
        serial = predict_run(shape, spikes, ref, serial=True)
        streamed = predict_run(shape, spikes, ref, serial=False).total_cycles / len(spikes)
        print(f"{name:>38} {serial.cycles.mean():11.0f} {serial.cycles.max():5d} "
              f"{serial.cycles.mean() / clock:10.2f} {streamed:15.0f} {clock * 1e6 / streamed:9.3g}", flush=True)

    if args.rtl:
        from neurocal.hw import cosim

        some = spikes[: args.rtl]
        t0 = time.perf_counter()
        run = cosim.run_detector(net, some, sim="verilator", build_root=args.build_root)
        exact = compare_results(GoldenBackend().run(net, some), run.result).first is None
        model = predict_run(run.shape, some, GoldenBackend().run(net, some)).cycles
        print(f"RTL (nc_top, line input, Verilator): {len(some)} events in {time.perf_counter() - t0:.0f} s, "
              f"bit-exact on every layer: {'yes' if exact else 'NO'}; cycles mean {run.cycles.mean():.0f}, "
              f"equal to the model on {int(np.sum(model == run.cycles))} of {len(some)} events")


if __name__ == "__main__":
    main()
