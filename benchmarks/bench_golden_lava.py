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
from neurocal.quantize import QuantConfig, quantize  # noqa: E402
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


def network(sizes: list[int], calib: np.ndarray, seed: int = 0, per_neuron: bool = False,
            max_groups: int | None = None) -> IntNetwork:
    """A 400-input LIF network; ``per_neuron`` draws every neuron's β and threshold (as foreign NIR graphs do)."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 3 / np.sqrt(a), (b, a)) for a, b in itertools.pairwise(sizes)]
    beta: float | list[np.ndarray] = 0.9
    threshold: float | list[np.ndarray] = 1.0
    if per_neuron:
        beta = [rng.uniform(0.8, 0.97, b) for b in sizes[1:]]
        threshold = [rng.uniform(0.8, 1.25, b) for b in sizes[1:]]
    chain = chain_from_graph(lif_graph(weights, beta=beta, threshold=threshold, readout="membrane"))
    return quantize(chain, calib, QuantConfig(max_groups=max_groups))


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
        uniform = golden_rate(network(sizes, sp[:200]), sp)
        per_neuron = golden_rate(network(sizes, sp[:200], per_neuron=True), sp)
        print(f"  {'-'.join(map(str, sizes)):<16} {uniform:>9.0f} events/s uniform layers, {per_neuron:>9.0f} events/s "
              f"per-neuron β and θ (ratio {per_neuron / uniform:.2f})")
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
    print(f"  {'':<16} {'':>5} {'':>8} {'':>8} {'':>8} {'':>17} {'processes':>9}")
    configs = [([400, 50, 30], 50, "uniform"), ([400, 50, 30], 100, "uniform"), ([400, 200, 30], 100, "uniform"),
               ([400, 120, 120, 20], 100, "uniform"), ([400, 50, 30], 100, "per-neuron, ≤ 4 groups")]
    for sizes, ticks, kind in configs:
        spt, _ = spikes_for(n_lava, ticks, seed=5)
        net = network(sizes, sp[:200], per_neuron=kind != "uniform", max_groups=4 if kind != "uniform" else None)
        res = LavaBackend().run(net, spt)
        n_ticks = res.info["ticks"]
        per_tick = res.info["run_seconds"] / n_ticks
        print(f"  {'-'.join(map(str, sizes)):<16} {ticks:>5} {res.seconds:>8.2f} {res.seconds / n_lava:>8.3f} "
              f"{1e3 * per_tick:>8.3f} {res.seconds - res.info['run_seconds']:>17.2f} {res.info['processes']:>9}"
              f"  {kind}")


if __name__ == "__main__":
    main()
