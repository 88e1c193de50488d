"""Physics evaluation of a run: metrics.json and plots, SNN and ANN beside the trivial baseline.

Energy: the networks regress log10(E/MeV); we report the mean relative error on log10 E and on
E, the response ⟨E_pred/E⟩ and the resolution σ(E_pred/E)/⟨E_pred/E⟩, overall and in bins of
true energy. Centroid: mean absolute error per axis in mm (one cell = 3 × 3 × 12 mm in x, y, z).
Dispersion: mean relative error of σ²_x, σ²_y and σ²_z. Centroids are in cell-index units (0–9,
SNN-Cal's convention) and reported in mm. PID: accuracy and confusion matrix.
"Baseline" predicts the training mean (regression) or the training majority class (PID): a
network is only useful by the margin it has over it.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurocal.atomic import atomic_path, write_text_atomic
from neurocal.bundle import load_bundle
from neurocal.errors import NeurocalError
from neurocal.models.data import CLASS_NAMES, TargetSpec
from neurocal.models.training import load_model, load_split, predict, prepare, read_run
from neurocal.targets import split_outputs

METRICS_SCHEMA = "neurocal.metrics/1"
CELL_MM = np.array([3.0, 3.0, 12.0])  # cell size along x, y, z
N_ENERGY_BINS = 6


def _energy_metrics(log_true: np.ndarray, log_pred: np.ndarray) -> dict[str, Any]:
    e_true, e_pred = 10.0**log_true, 10.0**log_pred
    ratio = e_pred / e_true
    edges = np.quantile(log_true, np.linspace(0, 1, N_ENERGY_BINS + 1))
    bins = []
    for lo, hi in itertools.pairwise(edges):
        sel = (log_true >= lo) & (log_true <= hi)
        if sel.sum() >= 2:
            r = ratio[sel]
            bins.append({"e_low_mev": 10**lo, "e_high_mev": 10**hi, "n": int(sel.sum()),
                         "response": float(r.mean()), "resolution": float(r.std() / r.mean())})
    return {
        "mre_log10E": float(np.mean(np.abs(log_pred - log_true) / np.abs(log_true))),
        "mre_E": float(np.mean(np.abs(e_pred - e_true) / e_true)),
        "rmse_log10E": float(np.sqrt(np.mean((log_pred - log_true) ** 2))),
        "response": float(ratio.mean()),
        "response_median": float(np.median(ratio)),
        "resolution": float(ratio.std() / ratio.mean()),
        "binned": bins,
    }


def _centroid_metrics(true: np.ndarray, pred: np.ndarray, axes: str = "xyz") -> dict[str, Any]:
    """MAE per axis in mm (cell-index units × 3, 3, 12 mm) and in cells."""
    cell_mm = CELL_MM[["xyz".index(a) for a in axes]]
    mae = np.mean(np.abs(pred - true), axis=0)
    return {"mae_mm": {axis: float(v) for axis, v in zip(axes, mae * cell_mm, strict=True)},
            "mae_cells": {axis: float(v) for axis, v in zip(axes, mae, strict=True)}}


def _dispersion_metrics(true: np.ndarray, pred: np.ndarray, axes: str = "xyz") -> dict[str, Any]:
    out = {}
    for j, name in enumerate(f"sigma2_{a}" for a in axes):
        sel = true[:, j] > 0
        out[name] = float(np.mean(np.abs(pred[sel, j] - true[sel, j]) / true[sel, j])) if sel.any() else float("nan")
    return {"mre": out}


def _pid_metrics(true: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    k = len(CLASS_NAMES)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (true, pred), 1)
    per_class = {CLASS_NAMES[i]: float(cm[i, i] / cm[i].sum()) if cm[i].sum() else float("nan") for i in range(k)}
    return {
        "accuracy": float(np.mean(true == pred)),
        "chance": float(1.0 / len(np.unique(true))),
        "efficiency": per_class,
        "confusion": cm.tolist(),
        "confusion_axes": "rows: true class, columns: predicted class, order " + "/".join(CLASS_NAMES),
    }


def physics_metrics(
    spec: TargetSpec, y_reg: np.ndarray, y_cls: np.ndarray, reg_pred: np.ndarray, cls_pred: np.ndarray | None
) -> dict[str, Any]:
    """Metrics of one model; ``y_reg``/``reg_pred`` in physical units (log10 E for energy)."""
    out: dict[str, Any] = {}
    col = 0
    for part in spec.parts:
        if part == "energy":
            out["energy"] = _energy_metrics(y_reg[:, col], reg_pred[:, col])
            col += 1
        elif part in ("centroid", "dispersion"):
            fn = _centroid_metrics if part == "centroid" else _dispersion_metrics
            out[part] = fn(y_reg[:, col : col + 3], reg_pred[:, col : col + 3])
            col += 3
        elif part.startswith(("centroid_", "dispersion_")):
            kind, axis = part.split("_")
            fn = _centroid_metrics if kind == "centroid" else _dispersion_metrics
            out[kind] = fn(y_reg[:, col : col + 1], reg_pred[:, col : col + 1], axis)
            col += 1
        elif part == "pid" and cls_pred is not None:
            out["pid"] = _pid_metrics(y_cls, cls_pred)
    return out


def evaluate(run_dir: str | os.PathLike[str], data_path: str | os.PathLike[str] | None = None,
             plots: bool = True, bundle: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Evaluate a run's best SNN (and ANN, if trained) on its test split; write metrics.json and PNGs.

    With ``bundle`` (a ``neurocal quantize`` output directory or its intnet.json) the integer
    network also runs on the same test events in the golden model; its metrics appear as model
    ``"integer"`` and ``result["integer"]`` holds the relative difference to the float SNN per metric.
    """
    run_dir = Path(run_dir)
    config, info = read_run(run_dir)
    data_path = data_path or info.get("data_path")
    if not data_path:
        raise NeurocalError(f"{run_dir}: the run names no dataset; pass --data")
    split_path = run_dir / "split.npz"
    split = load_split(split_path) if split_path.exists() else None
    data = prepare(config, data_path, split)
    if int(data.x.shape[2]) != int(info["n_inputs"]):
        raise NeurocalError(
            f"{data_path}: {data.x.shape[2]} input channels, the run's network takes {info['n_inputs']}"
        )
    test = data.split["test"]
    spec = data.spec
    mean, std = np.asarray(info["target_mean"]), np.asarray(info["target_std"])
    y_reg, y_cls = data.y_reg_raw[test], data.y_cls.numpy()[test]
    train_idx = data.split["train"]

    models: dict[str, Any] = {}
    preds: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    for kind in ("snn", "ann"):
        if not (run_dir / f"{kind}_best.pt").exists():
            continue
        model, _, _ = load_model(run_dir, kind)
        with torch.no_grad():
            out = predict(model, data.inputs(model)[torch.from_numpy(test)]).numpy().astype(np.float64)
        preds[kind] = split_outputs(out, spec, mean, std)
        models[kind] = physics_metrics(spec, y_reg, y_cls, *preds[kind])
    if not preds:
        raise NeurocalError(f"{run_dir}: no trained network (snn_best.pt / ann_best.pt); run 'neurocal train' first")
    # the trivial baseline, fitted on the training split only
    base_reg = np.broadcast_to(data.y_reg_raw[train_idx].mean(axis=0), y_reg.shape)
    base_cls = None
    if spec.has_pid:
        majority = np.bincount(data.y_cls.numpy()[train_idx], minlength=len(CLASS_NAMES)).argmax()
        base_cls = np.full(len(test), majority)
    preds["baseline"] = (np.array(base_reg), base_cls)
    models["baseline"] = physics_metrics(spec, y_reg, y_cls, *preds["baseline"])
    integer: dict[str, Any] | None = None
    if bundle is not None:
        net = load_bundle(Path(bundle))
        _check_bundle(net, spec, info, bundle)
        meta = net.metadata
        mean_i = np.asarray(meta.get("target_mean", info["target_mean"]), dtype=np.float64)
        std_i = np.asarray(meta.get("target_std", info["target_std"]), dtype=np.float64)
        out = integer_outputs(net, data.x[torch.from_numpy(test)].numpy())
        models["integer"] = physics_metrics(spec, y_reg, y_cls, *split_outputs(out, spec, mean_i, std_i))
        integer = {
            "bundle": str(bundle),
            "content_hash": net.content_hash,
            "backend": "golden",
            "relative_difference": relative_differences(models["snn"], models["integer"]) if "snn" in models else {},
        }

    result: dict[str, Any] = {
        "schema": METRICS_SCHEMA,
        "run": str(run_dir),
        "data": str(data_path),
        "target": spec.target,
        "n_test": len(test),
        "baseline": "training mean (regression) / training majority class (PID)",
        "models": models,
        "plots": [],
    }
    if integer is not None:
        result["integer"] = integer
    if plots:
        result["plots"] = _plots(run_dir, spec, y_reg, y_cls, preds, info)
    write_text_atomic(run_dir / "metrics.json", json.dumps(result, indent=2))
    return result


# ----------------------------------------------------------------------------------------------- integer


def _check_bundle(net: Any, spec: TargetSpec, info: dict[str, Any], bundle: Any) -> None:
    if net.n_inputs != int(info["n_inputs"]):
        raise NeurocalError(f"{bundle}: the integer network takes {net.n_inputs} inputs, the run {info['n_inputs']}")
    target = net.metadata.get("target")
    if net.n_outputs != spec.n_outputs or (target is not None and target != spec.target):
        raise NeurocalError(
            f"{bundle}: the integer network predicts {target!r} with {net.n_outputs} outputs, the run "
            f"{spec.target!r} with {spec.n_outputs}; quantize this run's export"
        )


def integer_outputs(net: Any, spikes: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Outputs of the integer network (golden model) on bool spikes (events, ticks, n_in).

    The same units as the float SNN's output: a membrane readout's final voltage decoded to float
    (``IntNetwork.decode_voltage``, standardised target units), a spike readout's count over the
    T + L ticks times the exported ``decode_scale`` plus ``decode_offset``.
    """
    from neurocal.golden import simulate

    parts = []
    for start in range(0, len(spikes), chunk):  # bounds the per-layer spike arrays the golden model returns
        res = simulate(net, spikes[start : start + chunk])
        if net.readout == "membrane":
            parts.append(net.decode_voltage(res.v_final[-1]))
        else:
            counts = res.spikes[-1].sum(axis=1).astype(np.float64)
            scale = np.asarray(net.metadata.get("decode_scale", np.ones(net.n_outputs)), dtype=np.float64)
            offset = np.asarray(net.metadata.get("decode_offset", np.zeros(net.n_outputs)), dtype=np.float64)
            parts.append(counts * scale + offset)
    return np.concatenate(parts) if parts else np.zeros((0, net.n_outputs))


def headline(metrics: dict[str, Any]) -> dict[str, float]:
    """The scalar metrics of one model, by display name (the rows of tables and comparisons)."""
    out: dict[str, float] = {}
    if "energy" in metrics:
        e = metrics["energy"]
        out |= {"energy: MRE log10 E": e["mre_log10E"], "energy: MRE E": e["mre_E"],
                "energy: response": e["response"], "energy: resolution": e["resolution"]}
    if "centroid" in metrics:
        out |= {f"centroid: MAE {a} (mm)": v for a, v in metrics["centroid"]["mae_mm"].items()}
    if "dispersion" in metrics:
        out |= {f"dispersion: MRE {c}": v for c, v in metrics["dispersion"]["mre"].items()}
    if "pid" in metrics:
        out["PID: accuracy"] = metrics["pid"]["accuracy"]
    return out


def relative_differences(reference: dict[str, Any], other: dict[str, Any]) -> dict[str, float]:
    """(other − reference)/|reference| per headline metric (NaN where the reference is 0)."""
    ref, oth = headline(reference), headline(other)
    return {k: (oth[k] - v) / abs(v) if v else float("nan") for k, v in ref.items() if k in oth}


# ----------------------------------------------------------------------------------------------- plots


def _save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return path.name


def _plots(run_dir: Path, spec: TargetSpec, y_reg: np.ndarray, y_cls: np.ndarray,
           preds: dict[str, tuple[np.ndarray, np.ndarray | None]], info: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k in ("snn", "ann", "baseline") if k in preds]
    nets = [k for k in names if k != "baseline"]
    written: list[str] = []
    for j, name in enumerate(spec.regression_names):
        # centroids are drawn in mm (cell-index units × the cell size along the axis)
        scale = float(CELL_MM["xyz".index(name[-1])]) if name.startswith("centroid_") else 1.0
        label = f"{name} (mm)" if scale != 1.0 else name
        true = y_reg[:, j] * scale
        fig, axes = plt.subplots(2, len(nets), figsize=(4.2 * len(nets), 7.5), squeeze=False)
        for c, kind in enumerate(nets):
            pred = preds[kind][0][:, j] * scale
            ax = axes[0, c]
            ax.scatter(true, pred, s=4, alpha=0.5)
            lo, hi = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
            ax.plot([lo, hi], [lo, hi], "k--", lw=1)
            ax.set(xlabel=f"true {label}", ylabel=f"predicted {label}", title=kind.upper())
            ax = axes[1, c]
            ax.hist(pred - true, bins=40, alpha=0.7, label=kind)
            ax.hist(preds["baseline"][0][:, j] * scale - true, bins=40, histtype="step", color="k", label="baseline")
            ax.set(xlabel=f"residual {label}", ylabel="events")
            ax.legend()
        fig.suptitle(f"{label}: predicted vs true, residuals (test set)")
        written.append(_save(fig, run_dir / f"{name}.png"))
    if "energy" in spec.parts:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for kind in names:
            log_pred = preds[kind][0][:, 0]
            m = _energy_metrics(y_reg[:, 0], log_pred)["binned"]
            centres = [np.sqrt(b["e_low_mev"] * b["e_high_mev"]) for b in m]
            axes[0].plot(centres, [b["response"] for b in m], "o-", label=kind)
            axes[1].plot(centres, [b["resolution"] for b in m], "o-", label=kind)
        axes[0].axhline(1.0, color="k", lw=0.8)
        axes[0].set(xscale="log", xlabel="true E (MeV)", ylabel="response ⟨E_pred/E⟩")
        axes[1].set(xscale="log", xlabel="true E (MeV)", ylabel="resolution σ/⟨E_pred/E⟩")
        axes[0].legend()
        written.append(_save(fig, run_dir / "energy_response.png"))
    if spec.has_pid:
        fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.8), squeeze=False)
        for c, kind in enumerate(names):
            cm = np.array(_pid_metrics(y_cls, preds[kind][1])["confusion"], dtype=float)
            cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
            ax = axes[0, c]
            ax.imshow(cm, vmin=0, vmax=1, cmap="Blues")
            for a in range(cm.shape[0]):
                for b in range(cm.shape[1]):
                    ax.text(b, a, f"{cm[a, b]:.2f}", ha="center", va="center", fontsize=9)
            ax.set(xticks=range(3), yticks=range(3), xticklabels=CLASS_NAMES, yticklabels=CLASS_NAMES,
                   xlabel="predicted", ylabel="true", title=kind.upper())
        written.append(_save(fig, run_dir / "pid_confusion.png"))
    history = info.get("training", {})
    if history:
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        for kind, h in history.items():
            epochs = [e["epoch"] for e in h["history"]]
            ax.plot(epochs, [e["train_loss"] for e in h["history"]], "--", label=f"{kind} train")
            ax.plot(epochs, [e["val_loss"] for e in h["history"]], "-", label=f"{kind} validation")
        ax.set(xlabel="epoch", ylabel="loss", yscale="log")
        ax.legend()
        written.append(_save(fig, run_dir / "training.png"))
    return written


def format_metrics(result: dict[str, Any]) -> str:
    """A short human-readable table of a metrics dict (one column per model; with an integer
    network, also its relative difference to the float SNN)."""
    models = result["models"]
    names = [k for k in ("snn", "ann", "integer", "baseline") if k in models]
    rows = {n: headline(models[n]) for n in names}
    rel = result.get("integer", {}).get("relative_difference", {})
    labels = list(rows[names[0]])
    width = max(len(label) for label in labels) + 2
    header = " " * width + "".join(f"{n:>12}" for n in names) + (f"{'int vs snn':>12}" if rel else "")
    lines = [f"{result['target']} on {result['n_test']} test events", header]
    for label in labels:
        fmt = "{:.3f}" if "(mm)" in label else "{:.4f}"
        vals = [fmt.format(rows[n][label]) if label in rows[n] else "-" for n in names]
        extra = f"{rel[label]:>+11.1%} " if label in rel else ""
        lines.append(label.ljust(width) + "".join(f"{v:>12}" for v in vals) + extra)
    return "\n".join(lines)
