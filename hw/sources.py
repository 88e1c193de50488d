"""Where the hand-written Verilog lives: package data of ``neurocal.hw`` (``rtl/``), found by importlib.resources."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from neurocal.errors import NeurocalError

#: Every module of the accelerator, leaves first (the order compilers see them in).
RTL_MODULES = (
    "nc_lif_update",
    "nc_fifo",
    "nc_prio_enc",
    "nc_aer_rx",
    "nc_line_rx",
    "nc_lif_layer",
    "nc_aer_tx",
    "nc_axil_regs",
    "nc_top",
)


def rtl_dir() -> Path:
    """Absolute path of the installed ``neurocal/hw/rtl`` folder."""
    path = Path(str(resources.files("neurocal.hw").joinpath("rtl")))
    if not path.is_dir():
        raise NeurocalError(f"RTL folder not found in the installed neurocal.hw package ({path}); reinstall neurocal")
    return path


def rtl_source(module: str) -> Path:
    """Absolute path of ``rtl/<module>.v``."""
    path = rtl_dir() / f"{module}.v"
    if not path.is_file():
        raise NeurocalError(f"RTL source {path.name!r} not found in {path.parent}; reinstall neurocal")
    return path


def rtl_sources(modules: tuple[str, ...] | list[str] = RTL_MODULES) -> list[Path]:
    """Absolute paths of the given modules' sources (default: the whole accelerator)."""
    return [rtl_source(m) for m in modules]


def rtl_source_hash() -> int:
    """First 32 bits of the sha256 over the accelerator's sources (each module and header of ``rtl/``: name,
    NUL, bytes): the SRC_HASH register, so a host can tell which RTL a core was built from."""
    h = hashlib.sha256()
    for path in [*rtl_sources(), *sorted(rtl_dir().glob("*.vh"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return int(h.hexdigest()[:8], 16)
