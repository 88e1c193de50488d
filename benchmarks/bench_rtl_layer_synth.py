"""Resources and estimated critical path of one ``nc_lif_layer`` alone (no rx, tx or AXI), from yosys:

    python benchmarks/bench_rtl_layer_synth.py [--n-in 400] [--n-out 50] [--lanes 50] [--rows 31] [--u-w 25]
        [--lif-lanes 25] [--block-banks 0] [--out build/bench-rtl-layer-synth]

The flow is TOOLCHAIN.md's timing recipe: ``synth_xilinx -family xc7 -abc9 -flatten``, then the xc7 cell
library's timing arcs (``read_verilog -lib -specify -overwrite +/xilinx/cells_sim.v``) and ``sta``. The
latest arrival is a logic-only estimate (artix7 cell delays, no placement, no routing, setup 0), not a
Vivado timing report: on 7-series routing commonly adds as much again. Writable memories, random weights
(with writable memories any network of the shape gives the same logic). One yosys run per call; the
demo's layer 0 (400 → 50, 31 banks) takes tens of minutes on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import time
from pathlib import Path

import numpy as np

from neurocal.hw.generate import generate, shape_for
from neurocal.hw.sources import rtl_sources
from neurocal.hw.synth import count, expand, parse_stat
from neurocal.testnets import random_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-in", type=int, default=400)
    ap.add_argument("--n-out", type=int, default=50)
    ap.add_argument("--lanes", type=int, default=50)
    ap.add_argument("--rows", type=int, default=31)
    ap.add_argument("--lif-lanes", type=int, default=0, help="0: the generator's default")
    ap.add_argument("--block-banks", type=int, default=0)
    ap.add_argument("--u-w", type=int, default=0,
                    help="stored current width U_W (0: the random network's; a quantised network has 25, one DSP48 "
                         "per product, where the random one may need two)")
    ap.add_argument("--out", type=Path, default=Path("build") / "bench-rtl-layer-synth")
    ap.add_argument("--rtl", type=Path, default=None,
                    help="folder with nc_lif_update.v and nc_lif_layer.v (e.g. `git show` of an older commit); "
                         "default: this checkout's")
    args = ap.parse_args()

    net = random_network([args.n_in, args.n_out], np.random.default_rng(1), readout="spikes")
    shape = shape_for(net, lanes=[args.lanes], rows=[args.rows])
    tag = (("rtl-" + args.rtl.name + "-" if args.rtl else "")
           + f"{args.n_in}-{args.n_out}-l{args.lanes}-r{args.rows}-f{args.lif_lanes}-b{args.block_banks}"
           + (f"-u{args.u_w}" if args.u_w else ""))
    out = (args.out / tag).resolve()
    project = generate(net, out / "gen", shape=shape)
    params = {"N_IN": args.n_in, "N_OUT": args.n_out, "LANES": args.lanes, "ROWS": args.rows,
              "BLOCK_BANKS": args.block_banks, "ACC_W": shape.acc_w[0], "U_W": args.u_w or shape.u_w[0], "EMIT_V": 0,
              "LAYER": 0, "MEM_W": max(64, 9 * args.lanes), "WRITABLE": 1}
    if args.lif_lanes:
        params["LIF_LANES"] = args.lif_lanes
    chparam = " ".join(f"-chparam {k} {v}" for k, v in params.items())
    names = ["nc_prio_enc", "nc_lif_update", "nc_lif_layer"]
    paths = [args.rtl.resolve() / f"{n}.v" for n in names] if args.rtl else rtl_sources(names)
    sources = " ".join(str(s) for s in paths)
    # run from the memory folder: MEM_PREFIX stays "./" (hierarchy -chparam cannot take a path string)
    script = (f"read_verilog -defer {sources}\n"
              f"hierarchy -top nc_lif_layer {chparam}\n"
              'setattr -set fsm_encoding "none" w:*\n'
              "synth_xilinx -family xc7 -abc9 -flatten -top nc_lif_layer -noiopad -noclkbuf\n"
              f"tee -q -o {out / 'stat.json'} stat -json\n"
              "read_verilog -lib -specify -overwrite +/xilinx/cells_sim.v\n"
              f"tee -q -o {out / 'sta.txt'} sta\n")
    (out / "synth.ys").write_text(script)
    start = time.time()
    subprocess.run(["yosys", "-q", "-l", str(out / "yosys.log"), "-s", str(out / "synth.ys")],
                   cwd=project.mem_dir, check=True)
    seconds = time.time() - start
    cells, _, _ = expand(parse_stat((out / "stat.json").read_text()), "nc_lif_layer")
    res = count(cells)
    sta = (out / "sta.txt").read_text()
    found = re.search(r"Latest arrival time in '[^']*' is (\d+)", sta)
    ns = int(found.group(1)) / 1000 if found else float("nan")
    row = {"shape": tag, **{k: res[k] for k in ("LUT", "LUTRAM", "FF", "BRAM36", "DSP")}, "sta_ns": ns,
           "yosys_s": round(seconds)}
    (out / "result.json").write_text(json.dumps(row))
    print(json.dumps(row))


if __name__ == "__main__":
    main()
