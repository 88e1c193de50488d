"""Where the hand-written HLS sources live: package data of ``neurocal.firmware``, found by importlib.resources."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from neurocal.errors import NeurocalError


def hls_source(name: str) -> Path:
    """Absolute path of ``firmware/hls/<name>`` (hls4ml's ``register_source`` needs an absolute file path)."""
    ref = resources.files("neurocal.firmware").joinpath("hls", name)
    path = Path(str(ref))
    if not path.is_absolute() or not path.is_file():
        raise NeurocalError(
            f"HLS source {name!r} not found in the installed neurocal.firmware package ({path}); reinstall neurocal"
        )
    return path
