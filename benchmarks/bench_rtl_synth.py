"""Resource estimates of the RTL accelerator from yosys ``synth_xilinx -family xc7`` (``stat -json``),
against the PYNQ-Z2 part (xc7z020: 53 200 LUT, 106 400 FF, 140 BRAM36, 220 DSP48E1).

    python benchmarks/bench_rtl_synth.py [--lanes 8] [--sizes 400,50,30,1] [--build-root build/bench-rtl-synth]

Estimates, not a placed design: yosys maps to 7-series primitives but does not place, route or time.
The network's integers come from neurocal's quantiser on random float weights (any network of the
shape gives the same resources: the memories are sized by the shape).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from neurocal.hw.generate import HwConfig, generate
from neurocal.hw.sources import rtl_sources
from neurocal.nirgraph import chain_from_graph
from neurocal.quantize import quantize
from neurocal.testnets import lif_graph

PART = {"LUT": 53200, "FF": 106400, "BRAM36": 140, "DSP": 220}


def count(cells: dict[str, int]) -> dict[str, float]:
    lut = sum(n for c, n in cells.items() if c.startswith("LUT") or c in ("RAM32M", "RAM64M", "RAM32X1D",
                                                                           "RAM64X1D", "RAM128X1D", "RAM256X1S"))
    ff = sum(n for c, n in cells.items() if c in ("FDRE", "FDSE", "FDCE", "FDPE"))
    bram = cells.get("RAMB36E1", 0) + cells.get("RAMB18E1", 0) / 2
    dsp = cells.get("DSP48E1", 0)
    return {"LUT": lut, "FF": ff, "BRAM36": bram, "DSP": dsp}


def totals(stat: dict, top: str) -> dict[str, int]:
    """Primitive cell counts of ``top`` with every submodule instance expanded (stat -json is per module)."""
    modules = stat["modules"]
    names = {name.lstrip("\\"): name for name in modules}

    def expand(name: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for cell, n in modules[name]["num_cells_by_type"].items():
            sub = names.get(cell.lstrip("\\"))
            parts = expand(sub) if sub is not None else {cell: 1}
            for k, v in parts.items():
                out[k] = out.get(k, 0) + n * v
        return out

    return expand(names[top])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="400,50,30,1")
    ap.add_argument("--lanes", type=int, default=None, help="neurons per cycle per layer (default: all)")
    ap.add_argument("--fixed", action="store_true", help="memories not writable: the network baked in")
    ap.add_argument("--build-root", type=Path, default=Path("build") / "bench-rtl-synth")
    args = ap.parse_args()
    if shutil.which("yosys") is None:
        raise SystemExit("yosys is not on PATH: apt-get install yosys")
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(1)
    weights = [rng.normal(0.0, 2.0 / np.sqrt(a), size=(b, a)) for a, b in itertools.pairwise(sizes)]
    calib = rng.random((8, 20, sizes[0])) < 0.05
    net = quantize(chain_from_graph(lif_graph(weights, beta=0.9, threshold=1.0)), calib)
    out = args.build_root / f"{'-'.join(map(str, sizes))}-lanes{args.lanes or 'all'}{'-fixed' if args.fixed else ''}"
    project = generate(net, out, HwConfig(lanes=args.lanes, writable=not args.fixed),
                       command="benchmarks/bench_rtl_synth.py")
    script = (f"read_verilog -defer -I{project.include_dir} " + " ".join(map(str, rtl_sources())) + "\n"
              "synth_xilinx -family xc7 -top nc_top\n"
              f"tee -q -o {out / 'stat.json'} stat -json\n")
    (out / "synth.ys").write_text(script)
    t0 = time.perf_counter()
    done = subprocess.run(["yosys", "-q", "-l", str(out / "yosys.log"), "-s", str(out / "synth.ys")],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"yosys failed; log: {out / 'yosys.log'}\n{done.stderr[-2000:]}")
    # yosys 0.23 prints the hierarchy's instance counts inside the JSON: drop those lines
    text = "\n".join(line for line in (out / "stat.json").read_text().splitlines()
                     if not re.match(r"^\s+\$paramod\S*\s+\d+$", line))
    cells = totals(json.loads(text), "nc_top")
    used = count(cells)
    print(f"{'-'.join(map(str, sizes))}, lanes {list(project.shape.lanes)}, widths acc {list(project.shape.acc_w)} "
          f"u {list(project.shape.u_w)}, {'writable' if project.shape.writable else 'fixed'} memories: "
          f"yosys {time.perf_counter() - t0:.0f} s")
    for k, v in used.items():
        print(f"  {k:>6}: {v:8.1f}  ({100 * v / PART[k]:5.1f} % of xc7z020)")
    print("  cells:", json.dumps(dict(sorted(cells.items()))))


if __name__ == "__main__":
    main()
