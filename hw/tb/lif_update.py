"""cocotb test of ``nc_lif_update``: vectors (state before, input, parameters → state after) computed
by the golden model, driven one per nanosecond through the combinational datapath."""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.triggers import Timer

from neurocal.hw.tb.common import fail

_INPUTS = ("a_in", "u_in", "v_in", "du", "dv", "vth", "bias", "spiking")
_OUTPUTS = ("u_out", "v_out", "spike")


@cocotb.test()
async def lif_update_matches_golden(dut) -> None:
    vec = np.load(os.environ["NC_TB_VECTORS"])
    n = len(vec["a_in"])
    cols = {k: vec[k].astype(np.int64).tolist() for k in (*_INPUTS, *_OUTPUTS, "trajectory", "tick")}
    handles_in = [getattr(dut, k) for k in _INPUTS]
    handles_out = [getattr(dut, k) for k in _OUTPUTS]
    for i in range(n):
        for name, handle in zip(_INPUTS, handles_in, strict=True):
            width = len(handle)
            handle.value = cols[name][i] & ((1 << width) - 1)  # two's complement bit pattern
        await Timer(1, "ns")
        for name, handle in zip(_OUTPUTS, handles_out, strict=True):
            got = handle.value.to_signed() if name != "spike" else int(handle.value)
            if got != cols[name][i]:
                inputs = ", ".join(f"{k}={cols[k][i]}" for k in _INPUTS)
                fail(
                    f"first divergence: vector {i} (trajectory {cols['trajectory'][i]}, tick {cols['tick'][i]}), "
                    f"quantity {name}: expected {cols[name][i]}, got {got}; inputs {inputs}"
                )
    dut._log.info("%d vectors agree with the golden model", n)
