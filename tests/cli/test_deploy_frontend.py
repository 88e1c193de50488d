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


def test_time_base_travels_with_the_network_and_other_data_is_refused(tmp_path, rng):
    # A foreign graph states no time base: it is quantised for the calibration data's 40 ticks, and the bundle's
    # front end then refuses 100-tick data in one line instead of running a network on a window it never saw.
    graph = lif_graph([rng.normal(0, 0.3, (8, 400)), rng.normal(0, 0.3, (2, 8))], threshold=1.0)
    graph.metadata.pop("neurocal", None)
    nir.write(tmp_path / "foreign.nir", graph)
    write_h5(random_events(6, n_ticks=40, seed=3), tmp_path / "short.h5")
    write_h5(random_events(6, n_ticks=100, seed=3), tmp_path / "long.h5")
    runner = CliRunner()
    q = runner.invoke(main, ["quantize", str(tmp_path / "foreign.nir"), "--data", str(tmp_path / "short.h5"),
                             "--out", str(tmp_path / "bundle"), "--events", "6"])
    assert q.exit_code == 0, q.output
    frontend = json.loads((tmp_path / "bundle" / "intnet.json").read_text())["frontend"]
    assert frontend["n_ticks"] == 40 and frontend["tick_ns"] == 0.2
    ok = runner.invoke(main, ["run", "--backend", "golden", "--bundle", str(tmp_path / "bundle"),
                              "--data", str(tmp_path / "short.h5"), "--out", str(tmp_path / "r.npz")])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["run", "--backend", "golden", "--bundle", str(tmp_path / "bundle"),
                               "--data", str(tmp_path / "long.h5"), "--out", str(tmp_path / "r2.npz")])
    assert bad.exit_code == 2, bad.output
    assert "long.h5: events have 100 ticks of 0.2 ns but the front end expects 40 ticks" in bad.output
    assert not (tmp_path / "r2.npz").exists()
