"""neurocal.models — the snnTorch readout networks: training, physics evaluation, NIR export/import.

Public API (what ``neurocal demo`` and the CLI call)::

    from neurocal.models import TrainConfig, train, evaluate, export, import_nir

    run = train(TrainConfig.demo("energy"), "data.h5", "runs/energy")   # → Path of the run directory
    metrics = evaluate(run)                                             # → dict, also metrics.json + PNGs
    export(run, "model.nir")                                            # → Path of the NIR file
    net = import_nir("model.nir")                                       # → SNN (torch)
"""

from __future__ import annotations

from neurocal.models.config import TrainConfig, load_config, save_config
from neurocal.models.metrics import evaluate, format_metrics
from neurocal.models.networks import ANN, SNN, FakeQuant, SNNRecord, SpikingLayer
from neurocal.models.nir_io import export, graph_from_snn, import_nir, snn_from_chain
from neurocal.models.training import load_model, train

__all__ = [
    "ANN",
    "SNN",
    "FakeQuant",
    "SNNRecord",
    "SpikingLayer",
    "TrainConfig",
    "evaluate",
    "export",
    "format_metrics",
    "graph_from_snn",
    "import_nir",
    "load_config",
    "load_model",
    "save_config",
    "snn_from_chain",
    "train",
]
