"""Resources and an estimated clock of a generated accelerator from yosys, against a part profile.

One yosys run per (sources, generated headers, memory files, profile):

    read_verilog -defer -I<project> <rtl sources>       # -defer: $readmemh names built from parameters
    hierarchy -top nc_top; setattr -set fsm_encoding "none" w:*
    synth_xilinx -family <profile> -top nc_top -noiopad -noclkbuf -abc9
    stat -json                                          # per module, expanded over the hierarchy here
    flatten
    read_verilog -lib -specify -overwrite +/xilinx/cells_sim.v; sta     # 7-series only (below)

Resources: LUT = LUT1..6 + the LUT sites of distributed RAM and shift registers (a RAM32M or RAM64M fills the
four LUTs of a SLICEM, a RAM32X1D two, an SRL one; INV cells, which Vivado folds into neighbouring LUTs, are
not counted); LUTRAM = those memory sites alone, which only SLICEMs offer; FF = FDRE/FDSE/FDCE/FDPE, BRAM36 =
RAMB36E1/E2 + half of each RAMB18E1/E2, DSP = DSP48E1/E2, URAM = URAM288; each as a share of the profile's part
and against the share the core may take (``neurocal.profiles``: LUT 80 %, FF 60 %, BRAM 90 %, DSP 90 %).
``-noiopad``: the core sits behind the PS's AXI interconnect (out of context), not on package pins. FSM
re-encoding is off (``fsm_encoding "none"`` on every wire): yosys 0.23's FSM extraction spent minutes on wide
registers that are not state machines, and Vivado re-encodes state machines its own way anyway.

**The clock is an estimate, not a timing report.** ``sta`` adds the cell delays of the longest
register-to-register path, with the 7-series delays that yosys's cell library carries (prjxray's Artix-7
figures: LUTs, CARRY4, MUXF7/8, DSP48E1, block RAM clock-to-out; setup is 0). That is the *logic* delay of
the path only: nothing here places or routes the design (no Vivado), and on 7-series the routing of a path is
commonly as large as its logic. The estimate therefore adds a routing allowance equal to the logic delay
(``ROUTING_FACTOR`` = 1): estimated period = 2 × logic delay. Read it as "the design cannot run faster
than 1 / logic delay, and probably not faster than the estimate"; only Vivado's timing report settles the
clock. Caveats: yosys 0.23's library has no timing arcs for RAM32M (distributed RAM) read paths, and none for
UltraScale+ cells, so a profile whose family is not ``xc7`` gets no clock estimate from this flow.

Results are cached by content: the same sources, headers, memories, profile (and the same yosys) reuse the
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
from neurocal.profiles import DEFAULT_PROFILE, Profile, profile

TOP = "nc_top"
ROUTING_FACTOR = 1.0  # routing allowance, as a multiple of the path's logic delay (module docstring)
_FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE")
#: LUT sites of each distributed-RAM / shift-register primitive (7-series SLICEM, UG474).
_LUTRAM_SITES = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1S": 4,
                 "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "SRL16E": 1, "SRLC32E": 1}
_FLOW_VERSION = "5"  # bump when the script or the counting changes: invalidates cached reports
_REPORT = "report.json"


@dataclass
class SynthReport:
    """What yosys says about one build: resources against the profile's part, and an estimated clock."""

    sizes: list[int]
    lanes: list[int]
    writable: bool
    profile: str
    part: str
    resources: dict[str, float]  # LUT, LUTRAM, FF, BRAM36, DSP (+ URAM)
    part_resources: dict[str, float]  # what the part offers
    percent: dict[str, float]  # of the part
    limits: dict[str, float]  # the most of each resource the core may take on the part (profile fit)
    fits: bool  # every resource within its limit
    logic_ns: float | None  # logic delay of the longest register-to-register path (sta; None: no timing data)
    path_from: str  # the path's start and end, for whoever wants to pipeline it
    path_to: str
    estimated_clock_mhz: float | None  # 1000 / (logic_ns × (1 + ROUTING_FACTOR)): an estimate, not Vivado
    target_clock_mhz: float  # the profile's PL clock
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
                 f"profile {self.profile} ({self.part}):",
                 f"{'resource':>8} {'used':>9} {'part':>9} {'share':>7} {'limit':>7}  verdict"]
        for name, used in self.resources.items():
            total = self.part_resources[name]
            limit = self.limits.get(name)
            verdict = "—" if limit is None else ("fits" if used <= limit else f"OVER by {used - limit:.0f}")
            share_limit = f"{100.0 * limit / total:6.0f} %" if limit is not None else "      —"
            lines.append(f"{name:>8} {used:9.1f} {total:9.0f} {self.percent[name]:6.1f} % {share_limit}  {verdict}")
        over = [k for k, v in self.resources.items() if k in self.limits and v > self.limits[k]]
        lines.append(f"fits the {self.profile} profile: " + ("yes" if self.fits else f"NO ({', '.join(over)})"))
        if self.modules:
            lines.append("per module (one instance):")
            for name, row in self.modules.items():
                lines.append(f"  {name:<34} ×{int(row['instances']):<3} LUT {row['LUT']:8.0f}  "
                             f"(RAM {row.get('LUTRAM', 0):6.0f})  FF {row['FF']:7.0f}  "
                             f"BRAM36 {row['BRAM36']:5.1f}  DSP {row['DSP']:4.0f}")
        if self.logic_ns is None:
            lines.append(f"clock: no estimate for this part's family (yosys has 7-series timing data only); "
                         f"target {self.target_clock_mhz:.0f} MHz")
        else:
            lines.append(f"critical path (estimate, not a Vivado timing report): {self.logic_ns:.2f} ns of logic "
                         f"(yosys sta, 7-series delays) + {ROUTING_FACTOR:.0%} routing allowance = "
                         f"{self.logic_ns * (1 + ROUTING_FACTOR):.2f} ns → ~{self.estimated_clock_mhz:.0f} MHz "
                         f"(target {self.target_clock_mhz:.0f} MHz); {self.path_from} → {self.path_to}")
        return "\n".join(lines)


def hw_config(lanes: Any = None, rows: Any = None, words: Any = None, writable: bool = True,
              block_banks: Any = None, lif_lanes: Any = None) -> HwConfig:
    """The generator's choices from the CLI's and the sweep's knobs; a knob left out keeps HwConfig's default."""
    chosen = {"rows": rows, "words": words, "block_banks": block_banks, "lif_lanes": lif_lanes}
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
    bram = sum(cells.get(c, 0) for c in ("RAMB36E1", "RAMB36E2")) + sum(cells.get(c, 0) for c in
                                                                          ("RAMB18E1", "RAMB18E2")) / 2
    out = {"LUT": float(lut), "LUTRAM": float(lutram), "FF": float(ff), "BRAM36": float(bram),
           "DSP": float(cells.get("DSP48E1", 0) + cells.get("DSP48E2", 0))}
    if cells.get("URAM288"):
        out["URAM"] = float(cells["URAM288"])
    return out


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


def parse_sta(text: str) -> tuple[float, str, str]:
    """``sta`` output → (latest arrival in ns, the path's first and last point)."""
    found = re.search(r"Latest arrival time in '\S+' is (\d+):", text)
    if found is None:
        raise NeurocalError("yosys sta printed no latest arrival time; see the yosys log in the synthesis folder")
    points = re.findall(r"^\s+\d+ (\S+) \(([^)]*)\)", text[found.end():].split("\n\n")[0], flags=re.M)
    last, first = (points[0], points[-1]) if points else (("?", ""), ("?", ""))
    return int(found.group(1)) / 1000.0, f"{first[0]} ({first[1]})", f"{last[0]} ({last[1]})"


def content_key(project: HwProject, version: str, sources: list[Path], target: Profile) -> str:
    """Hash of everything the synthesis depends on: yosys, the flow, the profile, sources, headers, memories.

    The header's absolute memory path is left out so that the same design in another folder hits the cache."""
    h = hashlib.sha256(f"{version}\n{_FLOW_VERSION}\n{target.name}\n{target.yosys_family}\n".encode())
    for path in sources:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    for path in sorted(project.include_dir.glob("*.vh")):  # nc_params.vh and any other generated header
        text = "\n".join(line for line in path.read_text().splitlines() if "NC_MEM_PREFIX" not in line)
        h.update(path.name.encode() + b"\0" + text.encode())
    for path in sorted(project.mem_dir.glob("*.mem")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def synthesize(project: HwProject, build_root: str | Path = Path("build") / "rtl", *,
               timeout: float | None = None, progress: Callable[[str], None] | None = None,
               target: str | Profile = DEFAULT_PROFILE) -> SynthReport:
    """Run (or reuse) yosys on ``project`` for the part of ``target`` (a profile or its name); the report is
    cached under ``build_root/synth-<key>``.

    ``timeout`` (seconds, None: no limit) stops a runaway yosys with one clear error."""
    target = profile(target) if isinstance(target, str) else target
    version = yosys_version()
    sources = rtl_sources()
    key = content_key(project, version, [*sources, *sorted(rtl_dir().glob("*.vh"))], target)
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
              f"synth_xilinx -family {target.yosys_family} -top {TOP} -noiopad -noclkbuf -abc9\n"
              f"tee -q -o {out / 'stat.json'} stat -json\n")
    timed = target.yosys_family == "xc7"  # the cell library's timing arcs are 7-series ones (module docstring)
    if timed:
        script += ("flatten\n"
                   "read_verilog -lib -specify -overwrite +/xilinx/cells_sim.v\n"
                   f"tee -q -o {out / 'sta.txt'} sta\n")
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
    logic_ns, path_from, path_to = parse_sta((out / "sta.txt").read_text()) if timed else (None, "", "")
    resources = count(cells)
    part = target.resources
    percent = {k: round(100.0 * v / part[k], 2) for k, v in resources.items() if k in part}
    limits = {k: target.limit(k) for k in target.fit}
    shape = project.shape
    extra = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(shape).items()
             if k in ("rows", "words", "block_banks")}
    modules = {}
    for name, n in sorted(instances.items(), key=lambda kv: -count(per_module[kv[0]])["LUT"]):
        label = module_label(name)
        while label in modules:
            label += "'"
        modules[label] = {"instances": float(n), **count(per_module[name])}
    clock = None if logic_ns is None else round(1000.0 / (logic_ns * (1 + ROUTING_FACTOR)), 1)
    report = SynthReport(sizes=list(shape.sizes), lanes=list(shape.lanes), writable=bool(shape.writable),
                         profile=target.name, part=target.part, resources=resources, part_resources=dict(part),
                         percent=percent, limits=limits,
                         fits=all(resources.get(k, 0.0) <= v for k, v in limits.items()) and all(
                             p <= 100 for p in percent.values()),
                         logic_ns=logic_ns, path_from=path_from, path_to=path_to, estimated_clock_mhz=clock,
                         target_clock_mhz=target.clock_mhz, modules=modules,
                         cells=dict(sorted(cells.items())), yosys=version, seconds=round(seconds, 1), key=key,
                         extra=extra)
    write_text_atomic(report_path, json.dumps(report.to_dict(), indent=1) + "\n")
    return report
