"""brevitas' weight quantiser is the integer contract's grid, weight for weight."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurocal.intnet import IntLayer
from neurocal.models.brevitas_quant import BrevitasWeightQuantizer
from neurocal.models.qat import IntGridQuantizer, chain_of
from neurocal.nirgraph import Chain, ChainLayer
from neurocal.quantize import LayerGrid, quant_grid, quantize

SIGNS = ("mixed", "excitatory", "inhibitory")


def _chain(rng: np.random.Generator, signs: tuple[str, str], gain: tuple[float, float], readout: str) -> Chain:
    """A 30-20-4 chain with weights of the given sign classes, scaled by ``gain`` (moves the weight exponent)."""
    sizes = [30, 20, 4]
    layers = []
    for i, (sign, g) in enumerate(zip(signs, gain, strict=True)):
        w = rng.normal(size=(sizes[i + 1], sizes[i])) * g
        w = {"mixed": w, "excitatory": np.abs(w), "inhibitory": -np.abs(w)}[sign]
        layers.append(ChainLayer(
            synapse_name=f"fc{i}", neuron_name=f"lif{i}", kind="LIF", weight=w,
            bias=rng.uniform(-0.02, 0.02, sizes[i + 1]), alpha=np.zeros(sizes[i + 1]),
            beta=np.full(sizes[i + 1], 0.9), threshold=rng.uniform(0.5, 1.0, sizes[i + 1]),
        ))
    return Chain(n_inputs=sizes[0], layers=layers, readout=readout, source="<test>")


def _check_layer(grid: LayerGrid, weight: np.ndarray, int_layer: IntLayer) -> int:
    """Every weight of one layer: brevitas' integers and scale against the contract; returns e + shift."""
    bq = BrevitasWeightQuantizer.build(grid, torch.from_numpy(weight))
    per_lsb = 2 if grid.mixed else 1
    q = bq.int_weight()
    assert bq.bit_width == 8 and bq.signed == grid.mixed
    # integer domain, exact: brevitas int × 2^(e+shift) == Lava weight × 2^weight_exp
    assert np.array_equal(q * per_lsb, int_layer.weights)
    assert np.array_equal(q * 2.0**bq.pow2_exponent, int_layer.weights * 2.0**int_layer.weight_exp)
    # float domain: brevitas' scale is the contract's weight step 2^(e+shift)/λ, its product the float weight
    assert bq.scale() == int_layer.weight_step == 2.0**bq.pow2_exponent / int_layer.scale
    assert np.array_equal(q * bq.scale(), int_layer.weights // per_lsb * int_layer.weight_step)
    # and the forward weight is LayerGrid.fake_quantize bit for bit, also off the grid's range (clamped)
    for moved in (weight, 1.7 * weight, -weight, weight + 0.3 * np.abs(weight).max()):
        assert np.array_equal(bq.fake_quantize(torch.from_numpy(moved)).numpy(), grid.fake_quantize(moved))
    return bq.pow2_exponent


@pytest.mark.parametrize("readout", ["membrane", "spikes"])
def test_brevitas_integers_and_scales_are_the_contract_grid(readout: str) -> None:
    """Random chains of every sign class and weight exponents from negative to positive."""
    rng = np.random.default_rng(7)
    calib = rng.random((32, 25, 30)) < 0.1
    exponents, classes = set(), set()
    for trial in range(18):
        signs = (SIGNS[trial % 3], SIGNS[(trial // 3) % 3])
        gain = tuple(float(10.0 ** rng.uniform(-2.5, 0.7)) for _ in range(2))
        chain = _chain(rng, signs, gain, readout)
        net = quantize(chain, calib)
        grids = quant_grid(chain, calib)
        for layer, grid, int_layer in zip(chain.layers, grids, net.layers, strict=True):
            exponents.add(int_layer.weight_exp)
            classes.add("mixed" if grid.mixed else "inhibitory" if grid.q_max == 0 else "excitatory")
            _check_layer(grid, layer.weight, int_layer)
    assert classes == set(SIGNS)
    assert min(exponents) < 0 < max(exponents), exponents  # the sweep reaches both signs of the exponent


def test_qat_quantiser_is_brevitas_on_the_exported_grid() -> None:
    """The QAT quantiser of an SNN holds one brevitas QuantLinear per layer, on the grid ``quantize`` uses."""
    from neurocal.models.networks import SNN

    torch.manual_seed(1)
    net = SNN(30, [20], 3, readout="membrane", beta_init=0.9, threshold_init=0.7)
    with torch.no_grad():
        net.layers[1].fc.weight.abs_()
    calib = np.random.default_rng(2).random((32, 20, 30)) < 0.1
    fq = IntGridQuantizer(net, calib, dt=0.2e-9)
    int_net = quantize(chain_of(net, 0.2e-9), calib)
    for i, (bq, int_layer) in enumerate(zip(fq.weight_quants, int_net.layers, strict=True)):
        assert np.array_equal(bq.int_weight() * (2 if bq.grid.mixed else 1), int_layer.weights), i
        assert torch.equal(fq.weight_q(i, net.layers[i].fc.weight),
                           torch.from_numpy(fq.grids[i].fake_quantize(net.layers[i].fc.weight.detach().double()
                                                                       .numpy())))
