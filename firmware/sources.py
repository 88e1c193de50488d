"""Where the hand-written HLS sources live: package data of ``neurocal.firmware``, found by importlib.resources."""

from __future__ import annotations

from pathlib import Path

from neurocal.resources import package_path


def hls_source(name: str) -> Path:
    """Absolute path of ``firmware/hls/<name>`` (hls4ml's ``register_source`` needs an absolute file path)."""
    return package_path("neurocal.firmware", "hls", name)
