"""Fixtures of the firmware suite: networks with per-neuron parameters, one build folder per session."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from neurocal.backends import compare_results, validate_result
from neurocal.golden import GoldenBackend
from neurocal.intnet import IntNetwork
from neurocal.testnets import random_network


def per_neuron(net: IntNetwork, rng: np.random.Generator, extreme: bool = True) -> IntNetwork:
    """``net`` with du, dv, vth drawn per neuron (edge values 0, 1, 4094, 4095 and 0/1/2^17−1 when extreme)."""

    def draw(n: int, hi: int, edges: list[int]) -> np.ndarray:
        values = rng.integers(0, hi + 1, size=n)
        if extreme:
            values = np.where(rng.random(n) < 0.5, rng.choice(edges, size=n), values)
        return values

    layers = [
        dataclasses.replace(
            layer,
            du=draw(layer.n_out, 4095, [0, 1, 4094, 4095]),
            dv=draw(layer.n_out, 4095, [0, 1, 4094, 4095]),
            vth=draw(layer.n_out, 4000, [0, 1, (1 << 17) - 1]),
        )
        for layer in net.layers
    ]
    return IntNetwork(n_inputs=net.n_inputs, layers=layers, readout=net.readout, source="<per-neuron>")


def extreme_network(sizes: list[int], seed: int, readout: str = "membrane") -> IntNetwork:
    rng = np.random.default_rng(seed)
    return per_neuron(random_network(sizes, rng, extreme=True, readout=readout), rng)


def assert_bit_exact(net: IntNetwork, spikes: np.ndarray, result) -> None:
    """The HLS result is well-formed (the spine's validator) and equals the golden model everywhere, per tick
    when traced; the message names the first divergence (event, layer, tick, neuron, quantity)."""
    validate_result(result, net, spikes.shape, "hls")
    golden = GoldenBackend(trace=result.trace is not None).run(net, spikes)
    cmp = compare_results(golden, result)
    assert cmp.n_mismatched == 0, f"{cmp.n_mismatched} events differ; first divergence: {cmp.first}"
    probed_all = all(s is not None for s in result.layer_spikes)
    assert set(result.ops) == ({"synops", "neuron_updates", "spikes"} if probed_all else {"neuron_updates"})
    for key, counts in result.ops.items():  # operation counts: the golden model's, event by event
        assert np.array_equal(counts, golden.ops[key]), key


@pytest.fixture(scope="session")
def calorimeter(tmp_path_factory: pytest.TempPathFactory) -> tuple[IntNetwork, np.ndarray, Path]:
    """A quantised 400-50-30 membrane-readout network, 40 encoded shower events and the HDF5 file they come from.

    The first 20 simulated events calibrate the quantiser; the other 40 are the ones every test runs.
    """
    from neurocal.nirgraph import chain_from_graph
    from neurocal.quantize import quantize
    from neurocal.sim import load_events
    from neurocal.sim.frontend import encode_thresholds
    from neurocal.sim.simulate import simulate_to_file
    from neurocal.testnets import lif_graph

    data = tmp_path_factory.mktemp("calorimeter") / "showers.h5"
    simulate_to_file(["proton", "kaon", "pion"], 60, seed=7, out=data)
    spikes = encode_thresholds(load_events(data).photons)
    rng = np.random.default_rng(3)
    weights = [rng.normal(0, 3 / np.sqrt(400), (50, 400)), rng.normal(0, 1 / np.sqrt(50), (30, 50))]
    net = quantize(chain_from_graph(lif_graph(weights, beta=0.9, readout="membrane")), spikes[:20])
    return net, spikes[20:], data


@pytest.fixture(scope="session")
def hls_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build folder for the session: a network compiled once is reused by every test that runs it."""
    return tmp_path_factory.mktemp("hls-build")
