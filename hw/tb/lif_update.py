"""cocotb test of ``nc_lif_update``: vectors (state before, input, parameters → state after) computed
by the golden model, one per clock cycle through the four-stage pipeline: vector i enters stage 0 at the
rising edge ending cycle i, stages 1 and 2 at the next two edges, and is checked in cycle i + 3 (stage 3 is
combinational), while the next vectors follow (ce_in and ce are high together throughout but for a few
random cycles, which must hold every stage's registers)."""

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
    stages = [-1, -1, -1]  # the vectors in the stage-0, 1 and 2 registers (-1: none yet)
    i = 0
    while True:
        await FallingEdge(dut.clk)  # the outputs settled half a period ago
        last = stages[-1]
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
        dut.ce_in.value = int(not hold)
        dut.ce.value = int(not hold)
        for name, handle in zip(_INPUTS, handles_in, strict=True):
            width = len(handle)
            # a held cycle shows the next vector's inputs, which must not enter
            handle.value = cols[name][min(i + hold, n - 1)] & ((1 << width) - 1)  # two's complement bits
        if not hold:
            stages = [i if i < n else -1, *stages[:-1]]
            i += 1
    dut._log.info("%d vectors agree with the golden model", n)
