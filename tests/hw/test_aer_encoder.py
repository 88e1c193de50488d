"""nc_aer_encoder: spike lines driven every 0.2 ns of simulated time → exactly neurocal.aer's words."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurocal.hw import simulators
from neurocal.hw.sources import rtl_dir, rtl_source

pytestmark = pytest.mark.rtl


# Icarus only for now: the behavioural deserialiser (0.1/0.2 ns delays beside cocotb's writes) samples one
# tick off under Verilator --timing; the encoder itself is Verilog-2005 that Verilator lints clean.
@pytest.mark.parametrize("channels", [8, 3])
def test_encoder_turns_sampled_lines_into_aer_words(channels: int, hw_build_root) -> None:
    rng = np.random.default_rng(8)
    spikes = rng.random((3, 100, channels)) < np.array([0.02, 0.3, 0.0, 0.9, 0.1, 0.5, 0.05, 0.2])[:channels]
    spikes[1, 0] = True  # every line in the window's first and last ticks
    spikes[1, -1] = True
    built = simulators.build("icarus", "nc_aer_encoder_tb",
                             [rtl_dir() / "sim" / "nc_aer_encoder_tb.v", rtl_dir() / "sim" / "nc_line_deser.v",
                              rtl_source("nc_aer_encoder")],
                             hw_build_root / f"aer_encoder-icarus-{channels}",
                             parameters={"CHANNELS": channels, "TICKS": 100})
    np.save(built.build_dir / "spikes.npy", spikes)
    (built.build_dir / "config.json").write_text(json.dumps({"spikes": str(built.build_dir / "spikes.npy"),
                                                             "overrun": True}))
    simulators.run(built, "neurocal.hw.tb.aer_encoder",
                   extra_env={"NC_TB_CONFIG": str(built.build_dir / "config.json")})


@pytest.mark.parametrize("params", [[], ["-GCHANNELS=5", "-GK=4", "-GTICKS=8"]])
def test_encoder_lints_clean(params: list[str]) -> None:
    import subprocess

    with simulators.simulator_env():
        lint = subprocess.run([str(simulators._verilator_bin() / "verilator"), "--lint-only", "-Wall", *params,
                               str(rtl_source("nc_aer_encoder"))], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stderr
