"""Shared fixtures of the RTL suites: one build directory per simulator and parameter set, reused
across the session (and across sessions while the sources do not change)."""

from __future__ import annotations

from pathlib import Path

import pytest

BUILD_ROOT = Path(__file__).resolve().parents[2] / "build" / "hw-tests"


@pytest.fixture(scope="session")
def hw_build_root() -> Path:
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    return BUILD_ROOT
