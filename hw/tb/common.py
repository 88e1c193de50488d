"""Helpers shared by the testbenches: the failure report and timeouts."""

from __future__ import annotations

import os
from pathlib import Path


def fail(message: str) -> None:
    """Write ``message`` where the runner reads it, then fail the cocotb test with it."""
    report = os.environ.get("NC_TB_REPORT")
    if report:
        Path(report).write_text(message)
    raise AssertionError(message)
