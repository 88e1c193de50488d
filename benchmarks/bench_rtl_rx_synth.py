"""Resources and logic depth of one RTL sub-module alone (default: the AER input stage ``nc_aer_rx``) from
yosys ``synth_xilinx -family xc7``, counted exactly as ``neurocal.hw.synth`` counts the whole accelerator:

    read_verilog -defer <sources>; chparam -set N_IN 400 -set WORDS 16 -set LAYERS 3 nc_aer_rx
    hierarchy -top nc_aer_rx; setattr -set fsm_encoding "none" w:*
    synth_xilinx -family xc7 -top nc_aer_rx -noiopad -noclkbuf; stat -json; flatten
    ltp -noff t:FD* t:RAMB* %u %n          # the logic-depth proxy (cells between registers)

    python benchmarks/bench_rtl_rx_synth.py [--words 16 8] [--n-in 400] [--layers 3]
        [--top nc_aer_rx] [--source old_rx.v] [--build-root build/bench-rtl-rx-synth]

``--source`` synthesises another file in place of ``rtl/<top>.v`` (e.g. an older revision:
``git show REV:hw/rtl/nc_aer_rx.v > build/rx-REV.v``), so that before and after are measured the same way.
Estimates, not a placed design (see ``neurocal.hw.synth`` for what the depth means).
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

from neurocal.hw.sources import rtl_dir
from neurocal.hw.synth import count, expand, parse_ltp, parse_stat, yosys_version

#: Helper modules a sub-module may instantiate (read when present; -defer elaborates only what is used).
HELPERS = ("nc_prio_enc",)


def synth_one(sources: list[Path], top: str, params: dict[str, int], out: Path) -> dict:
    """One yosys run of ``top`` with ``params``; resources as ``hw.synth.count`` and the ltp depth."""
    out.mkdir(parents=True, exist_ok=True)
    chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
    script = (f"read_verilog -defer {' '.join(str(s) for s in sources)}\n"
              f"chparam {chparam} {top}\n"
              f"hierarchy -top {top}\n"
              'setattr -set fsm_encoding "none" w:*\n'
              f"synth_xilinx -family xc7 -top {top} -noiopad -noclkbuf\n"
              f"tee -q -o {out / 'stat.json'} stat -json\n"
              "flatten\n"
              f"tee -q -o {out / 'ltp.txt'} ltp -noff t:FD* t:RAMB* %u %n\n")
    (out / "synth.ys").write_text(script)
    t0 = time.perf_counter()
    subprocess.run(["yosys", "-q", "-l", str(out / "yosys.log"), "-s", str(out / "synth.ys")], check=True,
                   capture_output=True)
    seconds = time.perf_counter() - t0
    cells, _, _ = expand(parse_stat((out / "stat.json").read_text()), top)
    depth, first, last = parse_ltp((out / "ltp.txt").read_text())
    return {**count(cells), "depth": depth, "from": first, "to": last, "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", nargs="+", type=int, default=[16, 8])
    ap.add_argument("--n-in", type=int, default=400)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--top", default="nc_aer_rx")
    ap.add_argument("--source", type=Path, default=None, help="synthesise this file instead of rtl/<top>.v")
    ap.add_argument("--build-root", type=Path, default=Path("build") / "bench-rtl-rx-synth")
    args = ap.parse_args()

    main_src = args.source.resolve() if args.source else rtl_dir() / f"{args.top}.v"
    sources = [rtl_dir() / f"{h}.v" for h in HELPERS if (rtl_dir() / f"{h}.v").is_file()] + [main_src]
    print(f"{yosys_version()}; {args.top} from {main_src}", flush=True)
    print(f"{'N_IN':>5} {'WORDS':>5} {'LUT':>7} {'FF':>6} {'depth':>5} {'yosys s':>7}  longest path", flush=True)
    for words in args.words:
        params = {"N_IN": args.n_in, "WORDS": words, "LAYERS": args.layers}
        out = args.build_root.resolve() / f"{main_src.stem}-n{args.n_in}-w{words}"
        r = synth_one(sources, args.top, params, out)
        print(f"{args.n_in:5d} {words:5d} {r['LUT']:7.0f} {r['FF']:6.0f} {r['depth']:5d} {r['seconds']:7.0f}  "
              f"{r['from']} -> {r['to']}", flush=True)


if __name__ == "__main__":
    main()
