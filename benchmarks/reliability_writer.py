"""What the safe writer costs, and what streaming saves.

1. HDF5 event files: ``write_h5`` (through neurocal.atomic's guarded file object, fsync, rename)
   against plain h5py writing the same datasets straight to a file.
2. ``neurocal simulate`` peak memory (max RSS of the child process) for two event counts: with
   streaming it stays flat; the in-memory simulation grew by 40 kB per event (photons alone).

Run: ``.venv/bin/python benchmarks/reliability_writer.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py

from neurocal.sim.dataset import TARGET_FIELDS, EventWriter, write_h5

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.sim.helpers import random_events


def _best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def writer_overhead(folder: Path, n_events: int = 1000) -> None:
    events = random_events(n_events, seed=1)
    targets = {name: getattr(events, name) for name in TARGET_FIELDS}

    def plain() -> None:
        with h5py.File(folder / "plain.h5", "w") as f:
            EventWriter(f, events.n_events, events.n_ticks, events.n_sensors, events.tick_ns, {}).write(
                0, events.photons, **targets)

    safe = _best(lambda: write_h5(events, folder / "safe.h5"))
    direct = _best(plain)
    mb = (folder / "safe.h5").stat().st_size / 1e6
    print(f"write {n_events} events ({mb:.1f} MB): neurocal.atomic {safe:.3f} s, plain h5py {direct:.3f} s "
          f"({(safe / direct - 1) * 100:+.0f} %)")


def simulate_peak_rss(folder: Path, n_events: int) -> float:
    script = (
        "import resource, sys; from neurocal.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", script, "simulate", "--quiet", "--events", str(n_events),
                           "--out", str(folder / f"s{n_events}.h5")], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t0
    rss_mb = int(re.search(r"maxrss_kb (\d+)", proc.stdout).group(1)) / 1024
    print(f"simulate --events {n_events}: peak RSS {rss_mb:.0f} MiB, {seconds:.1f} s, "
          f"in-memory photons alone would be {n_events * 100 * 100 * 4 / 2**20:.0f} MiB")
    return rss_mb


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        writer_overhead(folder)
        small, large = simulate_peak_rss(folder, 200), simulate_peak_rss(folder, 2000)
        print(f"peak RSS grows by {(large - small) / 1800 * 1024:.1f} KiB per event between 200 and 2000 events")


if __name__ == "__main__":
    main()
