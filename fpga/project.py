"""The board build's settings: every value the hand-written Tcl (``tcl/build.tcl``) needs, as one escaped file.

``build.tcl`` holds no part, clock or path of its own; ``tcl/settings.tcl`` in a deploy folder sets them, each
value written by :func:`tcl_word` so that a path with spaces, quotes, brackets or ``$`` stays one literal word
(Tcl substitutes ``$``, ``[`` and ``\\`` inside double quotes and splits on white space: a value spliced in
unescaped could run a command).

The part, board part and PL clock come from :mod:`neurocal.profiles`; the DMA's stream widths from the core's
shape (``s_axis``: 32 × words bits in, ``m_axis``: 32 bits out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from neurocal.errors import NeurocalError
from neurocal.profiles import Profile

#: the base name of the .bit/.hwh pair (PYNQ loads ``<base>.bit`` and reads ``<base>.hwh`` beside it)
OVERLAY_BASE = "neurocal"
OVERLAY_DIR = "overlay"
VIVADO_DIR = "build/vivado"
BD_NAME = "neurocal_bd"
CORE_CELL = "nc_top_0"
DMA_CELL = "axi_dma_0"
DMA_VLNV = "xilinx.com:ip:axi_dma:7.1"
#: axi_dma's buffer length register (c_sg_length_width, at most 26): one transfer moves at most 2^26 − 1 bytes
DMA_LENGTH_WIDTH = 26
OUTPUT_BITS = 32  # m_axis: one output word per beat


@dataclass(frozen=True)
class Family:
    """What differs between the Zynq generations in the block design."""

    name: str
    ps_vlnv: str
    core_base: int  # the core's register window on the PS's general-purpose master
    dma_base: int


FAMILIES = {
    "xc7": Family("zynq", "xilinx.com:ip:processing_system7:5.5", 0x43C0_0000, 0x4040_0000),
    "xcup": Family("zynqmp", "xilinx.com:ip:zynq_ultra_ps_e:3.5", 0xA000_0000, 0xA001_0000),
}


def family(profile: Profile) -> Family:
    try:
        return FAMILIES[profile.yosys_family]
    except KeyError:
        raise NeurocalError(f"profile {profile.name}: no board build for family {profile.yosys_family!r}; "
                            f"known: {', '.join(FAMILIES)}") from None


def tcl_dir() -> Path:
    """Absolute path of the installed ``neurocal/fpga/tcl`` folder (the hand-written scripts)."""
    path = Path(str(resources.files("neurocal.fpga").joinpath("tcl")))
    if not (path / "build.tcl").is_file():
        raise NeurocalError(f"board scripts not found in the installed neurocal.fpga package ({path}); reinstall")
    return path


def tcl_word(value: str | int | float) -> str:
    """``value`` as one Tcl word that evaluates to exactly ``value``: every character Tcl treats specially
    (white space, ``$ [ ] { } " \\ ;``) is backslash-escaped, control characters as ``\\xHH``."""
    text = str(value)
    if not text:
        return "{}"
    out = []
    for ch in text:
        if ch in ' \t$[]{}";\\#':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def tcl_list(values: list[str]) -> str:
    return "[list " + " ".join(tcl_word(v) for v in values) + "]"


def settings(profile: Profile, *, words: int, rtl_files: list[str], mem_files: list[str],
             include_dirs: list[str], jobs: int = 2) -> dict[str, str | int | float | list[str]]:
    """The variables of ``settings.tcl`` (paths relative to the deploy folder)."""
    fam = family(profile)
    s_axis_bits = 32 * words
    return {
        "nc_board": profile.name,
        "nc_part": profile.part,
        "nc_board_part": profile.board_part,
        "nc_family": fam.name,
        "nc_ps_vlnv": fam.ps_vlnv,
        "nc_clock_mhz": f"{profile.clock_mhz:g}",
        "nc_hp_bits": profile.dma_bits,
        "nc_s_axis_bits": s_axis_bits,
        "nc_m_axis_bits": OUTPUT_BITS,
        "nc_dma_mm_bits": max(profile.dma_bits, s_axis_bits),
        "nc_dma_length_width": DMA_LENGTH_WIDTH,
        "nc_core_base": f"0x{fam.core_base:08X}",
        "nc_core_range": "4K",  # Vivado's smallest segment; the core decodes 8 address bits
        "nc_dma_base": f"0x{fam.dma_base:08X}",
        "nc_project": "neurocal",
        "nc_bd": BD_NAME,
        "nc_base": OVERLAY_BASE,
        "nc_build_dir": VIVADO_DIR,
        "nc_out_dir": OVERLAY_DIR,
        "nc_jobs": jobs,
        "nc_rtl_files": rtl_files,
        "nc_mem_files": mem_files,
        "nc_include_dirs": include_dirs,
    }


def settings_text(values: dict[str, str | int | float | list[str]], command: str,
                  banner: Callable[[str, str], str]) -> str:
    """``settings.tcl``: the core provider's ``banner`` line, then one ``set`` per value, every value escaped
    (:func:`tcl_word`)."""
    lines = [banner(command, "#").rstrip("\n")]
    for name, value in values.items():
        word = tcl_list(value) if isinstance(value, list) else tcl_word(value)
        lines.append(f"set {name} {word}")
    return "\n".join(lines) + "\n"
