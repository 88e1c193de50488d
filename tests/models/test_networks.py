"""The SNN computes exactly docs/design.md §2's per-layer dynamics, and its hooks and constraints work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurocal.models.networks import SNN, SpikingLayer


def reference_layer(x: np.ndarray, w: np.ndarray, b: np.ndarray, beta: float, thr: float):
    """v[t] = β·v[t-1] + W·s[t] + b; spike if v > thr; v ← 0 — written out in numpy (float64)."""
    v = np.zeros((x.shape[1], w.shape[0]))
    spikes = []
    for t in range(x.shape[0]):
        v = beta * v + x[t] @ w.T + b
        s = v > thr
        v = np.where(s, 0.0, v)
        spikes.append(s)
    return np.stack(spikes), v


def test_leaky_layer_matches_reference_dynamics(rng: np.random.Generator) -> None:
    torch.manual_seed(0)
    layer = SpikingLayer(20, 7, beta=0.8, threshold=0.6)
    x = (rng.random((30, 5, 20)) < 0.3).astype(np.float32)
    spikes, v = layer(torch.from_numpy(x))
    w = layer.fc.weight.detach().double().numpy()
    b = layer.fc.bias.detach().double().numpy()
    ref_s, ref_v = reference_layer(x.astype(np.float64), w, b, 0.8, 0.6)
    assert spikes.sum() > 0  # the test means something only if neurons fire
    np.testing.assert_array_equal(spikes.detach().numpy().astype(bool), ref_s)
    np.testing.assert_allclose(v.detach().numpy(), ref_v, atol=1e-5)


def test_spike_comparison_is_strict() -> None:
    layer = SpikingLayer(1, 1, beta=1.0, threshold=1.0, bias=False)
    with torch.no_grad():
        layer.fc.weight.fill_(0.5)
    spikes, _ = layer(torch.ones(3, 1, 1))
    # v = 0.5, 1.0 (== thr: no spike), 1.5 (spike)
    assert spikes[:, 0, 0].tolist() == [0.0, 0.0, 1.0]


def test_membrane_readout_never_spikes_and_is_final_voltage(rng: np.random.Generator) -> None:
    torch.manual_seed(1)
    net = SNN(40, [16], 2, readout="membrane", readout_threshold=1e6)
    x = torch.from_numpy(rng.random((4, 25, 40)) < 0.4)
    rec = net.record(x)
    assert rec.spikes[-1].sum() == 0
    torch.testing.assert_close(rec.output, rec.final_v[-1])
    assert [p.numel() for p in (net.layers[0].neuron.beta, net.layers[0].neuron.threshold)] == [1, 1]


def test_constrain_keeps_beta_and_threshold_legal() -> None:
    net = SNN(10, [5], 1, beta_min=0.01, threshold_min=0.05)
    with torch.no_grad():
        net.layers[0].neuron.beta.fill_(1.7)
        net.layers[0].neuron.threshold.fill_(-3.0)
        net.layers[1].neuron.beta.fill_(-0.2)
    net.constrain_()
    assert net.layers[0].neuron.beta.item() == 1.0
    assert net.layers[0].neuron.threshold.item() == pytest.approx(0.05)
    assert net.layers[1].neuron.beta.item() == pytest.approx(0.01)


class SignQuant:
    """A toy fake-quantiser with a straight-through estimator: weights → ±scale."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def synapse(self, layer, weight, bias):
        self.calls.append(layer)
        q = torch.sign(weight) * weight.abs().mean()
        return weight + (q - weight).detach(), bias

    def neuron(self, layer, beta, threshold):
        return beta, threshold


def test_fake_quant_hook_is_applied_with_straight_through_gradients(rng: np.random.Generator) -> None:
    torch.manual_seed(2)
    net = SNN(30, [12], 1)
    x = torch.from_numpy(rng.random((6, 20, 30)) < 0.5)
    plain = net(x).detach()
    net.fake_quant = SignQuant()
    out = net(x)
    assert net.fake_quant.calls == [0, 1]
    assert not torch.allclose(out, plain)
    out.sum().backward()
    assert net.layers[0].fc.weight.grad is not None and net.layers[0].fc.weight.grad.abs().sum() > 0


def test_fast_path_is_snntorch_leaky(rng: np.random.Generator) -> None:
    """The layer's inlined loop gives snn.Leaky's spikes, voltages and gradients."""
    torch.manual_seed(3)
    layer = SpikingLayer(25, 9, beta=0.85, threshold=0.4)
    x = torch.from_numpy((rng.random((40, 6, 25)) < 0.3).astype(np.float32))
    spikes, v = layer(x)
    (spikes.sum() + v.sum()).backward()
    fast_grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    current = layer.fc(x)
    mem, ref = torch.zeros_like(current[0]), []
    for t in range(x.shape[0]):
        s, mem = layer.neuron(current[t], mem)  # snnTorch's own forward
        ref.append(s)
    ref_spikes = torch.stack(ref)
    (ref_spikes.sum() + mem.sum()).backward()
    assert spikes.sum() > 0
    assert torch.equal(spikes, ref_spikes) and torch.equal(v, mem)
    for got, want in zip(fast_grads, (p.grad for p in layer.parameters()), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
