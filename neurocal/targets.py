"""What a network trained for a target outputs, in which order, and what those outputs mean in physical units.

Standard library and numpy only: the training room (``neurocal.models``) trains for these targets, and the board
room turns a deployed network's outputs into MeV, mm and a particle class with them, neither importing the other.

========== ============================================ ==================================
target     outputs                                      :func:`physical` gives
========== ============================================ ==================================
energy     log10(E/MeV), standardised                   ``energy_mev``
centroid   x, y, z (cell-index units), standardised     ``centroid_x_mm`` … (de-standardised)
dispersion σ²_x, σ²_y, σ²_z (cells²), standardised       ``sigma2_x_mm2`` … (de-standardised)
pid        logits of proton, kaon, pion                  ``class`` (its name)
========== ============================================ ==================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocal.errors import NeurocalError

CLASS_NAMES = ("proton", "kaon", "pion")
AXES = "xyz"
REGRESSION_NAMES: dict[str, list[str]] = {
    "energy": ["log10_energy_mev"],
    "centroid": ["centroid_x", "centroid_y", "centroid_z"],
    "dispersion": ["sigma2_x", "sigma2_y", "sigma2_z"],
    **{f"centroid_{a}": [f"centroid_{a}"] for a in AXES},
    **{f"dispersion_{a}": [f"sigma2_{a}"] for a in AXES},
}
PARTS: dict[str, list[str]] = {
    "energy": ["energy"],
    "centroid": ["centroid"],
    "dispersion": ["dispersion"],
    "pid": ["pid"],
    "all": ["energy", "centroid", "dispersion", "pid"],
    # SNN-Cal's training grid (train_all.py): one axis at a time, and energy with the centroid or dispersions
    **{f"centroid_{a}": [f"centroid_{a}"] for a in AXES},
    **{f"dispersion_{a}": [f"dispersion_{a}"] for a in AXES},
    "energy_centroid": ["energy", "centroid"],
    "energy_dispersion": ["energy", "dispersion"],
}
TARGETS = list(PARTS)


@dataclass(frozen=True)
class TargetSpec:
    """The outputs of a network trained for ``target``."""

    target: str

    @property
    def parts(self) -> list[str]:
        if self.target not in PARTS:
            raise NeurocalError(f"unknown target {self.target!r}; choose one of {', '.join(PARTS)}")
        return PARTS[self.target]

    @property
    def regression_names(self) -> list[str]:
        return [n for p in self.parts if p != "pid" for n in REGRESSION_NAMES[p]]

    @property
    def n_regression(self) -> int:
        return len(self.regression_names)

    @property
    def has_pid(self) -> bool:
        return "pid" in self.parts

    @property
    def n_outputs(self) -> int:
        return self.n_regression + (len(CLASS_NAMES) if self.has_pid else 0)

    @property
    def output_names(self) -> list[str]:
        return self.regression_names + ([f"logit_{c}" for c in CLASS_NAMES] if self.has_pid else [])


def split_outputs(
    out: np.ndarray, spec: TargetSpec, mean: np.ndarray, std: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Network outputs → (de-standardised regression values, predicted class or None)."""
    reg = out[:, : spec.n_regression] * std + mean
    cls = out[:, spec.n_regression :].argmax(axis=1) if spec.has_pid else None
    return reg, cls


def physical(out: np.ndarray, metadata: dict[str, Any]) -> dict[str, list[Any]]:
    """Decoded network outputs ``(events, n_outputs)`` in physical units, by the training target and
    standardisation the network's metadata records: energy in MeV (10^log10), centroids in mm, dispersions in mm²,
    the particle class by name. Without a recorded target: ``{"readout": out}``."""
    target = metadata.get("target")
    if target is None:
        return {"readout": np.asarray(out).tolist()}
    spec = TargetSpec(target)
    mean = np.asarray(metadata.get("target_mean", [0.0] * spec.n_regression), dtype=float)
    std = np.asarray(metadata.get("target_std", [1.0] * spec.n_regression), dtype=float)
    reg, cls = split_outputs(np.asarray(out, dtype=float), spec, mean, std)
    preds: dict[str, list[Any]] = {}
    for k, name in enumerate(spec.regression_names):
        if name == "log10_energy_mev":
            preds["energy_mev"] = (10.0 ** reg[:, k]).tolist()
        else:
            preds[name + ("_mm2" if name.startswith("sigma2") else "_mm")] = reg[:, k].tolist()
    if cls is not None:
        preds["class"] = [CLASS_NAMES[c] for c in cls]
    return preds
