"""QONNX export: qonnx (and hls4ml) execute the exported synaptic layers to the golden model's sums, exactly."""

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
from neurocal.intnet import IntLayer, IntNetwork
from neurocal.models.qonnx_export import qonnx_model
from neurocal.testnets import random_network


def _load(path: Path) -> ModelWrapper:
    """The exported file as a FINN/hls4ml flow reads it: qonnx' ModelWrapper after its cleanup transforms."""
    return cleanup_model(ModelWrapper(str(path)))


def _check_quant_nodes(model: ModelWrapper, net: IntNetwork) -> None:
    """One Quant + MatMul per layer; power-of-two scales, zero point 0, 8 bits (an inhibitory layer: signed
    9-bit narrow, the smallest standard type of 8-bit magnitudes with a minus sign)."""
    quants = model.get_nodes_by_op_type("Quant")
    assert len(quants) == len(model.get_nodes_by_op_type("MatMul")) == net.n_layers
    assert {n.op_type for n in model.graph.node} == {"Quant", "MatMul"}
    exps = []
    for node, layer in zip(quants, net.layers, strict=True):
        scale = float(model.get_initializer(node.input[1]))
        assert scale > 0 and float(np.log2(scale)).is_integer(), scale  # a power of two
        assert float(model.get_initializer(node.input[2])) == 0.0  # zero point
        attrs = {a.name: a.i for a in node.attribute if a.name in ("signed", "narrow")}
        bits = float(model.get_initializer(node.input[3]))
        if layer.sign_mode == "inhibitory":
            assert bits == 9.0 and attrs == {"signed": 1, "narrow": 1}
        else:
            assert bits == 8.0 and attrs == {"signed": int(layer.sign_mode == "mixed"), "narrow": 0}
        exps.append(int(np.log2(scale)))
    meta = {p.key: p.value for p in model.model.metadata_props}
    layers = json.loads(meta["neurocal.layers"])
    assert meta["neurocal.content_hash"] == net.content_hash
    assert exps == [int(np.log2(e["quant_scale"])) for e in layers]
    assert [e["weight_exp"] + (e["sign_mode"] == "mixed") for e in layers] == exps
    assert "not expressible in QONNX" in model.model.doc_string and "LIF" in model.model.doc_string


def _check_sums(dense_sum: np.ndarray, pre: np.ndarray, layer: IntLayer) -> None:
    """The MatMul output is (Σ w) · 2^weight_exp exactly, and golden's synaptic input is its int32 floor."""
    exact = (pre.astype(np.int64) @ layer.weights.T.astype(np.int64)) * 2.0**layer.weight_exp
    assert np.array_equal(dense_sum, exact), np.abs(dense_sum - exact).max()
    assert np.array_equal(np.floor(dense_sum).astype(np.int64), synaptic_input(pre, layer))


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
        for layer, o, p in zip(net.layers, model.graph.output, pre, strict=True):
            _check_sums(out[o.name], p, layer)
            assert np.any(out[o.name] != 0)
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
            _check_sums(out[outs[i]], pre[i][row : row + 1], layer)

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


@pytest.mark.slow
@pytest.mark.hls  # hls4ml compiles its C-simulation with g++ (~20 s)
def test_hls4ml_converts_the_export_and_csim_gives_the_same_sums(tmp_path: Path) -> None:
    """What an hls4ml user does with the file: qonnx cleanup, hls4ml's ONNX converter, compile, predict."""
    import hls4ml
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul

    rng = np.random.default_rng(11)
    net = random_network([16, 8, 4], rng, extreme=True)
    first = net.layers[0]  # inhibitory, any magnitude up to 255 (odd ones too), negative exponent
    first.weights = (-rng.integers(0, 256, first.weights.shape) * (rng.random(first.weights.shape) < 0.5))
    first.weights, first.weight_exp = first.weights.astype(np.int32), -3
    net = IntNetwork(n_inputs=net.n_inputs, layers=net.layers, readout=net.readout, source="<hls4ml>")
    assert net.layers[0].sign_mode == "inhibitory"
    onnx.save(qonnx_model(net), tmp_path / "m.onnx")
    model = _load(tmp_path / "m.onnx").transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul())
    model = cleanup_model(model)
    config = hls4ml.utils.config.config_from_onnx_model(model, granularity="name", backend="Vitis",
                                                        default_precision="fixed<32,16>")
    hls_model = hls4ml.converters.convert_from_onnx_model(model, output_dir=str(tmp_path / "hls"), backend="Vitis",
                                                          io_type="io_parallel", hls_config=config)
    hls_model.compile()
    pre = [rng.random((30, layer.n_in)) < 0.4 for layer in net.layers]
    got = hls_model.predict([p.astype(np.float64) for p in pre])
    for layer, p, y in zip(net.layers, pre, got, strict=True):
        _check_sums(np.asarray(y, dtype=np.float64).reshape(len(p), -1), p, layer)
