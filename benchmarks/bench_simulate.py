"""Throughput of the fast simulation on one core, per particle and light convention.

Run:  .venv/bin/python benchmarks/bench_simulate.py [--events 1000]

Prints events/s, the mean photons per event (all sensors and ticks of the window) and the mean
number of spikes per event at each threshold level of the ideal front end (10², 10³, 10⁴, 10⁵).
"""

from __future__ import annotations

import os

# one core: pin BLAS/OpenMP thread pools before numpy is imported
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from neurocal.sim.frontend import encode_thresholds  # noqa: E402
from neurocal.sim.simulate import SimConfig, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="events per (particle, convention)")
    parser.add_argument("--gun", choices=["corner", "uniform"], default="corner")
    args = parser.parse_args()

    simulate(["pion"], 2, seed=0)  # warm-up: optics matrices are computed once per process
    for light in ("physical", "paper"):
        simulate(["pion"], 2, seed=0, config=SimConfig(light=light))

    print(f"{'particle':8s} {'light':9s} {'events/s':>9s} {'photons/event':>14s}  spikes/event at 1e2 1e3 1e4 1e5")
    for light in ("physical", "paper"):
        config = SimConfig(light=light, gun=args.gun)
        for particle in ("proton", "kaon", "pion"):
            start = time.perf_counter()
            events = simulate([particle], args.events, seed=1, config=config)
            rate = args.events / (time.perf_counter() - start)
            spikes = encode_thresholds(events.photons).reshape(args.events, events.n_ticks, events.n_sensors, -1)
            per_level = spikes.sum(axis=(1, 2)).mean(axis=0)
            photons = events.photons.sum(axis=(1, 2), dtype=np.float64).mean()
            levels = " ".join(f"{x:9.1f}" for x in per_level)
            print(f"{particle:8s} {light:9s} {rate:9.0f} {photons:14.3e}  {levels}")


if __name__ == "__main__":
    main()
