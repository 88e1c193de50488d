"""The demo is the whole stack in one command: run it small, end to end, as `make demo` does."""

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from neurocal.cli import main


@pytest.mark.slow
@pytest.mark.lava
def test_demo_end_to_end_and_rerun(tmp_path):
    out = tmp_path / "demo"
    # the deployable preset's recipe on a small hidden shape: two small Verilator builds instead of two large ones
    args = ["demo", "--out", str(out), "--events", "240", "--epochs", "1", "--hidden", "8,4",
            "--compare-events", "8", "--driver-events", "6"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    for name in ("data.h5", "model.nir", "bundle/intnet.json", "bundle/headroom.md", "plots/event_0.png",
                 "runs/energy/metrics.json", "inspect.json", "deploy/deploy.json", "deploy/rtl/nc_top.v"):
        assert (out / name).is_file(), name
    assert json.loads((out / "inspect.json").read_text())["n_events"] == 240
    config = yaml.safe_load((out / "runs/energy/config.yaml").read_text())
    assert (config["preset"], config["hidden"], config["population"]) == ("deployable", [8, 4], 10)
    metrics = json.loads((out / "runs/energy/metrics.json").read_text())
    assert metrics["target"] == "energy"

    # every backend ran the same 8 events and none differs from the golden model
    table = dict(re.findall(r"^(golden|lava|hls|rtl-verilator) +[\d.]+ +[\d.]+ +(\S+)$", first.output, re.M))
    assert table == {"golden": "reference", "lava": "0", "hls": "0", "rtl-verilator": "0"}, first.output
    assert "8 events × 100 ticks" in first.output

    # the population of 10 readout neurons folded into one output neuron: the core is 400-8-4-1
    deploy = json.loads((out / "deploy/deploy.json").read_text())
    assert deploy["board"] == "pynq-z2" and deploy["shape"]["sizes"] == [400, 8, 4, 1]
    driver = re.search(r"^6 events through the driver on verilator simulation at 200 MHz.*$", first.output, re.M)
    assert driver, first.output
    assert "bit-exact with the golden model" in first.output.split(driver.group(0))[1]

    # the report: filled from this invocation's run, bundle and deploy folder, its headlines printed at the end
    report = json.loads((out / "report/report.json").read_text())
    assert report["inputs"]["events"] == 8 and report["inputs"]["deploy"] == str(out / "deploy")
    agreement = report["sections"]["agreement"]
    assert agreement["numbers"]["mismatched events, all backends"]["value"] == 0
    assert any("driver" in row[0] and row[1] == 8 and row[2] == 0 for t in agreement["tables"] for row in t["rows"])
    assert report["sections"]["physics"]["status"] != "not run"
    assert {"physics", "agreement", "hardware", "energy"} <= set(report["headlines"])
    tail = first.output.split("report: ")[-1]
    assert tail.startswith(str((out / "report/report.html").resolve()))
    for headline in report["headlines"].values():
        assert f"  {headline['text']}" in tail

    intnet_before = (out / "bundle/intnet.json").read_text()
    again = CliRunner().invoke(main, args)  # re-run: reuses the dataset and the finished run
    assert again.exit_code == 0, again.output
    assert "simulate" not in again.output.split("== inspect")[0]
    assert (out / "bundle/intnet.json").read_text() == intnet_before
