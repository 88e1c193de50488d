"""Fit the resource model (``neurocal.hw.resource_model``) to yosys and write ``hw/resource_fit.py``.

    python benchmarks/calibrate_resources.py [--build-root build/calibrate] [--quick] [--check-only]
        [--recorded] [--add report.json ...]

Synthesises a set of builds (writable memories: what a board build loads networks into) with
``neurocal.hw.synth`` (cached by content: a rerun costs only what changed), fits the LUT and FF coefficients
by non-negative least squares on the model's structural counts, and prints, for every build, yosys's
figure beside the model's and the relative error; then the leave-one-out error (each build predicted by
the coefficients fitted on the others: what to expect on a build outside the set). BRAM36 is an exact
count in the model, and DSP two per LIF updater (yosys adds a few index multipliers): printed, not fitted.
``--check-only`` compares the current ``hw/resource_fit.py`` with the builds instead of writing a new one.
``--recorded`` takes the builds' yosys figures recorded in ``hw/resource_fit.py`` instead of synthesising them
again (valid while the RTL has not changed in what they count); ``--add`` adds full-design builds from
``neurocal rtl synth --out`` reports (their shape is recorded whole).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
from bench_rtl_synth import network  # the same random quantised networks as the synthesis sweep
from scipy.optimize import nnls

from neurocal.hw.cosim import shape_key
from neurocal.hw.generate import HwConfig, generate, shape_from_config
from neurocal.hw.resource_model import FF_FEATURES, LUT_FEATURES, features, predict
from neurocal.hw.synth import sources_digest, synthesize, yosys_version

HERE = Path(__file__).resolve().parent.parent
FIT_FILE = HERE / "hw" / "resource_fit.py"

# (sizes, lanes, rows, words[, lif lanes]): small and medium builds that vary every count of the model
DESIGNS: list[tuple] = [
    ([16, 8, 4], None, [4, 2], 1),
    ([16, 8, 4], [4, 2], [8, 4], 2),
    ([32, 16, 4], None, [8, 4], 4),
    ([32, 16, 4], [8, 4], [4, 2], 1),
    ([64, 16, 8, 2], None, [16, 4, 2], 2),
    ([64, 32, 8], [16, 8], [8, 8], 8),
    ([100, 20, 10, 1], None, [31, 8, 8], 4),
    ([100, 40, 10], [10, 5], [16, 8], 2),
    ([128, 24, 12], None, [8, 4], 16),
    ([200, 30, 10, 1], None, [16, 8, 8], 2),
    ([200, 50, 5], [25, 5], [31, 8], 4),
    ([48, 48, 48], None, [12, 12], 2),
    ([400, 20, 4], None, [8, 4], 2),
    ([80, 60, 20], [30, 20], [20, 10], 1),
]
# time-multiplexed LIF updaters: deep current/voltage memories (120 and 32 steps per tick)
TIME_MULTIPLEXED: list[tuple] = [
    ([120, 120, 20], [8, 2], [8, 4], 2, [1, 1]),
    ([64, 96, 10], [12, 5], [8, 2], 1, [3, 5]),
]
DESIGNS += TIME_MULTIPLEXED
QUICK = DESIGNS[:8] + TIME_MULTIPLEXED


def synth_points(designs, build_root: Path) -> list[dict]:
    points = []
    for n, (sizes, lanes, rows, words, *lif) in enumerate(designs, 1):
        net = network(sizes)
        config = HwConfig(lanes=lanes, rows=rows, words=words, lif_lanes=lif[0] if lif else None)
        shape = shape_from_config(net, config)
        project = generate(net, build_root / f"gen-{shape_key(shape)}", config, shape=shape,
                           command="benchmarks/calibrate_resources.py")
        t0 = time.perf_counter()
        report = synthesize(project, build_root)
        print(f"[{n}/{len(designs)}] {'-'.join(map(str, sizes))} lanes {list(shape.lanes)} rows {list(shape.rows)} "
              f"words {words}: LUT {report.resources['LUT']:.0f} FF {report.resources['FF']:.0f} "
              f"({time.perf_counter() - t0:.0f} s{' cached' if report.cached else ''})", flush=True)
        points.append({"design": [sizes, lanes, rows, words, *lif], "shape": shape, "yosys": report.resources})
    return points


def recorded_points() -> list[dict]:
    """The builds recorded in hw/resource_fit.py, their shapes rebuilt as synth_points builds them."""
    from neurocal.hw import resource_fit
    from neurocal.hw.core import RtlCore

    points = []
    for p in resource_fit.CALIBRATION:
        if "shape" in p:
            shape = RtlCore().shape_from_dict(p["shape"])
        else:
            shape = shape_from_config(network(p["sizes"]), HwConfig(lanes=p["lanes"], rows=p["rows"],
                                                                    words=p["words"]))
        points.append({"shape": shape, "yosys": p["yosys"], "whole": "shape" in p})
    return points


def report_points(paths: list[Path]) -> list[dict]:
    """Builds from ``neurocal rtl synth --out`` reports (the shape as generated, yosys's resources)."""
    from neurocal.hw.core import RtlCore

    points = []
    for path in paths:
        report = json.loads(path.read_text())
        shape = RtlCore().shape_from_dict(report["shape"])
        points.append({"shape": shape, "yosys": report["resources"], "whole": True})
    return points


def _recorded_sources() -> str:
    from neurocal.hw import resource_fit

    return resource_fit.SOURCES


def _plain(shape: dict) -> dict:
    """A shape dict as JSON that is also a Python literal (flags as 0/1, not true/false)."""
    return {k: int(v) if isinstance(v, bool) else v for k, v in shape.items()}


def fit(points: list[dict], names: tuple[str, ...], resource: str) -> dict[str, float]:
    """Non-negative least squares on relative errors (every build weighs alike, small or large)."""
    rows = np.array([[features(p["shape"])[k] for k in names] for p in points])
    y = np.array([p["yosys"][resource] for p in points])
    scale = 1.0 / np.maximum(y, 1.0)
    coef, _ = nnls(rows * scale[:, None], y * scale)
    return {k: float(c) for k, c in zip(names, coef, strict=True) if c > 0}


def errors(points: list[dict], lut: dict[str, float], ff: dict[str, float]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"LUT": [], "FF": [], "DSP": [], "BRAM36": []}
    for p in points:
        model = predict(p["shape"], lut, ff)
        for k in out:
            ref = p["yosys"][k]
            out[k].append((model[k] - ref) / ref if ref else (0.0 if model[k] == 0 else float("inf")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-root", type=Path, default=HERE / "build" / "calibrate")
    ap.add_argument("--quick", action="store_true", help=f"{len(QUICK)} of the {len(DESIGNS)} builds only")
    ap.add_argument("--check-only", action="store_true", help="compare hw/resource_fit.py with the builds")
    ap.add_argument("--recorded", action="store_true", help="the yosys figures recorded in hw/resource_fit.py")
    ap.add_argument("--add", type=Path, nargs="*", default=[], help="rtl synth --out reports to add")
    args = ap.parse_args()
    print(f"yosys: {yosys_version()}; RTL sources {sources_digest()}", flush=True)
    if args.recorded:
        points = [p for p in recorded_points() if not any(p["shape"] == q["shape"] for q in report_points(args.add))]
    else:
        points = synth_points(QUICK if args.quick else DESIGNS, args.build_root.resolve())
    points += report_points(args.add)
    if args.check_only:
        from neurocal.hw import resource_fit
        lut, ff = resource_fit.LUT, resource_fit.FF
    else:
        lut, ff = fit(points, LUT_FEATURES, "LUT"), fit(points, FF_FEATURES, "FF")
    err = errors(points, lut, ff)
    print(f"\n{'build':<34} {'LUT yosys':>9} {'model':>8} {'err':>6}   {'FF yosys':>8} {'model':>8} {'err':>6}"
          f"   BRAM  DSP yosys/model")
    for p, el, ef, eb in zip(points, err["LUT"], err["FF"], err["BRAM36"], strict=True):
        m = predict(p["shape"], lut, ff)
        label = f"{'-'.join(map(str, p['shape'].sizes))} l{list(p['shape'].lanes)} r{list(p['shape'].rows)}"
        print(f"{label:<34} {p['yosys']['LUT']:9.0f} {m['LUT']:8.0f} {100 * el:5.1f}%   {p['yosys']['FF']:8.0f} "
              f"{m['FF']:8.0f} {100 * ef:5.1f}%   {'exact' if eb == 0 else 'DIFFERS'}  "
              f"{p['yosys']['DSP']:.0f}/{m['DSP']:.0f}")
    loo = {"LUT": [], "FF": []}
    if not args.check_only:
        for i in range(len(points)):
            rest = points[:i] + points[i + 1:]
            l_i, f_i = fit(rest, LUT_FEATURES, "LUT"), fit(rest, FF_FEATURES, "FF")
            e = errors([points[i]], l_i, f_i)
            loo["LUT"].append(e["LUT"][0])
            loo["FF"].append(e["FF"][0])
    worst = {k: max(abs(v) for v in err[k]) for k in ("LUT", "FF")}
    print(f"\nworst error of the fit: LUT {100 * worst['LUT']:.1f} %, FF {100 * worst['FF']:.1f} %")
    if loo["LUT"]:
        print(f"leave-one-out: LUT worst {100 * max(map(abs, loo['LUT'])):.1f} %, median "
              f"{100 * float(np.median(np.abs(loo['LUT']))):.1f} %; FF worst {100 * max(map(abs, loo['FF'])):.1f} %, "
              f"median {100 * float(np.median(np.abs(loo['FF']))):.1f} %")
    if args.check_only:
        return
    error_summary = {"LUT": worst["LUT"], "FF": worst["FF"], "LUT_loo": max(map(abs, loo["LUT"])),
                     "FF_loo": max(map(abs, loo["FF"]))}
    calibration = [{"sizes": list(p["shape"].sizes), "lanes": list(p["shape"].lanes), "rows": list(p["shape"].rows),
                    "words": p["shape"].words, "yosys": {k: p["yosys"][k] for k in ("LUT", "FF", "DSP", "BRAM36")}}
                   | {"shape": _plain(dataclasses.asdict(p["shape"]))}
                   for p in points]
    # recorded figures belong to the sources they were measured on (a full-design build added is newer)
    sources = _recorded_sources() if args.recorded else sources_digest()
    flags = (" --quick" if args.quick else "") + (" --recorded" if args.recorded else "") + (
        " --add " + " ".join(p.name for p in args.add) if args.add else "")
    text = (f"# Generated by `python benchmarks/calibrate_resources.py{flags}` "
            "(neurocal.hw.resource_model); do not edit.  # noqa: E501\n"
            '"""Fitted coefficients of the resource model: per-unit LUT and FF cost of each structural count."""\n\n'
            f"SOURCES = {sources!r}  # RTL sources digest (neurocal.hw.synth.sources_digest) of the fit\n"
            f"YOSYS = {yosys_version()!r}\n"
            f"LUT = {json.dumps(lut, indent=4, sort_keys=True)}\n"
            f"FF = {json.dumps(ff, indent=4, sort_keys=True)}\n"
            f"#: worst relative error over the calibration builds (fit) and leave-one-out\n"
            f"ERROR = {json.dumps(error_summary, indent=4)}\n"
            f"CALIBRATION = {json.dumps(calibration, indent=1)}\n")
    FIT_FILE.write_text(text)
    print(f"wrote {FIT_FILE.relative_to(HERE)}")


if __name__ == "__main__":
    sys.exit(main())
