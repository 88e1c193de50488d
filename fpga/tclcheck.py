"""Check a board build script without Vivado: run it under ``tclsh`` with a recorder and check the calls.

This checks the *script*, not a build: it proves that the script asks for the profile's part and board part,
names only files that exist in the deploy folder, connects only pins that the cells it created have (the
core's taken from the port list of its Verilog top), maps the core's whole register window and sets the
DMA's stream widths to the core's. Whether Vivado accepts every property, meets timing or fits the part is
only known from a Vivado run.

The catalog of IP pins below is written from AMD's product guides (axi_dma PG021, processing_system7 UG585
and its block-design pins, zynq_ultra_ps_e PG201, proc_sys_reset PG164, axi_interconnect PG059,
smartconnect PG247): a pin the script names that is not in it is reported as an error, so a typo is caught
and a deliberate new pin must be added here with its source.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from neurocal import regmap
from neurocal.errors import NeurocalError
from neurocal.fpga import project
from neurocal.profiles import Profile

BUS_PREFIXES = ("s_axis", "m_axis", "s_axil")  # Vivado infers one interface per prefix of a module reference


def _interconnect_pins(n_si: int, n_mi: int) -> tuple[set[str], set[str]]:
    pins = {"ACLK", "ARESETN"}
    intf = set()
    for side, n in (("S", n_si), ("M", n_mi)):
        for i in range(n):
            pins |= {f"{side}{i:02d}_ACLK", f"{side}{i:02d}_ARESETN"}
            intf.add(f"{side}{i:02d}_AXI")
    return pins, intf


def _smartconnect_pins(n_si: int, n_mi: int) -> tuple[set[str], set[str]]:
    return {"aclk", "aresetn"}, {f"S{i:02d}_AXI" for i in range(n_si)} | {f"M{i:02d}_AXI" for i in range(n_mi)}


#: VLNV → (pins, interface pins, address segments) of the IP the scripts instantiate
CATALOG: dict[str, tuple[set[str], set[str], set[str]]] = {
    "xilinx.com:ip:processing_system7:5.5": (
        {"FCLK_CLK0", "FCLK_RESET0_N", "M_AXI_GP0_ACLK", "S_AXI_HP0_ACLK", "IRQ_F2P"},
        {"M_AXI_GP0", "S_AXI_HP0", "DDR", "FIXED_IO"}, set()),
    "xilinx.com:ip:zynq_ultra_ps_e:3.5": (
        {"pl_clk0", "pl_resetn0", "maxihpm0_fpd_aclk", "saxihp0_fpd_aclk", "pl_ps_irq0"},
        {"M_AXI_HPM0_FPD", "S_AXI_HP0_FPD"}, set()),
    "xilinx.com:ip:axi_dma:7.1": (
        {"s_axi_lite_aclk", "m_axi_mm2s_aclk", "m_axi_s2mm_aclk", "axi_resetn", "mm2s_introut", "s2mm_introut"},
        {"S_AXI_LITE", "M_AXI_MM2S", "M_AXI_S2MM", "M_AXIS_MM2S", "S_AXIS_S2MM"}, {"S_AXI_LITE/Reg"}),
    "xilinx.com:ip:proc_sys_reset:5.0": (
        {"slowest_sync_clk", "ext_reset_in", "aux_reset_in", "mb_debug_sys_rst", "dcm_locked", "mb_reset",
         "bus_struct_reset", "peripheral_reset", "interconnect_aresetn", "peripheral_aresetn"}, set(), set()),
}
SIZED = {"xilinx.com:ip:axi_interconnect:2.1": _interconnect_pins, "xilinx.com:ip:smartconnect:1.0": _smartconnect_pins}
PS_ADDRESS_SPACE = "Data"


@dataclass(frozen=True)
class Port:
    name: str
    direction: str
    width: int


_PORT = re.compile(r"\b(input|output)\s+wire\s*(\[([^\]:]+):([^\]]+)\])?\s*(\w+)")


def _eval_width(expr: str, defines: dict[str, int]) -> int:
    text = re.sub(r"`(\w+)", lambda m: str(defines[m.group(1)]), expr)
    if not re.fullmatch(r"[\d\s+\-*/()]+", text):
        raise NeurocalError(f"cannot evaluate port width {expr!r}")
    return int(eval(text, {"__builtins__": {}}))  # digits and arithmetic only (checked above)


def header_defines(*headers: Path) -> dict[str, int]:
    """The numeric `` `define``s of generated headers (``nc_ports.vh``: the widths nc_top's ports use)."""
    defines: dict[str, int] = {}
    for header in headers:
        for name, value in re.findall(r"^`define\s+(\w+)\s+(\d+)", header.read_text(), flags=re.M):
            defines[name] = int(value)
    return defines


def core_ports(verilog: Path, words: int) -> dict[str, Port]:
    """The ports of the module in ``verilog`` (its ANSI port list), widths from the generated ``nc_ports.vh``
    beside it (or ``NC_AXIS_WORDS = words`` and no debug output where there is none) and the register map."""
    text = verilog.read_text()
    head = re.search(r"\bmodule\s+\w+\s*(#\s*\(.*?\))?\s*\((.*?)\);", text, re.S)
    if head is None:
        raise NeurocalError(f"{verilog}: no module port list found")
    body = re.sub(r"//[^\n]*", "", head.group(2))
    generated = verilog.parent / "nc_ports.vh"
    defines = {"NC_AXIS_WORDS": words, "NC_DEBUG_N": 1, "NC_DEBUG_W": 1, "NC_REG_ADDR_W": regmap.ADDR_W,
               **(header_defines(generated) if generated.is_file() else {})}
    ports = {}
    for m in _PORT.finditer(body):
        width = 1 if m.group(2) is None else _eval_width(m.group(3), defines) - _eval_width(m.group(4), defines) + 1
        ports[m.group(5)] = Port(m.group(5), m.group(1), width)
    return ports


@dataclass
class Recording:
    calls: list[tuple[str, list[str]]]
    errors: list[str] = field(default_factory=list)


def record(script: Path, settings: Path, log_dir: Path) -> Recording:
    """Run ``script`` with ``-tclargs settings`` under tclsh and the recorder; return the calls."""
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        raise NeurocalError("tclsh is not on PATH; install it (apt-get install tcl) to check board scripts")
    log = log_dir / "calls.jsonl"
    proc = subprocess.run([tclsh, str(project.tcl_dir() / "recorder.tcl"), str(log), str(script.resolve()),
                           str(settings.resolve())],
                          capture_output=True, text=True, timeout=60, cwd=log_dir)
    calls = [(c["cmd"], c["args"]) for c in map(json.loads, log.read_text().splitlines())] if log.is_file() else []
    rec = Recording(calls)
    for cmd, args in calls:
        if cmd == "error":
            rec.errors.append(f"the script stopped: {args[0]} (a Vivado command the recorder does not define, "
                              "or a Tcl error)")
    if proc.returncode != 0 and not rec.errors:
        rec.errors.append(f"tclsh exited {proc.returncode}: {proc.stderr.strip()[:300]}")
    return rec


def _size(text: str) -> int:
    m = re.fullmatch(r"(0x[0-9a-fA-F]+|\d+)([KMG]?)", text.strip())
    if m is None:
        raise NeurocalError(f"address range {text!r} is not a number")
    return int(m.group(1), 0) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args[:-1] else None


def _project_args(args: list[str]) -> tuple[str, Path | None]:
    """``create_project [-force] NAME DIR -part PART`` → (NAME, DIR)."""
    pos = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-part")]
    return (pos[0] if pos else "", Path(pos[1]) if len(pos) > 1 else None)


def check_calls(rec: Recording, profile: Profile, root: Path, ports: dict[str, Port]) -> list[str]:
    """Every problem of the recorded calls (empty: the script passes)."""
    errors = list(rec.errors)
    cells: dict[str, str] = {}  # instance → VLNV ("module:<top>" for a module reference)
    config: dict[tuple[str, str], str] = {}
    project_props: dict[str, str] = {}
    part = None
    generated: set[Path] = set()
    build_dir = None

    def cell_pins(cell: str) -> tuple[set[str], set[str], set[str]]:
        vlnv = cells[cell]
        if vlnv.startswith("module:"):
            intf = {p for p in BUS_PREFIXES if any(n.startswith(p + "_") for n in ports)}
            return set(ports), intf, {"s_axil/reg0"}
        if vlnv in SIZED:
            n_si = int(config.get((cell, "CONFIG.NUM_SI"), "1"))
            n_mi = int(config.get((cell, "CONFIG.NUM_MI"), "1"))
            pins, intf = SIZED[vlnv](n_si, n_mi)
            return pins, intf, set()
        if vlnv not in CATALOG:
            raise KeyError(vlnv)
        return CATALOG[vlnv]

    def check_object(kind: str, name: str, where: str) -> None:
        for item in name.split():
            cell, _, pin = item.partition("/")
            if cell not in cells:
                errors.append(f"{where}: {kind} {item!r}: no cell {cell!r} was created")
                continue
            try:
                pins, intf, segs = cell_pins(cell)
            except KeyError:
                errors.append(f"{where}: cell {cell!r} is {cells[cell]}, which the checker's catalog lacks")
                continue
            table = {"pin": pins, "interface pin": intf, "address segment": segs}[kind]
            if pin not in table:
                errors.append(f"{where}: {kind} {item!r}: {cells[cell]} has no {kind} {pin!r} "
                              f"(has: {', '.join(sorted(table)) or 'none'})")

    objects: dict[str, str] = {}  # name returned by a look-up → its kind
    for cmd, args in rec.calls:
        where = f"{cmd} {' '.join(args)[:80]}"
        if cmd == "create_project":
            part = _option(args, "-part")
            build_dir = _project_args(args)[1]
        elif cmd == "set_property" and len(args) == 3:
            key, value, target = args
            if target == "<current_project>" or target == "":
                project_props[key] = value
            config[(target, key)] = value
            if key == "board_part":
                project_props[key] = value
        elif cmd == "create_bd_cell":
            name = args[-1]
            ref = _option(args, "-reference")
            vlnv = _option(args, "-vlnv")
            cells[name] = f"module:{ref}" if ref else (vlnv or "?")
        elif cmd in ("get_bd_pins", "get_bd_intf_pins", "get_bd_addr_segs"):
            kind = {"get_bd_pins": "pin", "get_bd_intf_pins": "interface pin", "get_bd_addr_segs": "address segment"}
            for name in args[-1].split():
                objects[name] = kind[cmd]
            check_object(kind[cmd], args[-1], where)
        elif cmd == "get_bd_cells":
            for name in args[-1].split():
                if name not in cells:
                    errors.append(f"{where}: no cell {name!r} was created")
        elif cmd in ("connect_bd_net", "connect_bd_intf_net"):
            want = "pin" if cmd == "connect_bd_net" else "interface pin"
            endpoints = [n for a in args if not a.startswith("-") for n in a.split()]
            if len(endpoints) < 2:
                errors.append(f"{where}: fewer than two endpoints")
            for name in endpoints:
                if objects.get(name) != want:
                    errors.append(f"{where}: endpoint {name!r} is not a {want} looked up with "
                                  f"{'get_bd_pins' if want == 'pin' else 'get_bd_intf_pins'}")
        elif cmd == "add_files":
            for name in (n for a in args if not a.startswith("-") for n in a.split()):
                path = Path(name)
                if path in generated:
                    continue
                if not path.is_file():
                    errors.append(f"add_files: {name} does not exist")
                elif root.resolve() not in path.resolve().parents:
                    errors.append(f"add_files: {name} is outside the deploy folder {root}")
        elif cmd == "make_wrapper" and build_dir is not None:
            generated |= _wrapper_paths(rec, build_dir)
        elif cmd == "source" and not Path(args[0]).is_file():
            errors.append(f"source: {args[0]} does not exist")

    if part != profile.part:
        errors.append(f"create_project: part {part!r}, the {profile.name} profile's is {profile.part!r}")
    if project_props.get("board_part") != profile.board_part:
        errors.append(f"board_part {project_props.get('board_part')!r}, the {profile.name} profile's is "
                      f"{profile.board_part!r}")
    errors += _check_clock(config, profile)
    errors += _check_dma(config, cells, ports)
    errors += _check_core(rec, cells)
    return errors


def _wrapper_paths(rec: Recording, build_dir: Path) -> set[Path]:
    """Files ``make_wrapper`` generates: ``<bd>_wrapper.v`` under the project's ``.gen`` folder."""
    bds = [args[-1] for cmd, args in rec.calls if cmd == "create_bd_design"]
    prj = next((_project_args(args)[0] for cmd, args in rec.calls if cmd == "create_project"), "")
    return {build_dir / f"{prj}.gen" / "sources_1" / "bd" / bd / "hdl" / f"{bd}_wrapper.v" for bd in bds}


def _check_clock(config: dict[tuple[str, str], str], profile: Profile) -> list[str]:
    keys = ("CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ", "CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ")
    found = [v for (_, k), v in config.items() if k in keys]
    if not found:
        return ["no PL clock frequency is set on the processing system"]
    return [f"PL clock {v} MHz, the {profile.name} profile's is {profile.clock_mhz:g}" for v in found
            if float(v) != profile.clock_mhz]


def _check_dma(config: dict[tuple[str, str], str], cells: dict[str, str], ports: dict[str, Port]) -> list[str]:
    dmas = [c for c, v in cells.items() if v == project.DMA_VLNV]
    if not dmas:
        return [f"no {project.DMA_VLNV} cell"]
    errors = []
    for dma in dmas:
        want = {"CONFIG.c_m_axis_mm2s_tdata_width": ports["s_axis_tdata"].width,
                "CONFIG.c_s_axis_s2mm_tdata_width": ports["m_axis_tdata"].width,
                "CONFIG.c_include_sg": 0}
        for key, value in want.items():
            got = config.get((dma, key))
            if got is None or int(got) != value:
                errors.append(f"{dma}: {key} is {got}, the core needs {value}")
        width = int(config.get((dma, "CONFIG.c_sg_length_width"), "14"))
        if width != project.DMA_LENGTH_WIDTH:
            errors.append(f"{dma}: c_sg_length_width {width}; the driver batches up to 2^{project.DMA_LENGTH_WIDTH}"
                          " - 1 bytes per transfer")
    return errors


def _check_core(rec: Recording, cells: dict[str, str]) -> list[str]:
    cores = [c for c, v in cells.items() if v == "module:nc_top"]
    if not cores:
        return ["no module reference to nc_top"]
    need = max(1 << regmap.ADDR_W, max(r.offset for r in regmap.REGISTERS) + 4)
    for cmd, args in rec.calls:
        if cmd == "assign_bd_address" and any(a == f"{cores[0]}/s_axil/reg0" for a in args):
            rng = _option(args, "-range")
            if rng is None or _size(rng) < need:
                return [f"{cores[0]}/s_axil mapped with range {rng}: the register map needs {need} bytes"]
            space = _option(args, "-target_address_space") or ""
            if not space.endswith(f"/{PS_ADDRESS_SPACE}"):
                return [f"{cores[0]}/s_axil mapped in {space!r}, not the processing system's {PS_ADDRESS_SPACE}"]
            return []
    return [f"{cores[0]}/s_axil/reg0 is never assigned an address"]


def check_script(script: Path, settings: Path, root: Path, profile: Profile, top: Path, words: int) -> list[str]:
    """Run ``script`` (with ``settings``) under the recorder and return every problem found."""
    ports = core_ports(top, words)
    with tempfile.TemporaryDirectory(prefix="nc-tclcheck-") as tmp:
        rec = record(script, settings, Path(tmp))
    return check_calls(rec, profile, root, ports)
