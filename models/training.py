"""Training: seeded, deterministic, resumable, with the run's configuration, split and checkpoints on disk.

A run directory holds::

    config.yaml        the TrainConfig (YAML, re-loadable with --config)
    run.json           dataset path, sizes, target standardisation, status
    split.npz          train / val / test event indices into the dataset
    snn_last.pt        last checkpoint (model, optimiser, epoch, history, early-stopping state)
    snn_best.pt        best-validation model
    ann_last.pt, ann_best.pt   the same for the ANN baseline (if trained)

Determinism: the epoch-``e`` shuffle comes from a generator seeded with (seed, e), and nothing
else draws random numbers after initialisation, so training 1 epoch and resuming to 2 gives the
same network as training 2 epochs straight (same thread count).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from neurocal.atomic import atomic_path, check_output_dir, output_dir, write_text_atomic
from neurocal.errors import NeurocalError
from neurocal.limits import check_memory
from neurocal.models.config import RESUMABLE_FIELDS, TrainConfig, load_config, save_config
from neurocal.models.data import (
    CLASS_NAMES,
    Standardiser,
    TargetSpec,
    encode,
    extract_targets,
    load_events,
    make_split,
    recorded_frontend,
)
from neurocal.models.networks import ANN, SNN, FakeQuant

RUN_SCHEMA = "neurocal.run/1"
KINDS = ("snn", "ann")


# ----------------------------------------------------------------------------------------------- data


@dataclass
class Prepared:
    """A dataset ready for a run: spike inputs and standardised targets of the usable events."""

    x: Tensor  # bool (N, T, n_inputs), all dataset events
    y_reg: Tensor  # float32 (N, n_reg), standardised
    y_cls: Tensor  # int64 (N,), -1 where absent
    y_reg_raw: np.ndarray  # (N, n_reg) in physical units (log10 E for energy)
    split: dict[str, np.ndarray]
    std: Standardiser
    spec: TargetSpec
    n_dropped: int
    source: str
    tick_ns: float = 0.2
    fingerprint: str = ""  # EventSet.fingerprint() of the dataset, when asked for
    photon_sums: Tensor | None = None  # float32 (N, sensors): photons summed over the window (SNN-Cal's ANN input)
    frontend: dict | None = None  # the front end the dataset records (photonic), else None: the ideal encoder

    def inputs(self, model: nn.Module) -> Tensor:
        """What ``model`` reads: spikes (N, T, channels), or photon sums for a photon-sum ANN."""
        if isinstance(model, ANN) and model.input_kind == "photon_sums":
            if self.photon_sums is None:
                raise NeurocalError(f"{self.source}: the ANN baseline needs the photon counts, which were not loaded")
            return self.photon_sums
        return self.x


def prepare(
    config: TrainConfig, data_path: str | os.PathLike[str], split: dict[str, np.ndarray] | None = None,
    fingerprint: bool = False,
) -> Prepared:
    """Load and encode a dataset, split it (or reuse ``split``) and standardise the targets on train.

    With ``fingerprint`` the dataset's content fingerprint is computed too (about 1 s per 100 MB).
    """
    events = load_events(data_path)
    if events.n_events == 0:
        raise NeurocalError(f"{data_path}: holds no events; nothing to train on")
    spec = TargetSpec(config.target)
    y_reg, y_cls, usable = extract_targets(events, spec)
    if config.max_events is not None:
        keep = np.flatnonzero(usable)[: config.max_events]
        usable = np.zeros_like(usable)
        usable[keep] = True
    if split is None:
        split = make_split(usable, config.val_fraction, config.test_fraction, config.seed)
    else:
        everything = np.concatenate(list(split.values()))
        if everything.size and (everything.max() >= events.n_events or not usable[everything].all()):
            raise NeurocalError(
                f"{data_path}: the run's split does not fit this dataset ({events.n_events} events); "
                "was the dataset changed since the run started?"
            )
    std = Standardiser.fit(y_reg[split["train"]]) if config.standardise_targets else Standardiser.identity(
        y_reg.shape[1])
    return Prepared(
        x=torch.from_numpy(encode(events, config.thresholds)),
        y_reg=torch.from_numpy(std.forward(y_reg).astype(np.float32)),
        y_cls=torch.from_numpy(y_cls),
        y_reg_raw=y_reg,
        split=split,
        std=std,
        spec=spec,
        n_dropped=int((~usable).sum()),
        source=str(data_path),
        tick_ns=float(events.tick_ns),
        fingerprint=events.fingerprint() if fingerprint else "",
        photon_sums=torch.from_numpy(events.photons.sum(axis=1, dtype=np.float64).astype(np.float32)),
        frontend=recorded_frontend(events),
    )


# ----------------------------------------------------------------------------------------------- models


def build_model(kind: str, config: TrainConfig, n_inputs: int) -> nn.Module:
    spec = TargetSpec(config.target)
    if kind == "ann":
        if config.ann_input == "photon_sums":
            return ANN(n_inputs // len(config.thresholds), config.hidden, spec.n_outputs, input_kind="photon_sums")
        return ANN(n_inputs, config.hidden, spec.n_outputs)
    return SNN(
        n_inputs,
        config.hidden,
        spec.n_outputs,
        readout=config.readout,
        beta_init=config.beta_init,
        readout_beta_init=config.readout_beta_init,
        threshold_init=1.0 if config.threshold_init == "auto" else config.threshold_init,
        readout_threshold=config.readout_threshold,
        bias=config.bias,
        surrogate_alpha=config.surrogate_alpha,
        beta_min=config.beta_min,
        threshold_min=config.threshold_min,
        population=config.population,
        reset=config.reset,
        reset_delay=config.reset_delay,
    )


def regression_loss_kinds(spec: TargetSpec, loss: str) -> list[str]:
    """Per regression output: 'mse' or 'l1'. ``snn-cal``: L1 for log10 E, z and σ²; MSE for centroid x, y."""
    if loss in ("mse", "l1"):
        return [loss] * spec.n_regression
    return ["mse" if name in ("centroid_x", "centroid_y") else "l1" for name in spec.regression_names]


def loss_fn(out: Tensor, y_reg: Tensor, y_cls: Tensor, spec: TargetSpec, pid_weight: float,
            loss: str = "mse") -> Tensor:
    """Mean over the regression outputs of each one's loss (MSE or L1, see :func:`regression_loss_kinds`), plus PID."""
    total = out.new_zeros(())
    if spec.n_regression:
        kinds = regression_loss_kinds(spec, loss)
        diff = out[:, : spec.n_regression] - y_reg
        per_output = torch.stack([(diff[:, j] ** 2 if k == "mse" else diff[:, j].abs()).mean()
                                  for j, k in enumerate(kinds)])
        total = total + per_output.mean()
    if spec.has_pid:
        total = total + pid_weight * F.cross_entropy(out[:, spec.n_regression :], y_cls)
    return total


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, batch_size: int = 256) -> Tensor:
    model.eval()
    return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]) if len(x) else x.new_zeros(0)


# ----------------------------------------------------------------------------------------------- checkpoints


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise NeurocalError(f"{path}: no such checkpoint; train the run first")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError/UnpicklingError/EOFError/zipfile errors on bad files
        raise NeurocalError(
            f"{path}: corrupt or unreadable checkpoint ({type(err).__name__}: {str(err).splitlines()[0][:120]}); "
            "delete it and train again"
        ) from err
    if not isinstance(state, dict) or "model" not in state:
        raise NeurocalError(f"{path}: not a neurocal checkpoint (no 'model' entry)")
    return state


def load_model(run_dir: Path, kind: str, which: str = "best") -> tuple[nn.Module, TrainConfig, dict[str, Any]]:
    """The trained ``kind`` ("snn"/"ann") network of a run, its config and run.json."""
    config, info = read_run(run_dir)
    state = load_checkpoint(run_dir / f"{kind}_{which}.pt")
    if info.get("architecture") == "nir" and kind == "snn":  # imported: the graph defines the layers
        from neurocal.models.nir_io import import_nir

        model = import_nir(run_dir / "model.nir")
        try:
            model.load_state_dict(state["model"])
        except RuntimeError as err:
            raise NeurocalError(f"{run_dir}: checkpoint does not match model.nir ({str(err)[:160]})") from err
        return model, config, info
    model = state_to_model(kind, config, info, state)
    if isinstance(model, SNN) and model.population > 1 and model.readout == "membrane":
        model = model.collapsed()  # exactly the same outputs; what export, QAT and evaluation work on
    return model, config, info


def state_to_model(kind: str, config: TrainConfig, info: dict[str, Any], state: dict[str, Any]) -> nn.Module:
    """Rebuild a network from a checkpoint; a collapsed population readout (one neuron per output) is recognised."""
    if kind == "snn" and config.population > 1:
        readout = [k for k in state.get("model", {}) if k.startswith("layers.") and k.endswith(".fc.weight")]
        last = state["model"][max(readout, key=lambda k: int(k.split(".")[1]))] if readout else None
        if last is not None and last.shape[0] == TargetSpec(config.target).n_outputs:
            config = config.model_copy(update={"population": 1})
    model = build_model(kind, config, int(info["n_inputs"]))
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError) as err:
        raise NeurocalError(
            f"checkpoint does not match the run's configuration ({str(err).splitlines()[0][:160]})"
        ) from err
    model.eval()
    return model


def read_run(run_dir: str | os.PathLike[str]) -> tuple[TrainConfig, dict[str, Any]]:
    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file():
        raise NeurocalError(f"{run_dir}: not a training run (no run.json); create one with 'neurocal train'")
    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise NeurocalError(f"{run_dir / 'run.json'}: not valid JSON ({err})") from err
    check_run_info(info, run_dir / "run.json")
    return load_config(run_dir / "config.yaml"), info


def check_run_info(info: Any, path: Path) -> None:
    """Refuse a ``run.json`` whose fields every reader relies on are missing or out of range."""

    def bad(name: str, what: str) -> NeurocalError:
        return NeurocalError(f"{path}: field '{name}' {what}; the run is damaged: restore run.json or train again")

    if not isinstance(info, dict):
        raise NeurocalError(f"{path}: expected a JSON object; the run is damaged: restore run.json or train again")
    for name in ("n_inputs", "n_ticks"):
        value = info.get(name)
        if name in info or name == "n_inputs":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**7:
                raise bad(name, f"must be an integer in 1..10^7, got {value!r}")
    if "tick_ns" in info:
        value = info["tick_ns"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isfinite(value) and value > 0):
            raise bad("tick_ns", f"must be a finite number > 0, got {value!r}")
    if not isinstance(info.get("target"), str):
        raise bad("target", f"must be a task name, got {info.get('target')!r}")
    for name in ("target_mean", "target_std"):
        values = info.get(name, [])
        if not isinstance(values, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            raise bad(name, f"must be a list of finite numbers, got {values!r}")
    if any(v <= 0 for v in info.get("target_std", [])):
        raise bad("target_std", f"must be > 0 (targets are divided by it), got {info['target_std']!r}")


def save_split(split: dict[str, np.ndarray], path: Path) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        with tmp.open("wb") as f:
            np.savez(f, **split)


def load_split(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as z:
            return {k: z[k] for k in ("train", "val", "test")}
    except (OSError, KeyError, ValueError) as err:
        raise NeurocalError(f"{path}: unreadable split file ({err})") from err


# ----------------------------------------------------------------------------------------------- loop


def fit(
    kind: str,
    model: nn.Module,
    data: Prepared,
    config: TrainConfig,
    run_dir: Path,
    epochs: int,
    progress: bool,
    log: Callable[[str], None],
    on_epoch: Callable[[str, int, float], None] | None = None,
) -> dict[str, Any]:
    """Train ``model`` from its last checkpoint (if any) up to ``epochs``; returns the final state.

    ``on_epoch(kind, epoch, val_loss)`` runs after each epoch's checkpoint is saved (a search prunes there)."""
    from tqdm.auto import tqdm

    last_path, best_path = run_dir / f"{kind}_last.pt", run_dir / f"{kind}_best.pt"
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n_batches = math.ceil(len(data.split["train"]) / config.batch_size)
    schedule = lr_schedule(opt, config, epochs * n_batches)
    state: dict[str, Any] = {"epoch": 0, "history": [], "best_val": math.inf, "best_epoch": -1, "bad_epochs": 0,
                             "stopped_early": False}
    if last_path.exists():
        ckpt = load_checkpoint(last_path)
        try:
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            if schedule is not None and "scheduler" in ckpt:
                schedule.load_state_dict(ckpt["scheduler"])
        except (RuntimeError, KeyError, ValueError) as err:
            raise NeurocalError(f"{last_path}: checkpoint does not match the run ({err})") from err
        state.update({k: ckpt[k] for k in state})
        log(f"{kind}: resuming after epoch {state['epoch']}")
    if state["stopped_early"] or state["epoch"] >= epochs:
        return state

    train_idx = torch.from_numpy(data.split["train"])
    val_idx = torch.from_numpy(data.split["val"])
    x_all = data.inputs(model)
    x_val, yr_val, yc_val = x_all[val_idx], data.y_reg[val_idx], data.y_cls[val_idx]
    bar = tqdm(total=(epochs - state["epoch"]) * n_batches, desc=f"train {kind}", unit="batch", disable=not progress,
               leave=False)
    try:
        for epoch in range(state["epoch"], epochs):
            model.train()
            gen = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
            perm = train_idx[torch.randperm(len(train_idx), generator=gen)]
            t0, total = time.perf_counter(), 0.0
            for b in range(n_batches):
                idx = perm[b * config.batch_size : (b + 1) * config.batch_size]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x_all[idx]), data.y_reg[idx], data.y_cls[idx], data.spec, config.pid_weight,
                               config.loss)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                opt.step()
                if schedule is not None:
                    schedule.step()
                if isinstance(model, SNN):
                    model.constrain_()
                total += loss.item() * len(idx)
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.4f}")
            val = float(loss_fn(predict(model, x_val), yr_val, yc_val, data.spec, config.pid_weight, config.loss))
            state["history"].append(
                {"epoch": epoch + 1, "train_loss": total / len(train_idx), "val_loss": val,
                 "seconds": time.perf_counter() - t0}
            )
            state["epoch"] = epoch + 1
            if val < state["best_val"]:
                state.update(best_val=val, best_epoch=epoch + 1, bad_epochs=0)
                save_checkpoint({"model": model.state_dict(), "epoch": epoch + 1, "val_loss": val}, best_path)
            else:
                state["bad_epochs"] += 1
            state["stopped_early"] = state["bad_epochs"] >= config.patience
            save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(), **state,
                             **({"scheduler": schedule.state_dict()} if schedule is not None else {})}, last_path)
            log(f"{kind}: epoch {epoch + 1}/{epochs}  train {total / len(train_idx):.4f}  val {val:.4f}"
                f"{'  (best)' if state['best_epoch'] == epoch + 1 else ''}")
            if on_epoch is not None:
                on_epoch(kind, epoch + 1, val)
            if state["stopped_early"]:
                log(f"{kind}: early stop, no validation improvement for {config.patience} epochs")
                break
    finally:
        bar.close()
    return state


def lr_schedule(opt: torch.optim.Optimizer, config: TrainConfig, total_steps: int) -> Any:
    """Per-batch learning-rate schedule: None (constant), cosine decay to 1 % of lr, or one-cycle (peak lr)."""
    if config.lr_schedule == "constant" or total_steps < 1:
        return None
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps, eta_min=config.lr * 0.01)
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=total_steps, pct_start=0.2)


def _check_resumable(stored: TrainConfig, requested: TrainConfig, run_dir: Path) -> None:
    a, b = stored.model_dump(), requested.model_dump()
    changed = sorted(k for k in a if a[k] != b[k] and k not in RESUMABLE_FIELDS)
    if changed:
        raise NeurocalError(
            f"{run_dir}: cannot resume with a different configuration (changed: {', '.join(changed)}); "
            f"only {', '.join(sorted(RESUMABLE_FIELDS))} may change — or train into a new --out"
        )


def training_memory_bytes(config: TrainConfig, n_inputs: int, n_ticks: int) -> float:
    """Estimated peak memory of training one network pair, beyond the dataset itself.

    Per network: parameters P = Σ (n_in + 1)·n_out, held four times (weights, gradients, Adam's two
    moments); activations of one batch kept for backpropagation, ~8 float32 tensors per neuron per
    tick (synaptic input, membrane, spike, surrogate terms). The ANN baseline has the same layers.
    """
    sizes = [n_inputs, *config.hidden, TargetSpec(config.target).n_outputs]
    params = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    neurons = sum(sizes[1:])
    snn = 16.0 * params + 32.0 * config.batch_size * n_ticks * neurons
    ann = 16.0 * params + 32.0 * config.batch_size * neurons if config.ann_baseline else 0.0
    return snn + ann


def _has_checkpoint(run_dir: Path) -> bool:
    """Worth keeping after a failure: something ``--resume`` continues from."""
    return any((run_dir / f"{kind}_last.pt").exists() for kind in KINDS)


def train(
    config: TrainConfig,
    data_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    progress: bool = True,
    *,
    resume: bool = False,
    fake_quant: FakeQuant | None = None,
    log: Callable[[str], None] | None = None,
    on_epoch: Callable[[str, int, float], None] | None = None,
) -> Path:
    """Train the SNN (and the ANN baseline) for ``config`` on ``data_path`` into ``out_dir``.

    With ``resume`` an interrupted run continues from its last checkpoints (its stored split and
    configuration; only epochs/patience/threads may change) on the same dataset: run.json records
    the dataset's content fingerprint and a different dataset is refused. ``fake_quant`` plugs a
    quantisation-aware transform into the SNN's forward pass. Returns the run directory.

    Everything that can be checked is checked before the run directory is created (writable
    folder, dataset, configuration, memory); a run directory created here is removed again if
    training fails before its first checkpoint.
    """
    out = Path(out_dir)
    log = log or (lambda msg: None)
    check_output_dir(out)
    if config.threads is not None:
        torch.set_num_threads(min(config.threads, os.cpu_count() or 1))
    if (out / "run.json").exists() and not resume:
        raise NeurocalError(f"{out}: already holds a run; pass --resume to continue it, or choose another --out")
    stored_info: dict[str, Any] | None = None
    if resume:
        if not (out / "run.json").exists():
            raise NeurocalError(f"{out}: nothing to resume (no run.json)")
        stored, stored_info = read_run(out)
        _check_resumable(stored, config, out)
        split = load_split(out / "split.npz")
        if data_path is None:
            data_path = stored_info.get("data_path")
            if not data_path or not Path(data_path).exists():
                raise NeurocalError(f"{out / 'run.json'}: records the dataset {data_path!r}, which no longer "
                                    "exists; pass --data with the same events")
    else:
        split = None
    data = prepare(config, data_path, split, fingerprint=True)
    if stored_info is not None:
        check_same_data(stored_info, data, out, log)
    n_inputs, n_ticks = int(data.x.shape[2]), int(data.x.shape[1])
    check_memory(training_memory_bytes(config, n_inputs, n_ticks), f"--hidden {','.join(map(str, config.hidden))}",
                 "choose smaller --hidden layers or a smaller batch_size in --config")
    with output_dir(out, keep=_has_checkpoint):
        return _train_into(out, config, data, resume, fake_quant, progress, log, on_epoch)


def check_same_data(info: dict[str, Any], data: Prepared, out: Path, log: Callable[[str], None]) -> None:
    """Refuse continuing run ``out`` (resume, QAT) on other events or the same events through another front end."""
    recorded = info.get("data_fingerprint")
    if recorded is None:
        log(f"note: {out / 'run.json'} predates data fingerprints; recording this dataset's")
        return
    if recorded != data.fingerprint:
        raise NeurocalError(
            f"{data.source}: not the dataset this run was trained on (content fingerprint {data.fingerprint[:19]}…, "
            f"run.json records {recorded[:19]}… for {info.get('data_path')}); pass that --data "
            "or train into a new --out"
        )
    if info.get("frontend") != json.loads(json.dumps(data.frontend)):  # same photons, another encoding
        kind = (data.frontend or {}).get("kind", "none recorded")
        raise NeurocalError(
            f"{data.source}: recorded through front end {kind}, but run.json records "
            f"{(info.get('frontend') or {}).get('kind', 'none')} with other settings; resume with the run's "
            "dataset or train into a new --out"
        )


def _train_into(out: Path, config: TrainConfig, data: Prepared, resume: bool, fake_quant: FakeQuant | None,
                progress: bool, log: Callable[[str], None],
                on_epoch: Callable[[str, int, float], None] | None = None) -> Path:
    n_inputs = int(data.x.shape[2])
    info = {
        "schema": RUN_SCHEMA,
        "data_path": str(Path(data.source).resolve()),
        "data_fingerprint": data.fingerprint,
        "target": config.target,
        "n_inputs": n_inputs,
        "n_ticks": int(data.x.shape[1]),
        "tick_ns": data.tick_ns,
        **({"frontend": data.frontend} if data.frontend is not None else {}),
        "outputs": data.spec.output_names,
        "regression_names": data.spec.regression_names,
        "classes": list(CLASS_NAMES) if data.spec.has_pid else [],
        "target_mean": data.std.mean.tolist(),
        "target_std": data.std.std.tolist(),
        "n_events": {k: len(v) for k, v in data.split.items()},
        "n_dropped": data.n_dropped,
        "status": "training",
    }
    if not resume:
        save_config(config, out / "config.yaml")
        save_split(data.split, out / "split.npz")
    else:
        save_config(config, out / "config.yaml")  # records the new epoch budget
    write_text_atomic(out / "run.json", json.dumps(info, indent=2))
    log(f"data: {data.source}  train/val/test = {info['n_events']}  (left out: {data.n_dropped})")

    results: dict[str, Any] = {}
    for kind in KINDS:
        if kind == "ann" and not config.ann_baseline:
            continue
        torch.manual_seed(config.seed + (0 if kind == "snn" else 1))  # initial weights
        model = build_model(kind, config, n_inputs)
        first = torch.from_numpy(data.split["train"][: min(256, len(data.split["train"]))])
        if kind == "snn" and not (out / "snn_last.pt").exists():
            assert isinstance(model, SNN)
            if config.input_norm:
                model.normalise_inputs_(data.x[torch.from_numpy(data.split["train"][:1024])])
            if config.threshold_init == "auto":
                thr = model.calibrate_thresholds_(data.x[first])
                log("snn: initial thresholds " + ", ".join(f"{t:.3g}" for t in thr))
            model.fake_quant = fake_quant
        elif kind == "snn":
            model.fake_quant = fake_quant  # type: ignore[union-attr]
        if kind == "ann" and not (out / "ann_last.pt").exists():
            model.fit_features_(data.inputs(model)[torch.from_numpy(data.split["train"])])  # type: ignore[operator]
            if not config.standardise_targets and data.spec.n_regression:
                # raw targets (log10 E ≈ 4): start the output at the training mean, as a standardised run does,
                # rather than spend the first hundreds of Adam steps walking the bias there
                with torch.no_grad():
                    model.net[-1].bias[: data.spec.n_regression] += data.y_reg[data.split["train"]].mean(0)  # type: ignore[index]
        epochs = config.epochs if kind == "snn" else (config.ann_epochs or config.epochs)
        t0 = time.perf_counter()
        state = fit(kind, model, data, config, out, epochs, progress, log, on_epoch)
        results[kind] = {
            "epochs_run": state["epoch"],
            "best_epoch": state["best_epoch"],
            "best_val_loss": state["best_val"],
            "stopped_early": state["stopped_early"],
            "history": state["history"],
            "seconds_this_call": time.perf_counter() - t0,
        }
    info["status"] = "trained"
    info["training"] = results
    write_text_atomic(out / "run.json", json.dumps(info, indent=2))
    return out
