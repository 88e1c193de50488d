"""QONNX export: qonnx executes the exported synaptic layers to the golden model's synaptic input, exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model

from neurocal.cli import main
from neurocal.golden import simulate, synaptic_input
from neurocal.intnet import IntNetwork
from neurocal.models.qonnx_export import qonnx_model
from neurocal.testnets import random_network


def _load(path: Path) -> ModelWrapper:
    """The exported file as a FINN/hls4ml flow reads it: qonnx' ModelWrapper after its cleanup transforms."""
    return cleanup_model(ModelWrapper(str(path)))


def _check_quant_nodes(model: ModelWrapper, net: IntNetwork) -> None:
    quants = model.get_nodes_by_op_type("Quant")
    assert len(quants) == len(model.get_nodes_by_op_type("MatMul")) == net.n_layers
    exps = []
    for node in quants:
        scale = float(model.get_initializer(node.input[1]))
        assert scale > 0 and float(np.log2(scale)).is_integer(), scale  # a power of two
        assert float(model.get_initializer(node.input[2])) == 0.0  # zero point
        assert float(model.get_initializer(node.input[3])) == 8.0  # bit width
        exps.append(int(np.log2(scale)))
    meta = {p.key: p.value for p in model.model.metadata_props}
    layers = json.loads(meta["neurocal.layers"])
    assert meta["neurocal.content_hash"] == net.content_hash
    assert exps == [int(np.log2(e["quant_scale"])) for e in layers]
    assert [e["weight_exp"] + (e["sign_mode"] == "mixed") for e in layers] == exps
    assert "not expressible in QONNX" in model.model.doc_string and "LIF" in model.model.doc_string


def _presynaptic(net: IntNetwork, spikes: np.ndarray) -> list[np.ndarray]:
    """Per layer the presynaptic rows (events·ticks, n_in): the input, then the previous layer's golden spikes."""
    gold = simulate(net, spikes)
    pad = np.zeros((spikes.shape[0], gold.spikes[0].shape[1] - spikes.shape[1], spikes.shape[2]), dtype=bool)
    rasters = [np.concatenate([spikes, pad], axis=1)] + [s for s in gold.spikes[:-1]]
    return [r.reshape(-1, r.shape[2]) for r in rasters]


def test_qonnx_matmuls_equal_golden_synaptic_input(tmp_path: Path) -> None:
    """Random networks of every sign class and exponent (incl. negative and saturated), golden's own spikes."""
    rng = np.random.default_rng(3)
    modes, exps = set(), set()
    for trial in range(6):
        net = random_network([48, 32, 24, 6], rng, extreme=trial % 2 == 1)
        spikes = rng.random((8, 20, 48)) < 0.25
        # golden's own rasters (hidden layers of a random network may stay silent) and as many random rows
        pre = [np.concatenate([p, rng.random(p.shape) < 0.3]) for p in _presynaptic(net, spikes)]
        rows = pre[0].shape[0]
        path = tmp_path / f"net{trial}.onnx"
        onnx.save(qonnx_model(net, batch=rows), path)
        model = _load(path)
        _check_quant_nodes(model, net)
        names = [i.name for i in model.graph.input]
        out = execute_onnx(model, {n: p.astype(np.float32) for n, p in zip(names, pre, strict=True)})
        for i, (layer, o) in enumerate(zip(net.layers, model.graph.output, strict=True)):
            expected = synaptic_input(pre[i], layer)
            assert np.array_equal(out[o.name], expected), (trial, i, np.abs(out[o.name] - expected).max())
            assert np.any(expected != 0)
            modes.add(layer.sign_mode)
            exps.add(layer.weight_exp)
    assert modes == {"mixed", "excitatory", "inhibitory"} and min(exps) < 0 < max(exps), (modes, exps)


def test_qonnx_refuses_a_network_whose_sum_wraps_int32() -> None:
    from neurocal.errors import NeurocalError

    net = random_network([400, 4], np.random.default_rng(0))
    layer = net.layers[0]
    layer.weights = np.full_like(layer.weights, 254)
    layer.weight_exp = 7  # 400 · 254 · 2^7 ≈ 1.3e7: fine; 2^31 needs more inputs
    qonnx_model(net)
    big = random_network([70000, 2], np.random.default_rng(0))
    big.layers[0].weights = np.full_like(big.layers[0].weights, 254)
    big.layers[0].weight_exp = 7
    with pytest.raises(NeurocalError, match="weights"):
        qonnx_model(big)


@pytest.mark.slow  # the shared trained_run fixture trains for ~20 s
def test_export_qonnx_cli_on_a_trained_run(trained_run: Path, synthetic_h5: Path, tmp_path: Path) -> None:
    """`neurocal export RUN --qonnx` (run calibration, and --bundle): qonnx runs it, tick by tick, to golden's sums."""
    from neurocal.models.qat import calibration_spikes
    from neurocal.models.training import load_split, prepare, read_run
    from neurocal.nirgraph import read_chain
    from neurocal.quantize import quantize

    runner = CliRunner()
    res = runner.invoke(main, ["export", str(trained_run), "--out", str(tmp_path / "g.nir"),
                               "--qonnx", str(tmp_path / "m.onnx")])
    assert res.exit_code == 0, res.output
    # the same network, quantised independently here on the run's first 256 training events
    config, _ = read_run(trained_run)
    data = prepare(config, synthetic_h5, load_split(trained_run / "split.npz"))
    net = quantize(read_chain(tmp_path / "g.nir"), calibration_spikes(data.x, data.split["train"]))
    model = _load(tmp_path / "m.onnx")
    _check_quant_nodes(model, net)
    # real spike rasters: encoded simulated showers (test split), batch 1 as exported: one tick per call
    events = data.x[data.split["test"][:2]].numpy().astype(bool)
    pre = _presynaptic(net, events)
    names, outs = [i.name for i in model.graph.input], [o.name for o in model.graph.output]
    busy = np.flatnonzero(np.any(pre[0], axis=1) | np.any(pre[1], axis=1))[:40]  # most calorimeter ticks are silent
    assert busy.size >= 10
    for row in np.concatenate([busy, [int(np.flatnonzero(~np.any(pre[0], axis=1))[0])]]):
        out = execute_onnx(model, {n: p[row : row + 1].astype(np.float32) for n, p in zip(names, pre, strict=True)})
        for i, layer in enumerate(net.layers):
            assert np.array_equal(out[outs[i]], synaptic_input(pre[i][row : row + 1], layer)), (row, i)

    # from a bundle: exactly the bundle's integers (what deploys)
    res = runner.invoke(main, ["quantize", str(tmp_path / "g.nir"), "--data", str(synthetic_h5), "--events", "40",
                               "--out", str(tmp_path / "bundle")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["export", str(trained_run), "--out", str(tmp_path / "g2.nir"),
                               "--qonnx", str(tmp_path / "b.onnx"), "--bundle", str(tmp_path / "bundle")])
    assert res.exit_code == 0, res.output
    bundled = IntNetwork.load(tmp_path / "bundle" / "intnet.json")
    _check_quant_nodes(_load(tmp_path / "b.onnx"), bundled)

    # bad input: one line, nothing written
    no_best = tmp_path / "no_best"
    shutil.copytree(trained_run, no_best)
    (no_best / "snn_best.pt").unlink()
    for args, name in (
        ([str(no_best), "--out", str(tmp_path / "x.nir"), "--qonnx", str(tmp_path / "x.onnx")], "snn_best.pt"),
        ([str(trained_run), "--out", str(tmp_path / "y.nir"), "--qonnx", str(tmp_path / "missing" / "y.onnx")],
         "--qonnx"),
    ):
        res = runner.invoke(main, ["export", *args])
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and name in lines[0], res.stderr
        assert "Traceback" not in res.output
    assert not any(tmp_path.glob("[xy].*"))
