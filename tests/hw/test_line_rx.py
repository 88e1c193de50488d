"""nc_line_rx, the detector-side input: spike lines of simulated showers, sampled every 0.2 ns of simulated
time, become exactly the rasters the layers consume (no AER words in between), under back-pressure."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from neurocal.hw import simulators
from neurocal.hw.sources import rtl_dir, rtl_source
from tests.hw.conftest import lit_showers

pytestmark = pytest.mark.rtl


# Icarus: the behavioural deserialiser's 0.1/0.2 ns delays (see test_aer_encoder); Verilator lints the module
@pytest.mark.parametrize("backpressure", [0.0, 0.6])
def test_line_rx_turns_sampled_shower_lines_into_rasters(backpressure: float, hw_build_root) -> None:
    spikes = lit_showers(2, 2, seed=11, particles=("proton", "pion"))
    assert spikes.shape == (2, 100, 400)
    layers = 3
    built = simulators.build("icarus", "nc_line_rx_tb",
                             [rtl_dir() / "sim" / "nc_line_rx_tb.v", rtl_dir() / "sim" / "nc_line_deser.v",
                              rtl_source("nc_line_rx")],
                             hw_build_root / "line_rx-icarus-400",
                             parameters={"CHANNELS": 400, "TICKS": 100, "LAYERS": layers})
    tag = f"{backpressure:g}"
    np.save(built.build_dir / f"spikes-{tag}.npy", spikes)
    config = built.build_dir / f"config-{tag}.json"
    config.write_text(json.dumps({"spikes": str(built.build_dir / f"spikes-{tag}.npy"), "layers": layers,
                                  "backpressure": backpressure, "overrun": backpressure > 0}))
    simulators.run(built, "neurocal.hw.tb.line_rx", extra_env={"NC_TB_CONFIG": str(config)})


@pytest.mark.parametrize("params", [[], ["-GCHANNELS=5", "-GK=4", "-GTICKS=8", "-GLAYERS=1"]])
def test_line_rx_lints_clean(params: list[str]) -> None:
    with simulators.simulator_env():
        lint = subprocess.run([str(simulators._verilator_bin() / "verilator"), "--lint-only", "-Wall", *params,
                               str(rtl_source("nc_line_rx"))], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stderr


def test_line_rx_refuses_a_window_that_is_not_whole_beats(tmp_path) -> None:
    """The module checks its own parameters: an instance whose window is not whole beats stops the simulation
    at time zero with the reason (verilog-axis's "check configuration" block)."""
    vvp = tmp_path / "bad.vvp"
    subprocess.run(["iverilog", "-g2005", "-o", str(vvp), "-Pnc_line_rx.K=3", "-Pnc_line_rx.TICKS=10",
                    "-s", "nc_line_rx", str(rtl_source("nc_line_rx"))], check=True, capture_output=True)
    run = subprocess.run(["vvp", "-n", str(vvp)], capture_output=True, text=True, check=False)
    assert "TICKS (10) must be a positive multiple of K (3)" in run.stdout + run.stderr
