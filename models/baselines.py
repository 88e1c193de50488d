"""SNN-Cal's non-network baseline: a straight line from the photon count to the deposited energy.

``E ≈ a·N + b`` with N the photons the 100 sensors count over the window, fitted by least squares
on the training events; evaluated with the energy metrics of :mod:`neurocal.models.metrics`.
(Its other baseline, the ANN with batch norm on the photon counts summed over time, is
``TrainConfig.ann_input = "photon_sums"``, trained beside the SNN.) Predictions below 1 MeV are
clipped to 1 MeV so that log10 E exists.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocal.errors import NeurocalError
from neurocal.sim.dataset import EventSet


def photon_counts(events: EventSet) -> np.ndarray:
    """(N,) photons over all sensors and ticks of each event."""
    return events.photons.reshape(events.n_events, -1).sum(axis=1, dtype=np.float64)


def fit_linear_energy(events: EventSet, train: np.ndarray) -> tuple[float, float]:
    """Least-squares (a, b) of E = a·N + b on the ``train`` events (indices)."""
    n, e = photon_counts(events)[train], events.energy_mev[train]
    ok = np.isfinite(e) & (e > 0)
    if ok.sum() < 2:
        raise NeurocalError(f"{events.source}: fewer than 2 training events with an energy; cannot fit E(N)")
    a, b = np.polyfit(n[ok], e[ok], 1)
    return float(a), float(b)


def linear_energy_baseline(events: EventSet, split: dict[str, np.ndarray]) -> dict[str, Any]:
    """Fit on split['train'], evaluate on split['test']: {'fit': {a, b}, 'energy': metrics}."""
    from neurocal.models.metrics import _energy_metrics

    a, b = fit_linear_energy(events, split["train"])
    test = split["test"]
    e_true = events.energy_mev[test]
    e_pred = np.maximum(a * photon_counts(events)[test] + b, 1.0)
    ok = np.isfinite(e_true) & (e_true > 0)
    return {"fit": {"mev_per_photon": a, "offset_mev": b},
            "energy": _energy_metrics(np.log10(e_true[ok]), np.log10(e_pred[ok]))}
