"""Run an IntNetwork on the RTL under cocotb: generate, build (cached), stream AER, decode the output.

The result is a :class:`~neurocal.backends.BackendResult` with the output layer's spikes and final
voltages (what the output stream carries) and, from a build with the debug output (``HwShape.debug``, on
by default here), every hidden layer's spikes, so that :func:`neurocal.backends.compare_results` names the
first divergence from the golden model in whichever layer it starts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurocal import aer, regmap
from neurocal.backends import BackendResult
from neurocal.errors import NeurocalError
from neurocal.hw import simulators
from neurocal.hw.generate import TICK_NS, HwConfig, HwProject, HwShape, generate, memory_images, shape_from_config
from neurocal.hw.sources import rtl_dir, rtl_sources
from neurocal.intnet import IntNetwork
from neurocal.profiles import SIM_CLOCK_MHZ

TOPLEVEL = "nc_top"
LINES_TOPLEVEL = "nc_top_lines_tb"  # nc_top behind the behavioural line deserialiser (the detector input)
CLOCK_NS = 1000.0 / SIM_CLOCK_MHZ  # the default profile's PL clock: what cycles mean in ns in every report


@dataclass
class CosimRun:
    """A co-simulation's result and its measurements (cycles at the simulated clock)."""

    result: BackendResult
    shape: HwShape
    cycles: np.ndarray  # per event, first input word → end-of-event word out (latency mode only)
    total_cycles: int  # first input word → last output word, all events
    registers: dict[str, int] = field(default_factory=dict)


def shape_key(shape: HwShape) -> str:
    text = json.dumps([shape.sizes, shape.lanes, shape.acc_w, shape.u_w, shape.fifo_log2, shape.writable, shape.rows,
                       shape.words] + ([True] if shape.debug else []) + [list(shape.lif_lanes)]
                      + ([shape.input, shape.line_k, shape.line_ticks] if shape.input != "aer" else []))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def link_memories(project: HwProject, run_dir: Path) -> None:
    """Make ``run_dir/mem`` the project's memory folder (a relative symbolic link): nc_params.vh names the
    memories relative to the folder the simulator runs in (``neurocal.hw.generate.MEM_PREFIX``)."""
    link = run_dir / "mem"
    target = os.path.relpath(project.mem_dir.resolve(), run_dir.resolve())
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.symlink_to(target, target_is_directory=True)


def _run_dir(project: HwProject, built: simulators.SimBuild, name: str) -> Path:
    """The folder a testbench runs in (``<build>/<name>``), with the project's memories linked in."""
    run_dir = built.build_dir / name
    run_dir.mkdir(parents=True, exist_ok=True)
    link_memories(project, run_dir)
    return run_dir


def _run_testbench(built: simulators.SimBuild, module: str, run_dir: Path, cfg: dict, *, waves: bool = False) -> Path:
    """Write ``cfg`` as the testbench's ``$NC_TB_CONFIG``, run cocotb test ``module`` in ``run_dir`` and return
    the record it wrote (``cfg["output"]``; a stale one is removed first)."""
    (run_dir / "config.json").write_text(json.dumps(cfg))
    output = Path(cfg["output"])
    output.unlink(missing_ok=True)
    simulators.run(built, module, test_dir=run_dir, extra_env={"NC_TB_CONFIG": str(run_dir / "config.json")},
                   waves=waves)
    return output


def debug_shape(shape: HwShape, debug: bool) -> HwShape:
    """``shape`` with the debug output on or off."""
    return shape if shape.debug == debug else dataclasses.replace(shape, debug=debug)


def prepare(net: IntNetwork, sim: str, build_root: Path, *, shape: HwShape | None = None,
            config: HwConfig | None = None, waves: bool = False,
            debug: bool = True) -> tuple[HwProject, simulators.SimBuild]:
    """Generate ``net``'s files and build (or reuse) the simulation model of its shape (``debug``: with the
    hidden layers' debug output, on by default in co-simulation)."""
    config = config or HwConfig()
    shape = debug_shape(shape or shape_from_config(net, config), debug)
    key = shape_key(shape)
    project = generate(net, build_root / f"gen-{key}", config, shape=shape,
                       command=f"neurocal.hw.cosim ({sim}, shape {key})")
    build_dir = build_root / f"{sim}-{key}{'-waves' if waves else ''}"
    if shape.input == "lines":
        built = simulators.build(sim, LINES_TOPLEVEL, [*rtl_sources(), rtl_dir() / "sim" / "nc_line_deser.v",
                                                       rtl_dir() / "sim" / f"{LINES_TOPLEVEL}.v"], build_dir,
                                 includes=[project.include_dir, rtl_dir()], waves=waves,
                                 parameters={"CHANNELS": shape.sizes[0], "K": shape.line_k})
    else:
        built = simulators.build(sim, TOPLEVEL, rtl_sources(), build_dir, includes=[project.include_dir, rtl_dir()],
                                 waves=waves)
    return project, built


def _bits(values: Sequence[int], n: int) -> np.ndarray:
    """Integers → (len, n) bool, bit k of value i at [i, k]."""
    width = max(1, -(-n // 8))
    raw = np.frombuffer(b"".join(v.to_bytes(width, "little") for v in values), dtype=np.uint8)
    return np.unpackbits(raw.reshape(len(values), width), axis=1, bitorder="little")[:, :n].astype(bool)


def decode_layers(net: IntNetwork, shape: HwShape, records: Sequence[tuple[int, int]], n_events: int,
                  n_ticks: int) -> list[np.ndarray | None]:
    """The debug output's records (``dbg_valid``, ``dbg_data``), one per cycle with a handshake, → per hidden
    layer ``l`` its spikes (events, T + L, n_{l+1}), as ``BackendResult.layer_spikes`` holds them; None for
    every layer without a debug output (the output layer: the output stream has it).

    Layer ``l``'s tokens sit at :meth:`HwShape.debug_offsets`: an event is T + L rasters, then its
    end-of-event token."""
    n_layers = net.n_layers
    out: list[np.ndarray | None] = [None] * n_layers
    if not shape.debug or n_layers < 2:
        return out
    total = n_ticks + n_layers
    for layer, offset in enumerate(shape.debug_offsets()):
        n = shape.sizes[layer + 1]
        rasters: list[int] = []
        ends = 0
        spikes = np.zeros((n_events, total, n), dtype=bool)
        for valid, data in records:
            if not valid >> layer & 1:
                continue
            token = data >> offset
            if token >> (n + 16) & 1:
                if len(rasters) != total or ends >= n_events:
                    raise NeurocalError(f"RTL debug output: layer {layer}, event {ends}: {len(rasters)} ticks before "
                                        f"its end-of-event token, expected {total}")
                spikes[ends] = _bits(rasters, n)
                ends += 1
                rasters = []
            else:
                rasters.append(token & ((1 << n) - 1))
        if ends != n_events or rasters:
            raise NeurocalError(f"RTL debug output: layer {layer} closed {ends} events of {n_events}")
        out[layer] = spikes
    return out


def run_words(
    net: IntNetwork,
    words: np.ndarray,
    *,
    sim: str = "verilator",
    build_root: str | Path = Path("build") / "rtl",
    shape: HwShape | None = None,
    config: HwConfig | None = None,
    backpressure: bool = False,
    latency: bool = False,
    waves: bool = False,
    expect_errors: bool = False,
    stall_output: bool = False,
    load: IntNetwork | None = None,
    crc: bool = False,
    debug: bool = True,
    frame_lengths: Sequence[int] | None = None,
) -> tuple[dict[str, np.ndarray], HwShape]:
    """Stream raw AER ``words`` through the RTL of ``net``; return the testbench's record (output
    ``words``, per-event ``cycles`` in latency mode, ``total_cycles``, register values) and the shape.

    ``load``: a network of the same shape whose memories the testbench writes over AXI4-Lite before
    streaming (the build's memory files stay ``net``'s): the outputs are then ``load``'s. ``crc``: the core
    computes the CRC of its memories before streaming (record ``crc``; compare with neurocal.hw.regmap.memory_crc).
    ``debug``: a build with the hidden layers' debug output, recorded as ``layers`` (hex "valid data" per
    handshake cycle). ``frame_lengths``: words per AXI4-Stream frame (tlast on each frame's last beat); default
    one frame per event, ending at its end-of-event word."""
    build_root = Path(build_root).resolve()
    project, built = prepare(net, sim, build_root, shape=shape, config=config, waves=waves, debug=debug)
    run_dir = _run_dir(project, built, "run")
    words = np.asarray(words, dtype=np.uint32)
    np.save(run_dir / "input.npy", words)
    kind, tick, _ = aer.unpack(words)
    n_t = int(tick[kind == aer.KIND_END_OF_EVENT].max(initial=0))
    groups = max(project.shape.groups(i) for i in range(net.n_layers))
    # generous bound for one event: every word and every neuron update, four times over
    ticks = n_t + net.n_layers
    timeout = 4 * (len(words) * groups + ticks * (groups + 2) * net.n_layers + sum(project.shape.sizes)) + 2000
    if load is not None:
        (run_dir / "load.json").write_text(json.dumps(axil_writes(load, project.shape)))
    cfg = {"input": str(run_dir / "input.npy"), "output": str(run_dir / "output.npz"),
           "load": str(run_dir / "load.json") if load is not None else None,
           "hash": (load or net).content_hash.removeprefix("sha256:")[:16], "backpressure": backpressure,
           "latency": latency, "timeout_cycles": timeout, "clock_ns": CLOCK_NS, "expect_errors": expect_errors,
           "stall_output": stall_output, "crc": crc, "debug": project.shape.debug,
           "frame_lengths": None if frame_lengths is None else [int(n) for n in frame_lengths]}
    with np.load(_run_testbench(built, "neurocal.hw.tb.system", run_dir, cfg, waves=waves)) as out:
        return {k: out[k] for k in out.files}, project.shape


def run_registers(net: IntNetwork, words: np.ndarray, change: dict, *, sim: str = "icarus",
                  build_root: str | Path = Path("build") / "rtl", shape: HwShape | None = None,
                  config: HwConfig | None = None, backpressure: bool = True) -> tuple[dict, HwShape]:
    """Run the register testbench (``neurocal.hw.tb.registers``) on the RTL of ``net``: capabilities,
    read-back of every memory word, the CRC walk, one extra MEM_DATA dword, accesses refused while the
    events of ``words`` are in flight, then ``change`` (one memory word: layer, kind, addr, words) stored
    and the CRC again. Returns every value the testbench read, and the shape."""
    build_root = Path(build_root).resolve()
    project, built = prepare(net, sim, build_root, shape=shape, config=config)
    run_dir = _run_dir(project, built, "run-registers")
    words = np.asarray(words, dtype=np.uint32)
    np.save(run_dir / "input.npy", words)
    n_words = sum(len(m["words"]) * (len(m["words"][0]) + 2) for m in axil_writes(net, project.shape))
    timeout = 40 * n_words + 8 * len(words) * max(project.shape.groups(i) for i in range(net.n_layers)) + 20000
    cfg = {"layers": net.n_layers, "memories": axil_writes(net, project.shape), "change": change,
           "input": str(run_dir / "input.npy"), "output": str(run_dir / "output.json"),
           "backpressure": backpressure, "timeout_cycles": timeout, "clock_ns": CLOCK_NS}
    return json.loads(_run_testbench(built, "neurocal.hw.tb.registers", run_dir, cfg).read_text()), project.shape


def axil_writes(net: IntNetwork, shape: HwShape) -> list[dict]:
    """``net``'s memory words as AXI4-Lite loads: per memory (layer, kind, first address), each word as
    32-bit dwords (least significant first), in the order of :func:`memory_images` (the CRC walk's), as
    ``neurocal.regmap`` defines the memories (a weight bank ``b`` starts at address ``b << 20``)."""
    kinds = {"w": regmap.KIND_WEIGHTS, "p": regmap.KIND_PARAMS, "c": regmap.KIND_CONFIG}
    out = []
    for name, lines in memory_images(net, shape).items():
        addr = 0
        if name == "hash.mem":
            layer, kind = 0, regmap.KIND_HASH
        else:
            layer, kind = int(name[1:3]), kinds[name[4]]
            if kind == regmap.KIND_WEIGHTS:
                addr = int(name[5:8]) << regmap.BANK_SHIFT  # l<layer>_w<bank>.mem
        n_dw = -(-len(lines[0]) * 4 // 32)
        words = [[(int(x, 16) >> (32 * k)) & 0xFFFFFFFF for k in range(n_dw)] for x in lines]
        out.append({"layer": layer, "kind": kind, "addr": addr, "words": words})
    return out


def run_events(
    net: IntNetwork,
    spikes: np.ndarray,
    *,
    sim: str = "verilator",
    build_root: str | Path = Path("build") / "rtl",
    shape: HwShape | None = None,
    config: HwConfig | None = None,
    backpressure: bool = False,
    latency: bool = False,
    waves: bool = False,
    first_event: int = 0,
    debug: bool = True,
) -> CosimRun:
    """Stream ``spikes`` (events, ticks, n_in) through the RTL; decode and validate the output stream."""
    spikes = np.asarray(spikes, dtype=bool)
    if spikes.ndim != 3 or spikes.shape[2] != net.n_inputs:
        raise NeurocalError(f"input spikes must be (events, ticks, {net.n_inputs}), got {spikes.shape}")
    t0 = time.perf_counter()
    data, used_shape = run_words(net, aer.encode_events(spikes, first_event=first_event), sim=sim,
                                 build_root=build_root, shape=shape, config=config, backpressure=backpressure,
                                 latency=latency, waves=waves, debug=debug)
    return _cosim_run(net, data, used_shape, spikes.shape, sim, first_event, t0=t0, clock_ns=CLOCK_NS)


def _cosim_run(net: IntNetwork, data: dict[str, np.ndarray], shape: HwShape, input_shape: tuple[int, ...], sim: str,
               first_event: int = 0, *, t0: float, clock_ns: float) -> CosimRun:
    """A testbench's record (``system.py``/``detector.py``) → the decoded, validated :class:`CosimRun`."""
    result = decode_result(net, data["words"], input_shape, f"rtl-{sim}", first_event,
                           layer_spikes=decode_layers(net, shape, parse_layer_records(data.get("layers", [])),
                                                      input_shape[0], input_shape[1]))
    result.seconds = time.perf_counter() - t0
    result.info.update(total_cycles=int(data["total_cycles"]), clock_ns=clock_ns)
    registers = {k: int(data[k]) for k in ("status", "events_in", "events_out", "max_cycles", "malformed", "caps")}
    return CosimRun(result=result, shape=shape, cycles=data["cycles"], total_cycles=int(data["total_cycles"]),
                    registers=registers)


def run_detector(
    net: IntNetwork,
    spikes: np.ndarray,
    *,
    sim: str = "icarus",
    build_root: str | Path = Path("build") / "rtl",
    config: HwConfig | None = None,
    backpressure: bool = False,
    debug: bool = True,
) -> CosimRun:
    """Drive ``spikes`` (events, ticks, n_in) as the detector's spike lines, sampled every 0.2 ns, into a build
    of ``net`` with the line input (``HwShape.input = "lines"``, a window of ``ticks`` ticks), one event at a
    time (each window after the previous event's output has left); decode the output stream and the debug
    output. ``cycles`` holds every event's LAST_CYCLES: from the trigger's cycle to its end-of-event word out."""
    spikes = np.asarray(spikes, dtype=bool)
    if spikes.ndim != 3 or spikes.shape[2] != net.n_inputs:
        raise NeurocalError(f"input spikes must be (events, ticks, {net.n_inputs}), got {spikes.shape}")
    config = dataclasses.replace(config or HwConfig(), input="lines", line_ticks=spikes.shape[1])
    build_root = Path(build_root).resolve()
    t0 = time.perf_counter()
    project, built = prepare(net, sim, build_root, config=config, debug=debug)
    shape = project.shape
    run_dir = _run_dir(project, built, "run")
    np.save(run_dir / "spikes.npy", spikes)
    groups = max(shape.groups(i) for i in range(net.n_layers))
    ticks = spikes.shape[1] + net.n_layers
    timeout = 4 * (int(spikes.sum(axis=(1, 2)).max(initial=0)) * groups + ticks * (groups + 2) * net.n_layers
                   + sum(shape.sizes)) + 2000
    cfg = {"spikes": str(run_dir / "spikes.npy"), "output": str(run_dir / "output.npz"),
           "hash": net.content_hash.removeprefix("sha256:")[:16], "backpressure": backpressure,
           "timeout_cycles": timeout, "clock_ns": round(shape.line_k * TICK_NS, 3), "debug": shape.debug}
    with np.load(_run_testbench(built, "neurocal.hw.tb.detector", run_dir, cfg)) as out:
        data = {k: out[k] for k in out.files}
    return _cosim_run(net, data, shape, spikes.shape, sim, t0=t0, clock_ns=cfg["clock_ns"])


def parse_layer_records(lines: Sequence[str]) -> list[tuple[int, int]]:
    """Debug records as the testbenches write them ("<dbg_valid hex> <dbg_data hex>") → integers."""
    out = []
    for line in lines:
        valid, data = str(line).split()
        out.append((int(valid, 16), int(data, 16)))
    return out


def decode_result(net: IntNetwork, words: np.ndarray, input_shape: tuple[int, ...], backend: str,
                  first_event: int = 0, layer_spikes: list[np.ndarray | None] | None = None) -> BackendResult:
    """The output stream of ``input_shape[0]`` events → a BackendResult (the output layer, and the hidden
    layers' spikes when ``layer_spikes`` (:func:`decode_layers`) has them)."""
    n_ev, n_t = input_shape[0], input_shape[1]
    total = n_t + net.n_layers
    out_spikes, v, numbers = aer.decode_output(words, net.n_outputs)
    if out_spikes.shape != (n_ev, total, net.n_outputs):
        raise NeurocalError(f"RTL output holds {out_spikes.shape} spikes, expected {(n_ev, total, net.n_outputs)}")
    expected_numbers = (first_event + np.arange(n_ev)) % (1 << aer.ADDR_BITS)
    if not np.array_equal(numbers, expected_numbers):
        raise NeurocalError(f"RTL output event numbers {numbers[:5].tolist()}… do not follow the input's")
    n_layers = net.n_layers
    return BackendResult(
        backend=backend,
        output_spikes=out_spikes,
        v_final=[None] * (n_layers - 1) + [v],
        u_final=[None] * n_layers,
        layer_spikes=[*(layer_spikes or [None] * n_layers)[: n_layers - 1], out_spikes],
    )


def keep_waves(net: IntNetwork, spikes: np.ndarray, *, sim: str = "icarus",
               build_root: str | Path = Path("build") / "rtl", shape: HwShape | None = None,
               config: HwConfig | None = None) -> Path:
    """Rerun ``spikes`` (a failing event, (1, ticks, n_in)) with waveform dumping; return the file kept.

    Icarus writes FST (``<build>/nc_top.fst``), Verilator VCD (``<build>/run/dump.vcd``); the file is
    copied beside the run as ``failing_event.<fst|vcd>`` so that the next run does not overwrite it.
    """
    import shutil

    spikes = np.asarray(spikes, dtype=bool)
    _, built = prepare(net, sim, Path(build_root).resolve(), shape=shape, config=config, waves=True)
    try:
        run_words(net, aer.encode_events(spikes), sim=sim, build_root=build_root, shape=shape, config=config,
                  waves=True)
    except NeurocalError:
        pass  # the waveform is what we want, whether or not the run passes its own checks
    dump = built.build_dir / f"{TOPLEVEL}.fst" if sim == "icarus" else built.build_dir / "run" / "dump.vcd"
    if not dump.is_file():
        raise NeurocalError(f"{sim} wrote no waveform ({dump})")
    kept = built.build_dir / f"failing_event{dump.suffix}"
    shutil.copyfile(dump, kept)
    return kept
