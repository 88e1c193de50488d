"""NIR export and import of the readout SNN.

Export writes the graph with ``nir`` directly (Input → Affine → LIF → … → Output) rather than
through ``snntorch.export_nir``, which hard-codes dt = 1e-4, drops the reset mode and needs
per-neuron tensors. Each layer's scalar β and threshold are broadcast to the layer's neurons;
with the graph's ``dt`` (one tick) a layer with β < 1 becomes ``LIF(tau = dt/(1−β), r = tau/dt)``
(input gain dt·r/tau = 1) and a layer with β = 1 an ``IF(r = 1/dt)`` (gain dt·r = 1), so that
:func:`neurocal.nirgraph.chain_from_graph` reads back exactly the trained β, W and b.

``graph.metadata["neurocal"]`` makes the file self-describing: time step, reset, readout,
target and its standardisation, output names, front-end thresholds, window length.

Import goes through :func:`neurocal.nirgraph.read_chain` / ``chain_from_graph`` (the project's
one reading of NIR) and rebuilds :class:`~neurocal.models.networks.SNN`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurocal.atomic import atomic_file, atomic_path, write_text_atomic
from neurocal.errors import NeurocalError
from neurocal.models.networks import SNN, SpikingLayer
from neurocal.nirgraph import METADATA_KEY, Chain, chain_from_graph, plain_metadata, read_chain

NIR_SCHEMA = "neurocal.nir/1"


def metadata_of(chain_or_graph: Any) -> dict[str, Any]:
    """The ``neurocal`` metadata of a graph or chain, as plain Python values."""
    if isinstance(chain_or_graph, Chain):
        return plain_metadata(chain_or_graph.metadata)
    return plain_metadata(dict(getattr(chain_or_graph, "metadata", {}) or {}).get(METADATA_KEY, {}))


def graph_from_snn(net: SNN, metadata: dict[str, Any], dt: float) -> Any:
    """The NIR graph of ``net``; ``metadata`` goes under ``graph.metadata['neurocal']`` (dt and readout added)."""
    import nir

    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([net.n_inputs])})}
    edges: list[tuple[str, str]] = []
    prev = "input"
    for i, layer in enumerate(net.layers):
        if layer.current_based:
            raise NeurocalError("export of current-based (CubaLIF) layers is not supported; the trained SNN is LIF")
        n = layer.n_out
        w = layer.fc.weight.detach().double().numpy()
        b = layer.fc.bias.detach().double().numpy() if layer.fc.bias is not None else None
        beta = np.broadcast_to(layer.neuron.beta.detach().double().clamp(0, 1).numpy(), (n,)).copy()
        thr = np.broadcast_to(layer.neuron.threshold.detach().double().numpy(), (n,)).copy()
        if not np.all(np.isfinite(thr)):
            raise NeurocalError(f"layer {i}: non-finite threshold; NIR needs finite values")
        syn = nir.Affine(weight=w, bias=b) if b is not None else nir.Linear(weight=w)
        if np.all(beta >= 1.0):
            neuron = nir.IF(r=np.full(n, 1.0 / dt), v_threshold=thr, v_reset=np.zeros(n))
        elif np.any(beta >= 1.0):
            raise NeurocalError(f"layer {i}: mixes β = 1 and β < 1 neurons, which NIR's LIF cannot express")
        else:
            tau = dt / (1.0 - beta)
            neuron = nir.LIF(tau=tau, r=tau / dt, v_leak=np.zeros(n), v_threshold=thr, v_reset=np.zeros(n))
        nodes[f"fc{i}"], nodes[f"lif{i}"] = syn, neuron
        edges += [(prev, f"fc{i}"), (f"fc{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["output"] = nir.Output(output_type={"output": np.array([net.layers[-1].n_out])})
    edges.append((prev, "output"))
    meta = {"schema": NIR_SCHEMA, **metadata, "dt": float(dt), "reset": "zero", "readout": net.readout}
    if net.readout == "spikes":
        meta["decode_scale"] = net.decode_scale.detach().double().tolist()
        meta["decode_offset"] = net.decode_offset.detach().double().tolist()
    else:
        meta["readout_threshold"] = float(net.layers[-1].neuron.threshold.detach().max())
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={METADATA_KEY: meta})


def _scalar_or_vector(values: np.ndarray) -> torch.Tensor:
    # one value per layer when the layer is uniform (as trained), per-neuron otherwise
    t = torch.tensor(values, dtype=torch.float32)
    return t[0].clone() if np.all(values == values[0]) else t


def snn_from_chain(chain: Chain) -> SNN:
    """An :class:`SNN` running ``chain`` (LIF/IF → ``snn.Leaky``, CubaLIF → ``snn.Synaptic``)."""
    for layer in chain.layers:
        for name, arr in (("beta", layer.beta), ("alpha", layer.alpha)):
            if np.any(arr < 0) or np.any(arr > 1):
                raise NeurocalError(
                    f"{chain.source}: node '{layer.neuron_name}': decay {name} = 1 − dt/tau outside [0, 1] with "
                    f"dt = {chain.dt:g} (a time constant shorter than the time step)"
                )
        if np.any(layer.threshold <= 0):
            raise NeurocalError(f"{chain.source}: node '{layer.neuron_name}': v_threshold must be > 0")
    meta = metadata_of(chain)
    sizes = [layer.n_out for layer in chain.layers]
    net = SNN(chain.n_inputs, sizes[:-1], sizes[-1], readout=chain.readout)
    layers = []
    for layer in chain.layers:
        sl = SpikingLayer(
            layer.n_in,
            layer.n_out,
            beta=_scalar_or_vector(layer.beta),
            threshold=_scalar_or_vector(layer.threshold),
            alpha=_scalar_or_vector(layer.alpha) if layer.kind == "CubaLIF" else None,
        )
        with torch.no_grad():
            sl.fc.weight.copy_(torch.from_numpy(layer.weight))
            sl.fc.bias.copy_(torch.from_numpy(layer.bias))
        layers.append(sl)
    net.layers = torch.nn.ModuleList(layers)
    if chain.readout == "membrane":
        net.layers[-1].neuron.threshold.requires_grad_(False)
    else:
        n_out = sizes[-1]
        with torch.no_grad():
            net.decode_scale.copy_(torch.tensor(meta.get("decode_scale", [1.0] * n_out), dtype=torch.float32))
            net.decode_offset.copy_(torch.tensor(meta.get("decode_offset", [0.0] * n_out), dtype=torch.float32))
    net.eval()
    return net


def export(run_dir: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> Path:
    """Export a run's best SNN to a self-describing ``.nir`` file; returns the path."""
    import nir

    from neurocal.models.training import load_model

    run_dir, out_path = Path(run_dir), Path(out_path)
    net, config, info = load_model(run_dir, "snn")
    assert isinstance(net, SNN)
    if not config.deployable:
        raise NeurocalError(
            f"{run_dir}: trained with reset={config.reset!r}, reset_delay={config.reset_delay}"
            f"{', a population-coded spike readout' if config.population > 1 and config.readout == 'spikes' else ''}"
            " (the snn-cal preset's float recipe): the integer contract resets to zero in the spiking tick and "
            "NIR has no such reset, so the export would run a different network; train the deployable recipe "
            "(the default: reset zero, no delay) to export"
        )
    net = net.collapsed()  # a membrane readout's population folds exactly into one neuron per output
    tick_ns = float(info.get("tick_ns", 0.2))
    metadata = {
        "target": info["target"],
        "outputs": info["outputs"],
        "regression_names": info["regression_names"],
        "target_transform": "log10(E/MeV) for log10_energy_mev; identity otherwise",
        "target_mean": [float(v) for v in info["target_mean"]],
        "target_std": [float(v) for v in info["target_std"]],
        "classes": info.get("classes") or [],
        "n_inputs": int(info["n_inputs"]),
        "n_ticks": int(info["n_ticks"]),
        "tick_ns": tick_ns,
        "threshold_levels": [float(t) for t in config.thresholds],
        # a recorded (photonic) front end, as JSON text: HDF5 attributes cannot hold its None settings
        **({"frontend": json.dumps(info["frontend"], sort_keys=True)} if "frontend" in info else {}),
        "input_channel": "sensor * n_levels + level; fires when photons > threshold_levels[level]",
        "layer_sizes": net.sizes,
        "source_run": str(run_dir.resolve()),
    }
    graph = graph_from_snn(net, metadata, dt=tick_ns * 1e-9)
    with atomic_file(out_path, suffix=".nir") as fh:  # HDF5 crashes closing a file after a failed write: guard it
        nir.write(fh, graph)
    return out_path


def import_nir(path: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None) -> SNN:
    """Build the torch SNN of a NIR file; with ``out_dir`` also save it as a run (evaluate/export work on it)."""
    chain = read_chain(path)
    net = snn_from_chain(chain)
    if out_dir is not None:
        _write_imported_run(net, chain, Path(path), Path(out_dir))
    return net


def _write_imported_run(net: SNN, chain: Chain, path: Path, out: Path) -> None:
    from neurocal.models.config import TrainConfig, save_config
    from neurocal.models.data import TARGETS, TargetSpec
    from neurocal.models.training import save_checkpoint

    meta = metadata_of(chain)
    target = meta.get("target")
    if target not in TARGETS:
        raise NeurocalError(
            f"{path}: the graph names no neurocal target in its metadata, so it cannot become a run; "
            "import it without --out to inspect it"
        )
    spec = TargetSpec(target)
    if spec.n_outputs != net.layers[-1].n_out:
        raise NeurocalError(
            f"{path}: target {target!r} needs {spec.n_outputs} outputs, the graph has {net.layers[-1].n_out}"
        )
    if (out / "run.json").exists():
        raise NeurocalError(f"{out}: already holds a run; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    config = TrainConfig(
        target=target,
        hidden=net.sizes[1:-1],
        readout=chain.readout,
        thresholds=[float(t) for t in meta.get("threshold_levels", [1e2, 1e3, 1e4, 1e5])],
        ann_baseline=False,
    )
    save_config(config, out / "config.yaml")
    with atomic_path(out / "model.nir", suffix=".nir") as tmp:
        tmp.write_bytes(path.read_bytes())
    save_checkpoint({"model": net.state_dict(), "epoch": 0, "val_loss": float("nan")}, out / "snn_best.pt")
    info = {
        "schema": "neurocal.run/1",
        "imported_from": str(path.resolve()),
        "architecture": "nir",
        "data_path": None,
        "target": target,
        "n_inputs": chain.n_inputs,
        "n_ticks": int(meta.get("n_ticks", 100)),
        "tick_ns": float(meta.get("tick_ns", 0.2)),
        "outputs": spec.output_names,
        "regression_names": spec.regression_names,
        "classes": meta.get("classes", []),
        "target_mean": meta.get("target_mean", [0.0] * spec.n_regression),
        "target_std": meta.get("target_std", [1.0] * spec.n_regression),
        "status": "imported",
    }
    write_text_atomic(out / "run.json", json.dumps(info, indent=2))


def roundtrip_graph(net: SNN, dt: float = 2e-10) -> SNN:
    """``net`` → NIR graph → chain → SNN in memory (no file), for checks."""
    return snn_from_chain(chain_from_graph(graph_from_snn(net, {}, dt)))
