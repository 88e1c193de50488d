"""nc_prio_enc (the lowest set bit of a vector → index, one-hot, valid) under Icarus and Verilator, over
widths from 1 to 64, against Python's r & -r; and Verilator's -Wall lint at the same widths."""

from __future__ import annotations

import json
import subprocess

import pytest

from neurocal.hw import simulators
from neurocal.hw.sources import rtl_dir

pytestmark = pytest.mark.rtl

SOURCE = "nc_prio_enc.v"


@pytest.mark.parametrize(("sim", "width"), [("icarus", 1), ("icarus", 3), ("icarus", 13), ("icarus", 64),
                                            ("verilator", 33)])
def test_prio_enc_finds_the_lowest_set_bit(sim: str, width: int, hw_build_root) -> None:
    built = simulators.build(sim, "nc_prio_enc", [rtl_dir() / SOURCE], hw_build_root / f"prio_enc-{sim}-{width}",
                             parameters={"WIDTH": width})
    config = built.build_dir / "config.json"
    config.write_text(json.dumps({"width": width, "random": 1000, "seed": width}))
    simulators.run(built, "neurocal.hw.tb.prio_enc", extra_env={"NC_TB_CONFIG": str(config)})


@pytest.mark.parametrize("width", [1, 13, 64])
def test_prio_enc_lints_clean(width: int) -> None:
    with simulators.simulator_env():
        lint = subprocess.run([str(simulators._verilator_bin() / "verilator"), "--lint-only", "-Wall",
                               f"-GWIDTH={width}", str(rtl_dir() / SOURCE)], capture_output=True, text=True,
                              check=False)
    assert lint.returncode == 0, lint.stderr
