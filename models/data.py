"""From an :class:`EventSet` to tensors: spike inputs, targets, the split and their standardisation.

Every target is turned into network outputs in one fixed order, so that a multi-target ("all")
network and its NIR metadata agree on which output is which:

========== ============================================ =========================
target     outputs                                      loss
========== ============================================ =========================
energy     log10(E/MeV), standardised                   MSE
centroid   x, y, z (cell-index units), standardised     MSE
dispersion σ²_x, σ²_y, σ²_z (cells²), standardised       MSE
pid        logits of proton, kaon, pion                  cross-entropy
all        the above, in this order (10 outputs)         sum (PID weighted)
========== ============================================ =========================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocal.errors import NeurocalError
from neurocal.sim import load_events  # noqa: F401  (re-exported: the one reader of event files)
from neurocal.sim.dataset import EventSet
from neurocal.sim.frontend import encode_thresholds
from neurocal.targets import AXES, CLASS_NAMES, PARTS, REGRESSION_NAMES, TARGETS, TargetSpec  # noqa: F401

CLASS_CODES = (1, 2, 3)  # neurocal.sim.dataset.PARTICLE_CODES


def _part_values(events: EventSet, part: str) -> tuple[np.ndarray, np.ndarray]:
    """(values (N, k), usable (N,)) of one target part."""
    if part == "energy":
        e = events.energy_mev
        ok = np.isfinite(e) & (e > 0)
        return np.log10(np.where(ok, e, 1.0))[:, None], ok
    if part == "centroid":
        c = events.centroid
        return c, np.all(np.isfinite(c), axis=1)
    if part == "dispersion":
        d = events.dispersion  # σ²x, σ²y, σ²z; older data know only σ²R = σ²x + σ²y (NaN x, y: unusable here)
        return d, np.all(np.isfinite(d), axis=1) & np.all(d >= 0, axis=1)
    if part.startswith(("centroid_", "dispersion_")):
        kind, axis = part.split("_")
        values, ok = _part_values(events, kind)
        j = AXES.index(axis)
        return values[:, j : j + 1], np.isfinite(values[:, j]) & ((values[:, j] >= 0) if kind == "dispersion" else True)
    if part == "pid":
        codes = events.particle
        ok = np.isin(codes, CLASS_CODES)
        return np.where(ok, codes - 1, -1)[:, None], ok
    raise NeurocalError(f"unknown target part {part!r}")


_FIELD = {"energy": "energy_mev", "centroid": "centroid", "dispersion": "dispersion", "pid": "particle"}


def extract_targets(events: EventSet, spec: TargetSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y_reg (N, n_reg) float64, y_cls (N,) int64 or -1, usable (N,) bool) for ``spec``.

    A target the dataset lacks altogether (NaN everywhere, e.g. the centroid of an old-layout
    ``.dat`` file) is an error; events missing it individually are left out and counted.
    """
    usable = np.ones(events.n_events, dtype=bool)
    regs: list[np.ndarray] = []
    y_cls = np.full(events.n_events, -1, dtype=np.int64)
    for part in spec.parts:
        values, ok = _part_values(events, part)
        if not ok.any():
            part = part.split("_")[0]
            hint = {"centroid": " (the oldest .dat layout has no centroid)",
                    "dispersion": " (older .dat layouts and schema-1 files hold only σ²R = σ²x + σ²y)"}.get(part, "")
            raise NeurocalError(
                f"{events.source}: target '{_FIELD[part]}' is missing or unusable in all {events.n_events} events"
                f"{hint}; choose another --target"
            )
        usable &= ok
        if part == "pid":
            y_cls = values[:, 0].astype(np.int64)
            present = np.unique(y_cls[ok])
            if present.size < 2:
                raise NeurocalError(
                    f"{events.source}: target 'particle' has only class {[CLASS_NAMES[i] for i in present]}; "
                    "particle identification needs at least two of proton, kaon, pion"
                )
        else:
            regs.append(values.astype(np.float64))
    y_reg = np.concatenate(regs, axis=1) if regs else np.zeros((events.n_events, 0))
    if not usable.any():
        raise NeurocalError(f"{events.source}: no event has every target of '{spec.target}'")
    return y_reg, y_cls, usable


def recorded_frontend(events: EventSet) -> dict | None:
    """The front end a dataset was simulated with (``neurocal simulate --front-end photonic``), if it records one."""
    recorded = events.generator.get("frontend") if isinstance(events.generator, dict) else None
    return dict(recorded) if isinstance(recorded, dict) else None


def encode(events: EventSet, thresholds: list[float]) -> np.ndarray:
    """Spike inputs, bool (N, ticks, sensors·levels): through the front end the dataset records, else the ideal
    threshold encoder with ``thresholds``."""
    recorded = recorded_frontend(events)
    if recorded is None:
        return encode_thresholds(events.photons, thresholds)
    from neurocal.sim.frontend import frontend_from_dict

    return frontend_from_dict(recorded, f"{events.source}: generator.frontend").encode(events.photons)


def make_split(
    usable: np.ndarray, val_fraction: float, test_fraction: float, seed: int
) -> dict[str, np.ndarray]:
    """Seeded train/val/test split of the usable events (indices into the dataset, sorted)."""
    idx = np.flatnonzero(usable)
    n = idx.size
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    if n - n_val - n_test < 1 or n_val < 1 or n_test < 1:
        raise NeurocalError(f"{n} usable events are too few to split into train/validation/test")
    perm = np.random.default_rng(seed).permutation(idx)
    return {
        "test": np.sort(perm[:n_test]),
        "val": np.sort(perm[n_test : n_test + n_val]),
        "train": np.sort(perm[n_test + n_val :]),
    }


@dataclass
class Standardiser:
    """Per-output affine map of the regression targets: z = (y − mean)/std."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def identity(cls, n: int) -> Standardiser:
        """No standardisation: targets in their own units (SNN-Cal trains on raw targets)."""
        return cls(mean=np.zeros(n), std=np.ones(n))

    @classmethod
    def fit(cls, y: np.ndarray) -> Standardiser:
        std = y.std(axis=0) if len(y) else np.ones(y.shape[1])
        return cls(mean=y.mean(axis=0) if len(y) else np.zeros(y.shape[1]), std=np.where(std > 0, std, 1.0))

    def forward(self, y: np.ndarray) -> np.ndarray:
        return (y - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return z * self.std + self.mean
