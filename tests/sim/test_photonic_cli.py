"""``plot-superpixel`` and the ``--front-end`` options, through click (the command is not yet wired into
``neurocal``; these tests call it directly)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from neurocal.config import StreamConfig
from neurocal.errors import NeurocalError
from neurocal.sim.dataset import write_h5
from neurocal.sim.photonic import PhotonicFrontEnd, PhotonicSettings
from neurocal.sim.photonic_cli import front_end_from_options, plot_superpixel
from neurocal.sim.simulate import SimConfig, simulate


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("ph") / "events.h5"
    write_h5(simulate(["proton", "pion"], 2, seed=4, config=SimConfig(light="paper")), path)
    return path


def test_plot_superpixel_writes_a_png(data, tmp_path):
    out = tmp_path / "plots"
    res = CliRunner().invoke(plot_superpixel, [str(data), "--event", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    (png,) = out.glob("superpixel_event1_sensor*.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert json.loads(res.output.splitlines()[-1])["front_end"]["kind"] == "photonic"


def test_plot_superpixel_takes_settings_and_the_ideal_limit(data, tmp_path):
    settings = tmp_path / "ph.yaml"
    settings.write_text("seed: 3\njitter_ps: 4.0\n")
    res = CliRunner().invoke(
        plot_superpixel, [str(data), "--sensor", "55", "--settings", str(settings), "--out", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.splitlines()[-1])["front_end"]["jitter_ps"] == 4.0
    res = CliRunner().invoke(plot_superpixel, [str(data), "--sensor", "55", "--ideal", "--out", str(tmp_path)])
    assert res.exit_code == 0 and (tmp_path / "superpixel_event0_sensor55_ideal.png").is_file()


def test_plot_superpixel_bad_input_is_one_line(data, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("qe: [2, 2, 2, 2, 2, 2, 2]\n")
    res = CliRunner().invoke(plot_superpixel, [str(data), "--settings", str(bad), "--out", str(tmp_path)])
    assert res.exit_code != 0 and isinstance(res.exception, NeurocalError)
    assert "front_end: qe[0] = 2" in str(res.exception) and str(bad) in str(res.exception)
    res = CliRunner().invoke(plot_superpixel, [str(data), "--sensor", "100", "--out", str(tmp_path)])
    assert isinstance(res.exception, NeurocalError) and "--sensor 100" in str(res.exception)


def test_front_end_options_build_either_kind_on_the_data_time_base(tmp_path):
    stream = StreamConfig(n_ticks=50, tick_ns=0.2)
    ideal = front_end_from_options("ideal", None, stream)
    assert ideal.to_dict()["kind"] == "threshold" and ideal.stream == stream
    f = tmp_path / "s.json"
    f.write_text('{"seed": 5}')
    ph = front_end_from_options("photonic", f, stream)
    assert isinstance(ph, PhotonicFrontEnd) and ph.settings.seed == 5 and ph.stream.n_ticks == 50
    f.write_text('{"kind": "threshold"}')
    with pytest.raises(NeurocalError, match="--front-end is photonic"):
        front_end_from_options("photonic", f, stream)
    f.write_text("tick_ns: 0.1")
    with pytest.raises(NeurocalError, match=r"tick_ns = 0\.1 but the events use 0\.2"):
        front_end_from_options("photonic", f, stream)


def test_plot_superpixel_uses_the_photonic_front_end_recorded_in_the_dataset(tmp_path):
    events = simulate(["kaon"], 1, seed=6, config=SimConfig(light="paper"))
    recorded = PhotonicFrontEnd(PhotonicSettings(seed=7, jitter_ps=3.0)).to_dict()
    events.generator["frontend"] = recorded  # what `neurocal simulate --front-end photonic` writes
    path = tmp_path / "recorded.h5"
    write_h5(events, path)
    res = CliRunner().invoke(plot_superpixel, [str(path), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.splitlines()[-1])["front_end"] == recorded


@pytest.mark.slow
def test_photonic_dataset_trains_and_deploys_with_its_front_end(tmp_path):
    """simulate --front-end photonic records the front end; training encodes with it; the bundle carries it (and
    its hash covers it); `run` encodes the events with it again — golden on the photonic spikes, spike for spike."""
    from click.testing import CliRunner

    from neurocal.cli import main
    from neurocal.golden import simulate as golden
    from neurocal.intnet import IntNetwork
    from neurocal.sim import load_events
    from neurocal.sim.frontend import frontend_from_dict

    runner = CliRunner()

    def ok(*args: str) -> str:
        res = runner.invoke(main, [str(a) for a in args])
        assert res.exit_code == 0, res.output
        return res.output

    ok("simulate", "--events", "48", "--seed", "3", "--front-end", "photonic", "--out", tmp_path / "p.h5", "--quiet")
    recorded = load_events(tmp_path / "p.h5").generator["frontend"]
    assert recorded["kind"] == "photonic"
    ok("train", "--data", tmp_path / "p.h5", "--target", "energy", "--out", tmp_path / "run", "--demo",
       "--epochs", "1", "--no-ann", "--quiet", "--threads", "1")
    ok("quantize", tmp_path / "run", "--data", tmp_path / "p.h5", "--events", "24", "--out", tmp_path / "bundle")
    net = IntNetwork.load(tmp_path / "bundle" / "intnet.json")
    assert net.frontend == recorded
    ok("run", "--bundle", tmp_path / "bundle", "--data", tmp_path / "p.h5", "--events", "8", "--out",
       tmp_path / "r.npz")
    photons = load_events(tmp_path / "p.h5").photons[:8]
    expected = golden(net, frontend_from_dict(net.frontend).encode(photons)).spikes[-1]
    assert np.array_equal(np.load(tmp_path / "r.npz")["output_spikes"], expected)
