"""Quantisation-aware fine-tuning: the SNN trains on the values the integer network will really use.

:class:`IntGridQuantizer` is the :class:`~neurocal.models.networks.FakeQuant` of
``neurocal.intnet``: on every forward pass it replaces

* each weight by ``LayerGrid.fake_quantize`` of its layer's grid (λ, weight exponent, 8-bit
  mantissa range, mixed-sign layers on even Lava values), the grid coming from
  :func:`neurocal.quantize.quant_grid` on the chain that :func:`~neurocal.models.nir_io.export`
  would write (the same ``graph_from_snn`` → ``chain_from_graph`` path). The weight quantiser is
  brevitas' (a ``QuantLinear`` per layer configured from the grid, :mod:`neurocal.models.brevitas_quant`,
  which says what brevitas expresses and what stays neurocal's);
* each bias by ``bias_mant · 2^bias_exp / (64 λ)`` from the quantiser's own bias rule;
* β by ``1 − dv/4096`` with ``dv = round(4096 (1 − β))`` clipped to 12 bits;
* a spiking layer's threshold by ``vth/λ`` with ``vth = round(λ·θ)`` (:meth:`LayerGrid.threshold`);

each as a straight-through estimator (``x + (q(x) − x).detach()``, written so the forward value is
exactly q): the forward pass sees the quantised value, the gradient reaches the float parameter. The grid depends on the
thresholds and, for a membrane readout, on its float peak voltage over a calibration batch, so it
is recomputed from the current parameters every ``every`` training steps (weights between two
refreshes stay on the previous grid). β and the bias are quantised from the live values.

:func:`finetune_qat` fine-tunes a trained run with the quantiser and with Lava's one-tick delay
per layer (``SNN.lava_delay``) into a new run directory. Its export quantises, with the same
calibration events, onto exactly the grid it was trained on (``tests/models/test_qat.py``).
What remains between the fake-quantised float forward and the integer network is the integer
voltage arithmetic (decay truncated toward zero each tick) and the spikes it flips.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from neurocal.atomic import write_text_atomic
from neurocal.errors import NeurocalError
from neurocal.intnet import DECAY_UNITY
from neurocal.models.brevitas_quant import BrevitasWeightQuantizer
from neurocal.models.networks import SNN
from neurocal.nirgraph import Chain, chain_from_graph
from neurocal.quantize import LayerGrid, QuantConfig, quant_grid, quantize_bias

DEFAULT_CALIBRATION_EVENTS = 256  # training events that set the membrane readout's λ (its peak |v|)
DEFAULT_REFRESH_EVERY = 10  # training steps between two grid refreshes


def chain_of(net: SNN, dt: float) -> Chain:
    """The float chain that ``export`` writes for ``net`` (same graph builder, same reader)."""
    from neurocal.models.nir_io import graph_from_snn

    return chain_from_graph(graph_from_snn(net, {}, dt), source="<qat>")


def calibration_spikes(
    x: Tensor | np.ndarray, train_idx: np.ndarray, n: int = DEFAULT_CALIBRATION_EVENTS
) -> np.ndarray:
    """The calibration set of QAT and of its quantisation: the first ``n`` training events, bool numpy."""
    idx = np.asarray(train_idx)[:n]
    sel = x[torch.from_numpy(idx)] if isinstance(x, Tensor) else np.asarray(x)[idx]
    return np.asarray(sel.numpy() if isinstance(sel, Tensor) else sel, dtype=bool)


def _ste(x: Tensor, q: Tensor) -> Tensor:
    """Straight-through: the value of ``q`` (rounded once to x's dtype), the gradient of ``x``.

    Written ``q + (x − x.detach())`` rather than ``x + (q − x).detach()``: the same gradient, but the
    forward value is exactly ``q`` in x's dtype, with no extra rounding of ``x + (q − x)``.
    """
    return q.to(x.dtype) + (x - x.detach())


class IntGridQuantizer:
    """Straight-through fake quantisation onto ``neurocal.intnet``'s grid (a ``FakeQuant``).

    ``net`` is the SNN it serves (read at each refresh), ``calibration`` bool spikes (events,
    ticks, n_in) for the membrane readout's λ, ``dt`` the export time step (β goes through
    tau = dt/(1 − β) in NIR, so the grid is computed from exactly what export writes).
    """

    def __init__(
        self,
        net: SNN,
        calibration: np.ndarray | None,
        *,
        dt: float,
        config: QuantConfig | None = None,
        every: int = DEFAULT_REFRESH_EVERY,
    ) -> None:
        if every < 1:
            raise NeurocalError(f"grid refresh interval must be >= 1 step, got {every}")
        self.net = net
        self.calibration = None if calibration is None else np.asarray(calibration, dtype=bool)
        self.dt = float(dt)
        self.config = config or QuantConfig()
        self.every = every
        self.steps = 0
        self.refreshes = 0
        self.grids: list[LayerGrid] = []
        self.weight_quants: list[BrevitasWeightQuantizer] = []
        self.refresh()

    @property
    def n_layers(self) -> int:
        return len(self.net.layers)

    def spiking(self, layer: int) -> bool:
        return not (self.net.readout == "membrane" and layer == self.n_layers - 1)

    @torch.no_grad()
    def refresh(self) -> list[LayerGrid]:
        """Recompute every layer's grid from the current float parameters (and its brevitas quantiser)."""
        self.chain = chain_of(self.net, self.dt)
        self.grids = quant_grid(self.chain, self.calibration, self.config)
        self.weight_quants = [BrevitasWeightQuantizer.build(grid, layer.fc.weight)
                              for grid, layer in zip(self.grids, self.net.layers, strict=True)]
        self.refreshes += 1
        return self.grids

    # ----- the quantised values (float64, detached): what the integer network uses

    def weight_q(self, layer: int, weight: Tensor) -> Tensor:
        """``LayerGrid.fake_quantize`` by the layer's brevitas quantiser, in float64 (numpy's quotient)."""
        return self.weight_quants[layer].fake_quantize(weight)

    def bias_q(self, layer: int, bias: Tensor) -> Tensor:
        """The float bias the integer layer adds: (bias_mant · 2^bias_exp) · (1 − α) / (64 λ)."""
        scale = self.grids[layer].scale
        alpha = float(self.chain.layers[layer].alpha[0])
        b = bias.detach().double().numpy()
        mant, exp = quantize_bias(64.0 * scale * b / (1.0 - alpha), f"QAT layer {layer}: bias")
        return torch.from_numpy(mant * 2.0**exp * (1.0 - alpha) / (64.0 * scale))

    def beta_q(self, beta: Tensor) -> Tensor:
        """1 − dv/4096 with dv = round(4096 (1 − β)) in 0..4095, as ``quantize`` computes dv."""
        one_minus = 1.0 - beta.detach().double().clamp(0, 1)
        return 1.0 - torch.clamp(torch.round(DECAY_UNITY * one_minus), 0, DECAY_UNITY - 1) / DECAY_UNITY

    def threshold_q(self, layer: int, threshold: Tensor) -> Tensor:
        """vth/λ for a spiking layer; a membrane readout never fires, its threshold is left alone."""
        if not self.spiking(layer):
            return threshold.detach().double()
        grid = self.grids[layer]
        theta = float(threshold.detach().double().max())  # one threshold per layer (docs/design.md §2)
        return torch.full_like(threshold.detach().double(), grid.threshold(theta) / grid.scale)

    # ----- FakeQuant

    def synapse(self, layer: int, weight: Tensor, bias: Tensor | None) -> tuple[Tensor, Tensor | None]:
        if layer == 0 and torch.is_grad_enabled() and weight.requires_grad:
            # a training step (validation runs under no_grad): the parameters moved since the last grid
            if self.steps and self.steps % self.every == 0:
                self.refresh()
            self.steps += 1
        w = _ste(weight, self.weight_q(layer, weight))
        return w, None if bias is None else _ste(bias, self.bias_q(layer, bias))

    def neuron(self, layer: int, beta: Tensor, threshold: Tensor) -> tuple[Tensor, Tensor]:
        return _ste(beta, self.beta_q(beta)), _ste(threshold, self.threshold_q(layer, threshold))

    @torch.no_grad()
    def quantized_parameters(self) -> list[dict[str, np.ndarray]]:
        """Per layer the float64 weight, bias, β and threshold of the current grid (for checks)."""
        out = []
        for i, layer in enumerate(self.net.layers):
            entry = {
                "weight": self.weight_q(i, layer.fc.weight).numpy(),
                "beta": self.beta_q(layer.neuron.beta).numpy(),
                "threshold": self.threshold_q(i, layer.neuron.threshold).numpy(),
            }
            if layer.fc.bias is not None:
                entry["bias"] = self.bias_q(i, layer.fc.bias).numpy()
            out.append(entry)
        return out


# --------------------------------------------------------------------------------------- fine-tuning


def finetune_qat(
    run_dir: str | os.PathLike[str],
    data_path: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    epochs: int = 3,
    progress: bool = True,
    *,
    lr: float | None = None,
    every: int = DEFAULT_REFRESH_EVERY,
    calibration_events: int = DEFAULT_CALIBRATION_EVENTS,
    quant_config: QuantConfig | None = None,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Fine-tune ``run_dir``'s best SNN with :class:`IntGridQuantizer` for ``epochs`` into ``out_dir``.

    The new run keeps the source's split and configuration (``epochs`` and ``lr`` replaced: the
    default learning rate is a third of the source's, a fine-tune should not leave the basin;
    ``threads`` replaces the torch thread count),
    trains with Lava's per-layer delay, and records ``"qat": true`` with its settings in run.json.
    ``neurocal export`` then writes the float shadow parameters, which quantise back onto the
    trained grid when calibrated with the same events (the first ``calibration_events`` of train).
    """
    from neurocal.models.training import (
        check_same_data,
        fit,
        load_model,
        load_split,
        loss_fn,
        predict,
        prepare,
        read_run,
        save_split,
    )

    run_dir, out = Path(run_dir), Path(out_dir)
    log = log or (lambda msg: None)
    config, info = read_run(run_dir)
    if not config.deployable:
        raise NeurocalError(
            f"--qat-from {run_dir}: trained with the float recipe reset={config.reset!r}, reset_delay="
            f"{config.reset_delay}, which the integer contract cannot run (export refuses it), so its QAT could never "
            "deploy; fine-tune a run of the deployable recipe (the default, or --preset deployable)"
        )
    if (out / "run.json").exists():
        raise NeurocalError(f"{out}: already holds a run; choose another --out")
    if out.resolve() == run_dir.resolve():
        raise NeurocalError(f"{out}: QAT writes a new run; --out must differ from the source run")
    data_path = data_path or info.get("data_path")
    if not data_path:
        raise NeurocalError(f"{run_dir}: the run names no dataset; pass --data")
    if not (run_dir / "split.npz").exists():
        raise NeurocalError(f"{run_dir}: no split.npz; QAT fine-tunes on the source run's training split")
    qat_config = config.with_overrides(epochs=epochs, lr=lr if lr is not None else config.lr / 3, threads=threads)
    if qat_config.threads is not None:
        torch.set_num_threads(qat_config.threads)
    data = prepare(qat_config, data_path, load_split(run_dir / "split.npz"), fingerprint=True)
    check_same_data(info, data, run_dir, log)  # the split and calibration events belong to the run's dataset
    if int(data.x.shape[2]) != int(info["n_inputs"]):
        raise NeurocalError(
            f"{data_path}: {data.x.shape[2]} input channels, the run's network takes {info['n_inputs']}"
        )
    net, _, _ = load_model(run_dir, "snn")
    assert isinstance(net, SNN)
    dt = float(info.get("tick_ns", data.tick_ns)) * 1e-9  # export's dt: the grid sees the β export writes
    calib = calibration_spikes(data.x, data.split["train"], calibration_events)
    quantizer = IntGridQuantizer(net, calib, dt=dt, config=quant_config, every=every)
    net.fake_quant = quantizer
    net.lava_delay = True

    out.mkdir(parents=True, exist_ok=True)
    from neurocal.models.config import save_config

    save_config(qat_config, out / "config.yaml")
    save_split(data.split, out / "split.npz")
    val = torch.from_numpy(data.split["val"])
    start_loss = float(loss_fn(predict(net, data.x[val]), data.y_reg[val], data.y_cls[val], data.spec,
                               qat_config.pid_weight))
    log(f"qat: validation loss of the fake-quantised source network {start_loss:.4f}")
    settings: dict[str, Any] = {
        "source_run": str(run_dir.resolve()),
        "epochs": epochs,
        "lr": qat_config.lr,
        "refresh_every_steps": every,
        "calibration": f"first {calib.shape[0]} training events",
        "calibration_events": int(calib.shape[0]),
        "quant_config": asdict(quant_config or QuantConfig()),
        "lava_delay": True,
        "val_loss_before": start_loss,
    }
    run_info = {**info, "data_path": str(Path(data_path).resolve()), "status": "training", "qat": True,
                "qat_settings": settings}
    run_info.pop("training", None)
    write_text_atomic(out / "run.json", json.dumps(run_info, indent=2))
    state = fit("snn", net, data, qat_config, out, epochs, progress, log)
    settings["grid_refreshes"] = quantizer.refreshes
    run_info["status"] = "trained"
    run_info["training"] = {"snn": {
        "epochs_run": state["epoch"], "best_epoch": state["best_epoch"], "best_val_loss": state["best_val"],
        "stopped_early": state["stopped_early"], "history": state["history"],
    }}
    write_text_atomic(out / "run.json", json.dumps(run_info, indent=2))
    if (run_dir / "ann_best.pt").exists():  # the baseline column of evaluate stays comparable
        shutil.copyfile(run_dir / "ann_best.pt", out / "ann_best.pt")
    return out
