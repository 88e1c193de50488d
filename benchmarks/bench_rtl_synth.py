"""Resources of the RTL accelerator over networks × lanes (× rows, when the RTL has them) × writable/fixed
memories, from yosys ``synth_xilinx -family xc7`` (``neurocal.hw.synth``), against the PYNQ-Z2's xc7z020
(53 200 LUT, 106 400 FF, 140 BRAM36, 220 DSP48E1), with the logic-depth proxy.

    python benchmarks/bench_rtl_synth.py [--sizes 400,50,30,1 400,120,120,20] [--lanes 8 all]
        [--rows default] [--memories writable fixed] [--block-banks default 0]
        [--build-root build/bench-rtl-synth] [--jsonl out.jsonl]

Estimates, not a placed design: yosys maps to 7-series primitives but does not place, route or time
(see ``neurocal.hw.synth`` for what the logic depth means). The network's integers come from
neurocal's quantiser on random float weights; with writable memories any network of the shape gives
the same resources, with fixed memories the weights are constants and yosys may simplify them.
Each point is cached by content: a rerun prints at once what has not changed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from neurocal.hw.cosim import shape_key
from neurocal.hw.generate import generate, shape_from_config
from neurocal.hw.synth import hw_config, sources_digest, synthesize
from neurocal.nirgraph import chain_from_graph
from neurocal.quantize import quantize
from neurocal.testnets import lif_graph


def network(sizes: list[int], seed: int = 1):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, 2.0 / np.sqrt(a), size=(b, a)) for a, b in itertools.pairwise(sizes)]
    calib = rng.random((8, 20, sizes[0])) < 0.05
    return quantize(chain_from_graph(lif_graph(weights, beta=0.9, threshold=1.0)), calib)


def _knob(text: str):
    """``all``/``default`` → None (the generator's default), ``8`` → 8, ``50,30,1`` → per layer."""
    if text in ("all", "default"):
        return None
    values = [int(v) for v in text.split(",")]
    return values[0] if len(values) == 1 else values


def _commit() -> str:
    here = Path(__file__).resolve().parent.parent
    head = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "hw/rtl"], capture_output=True, text=True)
    return (head.stdout.strip() or "?") + (" + uncommitted hw/rtl changes" if dirty.stdout.strip() else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["400,50,30,1", "400,120,120,20"])
    ap.add_argument("--lanes", nargs="+", default=["8", "all"], help="per point: N, a comma list, or all")
    ap.add_argument("--rows", nargs="+", default=["default"], help="weight banks per layer (default: the generator's)")
    ap.add_argument("--memories", nargs="+", default=["writable", "fixed"], choices=["writable", "fixed"])
    ap.add_argument("--block-banks", nargs="+", default=["default"],
                    help="weight banks in block RAM: default (fill the BRAM budget), N, or a comma list per layer")
    ap.add_argument("--build-root", type=Path, default=Path("build") / "bench-rtl-synth")
    ap.add_argument("--jsonl", type=Path, default=None, help="also append one JSON line per point")
    args = ap.parse_args()

    print(f"RTL {_commit()}, sources sha256 {sources_digest()}", flush=True)
    head = (f"{'network':>15} {'lanes':>11} {'rows':>11} {'bram banks':>10} {'mem':>8} {'LUT':>14} {'LUTRAM':>6} "
            f"{'FF':>13} {'BRAM36':>12} "
            f"{'DSP':>11} {'fits':>4} {'depth':>5} {'yosys s':>7}")
    print(head, flush=True)
    for sizes_text in args.sizes:
        sizes = [int(s) for s in sizes_text.split(",")]
        net = network(sizes)
        for lanes, rows, memories, block in itertools.product(args.lanes, args.rows, args.memories,
                                                              args.block_banks):
            config = hw_config(lanes=_knob(lanes), rows=_knob(rows), writable=memories == "writable",
                               block_banks=_knob(block))
            shape = shape_from_config(net, config)
            root = args.build_root.resolve()
            project = generate(net, root / f"gen-{shape_key(shape)}", config, shape=shape,
                               command="benchmarks/bench_rtl_synth.py")
            t0 = time.perf_counter()
            try:
                rep = synthesize(project, root)
            except Exception as err:  # one failing point must not lose the sweep
                print(f"{sizes_text:>15} {lanes:>11} {rows:>11} {memories:>8} failed: {err}", flush=True)
                continue
            r, p = rep.resources, rep.percent
            shown_rows = "-".join(map(str, shape.rows))
            shown_block = "-".join(map(str, shape.block_banks))
            print(f"{'-'.join(map(str, sizes)):>15} {'-'.join(map(str, shape.lanes)):>11} {shown_rows:>11} "
                  f"{shown_block:>10} {memories:>8} {r['LUT']:7.0f} ({p['LUT']:3.0f}%) {r['LUTRAM']:6.0f} "
                  f"{r['FF']:6.0f} ({p['FF']:3.0f}%) "
                  f"{r['BRAM36']:5.1f} ({p['BRAM36']:3.0f}%) {r['DSP']:4.0f} ({p['DSP']:3.0f}%) "
                  f"{'yes' if rep.fits else 'NO':>4} {rep.logic_depth:5d} "
                  f"{rep.seconds:7.0f}{' (cached)' if rep.cached else ''}", flush=True)
            if args.jsonl is not None:
                with args.jsonl.open("a") as fh:
                    fh.write(json.dumps({"sizes": sizes, "memories": memories, "wall_s": time.perf_counter() - t0,
                                         **rep.to_dict()}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
