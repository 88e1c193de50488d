"""The photonic front end inside Lava: its own process equals the numpy model exactly, and photons →
photonic spikes → integer network in one Lava network equals numpy front end → golden model."""

from __future__ import annotations

import numpy as np
import pytest

from neurocal.backends import compare_results
from neurocal.golden import GoldenBackend
from neurocal.nirgraph import chain_from_graph
from neurocal.quantize import quantize
from neurocal.sim.frontend import encode_thresholds, frontend_from_dict
from neurocal.sim.photonic import PhotonicFrontEnd, PhotonicSettings, ideal_settings
from neurocal.sim.photonic_lava import run_photonic_lava
from neurocal.sim.simulate import SimConfig, simulate
from neurocal.testnets import lif_graph, random_network

pytestmark = [pytest.mark.lava, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def photons() -> np.ndarray:
    return simulate(["proton", "kaon", "pion"], 4, seed=21, config=SimConfig(light="paper")).photons


def test_lava_process_equals_the_numpy_model_with_noise(photons):
    fe = PhotonicFrontEnd(PhotonicSettings(seed=4))
    run = run_photonic_lava(photons, fe, first_event=7)
    ref = fe.run(photons, first_event=7)
    diff = np.argwhere(run.front_spikes != ref.spikes)
    assert diff.size == 0, f"first divergence (event, tick, channel): {diff[:1].tolist()}"
    assert np.array_equal(run.n_spikes, ref.n_spikes.sum(axis=1))
    assert ref.spikes.sum() > 1000


def test_ideal_photonic_in_lava_is_the_threshold_encoder_and_drives_the_network_like_golden(photons):
    fe = PhotonicFrontEnd(ideal_settings())
    net = random_network([400, 30, 10], np.random.default_rng(5))
    run = run_photonic_lava(photons, fe, net)
    assert np.array_equal(run.front_spikes, encode_thresholds(photons))
    golden = GoldenBackend().run(net, encode_thresholds(photons))
    cmp = compare_results(golden, run.network)
    assert cmp.n_mismatched == 0, cmp.to_dict()


def test_network_quantised_on_photonic_spikes_agrees_in_lava_and_golden(photons):
    """A bundle calibrated on photonic spikes, carrying the photonic front end, runs bit for bit."""
    fe = PhotonicFrontEnd(PhotonicSettings(seed=8))
    calib = fe.encode(photons[:2])
    rng = np.random.default_rng(2)
    weights = [rng.normal(0, 3 / np.sqrt(400), (40, 400)), rng.normal(0, 1 / np.sqrt(40), (5, 40))]
    net = quantize(chain_from_graph(lif_graph(weights, beta=0.9, readout="membrane")), calib, frontend=fe.to_dict())
    assert net.frontend == fe.to_dict()  # stored with the network (and covered by its content hash)
    front = frontend_from_dict(net.frontend)
    run = run_photonic_lava(photons[2:], front, net, first_event=2)
    golden = GoldenBackend().run(net, front.encode(photons[2:], first_event=2))
    cmp = compare_results(golden, run.network)
    assert cmp.n_mismatched == 0, cmp.to_dict()
    assert golden.ops["spikes"][:, 0].sum() > 50  # the hidden layer is driven by the photonic spikes
