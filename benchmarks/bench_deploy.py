"""The board driver against the RTL: ``deploy run --target rtl-sim`` on the demo shape 400-50-30-1.

    python benchmarks/bench_deploy.py [--events 200] [--batch 50] [--board pynq-z2] [--sim verilator] [--cli]

Writes a deploy folder for a 400-50-30-1 network (quantised by neurocal's quantiser from random float
weights, gain 2/sqrt(n_in), as in bench_rtl.py) and sends simulated calorimeter events (p, K, π at
100 GeV, ideal 4-threshold front end) through the driver — simulated axi_dma and AXI4-Lite port, nc_top
under cocotb — in batches (one send and one receive each); checks every event against the golden model bit
for bit and prints the rate in device time (simulated clock at the board's PL clock) and in wall-clock time.

``--cli`` goes through the commands instead: the network saved as intnet.json and the events as .h5, then
``neurocal deploy build`` and ``neurocal deploy run --target rtl-sim --json`` (its JSON is printed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench_rtl import network  # the same random quantised networks as the RTL benchmark

from neurocal.backends import compare_results
from neurocal.fpga.deploy import deploy_core, load_deploy, write_deploy
from neurocal.fpga.rtlsim import run_driver
from neurocal.golden import GoldenBackend
from neurocal.sim.frontend import encode_thresholds
from neurocal.sim.simulate import simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--batch", type=int, default=50, help="events per DMA send transfer")
    ap.add_argument("--board", default="pynq-z2")
    ap.add_argument("--sim", default="verilator")
    ap.add_argument("--build-root", type=Path, default=Path("build") / "bench-deploy")
    ap.add_argument("--cli", action="store_true", help="through neurocal deploy build / deploy run")
    args = ap.parse_args()

    events = simulate(["proton", "kaon", "pion"], args.events + 60, seed=7)
    spikes = encode_thresholds(events.photons)
    calib, spikes = spikes[:60], spikes[60:]
    net = network([400, 50, 30, 1], calib)
    if args.cli:
        return run_cli(net, events, args)
    words = sum(int(s.sum()) + s.shape[0] + 1 for s in spikes)
    print(f"{len(spikes)} events, {spikes.shape[1]} ticks, {words / len(spikes):.0f} AER words/event on average")
    args.build_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.build_root) as tmp:
        folder = Path(tmp) / "deploy"
        write_deploy(net, args.board, folder, "benchmarks/bench_deploy.py")
        info, net, shape = load_deploy(folder)
        t0 = time.perf_counter()
        run = run_driver(info, net, shape, spikes, sim=args.sim, build_root=args.build_root,
                         batch_events=args.batch)
        wall = time.perf_counter() - t0
    result = deploy_core(info).decode(net, run.words, spikes.shape, "driver-rtl-sim")
    cmp = compare_results(GoldenBackend().run(net, spikes), result)
    n = len(spikes)
    print(f"{args.board} ({info['clock_mhz']:g} MHz, {shape.words} AER words per beat), {args.sim}: {n} events in "
          f"{run.sends} DMA sends and {run.receives} receives (batch {args.batch}); "
          f"device time {run.device_seconds * 1e6:.1f} us = "
          f"{n / run.device_seconds:.4g} events/s, {run.device_seconds / n * 1e6:.2f} us/event; "
          f"wall {wall:.1f} s ({n / wall:.2f} events per wall-second, build and CRC walk included); "
          f"registers {run.registers}")
    print("bit-exact with the golden model" if cmp.first is None else
          f"{cmp.n_mismatched} events differ; first divergence at {cmp.first}")


def run_cli(net, events, args: argparse.Namespace) -> None:
    from neurocal.sim.dataset import write_h5

    args.build_root.mkdir(parents=True, exist_ok=True)
    neurocal = shutil.which("neurocal") or "neurocal"
    with tempfile.TemporaryDirectory(dir=args.build_root) as tmp:
        net.save(Path(tmp) / "intnet.json")
        write_h5(events.subset(slice(60, None)), Path(tmp) / "events.h5")
        subprocess.run([neurocal, "deploy", "build", "--bundle", f"{tmp}/intnet.json", "--board", args.board,
                        "--out", f"{tmp}/deploy"], check=True)
        t0 = time.perf_counter()
        done = subprocess.run([neurocal, "deploy", "run", "--target", "rtl-sim", "--deploy", f"{tmp}/deploy",
                               "--data", f"{tmp}/events.h5", "--events", str(args.events), "--batch",
                               str(args.batch), "--sim", args.sim, "--build-root", str(args.build_root), "--json"],
                              capture_output=True, text=True, check=False)
    print(f"neurocal deploy run: exit {done.returncode}, {time.perf_counter() - t0:.1f} s wall; {done.stderr.strip()}")
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    report.pop("predictions", None)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
