"""Golden model events/s (one core) and Lava seconds per event and per tick, and how both scale.

Run: ``.venv/bin/python benchmarks/bench_golden_lava.py [--quick] [--no-lava]``. Inputs are encoded
calorimeter showers (``neurocal.sim.simulate``, ~1 % channel occupancy) when the simulator is
available, else uniform random spikes at 1 %.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: set before numpy loads BLAS

import argparse  # noqa: E402
import itertools  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from neurocal.golden import simulate  # noqa: E402
from neurocal.intnet import IntNetwork  # noqa: E402
from neurocal.nirgraph import chain_from_graph  # noqa: E402
from neurocal.quantize import quantize  # noqa: E402
from neurocal.testnets import lif_graph  # noqa: E402


def spikes_for(n_events: int, n_ticks: int = 100, seed: int = 1) -> tuple[np.ndarray, str]:
    try:
        from neurocal.sim.frontend import encode_thresholds
        from neurocal.sim.simulate import simulate as shower

        sp = encode_thresholds(shower(["proton", "kaon", "pion"], n_events, seed=seed).photons)
        source = "calorimeter showers"
    except ImportError:
        sp = np.random.default_rng(seed).random((n_events, 100, 400)) < 0.01
        source = "uniform random 1 %"
    if n_ticks <= sp.shape[1]:
        return sp[:, :n_ticks], source
    reps = -(-n_ticks // sp.shape[1])
    return np.concatenate([sp] * reps, axis=1)[:, :n_ticks], source


def network(sizes: list[int], calib: np.ndarray, seed: int = 0) -> IntNetwork:
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 3 / np.sqrt(a), (b, a)) for a, b in itertools.pairwise(sizes)]
    return quantize(chain_from_graph(lif_graph(weights, beta=0.9, readout="membrane")), calib)


def golden_rate(net: IntNetwork, sp: np.ndarray, repeat: int = 2) -> float:
    simulate(net, sp[:64])  # warm-up
    best = min(_timed(lambda: simulate(net, sp)) for _ in range(repeat))
    return sp.shape[0] / best


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer events")
    parser.add_argument("--no-lava", action="store_true", help="golden model only")
    args = parser.parse_args()
    n_golden = 1000 if args.quick else 3000
    sp, source = spikes_for(n_golden)
    print(f"inputs: {source}, {n_golden} events × 100 ticks × 400 channels, "
          f"occupancy {sp.mean():.2%}, ticks with any spike {sp.any(axis=2).mean():.0%}")

    print("\n== golden model, one core (events/s; goal ≥ 10k for 400-50-30)")
    for sizes in ([400, 50, 30], [400, 120, 120, 20]):
        net = network(sizes, sp[:200])
        print(f"  {'-'.join(map(str, sizes)):<16} {golden_rate(net, sp):>9.0f} events/s")
    print("  scaling with ticks (400-50-30):")
    net = network([400, 50, 30], sp[:200])
    for ticks in (50, 100, 200, 400):
        spt, _ = spikes_for(n_golden // 2, ticks)
        rate = golden_rate(net, spt, repeat=1)
        print(f"    {ticks:>4} ticks {rate:>9.0f} events/s  {1e6 / (rate * (ticks + 2)):>7.2f} µs per event-tick")
    print("  scaling with hidden neurons (400-H-30, 100 ticks):")
    for hidden in (25, 50, 100, 200, 400):
        rate = golden_rate(network([400, hidden, 30], sp[:200]), sp, repeat=1)
        print(f"    H = {hidden:>3} {rate:>9.0f} events/s")

    if args.no_lava:
        return
    from neurocal.sim.lava_backend import LavaBackend

    n_lava = 10 if args.quick else 20
    print(f"\n== Lava fixed_pt ({n_lava} events per configuration, one Lava run each)")
    print(f"  {'network':<16} {'ticks':>5} {'s total':>8} {'s/event':>8} {'ms/tick':>8} {'start-up+reads s':>17}")
    for sizes, ticks in (([400, 50, 30], 50), ([400, 50, 30], 100), ([400, 200, 30], 100), ([400, 120, 120, 20], 100)):
        spt, _ = spikes_for(n_lava, ticks, seed=5)
        net = network(sizes, sp[:200])
        res = LavaBackend().run(net, spt)
        n_ticks = res.info["ticks"]
        per_tick = res.info["run_seconds"] / n_ticks
        print(f"  {'-'.join(map(str, sizes)):<16} {ticks:>5} {res.seconds:>8.2f} {res.seconds / n_lava:>8.3f} "
              f"{1e3 * per_tick:>8.3f} {res.seconds - res.info['run_seconds']:>17.2f}")


if __name__ == "__main__":
    main()
