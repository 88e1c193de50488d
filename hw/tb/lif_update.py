"""cocotb test of ``nc_lif_update``: vectors (state before, input, parameters → state after) computed
by the golden model, one per clock cycle through the two-stage pipeline: vector i enters at the rising
edge ending cycle i and is checked in cycle i + 1, while vector i + 1 enters (ce is high throughout but for
a few random cycles, which must hold the stage-1 registers)."""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

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
    cocotb.start_soon(Clock(dut.clk, 2, "ns").start())
    rng = random.Random(1)
    last = -1  # the vector in the stage-1 registers
    i = 0
    while True:
        await FallingEdge(dut.clk)  # the outputs settled half a period ago
        if last >= 0:
            for name, handle in zip(_OUTPUTS, handles_out, strict=True):
                got = handle.value.to_signed() if name != "spike" else int(handle.value)
                if got != cols[name][last]:
                    inputs = ", ".join(f"{k}={cols[k][last]}" for k in _INPUTS)
                    fail(
                        f"first divergence: vector {last} (trajectory {cols['trajectory'][last]}, tick "
                        f"{cols['tick'][last]}), quantity {name}: expected {cols[name][last]}, got {got}; "
                        f"inputs {inputs}"
                    )
        if last == n - 1:
            break
        hold = rng.random() < 0.05
        dut.ce.value = int(not hold)
        for name, handle in zip(_INPUTS, handles_in, strict=True):
            width = len(handle)
            # a held cycle shows the next vector's inputs, which must not enter
            handle.value = cols[name][min(i + hold, n - 1)] & ((1 << width) - 1)  # two's complement bits
        if not hold:
            last, i = i, i + 1
    dut._log.info("%d vectors agree with the golden model", n)
