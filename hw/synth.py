"""Resource and logic-depth estimates of a generated accelerator from yosys, against the PYNQ-Z2 part.

One yosys run per (sources, ``nc_params.vh``, memory files):

    read_verilog -defer -I<project> <rtl sources>       # -defer: $readmemh names built from parameters
    hierarchy -top nc_top; setattr -set fsm_encoding "none" w:*
    synth_xilinx -family xc7 -top nc_top -noiopad -noclkbuf
    stat -json                                          # per module, expanded over the hierarchy here
    flatten
    ltp -noff <all cells but FD* and RAMB*>             # the logic-depth proxy

Resources: LUT = LUT1..6 + the LUT sites of distributed RAM and shift registers (a RAM32M or RAM64M fills the
four LUTs of a SLICEM, a RAM32X1D two, an SRL one; INV cells, which Vivado folds into neighbouring LUTs, are
not counted); LUTRAM = those memory sites alone, which only SLICEMs offer (17 400 of the xc7z020's LUTs); FF =
FDRE/FDSE/FDCE/FDPE, BRAM36 = RAMB36E1 + RAMB18E1/2, DSP = DSP48E1; each as a share of the xc7z020 (53 200
LUT, 17 400 LUTRAM, 106 400 FF, 140 BRAM36, 220 DSP48E1). ``-noiopad``: the core sits behind the PS's AXI
interconnect (out of context), not on package pins. FSM re-encoding is off (``fsm_encoding "none"`` on every
wire): yosys 0.23's FSM extraction spent minutes on wide registers that are not state machines (an
earlier rx's word positions), and Vivado re-encodes state machines its own way anyway; the registers are
counted as written.

**Logic depth is a proxy, not timing.** After ``flatten`` the flip-flops and block RAMs are taken out
of the selection, and ``ltp`` gives the longest chain of the remaining cells: the largest number of
LUT / CARRY4 / MUXF7 / DSP48E1 / LUTRAM cells that one register-to-register path crosses. It is only a
proxy because nothing here places or routes the design (no Vivado): a LUT level costs roughly
0.5–1 ns with routing on a -1 Zynq-7000, a CARRY4 about 0.1 ns, a combinational DSP48E1 about
3–4 ns, and routing dominates in a full device. Read it as "N levels between registers": at 250 MHz
(4 ns) a path of more than ~4–6 LUT levels, or any combinational DSP plus logic, needs pipelining;
only a Vivado timing report settles it.

Results are cached by content: the same sources, header and memories (and the same yosys) reuse the
report under the build directory.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from neurocal.atomic import write_text_atomic
from neurocal.errors import NeurocalError
from neurocal.hw.generate import HwConfig, HwProject
from neurocal.hw.sources import rtl_dir, rtl_sources

TOP = "nc_top"
PART_NAME = "xc7z020"
#: PYNQ-Z2 (Zynq-7020) programmable-logic resources.
PART: dict[str, float] = {"LUT": 53200, "LUTRAM": 17400, "FF": 106400, "BRAM36": 140, "DSP": 220}
_FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE")
#: LUT sites of each distributed-RAM / shift-register primitive (7-series SLICEM, UG474).
_LUTRAM_SITES = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1S": 4,
                 "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "SRL16E": 1, "SRLC32E": 1}
_FLOW_VERSION = "4"  # bump when the script or the counting changes: invalidates cached reports
_REPORT = "report.json"


@dataclass
class SynthReport:
    """What yosys says about one build: resources, share of the xc7z020, logic depth (a proxy)."""

    sizes: list[int]
    lanes: list[int]
    writable: bool
    resources: dict[str, float]  # LUT, FF, BRAM36, DSP
    percent: dict[str, float]  # of the xc7z020
    fits: bool
    logic_depth: int  # cells on the longest register-to-register path (ltp after flatten; a proxy)
    depth_from: str  # the path's first and last net, for whoever wants to pipeline it
    depth_to: str
    modules: dict[str, dict[str, float]]  # module → instances and resources of one instance
    cells: dict[str, int]  # primitive cells of the whole design
    yosys: str
    seconds: float  # yosys wall clock when it ran (the cached run's)
    key: str
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # shape knobs beyond sizes/lanes (rows, words, …)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthReport:
        return cls(**data)

    def to_text(self) -> str:
        knobs = "".join(f", {k} {v}" for k, v in self.extra.items())
        lines = [f"{'-'.join(map(str, self.sizes))}, lanes {'-'.join(map(str, self.lanes))}{knobs}, "
                 f"{'writable' if self.writable else 'fixed'} memories; {self.yosys}, "
                 f"{self.seconds:.0f} s{' (cached)' if self.cached else ''}",
                 f"{'resource':>8} {'used':>9} {PART_NAME:>9} {'share':>7}"]
        for name, used in self.resources.items():
            lines.append(f"{name:>8} {used:9.1f} {PART[name]:9.0f} {self.percent[name]:6.1f} %")
        over = [k for k, p in self.percent.items() if p > 100]
        lines.append(f"fits the {PART_NAME}: " + ("yes" if self.fits else f"NO ({', '.join(over)} over 100 %)"))
        if self.modules:
            lines.append("per module (one instance):")
            for name, row in self.modules.items():
                lines.append(f"  {name:<34} ×{int(row['instances']):<3} LUT {row['LUT']:8.0f}  "
                             f"(RAM {row.get('LUTRAM', 0):6.0f})  FF {row['FF']:7.0f}  "
                             f"BRAM36 {row['BRAM36']:5.1f}  DSP {row['DSP']:4.0f}")
        lines.append(f"logic depth (proxy, not timing): {self.logic_depth} cells on the longest register-to-register "
                     f"path (yosys ltp, no place and route), {self.depth_from} → {self.depth_to}")
        return "\n".join(lines)


def hw_config(lanes: Any = None, rows: Any = None, words: Any = None, writable: bool = True,
              block_banks: Any = None) -> HwConfig:
    """The generator's choices from the CLI's and the sweep's knobs; a knob left out keeps HwConfig's default."""
    chosen = {"rows": rows, "words": words, "block_banks": block_banks}
    return HwConfig(lanes=lanes, writable=writable, **{k: v for k, v in chosen.items() if v is not None})


def sources_digest() -> str:
    """sha256 over the RTL sources the run used: which design the numbers belong to."""
    h = hashlib.sha256()
    for path in [*rtl_sources(), *sorted(rtl_dir().glob("*.vh")), *sorted((rtl_dir() / "sim").glob("*"))]:
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def yosys_version() -> str:
    """``Yosys 0.23 (git sha1 …)``; one NeurocalError line if yosys is missing."""
    if shutil.which("yosys") is None:
        raise NeurocalError("yosys is not on PATH; install it (apt-get install yosys, as `make install` does)")
    done = subprocess.run(["yosys", "-V"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NeurocalError(f"yosys -V failed (exit {done.returncode}): {done.stderr.strip()[:200]}")
    return done.stdout.strip()


def count(cells: dict[str, int]) -> dict[str, float]:
    """Primitive cells → LUT, FF, BRAM36, DSP (module docstring)."""
    lutram = sum(n * _LUTRAM_SITES[c] for c, n in cells.items() if c in _LUTRAM_SITES)
    lut = sum(n for c, n in cells.items() if c.startswith("LUT")) + lutram
    ff = sum(n for c, n in cells.items() if c in _FF_CELLS)
    bram = cells.get("RAMB36E1", 0) + cells.get("RAMB18E1", 0) / 2
    return {"LUT": float(lut), "LUTRAM": float(lutram), "FF": float(ff), "BRAM36": float(bram),
            "DSP": float(cells.get("DSP48E1", 0))}


def parse_stat(text: str) -> dict[str, Any]:
    """``stat -json`` output of yosys 0.23, which prints the hierarchy's instance counts
    (``$paramod…  2``) inside the JSON: those lines are dropped."""
    clean = "\n".join(line for line in text.splitlines() if not re.match(r'^\s+[^"\s]+\s+\d+$', line))
    try:
        return json.loads(clean)
    except json.JSONDecodeError as err:
        raise NeurocalError(f"yosys stat -json output is not JSON after cleaning ({err}); yosys changed?") from err


def expand(stat: dict[str, Any], top: str) -> tuple[dict[str, int], dict[str, dict[str, int]], dict[str, int]]:
    """Primitive cells of ``top`` with every submodule instance expanded (stat -json is per module).

    Returns (cells of the whole design, cells of one instance per module, instances per module)."""
    modules = stat["modules"]
    names = {name.lstrip("\\"): name for name in modules}
    memo: dict[str, dict[str, int]] = {}
    instances: dict[str, int] = {}

    def cells_of(name: str) -> dict[str, int]:
        if name not in memo:
            out: dict[str, int] = {}
            for cell, n in modules[name]["num_cells_by_type"].items():
                sub = names.get(cell.lstrip("\\"))
                for k, v in (cells_of(sub) if sub is not None else {cell: 1}).items():
                    out[k] = out.get(k, 0) + n * v
            memo[name] = out
        return memo[name]

    def walk(name: str, times: int) -> None:
        instances[name] = instances.get(name, 0) + times
        for cell, n in modules[name]["num_cells_by_type"].items():
            sub = names.get(cell.lstrip("\\"))
            if sub is not None:
                walk(sub, times * n)

    if top not in names:
        raise NeurocalError(f"yosys stat has no module {top!r}; modules: {sorted(names)[:5]}")
    walk(names[top], 1)
    return cells_of(names[top]), {n: cells_of(n) for n in instances}, instances


def _param_value(text: str) -> str:
    """yosys spells parameters as ``32'00…011001``: show the number."""
    found = re.fullmatch(r"\d+'([01]+)", text)
    return str(int(found.group(1), 2)) if found else text


def module_label(name: str) -> str:
    """``$paramod$1a2b…\\nc_lif_layer`` or ``$paramod\\nc_fifo\\WIDTH=…`` → ``nc_lif_layer`` / ``nc_fifo (WIDTH=…)``."""
    found = re.search(r"\\?(nc_\w+)", name)
    base = found.group(1) if found else name.lstrip("\\")
    params = [(k, _param_value(v)) for k, v in re.findall(r"\\(\w+)=([^\\]+)", name)]
    short = ",".join(f"{k}={v}" for k, v in params if len(v) <= 12)
    return f"{base} ({short})" if short else base


def parse_ltp(text: str) -> tuple[int, str, str]:
    """``ltp`` output → (length, first net, last net)."""
    found = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", text)
    if found is None:
        raise NeurocalError("yosys ltp printed no longest path; see the yosys log in the synthesis folder")
    steps = re.findall(r"^\s*\d+: (\S+(?: \[\d+\])?)", text[found.end():], flags=re.M)
    return int(found.group(1)), (steps[0] if steps else "?"), (steps[-1] if steps else "?")


def content_key(project: HwProject, version: str, sources: list[Path]) -> str:
    """Hash of everything the synthesis depends on: yosys, the flow, sources, headers, memories.

    The header's absolute memory path is left out so that the same design in another folder hits the cache."""
    h = hashlib.sha256(f"{version}\n{_FLOW_VERSION}\n".encode())
    for path in sources:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    for path in sorted(project.include_dir.glob("*.vh")):  # nc_params.vh and any other generated header
        text = "\n".join(line for line in path.read_text().splitlines() if "NC_MEM_PREFIX" not in line)
        h.update(path.name.encode() + b"\0" + text.encode())
    for path in sorted(project.mem_dir.glob("*.mem")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def synthesize(project: HwProject, build_root: str | Path = Path("build") / "rtl", *,
               timeout: float | None = None, progress: Callable[[str], None] | None = None) -> SynthReport:
    """Run (or reuse) yosys on ``project``; the report is cached under ``build_root/synth-<key>``.

    ``timeout`` (seconds, None: no limit) stops a runaway yosys with one clear error."""
    version = yosys_version()
    sources = rtl_sources()
    key = content_key(project, version, [*sources, *sorted(rtl_dir().glob("*.vh"))])
    out = Path(build_root).resolve() / f"synth-{key[:16]}"
    report_path = out / _REPORT
    if report_path.is_file():
        try:
            data = json.loads(report_path.read_text())
        except (OSError, json.JSONDecodeError):
            data = None
        if data is not None and data.get("key") == key:
            report = SynthReport.from_dict(data)
            report.cached = True
            return report
    out.mkdir(parents=True, exist_ok=True)
    script = (f"read_verilog -defer -I{project.include_dir.resolve()} -I{rtl_dir()} {' '.join(map(str, sources))}\n"
              f"hierarchy -top {TOP}\n"
              'setattr -set fsm_encoding "none" w:*\n'  # no FSM re-encoding (module docstring)
              f"synth_xilinx -family xc7 -top {TOP} -noiopad -noclkbuf\n"
              f"tee -q -o {out / 'stat.json'} stat -json\n"
              "flatten\n"
              f"tee -q -o {out / 'ltp.txt'} ltp -noff t:FD* t:RAMB* %u %n\n")
    (out / "synth.ys").write_text(script)
    if progress is not None:
        progress(f"yosys synth_xilinx of {TOP} (minutes for a large shape); log: {out / 'yosys.log'}")
    t0 = time.perf_counter()
    try:
        # from the project folder: nc_params.vh names the memories relative to it (mem/)
        done = subprocess.run(["yosys", "-q", "-l", str(out / "yosys.log"), "-s", str(out / "synth.ys")],
                              capture_output=True, text=True, check=False, timeout=timeout, cwd=project.include_dir)
    except subprocess.TimeoutExpired as err:
        raise NeurocalError(f"yosys did not finish within {timeout:.0f} s; raise --timeout (0: no limit)") from err
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        last = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()][-1:] or ["?"]
        raise NeurocalError(f"yosys failed (exit {done.returncode}): {last[0].strip()[:300]}; log: {out / 'yosys.log'}")
    cells, per_module, instances = expand(parse_stat((out / "stat.json").read_text()), TOP)
    depth, depth_from, depth_to = parse_ltp((out / "ltp.txt").read_text())
    resources = count(cells)
    percent = {k: round(100.0 * v / PART[k], 2) for k, v in resources.items()}
    shape = project.shape
    extra = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(shape).items()
             if k in ("rows", "words", "block_banks")}
    modules = {}
    for name, n in sorted(instances.items(), key=lambda kv: -count(per_module[kv[0]])["LUT"]):
        label = module_label(name)
        while label in modules:
            label += "'"
        modules[label] = {"instances": float(n), **count(per_module[name])}
    report = SynthReport(sizes=list(shape.sizes), lanes=list(shape.lanes), writable=bool(shape.writable),
                         resources=resources, percent=percent, fits=all(p <= 100 for p in percent.values()),
                         logic_depth=depth, depth_from=depth_from, depth_to=depth_to, modules=modules,
                         cells=dict(sorted(cells.items())), yosys=version, seconds=round(seconds, 1), key=key,
                         extra=extra)
    write_text_atomic(report_path, json.dumps(report.to_dict(), indent=1) + "\n")
    return report
