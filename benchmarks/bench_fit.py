"""The fitter's builds of the demo network and of 400-120-120-20 on every profile: the configuration, the resource
model's estimate, and cycles per event by the exact cycle model on real demo events, with latency and events/s at
the profile's clock and at yosys's estimated clock where a synthesis report gives one.

    python benchmarks/bench_fit.py --bundle build/demo-bundle --data build/demo-data.h5 [--events 200]
        [--sizes 400,120,120,20] [--profiles pynq-z2 zcu104] [--synth NAME=report.json ...] [--jsonl out.jsonl]

``--synth demo@pynq-z2=build/meas/demo-pynq.json`` attaches a ``neurocal rtl synth --out`` report (its
resources and estimated clock) to the row of that network and profile; the script checks that the report's
shape is the one the fitter chose. The 400-120-120-20 network is neurocal's quantiser on random float weights
(``bench_rtl_synth.network``); it sees the same demo events (400 input channels). Cycles are the cycle model's,
which equals the RTL's cycle count (tests/hw/test_costmodel.py, and every ``rtl sim`` run prints both).
Serial: one event at a time (latency); streamed: events back to back (throughput).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench_rtl_synth import network

from neurocal.bundle import load_network_and_spikes
from neurocal.errors import NeurocalError
from neurocal.golden import GoldenBackend
from neurocal.hw.costmodel import predict_run
from neurocal.hw.fit import RESOURCES, fit_network
from neurocal.profiles import profile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--sizes", default="400,120,120,20", help="the second network's sizes")
    ap.add_argument("--profiles", nargs="+", default=["pynq-z2", "zcu104"])
    ap.add_argument("--synth", nargs="*", default=[], help="NET@PROFILE=report.json (NET: demo or the sizes)")
    ap.add_argument("--jsonl", type=Path, default=None)
    args = ap.parse_args()

    demo, spikes = load_network_and_spikes(args.bundle, args.data, args.events)
    sizes = [int(v) for v in args.sizes.split(",")]
    nets = {"demo": demo, args.sizes.replace(",", "-"): network(sizes)}
    reports = {}
    for item in args.synth:
        key, _, path = item.partition("=")
        reports[key] = json.loads(Path(path).read_text())
    rows = []
    for name, net in nets.items():
        reference = GoldenBackend().run(net, spikes)
        for prof_name in args.profiles:
            part = profile(prof_name)
            try:
                chosen = fit_network(net, part)
            except NeurocalError as err:
                print(f"{name} on {prof_name}: refused: {err}")
                rows.append({"network": name, "profile": prof_name, "refused": str(err)})
                continue
            shape = chosen.shape
            serial = predict_run(shape, spikes, reference, serial=True)
            streamed = predict_run(shape, spikes, reference, serial=False)
            row = {"network": name, "sizes": list(shape.sizes), "profile": prof_name, **chosen.to_dict(),
                   "events": int(spikes.shape[0]), "clock_mhz": part.clock_mhz,
                   "cycles_mean": float(serial.cycles.mean()), "cycles_max": int(serial.cycles.max()),
                   "streamed_cycles_per_event": streamed.total_cycles / spikes.shape[0]}
            report = reports.get(f"{name}@{prof_name}")
            if report is not None:
                knobs = tuple(report["shape"][k] for k in ("lanes", "lif_lanes", "rows", "words"))
                if knobs != (list(shape.lanes), list(shape.lif_lanes), list(shape.rows), shape.words):
                    sys.exit(f"{name}@{prof_name}: the synthesis report is of lanes/LIF/banks/words {knobs}, the "
                             f"fitter chose {shape.lanes}/{shape.lif_lanes}/{shape.rows}/{shape.words}")
                row["yosys"] = report["resources"]
                row["model_error_pct"] = {r: 100 * (chosen.resources[r] - report["resources"][r])
                                          / report["resources"][r] for r in RESOURCES if report["resources"][r]}
                row["estimated_clock_mhz"] = report["estimated_clock_mhz"]
            rows.append(row)
            _print(row)
    if args.jsonl:
        with args.jsonl.open("a") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


def _print(row: dict) -> None:
    res = ", ".join(f"{r} {row['resources'][r]:.0f} ({100 * row['share'][r]:.0f} %)" for r in RESOURCES)
    print(f"{row['network']} on {row['profile']}: lanes {row['lanes']}, LIF lanes {row['lif_lanes']}, banks "
          f"{row['rows']} (block RAM {row['block_banks']}), {row['words']} words; model: {res}")
    clocks = [("profile", row["clock_mhz"])]
    if row.get("estimated_clock_mhz"):
        clocks.append(("yosys estimate", row["estimated_clock_mhz"]))
        yosys = ", ".join(f"{r} {row['yosys'][r]:.0f}" for r in RESOURCES)
        err = ", ".join(f"{r} {v:+.1f} %" for r, v in row["model_error_pct"].items())
        print(f"  yosys: {yosys}; model − yosys: {err}")
    for label, mhz in clocks:
        mean, peak, streamed = row["cycles_mean"], row["cycles_max"], row["streamed_cycles_per_event"]
        print(f"  {row['events']} demo events: {mean:.0f} / {peak} cycles per event (mean / max, serial); at "
              f"{mhz:.0f} MHz ({label}): latency {mean / mhz:.2f} / {peak / mhz:.2f} µs, "
              f"{mhz * 1e6 / mean:.3g} events/s serial, {mhz * 1e6 / streamed:.3g} streamed")


if __name__ == "__main__":
    main()
