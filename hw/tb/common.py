"""Helpers shared by the testbenches: the failure report and the reset sequence."""

from __future__ import annotations

import os
from pathlib import Path

from cocotb.triggers import ClockCycles


def fail(message: str) -> None:
    """Write ``message`` where the runner reads it, then fail the cocotb test with it."""
    report = os.environ.get("NC_TB_REPORT")
    if report:
        Path(report).write_text(message)
    raise AssertionError(message)


async def reset(dut, hold: int, settle: int = 0) -> None:
    """Hold ``dut.rst`` high for ``hold`` clock cycles, then low for ``settle`` more before the test drives."""
    dut.rst.value = 1
    await ClockCycles(dut.clk, hold)
    dut.rst.value = 0
    if settle:
        await ClockCycles(dut.clk, settle)
