"""HLS firmware: hls4ml project generation and g++ compile time, C-simulation events/s, bit-exactness.

Run: ``.venv/bin/python benchmarks/bench_hls.py [--quick]``. Inputs are encoded calorimeter showers
(``neurocal.sim.simulate``, ~1 % channel occupancy); networks are quantised 400-input LIF networks.
Each configuration is built in a fresh temporary folder (no cache), so the build time is the real
one: hls4ml writes the project, hls4ml's ``build_lib.sh`` compiles it with g++ -O3. The C-simulation
calls the compiled top once per tick (T + L calls per event) through hls4ml's ``_double`` bridge.
The machine is shared, so CPU seconds (g++'s, and this process's for the C-simulation) are printed
beside wall seconds: they are what the numbers would be on an idle core.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from neurocal.backends import compare_results
from neurocal.firmware.csim import CSim
from neurocal.firmware.project import FirmwareConfig, generate
from neurocal.golden import GoldenBackend
from neurocal.intnet import IntNetwork
from neurocal.nirgraph import chain_from_graph
from neurocal.quantize import quantize
from neurocal.testnets import lif_graph


def showers(n_events: int, seed: int = 1) -> np.ndarray:
    from neurocal.sim.frontend import encode_thresholds
    from neurocal.sim.simulate import simulate

    return encode_thresholds(simulate(["proton", "kaon", "pion"], n_events, seed=seed).photons)


def network(sizes: list[int], calib: np.ndarray, seed: int = 0) -> IntNetwork:
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 3 / np.sqrt(a), (b, a)) for a, b in itertools.pairwise(sizes)]
    return quantize(chain_from_graph(lif_graph(weights, beta=0.9, readout="membrane")), calib)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer events")
    args = parser.parse_args()
    n_events = 40 if args.quick else 200
    sp = showers(n_events + 100)
    calib, events = sp[:100], sp[100:]
    print(f"inputs: calorimeter showers, {n_events} events × {events.shape[1]} ticks × {events.shape[2]} channels, "
          f"occupancy {events.mean():.2%}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'network':<16} {'probes':>7} {'write s':>8} {'g++ s':>6} {'g++ cpu':>7} {'events/s':>9} {'ev/cpu-s':>8} "
          f"{'µs/tick':>8} {'golden ev/s':>11} {'bit-exact':>9}")
    for sizes, probes in (([400, 50, 30], "all"), ([400, 50, 30], "output"), ([400, 120, 120, 20], "all"),
                          ([100, 20, 5], "all")):
        net = network(sizes, calib[:, :, : sizes[0]] if sizes[0] < 400 else calib)
        ev = events[:, :, : sizes[0]]
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            project = generate(net, Path(tmp) / "p", FirmwareConfig(probes=probes), compile=False)
            t_write = time.perf_counter() - t0
            t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            generate(net, Path(tmp) / "p", FirmwareConfig(probes=probes))  # same project: compiles only
            t_compile = time.perf_counter() - t0
            cpu_compile = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - c0
            sim = CSim(project)
            t0, c0 = time.perf_counter(), time.process_time()
            res = sim.run(ev)
            t_run, cpu_run = time.perf_counter() - t0, time.process_time() - c0
        golden = GoldenBackend().run(net, ev)
        exact = "n/a"
        if probes == "all":
            from neurocal.backends import BackendResult

            hls = BackendResult(backend="hls", output_spikes=res.spikes[-1], v_final=res.v_final,
                                u_final=res.u_final, layer_spikes=res.spikes)
            exact = "yes" if compare_results(golden, hls).n_mismatched == 0 else "NO"
        else:
            same = (np.array_equal(res.v_final[-1], golden.v_final[-1])
                    and np.array_equal(res.spikes[-1], golden.output_spikes))
            exact = "yes" if same else "NO"
        ticks = ev.shape[1] + net.n_layers
        print(f"{'-'.join(map(str, sizes)):<16} {probes:>7} {t_write:>8.2f} {t_compile:>6.1f} {cpu_compile:>7.1f} "
              f"{n_events / t_run:>9.1f} {n_events / cpu_run:>8.1f} {1e6 * cpu_run / (n_events * ticks):>8.0f} "
              f"{n_events / golden.seconds:>11.0f} {exact:>9}")


if __name__ == "__main__":
    main()
