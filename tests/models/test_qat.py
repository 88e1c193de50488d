"""Quantisation-aware training: the fake quantiser is neurocal.intnet's quantiser, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from neurocal.golden import simulate
from neurocal.models.metrics import evaluate, headline, integer_outputs
from neurocal.models.networks import SNN
from neurocal.models.nir_io import export
from neurocal.models.qat import IntGridQuantizer, calibration_spikes, chain_of
from neurocal.models.training import load_model, load_split, prepare, read_run
from neurocal.nirgraph import read_chain
from neurocal.quantize import quantize

DT = 0.2e-9


def _spikes(n: int, ticks: int = 30, n_in: int = 40, p: float = 0.08, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, ticks, n_in)) < p


def _random_snn(readout: str, seed: int = 0) -> SNN:
    """A small SNN with mixed, excitatory and inhibitory layers and non-trivial β, thresholds, biases."""
    torch.manual_seed(seed)
    net = SNN(40, [24, 16], 3, readout=readout, beta_init=0.87, readout_beta_init=0.97, threshold_init=0.6)
    with torch.no_grad():
        net.layers[0].fc.weight.mul_(3.0)
        net.layers[1].fc.weight.abs_()  # excitatory
        net.layers[1].neuron.beta.fill_(0.8123)
        net.layers[1].neuron.threshold.fill_(0.9)
        for layer in net.layers:
            layer.fc.bias.uniform_(-0.05, 0.05)
    net.eval()
    return net


@pytest.mark.parametrize("readout", ["membrane", "spikes"])
def test_fake_quant_equals_intnet_quantize(readout: str, tmp_path: Path) -> None:
    """Weights, biases, β and thresholds of the fake quantiser are exactly the integer network's."""
    import nir

    from neurocal.models.nir_io import graph_from_snn

    net = _random_snn(readout)
    calib = _spikes(64)
    fq = IntGridQuantizer(net, calib, dt=DT)
    path = tmp_path / "net.nir"
    nir.write(path, graph_from_snn(net, {}, DT))  # the file export writes, read back as quantize reads it
    int_net = quantize(read_chain(path), calib)
    assert [g.mixed for g in fq.grids] == [True, False, True]
    for layer, q in zip(int_net.layers, fq.quantized_parameters(), strict=True):
        # exactly on the integer grid: mantissa q (Lava weight 2q in mixed layers) times the weight step
        per_lsb = 2 if fq.grids[int_net.layers.index(layer)].mixed else 1
        mant = np.round(q["weight"] / layer.weight_step).astype(np.int64) * per_lsb
        assert np.array_equal(mant, layer.weights)
        assert np.array_equal(layer.weights // per_lsb * layer.weight_step, q["weight"])
        assert np.array_equal(layer.effective_bias / (64.0 * layer.scale), q["bias"])
        assert np.all(float(q["beta"]) == 1.0 - np.asarray(layer.dv) / 4096)  # dv/vth: per neuron (contract v2)
        if layer.spiking:
            assert np.all(float(q["threshold"]) == np.asarray(layer.vth) / layer.scale)
    # and the float32 forward pass uses these values, rounded once
    for i, layer in enumerate(net.layers):
        w, b = fq.synapse(i, layer.fc.weight, layer.fc.bias)
        assert torch.equal(w, torch.from_numpy(fq.quantized_parameters()[i]["weight"]).float())
        assert b is not None and torch.equal(b, torch.from_numpy(fq.quantized_parameters()[i]["bias"]).float())


def test_ste_gradients_reach_float_parameters() -> None:
    net = _random_snn("membrane")
    net.train()
    net.fake_quant = IntGridQuantizer(net, _spikes(16), dt=DT)
    net.lava_delay = True
    x = torch.from_numpy(_spikes(8, seed=3))
    net(x).pow(2).sum().backward()
    for i, layer in enumerate(net.layers):
        assert layer.fc.weight.grad is not None and layer.fc.weight.grad.abs().sum() > 0, i
        assert layer.fc.bias.grad is not None and layer.fc.bias.grad.abs().sum() > 0, i
        assert layer.neuron.beta.grad is not None, i
    assert net.layers[0].neuron.threshold.grad is not None and net.layers[0].neuron.threshold.grad.abs() > 0


def test_grid_refresh_every_k_training_steps() -> None:
    net = _random_snn("membrane")
    fq = IntGridQuantizer(net, _spikes(16), dt=DT, every=2)
    net.fake_quant = fq
    x = torch.from_numpy(_spikes(4))
    with torch.no_grad():
        net(x)  # evaluation does not count as a step
    assert fq.refreshes == 1
    for _ in range(5):
        net.train()
        net(x).sum().backward()
    assert fq.steps == 5 and fq.refreshes == 1 + 2  # refreshed before steps 3 and 5


@pytest.mark.parametrize("readout", ["membrane", "spikes"])
def test_golden_matches_fake_quant_forward(readout: str) -> None:
    """The integer network decodes to the fake-quantised float forward (with Lava's delay).

    What differs is the integer voltage arithmetic (the decay truncates toward zero each tick, a
    shift of at most 1/(64 λ) per tick) and the spikes such a shift flips at the threshold.
    Tolerance: hidden spike trains agree on ≥ 99.9 % of (event, tick, neuron); outputs within 1 %
    of their spread (membrane) or within 1 spike count on ≥ 99 % of outputs (spike readout).
    (Measured here: 99.997 % spike agreement, 0.2 % of the spread at worst, identical counts.)
    """
    net = _random_snn(readout)
    calib = _spikes(64)
    fq = IntGridQuantizer(net, calib, dt=DT)
    net.fake_quant, net.lava_delay = fq, True
    x = _spikes(128, seed=5)
    with torch.no_grad():
        rec = net.record(torch.from_numpy(x))
    int_net = quantize(chain_of(net, DT), calib)
    gold = simulate(int_net, x)
    for layer in range(2):
        agree = np.mean(gold.spikes[layer] == rec.spikes[layer].transpose(0, 1).numpy())
        assert agree >= 0.999, (layer, agree)
    out_int = integer_outputs(int_net, x)
    out_f = rec.output.numpy().astype(np.float64)
    if readout == "membrane":
        assert np.abs(out_int - out_f).max() <= 0.01 * out_f.std(), np.abs(out_int - out_f).max() / out_f.std()
    else:
        counts_i = gold.spikes[-1].sum(axis=1)
        counts_f = rec.spikes[-1].sum(0).numpy()
        assert np.mean(np.abs(counts_i - counts_f) <= 1) >= 0.99
        assert np.allclose(out_int, counts_i * net.decode_scale.detach().numpy() + net.decode_offset.detach().numpy())


@pytest.mark.slow
def test_qat_finetune_export_quantize_evaluate(trained_run: Path, synthetic_h5: Path, tmp_path: Path) -> None:
    """A QAT fine-tune (CLI) runs, records qat: true, exports onto its grid; evaluate --bundle reports both."""
    from click.testing import CliRunner

    from neurocal.cli import main

    runner = CliRunner()
    qat_dir = tmp_path / "qat"
    res = runner.invoke(main, ["train", "--qat-from", str(trained_run), "--out", str(qat_dir), "--qat-epochs", "1",
                               "--qat-every", "2", "--threads", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    config, info = read_run(qat_dir)
    assert info["qat"] is True and info["qat_settings"]["source_run"] == str(trained_run.resolve())
    assert np.array_equal(load_split(qat_dir / "split.npz")["test"], load_split(trained_run / "split.npz")["test"])

    # export → quantize with the QAT calibration events lands on the grid the fake quantiser trains on
    nir_path = export(qat_dir, tmp_path / "qat.nir")
    data = prepare(config, synthetic_h5, load_split(qat_dir / "split.npz"))
    calib = calibration_spikes(data.x, data.split["train"], info["qat_settings"]["calibration_events"])
    int_net = quantize(read_chain(nir_path), calib)
    net, _, _ = load_model(qat_dir, "snn")
    fq = IntGridQuantizer(net, calib, dt=float(info["tick_ns"]) * 1e-9)
    for layer, grid, q in zip(int_net.layers, fq.grids, fq.quantized_parameters(), strict=True):
        assert np.array_equal(layer.weights // (2 if grid.mixed else 1) * layer.weight_step, q["weight"])
        assert np.array_equal(layer.effective_bias / (64.0 * layer.scale), q["bias"])

    # export --qonnx of the QAT run: the Quant nodes hold the brevitas quantisers' integers at scale 2^(e+shift)
    import onnx
    from onnx import numpy_helper

    res = runner.invoke(main, ["export", str(qat_dir), "--out", str(tmp_path / "q.nir"), "--qonnx",
                               str(tmp_path / "q.onnx")])
    assert res.exit_code == 0, res.output
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(tmp_path / "q.onnx").graph.initializer}
    for i, bq in enumerate(fq.weight_quants):
        assert inits[f"l{i}_scale"] == 2.0**bq.pow2_exponent
        assert np.array_equal(inits[f"l{i}_W"].T, bq.int_weight() * 2.0**bq.pow2_exponent)

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    int_net.save(bundle / "intnet.json")
    res = runner.invoke(main, ["evaluate", str(qat_dir), "--bundle", str(bundle / "intnet.json"), "--no-plots"])
    assert res.exit_code == 0, res.output
    assert "integer" in res.output and "int vs snn" in res.output
    result = json.loads((qat_dir / "metrics.json").read_text())
    models = result["models"]
    assert set(headline(models["integer"])) == set(headline(models["snn"]))
    assert models["integer"].keys() == models["snn"].keys()
    assert set(result["integer"]["relative_difference"]) == set(headline(models["snn"]))
    assert result["integer"]["content_hash"] == int_net.content_hash


@pytest.mark.slow  # the shared trained_run fixture trains for ~20 s
def test_evaluate_rejects_a_bundle_of_another_target(trained_run: Path, tmp_path: Path) -> None:
    from neurocal.errors import NeurocalError

    net = _random_snn("membrane")
    int_net = quantize(chain_of(net, DT), _spikes(8))
    int_net.save(tmp_path / "intnet.json")
    with pytest.raises(NeurocalError, match=r"inputs|predicts"):
        evaluate(trained_run, plots=False, bundle=tmp_path / "intnet.json")


def test_negative_bias_beyond_13_bits_takes_an_exponent_not_a_clip() -> None:
    """Regression: intnet's bias rule (which QAT mirrors) clipped biases below −4096 instead of shifting them."""
    from neurocal.quantize import quantize_bias

    mant, exp = quantize_bias(np.array([2690.0, -7226.0, -4096.0]), "test")
    assert exp == 1 and mant.tolist() == [1345, -3613, -2048]
    mant, exp = quantize_bias(np.array([4095.0, -4096.0]), "test")  # the 13-bit extremes fit as they are
    assert exp == 0 and mant.tolist() == [4095, -4096]
