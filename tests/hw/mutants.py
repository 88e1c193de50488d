"""Networks that differ from a reference in one hidden-layer integer whose effect never reaches the output:
what only a comparison of every layer can catch."""

from __future__ import annotations

import copy

import numpy as np

from neurocal.backends import Comparison, compare_results
from neurocal.errors import NeurocalError
from neurocal.golden import GoldenBackend
from neurocal.intnet import IntNetwork
from neurocal.testnets import random_network

SIZES = [10, 8, 7, 3]
SILENT = {0: 2, 1: 4}  # hidden layer → a neuron of it that no later layer listens to


def _spikes_differ(golden, mutant: IntNetwork, spikes: np.ndarray, layer: int) -> bool:
    try:
        mutant.validate()
    except NeurocalError:  # a value outside the layer's range
        return False
    return not np.array_equal(golden.layer_spikes[layer], GoldenBackend().run(mutant, spikes).layer_spikes[layer])


def reference_and_mutants(seed: int, n_events: int = 4) -> tuple[IntNetwork, np.ndarray, dict[str, IntNetwork]]:
    """A network of SIZES whose SILENT neurons feed nothing, events, and two mutants of it: one weight into
    layer 0's silent neuron, one threshold of layer 1's silent neuron. Each changes that layer's spikes
    (checked with the golden model) and nothing at the output."""
    rng = np.random.default_rng(seed)
    net = random_network(SIZES, rng, readout="spikes")
    for layer, neuron in SILENT.items():
        net.layers[layer + 1].weights[:, neuron] = 0
    spikes = rng.random((n_events, 9, SIZES[0])) < 0.4
    golden = GoldenBackend().run(net, spikes)
    mutants = {}
    busiest = np.argsort(-spikes.sum(axis=(0, 1)), kind="stable")
    for j, value in ((int(j), v) for j in busiest for v in (254, -256, 0, 128, -128)):  # the first change that shows
        weight = copy.deepcopy(net)
        weight.layers[0].weights[SILENT[0], j] = value
        if _spikes_differ(golden, weight, spikes, 0):
            mutants["weight"] = weight
            break
    for value in (1, 2, 8, 100, 60000):
        threshold = copy.deepcopy(net)
        threshold.layers[1].vth[SILENT[1]] = value
        if _spikes_differ(golden, threshold, spikes, 1):
            mutants["threshold"] = threshold
            break
    if set(mutants) != {"weight", "threshold"}:  # a network too quiet to show one: the next seed
        return reference_and_mutants(seed + 1000, n_events)
    for name, mutant in mutants.items():
        cmp = compare_results(golden, GoldenBackend().run(mutant, spikes))
        layer = 0 if name == "weight" else 1
        assert cmp.first is not None and cmp.first.layer == layer and cmp.first.quantity == "spike", (name, cmp.first)
        assert cmp.by_field["output_spikes"].size == 0, f"{name}: the mutation reaches the output"
    return net, spikes, mutants


def check_reported(net: IntNetwork, mutant: IntNetwork, spikes: np.ndarray, result) -> Comparison:
    """The RTL running ``mutant`` against the golden model of ``net``: the same first divergence (event,
    layer, tick, neuron) as the golden model of ``mutant`` gives, in a hidden layer; equal outputs."""
    golden = GoldenBackend().run(net, spikes)
    expected = compare_results(golden, GoldenBackend().run(mutant, spikes)).first
    got = compare_results(golden, result)
    assert got.first == expected, f"RTL reports {got.first}, the mutation is at {expected}"
    assert got.by_field["output_spikes"].size == 0
    return got
