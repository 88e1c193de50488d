"""The demo is the whole stack in one command: run it small, end to end, as `make demo` does."""

import json

import pytest
from click.testing import CliRunner

from neurocal.cli import main


@pytest.mark.slow
@pytest.mark.lava
def test_demo_end_to_end_and_rerun(tmp_path):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--events", "240", "--epochs", "1", "--compare-events", "8"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "bit-exact" in first.output
    for name in ("data.h5", "model.nir", "bundle/intnet.json", "bundle/headroom.md", "plots/event_0.png",
                 "runs/energy/metrics.json", "inspect.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "inspect.json").read_text())["n_events"] == 240
    metrics = json.loads((out / "runs/energy/metrics.json").read_text())
    assert metrics["target"] == "energy"
    intnet_before = (out / "bundle/intnet.json").read_text()
    again = CliRunner().invoke(main, args)  # re-run: reuses the dataset and the finished run
    assert again.exit_code == 0, again.output
    assert "simulate" not in again.output.split("== inspect")[0]
    assert (out / "bundle/intnet.json").read_text() == intnet_before
