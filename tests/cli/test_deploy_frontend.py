"""quantize/run/compare encode events with the front end the network was trained with."""

import json

import nir
import numpy as np
from click.testing import CliRunner

from neurocal import golden
from neurocal.cli import main
from neurocal.intnet import IntNetwork
from neurocal.sim.dataset import write_h5
from neurocal.sim.frontend import encode_thresholds
from neurocal.testnets import lif_graph
from tests.sim.helpers import random_events


def test_network_with_two_threshold_levels(tmp_path, rng):
    # 100 sensors × 2 levels = 200 inputs: the default 4-level front end (400 channels) would not fit.
    graph = lif_graph([rng.normal(0, 0.3, (12, 200)), rng.normal(0, 0.3, (3, 12))], threshold=1.0)
    graph.metadata["neurocal"]["threshold_levels"] = [1000.0, 50000.0]
    nir.write(tmp_path / "two.nir", graph)
    write_h5(random_events(12, seed=5), tmp_path / "d.h5")
    runner = CliRunner()
    q = runner.invoke(main, ["quantize", str(tmp_path / "two.nir"), "--data", str(tmp_path / "d.h5"),
                             "--out", str(tmp_path / "bundle"), "--events", "12"])
    assert q.exit_code == 0, q.output
    bundle = json.loads((tmp_path / "bundle" / "intnet.json").read_text())
    assert bundle["metadata"]["threshold_levels"] == [1000.0, 50000.0]
    r = runner.invoke(main, ["run", "--backend", "golden", "--bundle", str(tmp_path / "bundle"),
                             "--data", str(tmp_path / "d.h5"), "--out", str(tmp_path / "r.npz")])
    assert r.exit_code == 0, r.output

    graph.metadata["neurocal"]["threshold_levels"] = [1e2, 1e3, 1e4, 1e5]  # now 400 channels: a clear error
    nir.write(tmp_path / "four.nir", graph)
    bad = runner.invoke(main, ["quantize", str(tmp_path / "four.nir"), "--data", str(tmp_path / "d.h5"),
                               "--out", str(tmp_path / "b2")])
    assert bad.exit_code == 2 and "400 input channels" in bad.output and "takes 200" in bad.output
    assert not (tmp_path / "b2").exists()

    # What `run` wrote is the golden model on the 2-level encoding, spike for spike.
    net = IntNetwork.load(tmp_path / "bundle" / "intnet.json")
    expected = golden.simulate(net, encode_thresholds(random_events(12, seed=5).photons, [1000.0, 50000.0]))
    written = np.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(written["output_spikes"], expected.spikes[-1])
    np.testing.assert_array_equal(written[f"v_final_{net.n_layers - 1}"], expected.v_final[-1])
