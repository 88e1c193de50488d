"""Bulk co-simulation: the file-driven testbench ``rtl/sim/nc_stream_tb.v``, compiled by Verilator
(``--cc --exe``, ``nc_stream_main.cpp`` drives the clock) or by Icarus, streams thousands of events
through ``nc_top`` without Python in the loop; and the ``rtl-verilator`` / ``rtl-icarus`` backends.

cocotb (``neurocal.hw.cosim``) is the protocol-level truth (back-pressure, registers, errors);
this path is for volume: one process, one input file, one output file.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurocal import aer
from neurocal.backends import BackendResult
from neurocal.errors import NeurocalError
from neurocal.hw import simulators
from neurocal.hw.cosim import (
    CLOCK_NS,
    debug_shape,
    decode_layers,
    decode_result,
    link_memories,
    parse_layer_records,
    shape_key,
)
from neurocal.hw.generate import HwConfig, HwProject, HwShape, generate, shape_from_config
from neurocal.hw.sources import rtl_dir, rtl_sources
from neurocal.intnet import IntNetwork

TESTBENCH = "nc_stream_tb"
MAKE_UNSAFE = " \t#$'\"\\"  # characters of a path GNU make (Verilator's build) cannot take


@dataclass(frozen=True)
class StreamBuild:
    sim: str
    command: list[str]  # run command without plusargs
    build_dir: Path
    seconds: float  # build time (0 when reused)


#: Verilator options of the stream build: the per-cycle code (OPT_FAST) at -O2, the run-once code
#: (OPT_SLOW: initial blocks, settling) at -O0, which halves the C++ compile; no -march (CI machines differ).
#: The make variables join simulators.simulator_env's MAKEFLAGS (the PCH workaround) on make's command line.
VERILATOR_FLAGS = ["-O3", "--x-assign", "fast", "--x-initial", "fast", "-MAKEFLAGS", "OPT_FAST=-O2",
                   "-MAKEFLAGS", "OPT_SLOW=-O0"]


def _stamp_key(sim: str, project: HwProject, sources: list[Path]) -> str:
    h = hashlib.sha256(" ".join([sim, *VERILATOR_FLAGS]).encode())
    for path in [*sources, *project.headers]:
        h.update(path.read_bytes())
    return h.hexdigest()


def build_stream(sim: str, project: HwProject, build_dir: Path) -> StreamBuild:
    """Compile the stream testbench for ``project``'s shape (reused while sources and header are unchanged)."""
    simulators.check_simulator(sim)
    sources = [rtl_dir() / "sim" / f"{TESTBENCH}.v", *rtl_sources()]
    stamped = [*sources, rtl_dir() / "sim" / "nc_stream_main.cpp"]
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp = build_dir / ".neurocal-stream"
    key = _stamp_key(sim, project, stamped)
    main = rtl_dir() / "sim" / "nc_stream_main.cpp"
    if sim == "icarus":
        target = build_dir / "stream.vvp"
        run = ["vvp", "-n", str(target)]
    else:
        target = build_dir / "obj" / "Vstream"
        run = [str(target)]
        unsafe = [str(p) for p in (main, *sources) if any(c in str(p) for c in MAKE_UNSAFE)]
        if unsafe:
            raise NeurocalError(f"{unsafe[0]}: Verilator's make cannot take a space or any of {MAKE_UNSAFE.strip()} "
                                f"in a source path; install neurocal under a path without them")
    if stamp.is_file() and stamp.read_text() == key and target.is_file():
        return StreamBuild(sim, run, build_dir, 0.0)
    stamp.unlink(missing_ok=True)
    if (build_dir / "obj").exists():  # a changed or interrupted build: start clean (stale precompiled headers)
        shutil.rmtree(build_dir / "obj")
    t0 = time.perf_counter()
    log = build_dir / "build.log"
    # Verilator's make refuses a working folder with a space (verilated.mk): build such a one in a temporary
    # folder and keep the executable
    elsewhere = sim == "verilator" and any(c in str(build_dir.resolve()) for c in MAKE_UNSAFE)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="neurocal-verilator-"))) if elsewhere \
            else build_dir
        if sim == "verilator" and any(c in str(work.resolve()) for c in MAKE_UNSAFE):
            raise NeurocalError(f"{build_dir}: Verilator's make cannot build in a folder with a space, nor in the "
                                f"temporary folder {work}; set TMPDIR to a folder without spaces")
        include = work / "include"
        include.mkdir(exist_ok=True)
        for header in project.headers:
            shutil.copyfile(header, include / header.name)
        if sim == "icarus":
            cmd = ["iverilog", "-g2005", "-Iinclude", f"-I{rtl_dir()}", "-s", TESTBENCH, "-o", target.name,
                   *map(str, sources)]
        else:
            cmd = ["verilator", "--cc", "--exe", "--build", "-j", "2", *VERILATOR_FLAGS, "-Wall", "-Wno-fatal",
                   "--prefix", "Vstream", "-Iinclude", f"-I{rtl_dir()}", "--top-module", TESTBENCH, "-Mdir", "obj",
                   "-o", "Vstream",
                   str(main), *map(str, sources)]
        with simulators.simulator_env(), log.open("w") as fh:
            done = subprocess.run(cmd, cwd=work, stdout=fh, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise NeurocalError(f"{sim} build of {TESTBENCH} failed (exit {done.returncode}); log: {log}")
        if elsewhere:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(work / "obj" / "Vstream", target)
    stamp.write_text(key)
    return StreamBuild(sim, run, build_dir, time.perf_counter() - t0)


@dataclass
class StreamRun:
    result: BackendResult
    cycles: np.ndarray  # per event: first input word → end-of-event word out
    total_cycles: int
    shape: HwShape
    build_seconds: float
    run_seconds: float  # wall clock of the simulation
    cpu_seconds: float  # CPU time of the simulator process (the honest speed on a shared machine)


def run_stream(
    net: IntNetwork,
    spikes: np.ndarray,
    *,
    sim: str = "verilator",
    build_root: str | Path = Path("build") / "rtl",
    config: HwConfig | None = None,
    shape: HwShape | None = None,
    serial: bool = False,
    timeout: float | None = None,
    debug: bool = True,
) -> StreamRun:
    """Run ``spikes`` (events, ticks, n_in) through the stream testbench; ``serial`` sends each event
    after the previous one has left (pure latency), otherwise events follow each other at full rate.
    ``debug``: a build with the hidden layers' debug output, whose spikes the result then holds."""
    spikes = np.asarray(spikes, dtype=bool)
    if spikes.ndim != 3 or spikes.shape[2] != net.n_inputs:
        raise NeurocalError(f"input spikes must be (events, ticks, {net.n_inputs}), got {spikes.shape}")
    config = config or HwConfig()
    shape = debug_shape(shape or shape_from_config(net, config), debug)
    key = shape_key(shape)
    build_root = Path(build_root).resolve()
    project = generate(net, build_root / f"gen-{key}", config, shape=shape,
                       command=f"neurocal.hw.bulk ({sim}, shape {key})")
    built = build_stream(sim, project, build_root / f"stream-{sim}-{key}")
    run_dir = built.build_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    link_memories(project, run_dir)
    words = aer.encode_events(spikes)
    paths = {name: run_dir / f"{name}.txt" for name in ("in", "out", "cycles", "layers")}
    if not shape.debug:
        del paths["layers"]
    paths.get("layers", run_dir / "layers.txt").unlink(missing_ok=True)
    paths["in"].write_text("".join(f"{w:08x}\n" for w in words.tolist()))
    groups = max(shape.groups(i) for i in range(net.n_layers))
    max_cycles = 8 * (len(words) * groups + len(spikes) * (spikes.shape[1] + net.n_layers) * (groups + 2)
                      * net.n_layers) + 10_000
    # file names relative to run_dir (the simulator's working folder): no path reaches a Verilog string
    plusargs = [f"+{k}={v.name}" for k, v in paths.items()] + [f"+max_cycles={max_cycles}"] + (["+serial"] if serial
                                                                                           else [])
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # max_cycles is ~8x the expected count; Icarus runs this design at ~1-10 k cycles/s, Verilator ~300 k
    per_cycle = 5e-3 if sim == "icarus" else 5e-5
    limit = timeout if timeout is not None else 120 + per_cycle * max_cycles
    limit = None if math.isinf(limit) else limit  # the CLI's --timeout 0: no limit
    try:
        done = subprocess.run([*built.command, *plusargs], cwd=run_dir, capture_output=True, text=True,
                              timeout=limit, check=False)
    except subprocess.TimeoutExpired as err:
        raise NeurocalError(f"{sim} stream simulation did not finish within {limit:.0f} s (stalled?); raise "
                            f"--timeout") from err
    seconds = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    summary = [line for line in done.stdout.splitlines() if line.startswith("nc_stream_tb:")]
    if done.returncode != 0 or not summary or "error" in summary[-1] or "stalled" in summary[-1]:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-10:])
        raise NeurocalError(f"{sim} stream simulation failed (exit {done.returncode}):\n{tail}")
    total_cycles = int(summary[-1].split(",")[1].split()[0])
    out_words = np.array([int(x, 16) for x in paths["out"].read_text().split()], dtype=np.uint32)
    cycles = np.array([int(x) for x in paths["cycles"].read_text().split()], dtype=np.int64)
    layers = decode_layers(net, shape, parse_layer_records(paths["layers"].read_text().splitlines())
                           if shape.debug else [], spikes.shape[0], spikes.shape[1])
    result = decode_result(net, out_words, spikes.shape, f"rtl-{sim}", layer_spikes=layers)
    result.seconds = seconds
    result.info.update(cycles=cycles.tolist(), total_cycles=total_cycles, clock_ns=CLOCK_NS,
                       latency_ns_max=float(cycles.max(initial=0)) * CLOCK_NS, serial=serial)
    return StreamRun(result, cycles, total_cycles, shape, built.seconds, seconds, cpu)


#: Icarus's default shape (words per beat, weight banks per layer): Icarus is event-driven and pays for every
#: word checker and bank adder tree each cycle. Measured on the demo shape 400-50-30-1, 2 random events of
#: 4.8 % input density, streamed: 0.28 events per CPU-second at 2 words and 2 banks (0.21 at 2 and 4, 0.08 at
#: 2 and 8, 0.19 at 1 word and 4 banks); the board default of 16 words and 31 banks runs ~18 cycles per
#: CPU-second (minutes per event). Verilator runs the board default.
ICARUS_DEFAULTS = {"words": 2, "rows": 2}


def sim_defaults(sim: str, rows: Any, words: int | None) -> tuple[Any, int | None]:
    """``rows``/``words`` with the simulator's default shape filled in where they are None."""
    chosen = ICARUS_DEFAULTS if sim == "icarus" else {}
    return (chosen.get("rows") if rows is None else rows), (chosen.get("words") if words is None else words)


class _RtlBackend:
    """Shared body of the RTL backends (options: ``build_root``, ``lanes``, ``rows``, ``words``, ``serial``,
    ``timeout``, ``debug``; ``rows``/``words`` as in :class:`~neurocal.hw.generate.HwConfig`, None for the
    simulator's defaults; ``debug`` (on): every hidden layer's spikes in the result, compared by ``compare``)."""

    sim = "verilator"
    name = "rtl-verilator"

    def __init__(self, build_root: str | Path = Path("build") / "rtl", lanes: Any = None, serial: bool = False,
                 timeout: float | None = None, rows: Any = None, words: int | None = None, debug: bool = True,
                 **_: Any) -> None:
        self.build_root = Path(build_root)
        rows, words = sim_defaults(self.sim, rows, words)
        self.config = HwConfig(lanes=lanes, rows=rows, debug=bool(debug),
                               **({} if words is None else {"words": int(words)}))
        self.serial = serial
        self.timeout = timeout

    def run(self, net: IntNetwork, spikes: np.ndarray) -> BackendResult:
        run = run_stream(net, spikes, sim=self.sim, build_root=self.build_root, config=self.config,
                         serial=self.serial, timeout=self.timeout, debug=self.config.debug)
        run.result.info.update(build_seconds=run.build_seconds, lanes=list(run.shape.lanes), rows=list(run.shape.rows),
                               words=run.shape.words, hw_shape=asdict(run.shape))
        return run.result


class RtlVerilatorBackend(_RtlBackend):
    """The accelerator's RTL under Verilator (``neurocal run --backend rtl-verilator``)."""

    sim = "verilator"
    name = "rtl-verilator"


class RtlIcarusBackend(_RtlBackend):
    """The accelerator's RTL under Icarus Verilog (``neurocal run --backend rtl-icarus``), by default on a narrow
    shape that Icarus runs at a useful speed (:data:`ICARUS_DEFAULTS`: 2 AER words per beat, 2 weight banks);
    ``words``/``rows`` choose another."""

    sim = "icarus"
    name = "rtl-icarus"

