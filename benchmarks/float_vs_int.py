"""Float SNN vs integer network (post-training quantisation and QAT), per target and metric.

    python benchmarks/float_vs_int.py                         # simulate 3000 events (cached), all targets
    python benchmarks/float_vs_int.py --data data.h5 --targets energy,pid --qat-epochs 3

For each target: train ``TrainConfig.demo(target)`` (no ANN baseline), export to NIR, quantise
with ``neurocal.quantize.quantize`` calibrated on the first training events, and evaluate the
float SNN and the integer network (golden model) on the run's test split; then fine-tune the run
with quantisation-aware training (``finetune_qat``), export, quantise with the same calibration
events and evaluate again, beside the QAT network's own torch forward (fake-quantised, Lava delay) to
separate what QAT changed in the network from what the integer arithmetic changes. Prints one
markdown table (relative differences; beyond the tolerance, 5 %: "✗" worse, "↑" better) and
writes it with the raw numbers to ``--out``.
Runs that already exist in ``--out`` are reused, so an interrupted benchmark resumes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurocal.atomic import write_text_atomic
from neurocal.headroom import headroom
from neurocal.models.config import TrainConfig
from neurocal.models.metrics import evaluate, headline, physics_metrics
from neurocal.models.nir_io import export
from neurocal.models.qat import DEFAULT_CALIBRATION_EVENTS, IntGridQuantizer, calibration_spikes, finetune_qat
from neurocal.models.training import load_model, load_split, predict, prepare, read_run, train
from neurocal.nirgraph import read_chain
from neurocal.quantize import quantize
from neurocal.targets import split_outputs

TARGETS = ("energy", "centroid", "dispersion", "pid")


def _dataset(path: str | None, out: Path) -> Path:
    if path:
        return Path(path)
    cached = out / "sim3000_seed1_paper.h5"
    if not cached.exists():
        from neurocal.sim.dataset import write_h5
        from neurocal.sim.simulate import SimConfig, simulate

        print(f"simulating 3000 events (proton, kaon, pion; paper light) → {cached}", flush=True)
        write_h5(simulate(["proton", "kaon", "pion"], 3000, 1, SimConfig(light="paper")), cached)
    return cached


def _quantize_run(run: Path, data: Path, bundle: Path, n_calib: int) -> dict[str, Any]:
    """Export ``run``, quantise it calibrated on its first ``n_calib`` training events, write the bundle."""
    config, _ = read_run(run)
    bundle.mkdir(parents=True, exist_ok=True)
    nir_path = export(run, bundle / "model.nir")
    prepared = prepare(config, data, load_split(run / "split.npz"))
    calib = calibration_spikes(prepared.x, prepared.split["train"], n_calib)
    net = quantize(read_chain(nir_path), calib)
    room = headroom(net, calib)
    net.calibration = {"data": str(data), "events": int(calib.shape[0]), "split": "train (first events)",
                       "headroom_ok": room.ok}
    net.save(bundle / "intnet.json")
    return {"content_hash": net.content_hash, "headroom_ok": room.ok}


def _one_target(target: str, data: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    base = out / target
    float_run, qat_run = base / "float", base / "qat"
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    if not (float_run / "snn_best.pt").exists() or read_run(float_run)[1].get("status") != "trained":
        overrides = {"epochs": args.epochs} if args.epochs else {}
        config = TrainConfig.demo(target, ann_baseline=False, threads=args.threads, **overrides)
        train(config, data, float_run, progress=False, resume=(float_run / "run.json").exists(),
              log=lambda m: print(f"  [{target}] {m}", flush=True))
    timing["train_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ptq = _quantize_run(float_run, data, base / "bundle_ptq", DEFAULT_CALIBRATION_EVENTS)
    ptq_eval = evaluate(float_run, data, plots=False, bundle=base / "bundle_ptq")
    timing["ptq_eval_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if not (qat_run / "run.json").exists() or read_run(qat_run)[1].get("status") != "trained":
        if qat_run.exists():  # an interrupted fine-tune: start it again
            import shutil

            shutil.rmtree(qat_run)
        finetune_qat(float_run, data, qat_run, args.qat_epochs, progress=False, every=args.qat_every,
                     log=lambda m: print(f"  [{target} qat] {m}", flush=True))
    timing["qat_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_calib = read_run(qat_run)[1]["qat_settings"]["calibration_events"]
    qat = _quantize_run(qat_run, data, base / "bundle_qat", n_calib)
    qat_eval = evaluate(qat_run, data, plots=False, bundle=base / "bundle_qat")
    fake_quant = _fake_quant_metrics(qat_run, data, n_calib)
    timing["qat_eval_s"] = time.perf_counter() - t0
    return {
        "float": headline(ptq_eval["models"]["snn"]),
        "int_ptq": headline(ptq_eval["models"]["integer"]),
        "qat_float": headline(qat_eval["models"]["snn"]),
        "int_qat": headline(qat_eval["models"]["integer"]),
        "qat_fake_quant": fake_quant,
        "baseline": headline(ptq_eval["models"]["baseline"]),
        "n_test": ptq_eval["n_test"],
        "bundles": {"ptq": ptq, "qat": qat},
        "seconds": timing,
    }


def _fake_quant_metrics(run: Path, data: Path, n_calib: int) -> dict[str, float]:
    """Metrics of the QAT run's torch forward as it trains: fake-quantised, with Lava's delay."""
    config, info = read_run(run)
    prepared = prepare(config, data, load_split(run / "split.npz"))
    net, _, _ = load_model(run, "snn")
    calib = calibration_spikes(prepared.x, prepared.split["train"], n_calib)
    net.fake_quant = IntGridQuantizer(net, calib, dt=float(info["tick_ns"]) * 1e-9)
    net.lava_delay = True
    test = prepared.split["test"]
    out = predict(net, prepared.x[torch.from_numpy(test)]).numpy().astype(np.float64)
    reg, cls = split_outputs(out, prepared.spec, np.asarray(info["target_mean"]), np.asarray(info["target_std"]))
    return headline(physics_metrics(prepared.spec, prepared.y_reg_raw[test], prepared.y_cls.numpy()[test], reg, cls))


def _rel(value: float, ref: float) -> float:
    return (value - ref) / abs(ref) if ref else float("nan")


def _worse(metric: str, value: float, ref: float) -> bool:
    if "accuracy" in metric:
        return value < ref
    if "response" in metric:  # the ideal response is 1
        return abs(value - 1.0) > abs(ref - 1.0)
    return value > ref  # errors and resolution: lower is better


def _cell(metric: str, value: float, ref: float, tolerance: float) -> str:
    d = _rel(value, ref)
    mark = "" if abs(d) <= tolerance else (" ✗" if _worse(metric, value, ref) else " ↑")
    return f"{d:+.1%}{mark}"


def table(results: dict[str, dict[str, Any]], tolerance: float) -> str:
    lines = [
        "| target | metric | float SNN | int PTQ | Δ PTQ | int QAT | Δ QAT | QAT torch (fake-quant) | Δ int QAT "
        "vs torch | baseline |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for target, r in results.items():
        for metric, ref in r["float"].items():
            ptq, qat, fq = r["int_ptq"][metric], r["int_qat"][metric], r["qat_fake_quant"][metric]
            lines.append(
                f"| {target} | {metric} | {ref:.4f} | {ptq:.4f} | {_cell(metric, ptq, ref, tolerance)} | {qat:.4f} | "
                f"{_cell(metric, qat, ref, tolerance)} | {fq:.4f} | {_cell(metric, qat, fq, tolerance)} | "
                f"{r['baseline'][metric]:.4f} |"
            )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="dataset (.h5/.dat); default: simulate 3000 events, cached in --out")
    p.add_argument("--out", default="build/bench_fvi", help="runs, bundles and results [build/bench_fvi]")
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--epochs", type=int, default=None, help="float training epochs [demo config: 10]")
    p.add_argument("--qat-epochs", type=int, default=3)
    p.add_argument("--qat-every", type=int, default=10, help="QAT steps between grid refreshes")
    # one thread: on a shared 2-core machine torch's 2-thread backward waits on the other cores' load
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--tolerance", type=float, default=0.05)
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = _dataset(args.data, out)
    results: dict[str, dict[str, Any]] = {}
    for target in args.targets.split(","):
        t0 = time.perf_counter()
        print(f"== {target}", flush=True)
        results[target] = _one_target(target, data, out, args)
        print(f"== {target} done in {time.perf_counter() - t0:.0f} s", flush=True)
    md = table(results, args.tolerance)
    header = (f"Float SNN vs integer network (golden model) on {data} — test events per target: "
              + ", ".join(f"{t} {r['n_test']}" for t, r in results.items())
              + f"; Δ relative to the float SNN (last column: to the QAT torch forward); beyond {args.tolerance:.0%}: "
              f"✗ worse, ↑ better; QAT: {args.qat_epochs} epochs, calibration: first "
              f"{DEFAULT_CALIBRATION_EVENTS} training events\n\n")
    print(header + md)
    write_text_atomic(out / "float_vs_int.md", header + md + "\n")
    write_text_atomic(out / "float_vs_int.json", json.dumps({"data": str(data), "results": results}, indent=1))


if __name__ == "__main__":
    main()
