"""cocotb system test of ``nc_top``: AER events in through AXI4-Stream, the output stream recorded.

Configuration (JSON file named by ``$NC_TB_CONFIG``): ``input`` (.npy of uint32 AER words),
``output`` (.npz written here: output words, cycles, registers), ``hash`` (first 64 bits expected in the
registers), ``crc`` (run the CRC walk after loading, before streaming; -1 in the record otherwise),
``backpressure`` (random pauses on both streams), ``latency`` (one event at a time, reading its cycle
count over AXI4-Lite), ``timeout_cycles`` (per event), ``clock_ns``, ``debug`` (record ``dbg_valid``/``dbg_data``
of a build with the debug output: ``layers`` in the output, one "valid data" hex line per cycle with a hidden
layer's handshake), ``frame_lengths`` (words per frame, tlast on its last beat; default: a frame per event, up to
its end-of-event word). One output packet is received per frame (the core ends it where the frame's last event
ends); ``packets`` in the record holds their lengths in words. Register offsets and fields come from
``neurocal.regmap``; the memory helpers here (``write_words``, ``read_words``, ``run_crc``) serve the register
testbench (``registers.py``) too.
The comparison with the golden model happens in the caller (neurocal.hw.cosim), which decodes the
words with neurocal.aer and reports the first divergence.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from neurocal import regmap
from neurocal.aer import KIND_END_OF_EVENT, KIND_SHIFT
from neurocal.hw.tb.common import fail

REG = regmap.OFFSET
ERRORS = regmap.bit("STATUS", "MALFORMED") | regmap.bit("STATUS", "OVERFLOW")


def pauses(seed: int, p: float):
    rng = random.Random(seed)
    while True:
        yield rng.random() < p


async def load_memories(axil: AxiLiteMaster, memories: list[dict]) -> None:
    """Write a network's memory words over AXI4-Lite; check that a write outside a memory is refused."""
    for mem in memories:
        await write_words(axil, mem["layer"], mem["kind"], mem.get("addr", 0), mem["words"])
    await axil.write_dword(REG["MEM_SEL"], mem_sel(200, 0))  # no layer 200
    await axil.write_dword(REG["MEM_WRITE"], 1)
    status = await axil.read_dword(REG["STATUS"])
    if not status & regmap.bit("STATUS", "OVERFLOW"):
        fail(f"a memory write to layer 200 did not raise the overflow flag (STATUS {status:#x})")
    await axil.write_dword(REG["CTRL"], regmap.bit("CTRL", "CLEAR"))
    status = await axil.read_dword(REG["STATUS"])
    if status & ERRORS:
        fail(f"CTRL clear left STATUS {status:#x}")


def mem_sel(layer: int, kind: int) -> int:
    """MEM_SEL value selecting memory ``kind`` of ``layer``."""
    return (layer << regmap.field("MEM_SEL", "LAYER").lsb) | (kind << regmap.field("MEM_SEL", "KIND").lsb)


async def write_words(axil: AxiLiteMaster, layer: int, kind: int, addr: int, words: list[list[int]]) -> None:
    """Store consecutive words (each a list of dwords, least significant first) from ``addr`` on."""
    await axil.write_dword(REG["MEM_SEL"], mem_sel(layer, kind))
    await axil.write_dword(REG["MEM_ADDR"], addr)
    for dwords in words:
        for d in dwords:
            await axil.write_dword(REG["MEM_DATA"], d)
        await axil.write_dword(REG["MEM_WRITE"], 1)


async def read_words(axil: AxiLiteMaster, layer: int, kind: int, addr: int, n_words: int, n_dwords: int
                     ) -> list[list[int]]:
    """Fetch ``n_words`` consecutive words from ``addr`` on, ``n_dwords`` dwords each."""
    await axil.write_dword(REG["MEM_SEL"], mem_sel(layer, kind))
    await axil.write_dword(REG["MEM_ADDR"], addr)
    out = []
    for _ in range(n_words):
        await axil.write_dword(REG["MEM_READ"], 1)
        out.append([await axil.read_dword(REG["MEM_DATA"]) for _ in range(n_dwords)])
    return out


async def run_crc(axil: AxiLiteMaster, timeout_ns: float) -> dict:
    """Start the walk and wait for it; the CRC, the final STATUS and the time from the start command's write
    to the STATUS read that saw the walk done (ns: the walk plus a few AXI4-Lite transactions)."""
    start = cocotb.utils.get_sim_time("ns")
    await axil.write_dword(REG["CTRL"], regmap.bit("CTRL", "CRC_START"))

    async def wait() -> int:
        while True:
            status = await axil.read_dword(REG["STATUS"])
            if not status & regmap.bit("STATUS", "CRC_BUSY"):
                return status

    try:
        status = await with_timeout(wait(), timeout_ns, "ns")
    except TimeoutError:
        fail("the CRC walk did not finish")
    ns = cocotb.utils.get_sim_time("ns") - start
    return {"crc": await axil.read_dword(REG["CRC"]), "status": status, "ns": ns}


@dataclass
class Core:
    """A running ``nc_top`` under cocotb: its AXI interfaces and the testbench's clock and time limit."""

    axil: AxiLiteMaster
    sink: AxiStreamSink
    source: AxiStreamSource | None  # None for a top without s_axis (the detector-input wrapper)
    period: float  # ns
    timeout_ns: float  # per event


async def start_core(dut, cfg: dict, *, stream_input: bool = True) -> Core:
    """Clock ``dut`` (``clock_ns``, default 4), attach the AXI4-Stream source (``stream_input``), sink and
    AXI4-Lite master, and hold reset for 4 cycles."""
    period = float(cfg.get("clock_ns", 4.0))
    cocotb.start_soon(Clock(dut.clk, round(period * 1000), "ps").start())  # whole ps: e.g. 4 × 0.2 ns
    # s_axis: WORDS AER words per beat with a byte-level tkeep; frames are sent as little-endian bytes
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst) if stream_input else None
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst, byte_size=32)
    axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
    for stream in (source, sink):
        if stream is not None:
            stream.log.setLevel("WARNING")
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 2)
    return Core(axil, sink, source, period, round(float(cfg["timeout_cycles"]) * period, 3))


async def check_identity(core: Core, cfg: dict) -> int:
    """Check the ID register, load ``cfg["load"]``'s memories if given, check the HASH registers against
    ``cfg["hash"]``, and run the CRC walk when ``cfg["crc"]``: its result, or -1."""
    axil = core.axil
    ident = await with_timeout(axil.read_dword(REG["ID"]), core.timeout_ns, "ns")
    if cfg.get("load"):
        await load_memories(axil, json.loads(Path(cfg["load"]).read_text()))
    if ident != regmap.ID_VALUE:
        fail(f"register ID reads {ident:#010x}, expected {regmap.ID_VALUE:#010x}")
    hash_got = (await axil.read_dword(REG["HASH_HI"])) << 32 | await axil.read_dword(REG["HASH_LO"])
    if hash_got != int(cfg["hash"], 16):
        fail(f"register HASH reads {hash_got:016x}, expected {cfg['hash']} (memory files of another network?)")
    return (await run_crc(axil, core.timeout_ns))["crc"] if cfg.get("crc") else -1


async def watch_layers(dut, layers: list[str]) -> None:
    """Record the debug output: "<dbg_valid hex> <dbg_data hex>" for every cycle with a hidden layer's
    handshake (values before the edge: the DUT's registers change after RisingEdge)."""
    while True:
        await RisingEdge(dut.clk)
        valid = int(dut.dbg_valid.value)
        if valid and not dut.rst.value:
            layers.append(f"{valid:x} {int(dut.dbg_data.value):x}")


async def receive(core: Core, rec: Recording, e: int, cfg: dict, n_events: int = 1) -> None:
    """Wait for output packet ``e`` (up to ``tlast``: the end-of-event word of the last of its ``n_events``
    events) and record its words and its length."""
    try:
        frame = await with_timeout(core.sink.recv(), core.timeout_ns * max(n_events, 1), "ns")
    except TimeoutError:
        fail(f"packet {e}: no end-of-event word with tlast within {cfg['timeout_cycles']} cycles per event "
             "(stalled stream)")
    rec.out.extend(int(x) for x in frame.tdata)
    rec.packets.append(len(frame.tdata))


@dataclass
class Recording:
    """What a system testbench records from the time it starts streaming: output words, per-event cycles
    (LAST_CYCLES, one event at a time), debug records."""

    start_ns: float
    out: list[int] = field(default_factory=list)
    cycles: list[int] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)
    packets: list[int] = field(default_factory=list)  # words of each output packet (tlast on its last word)


def begin_recording(dut, cfg: dict) -> Recording:
    """Start recording now (and the debug output with ``cfg["debug"]``)."""
    rec = Recording(start_ns=cocotb.utils.get_sim_time("ns"))
    if cfg.get("debug"):
        cocotb.start_soon(watch_layers(dut, rec.layers))
    return rec


async def one_at_a_time(core: Core, cfg: dict, events: Sequence, send: Callable[[Any], Awaitable[Any]],
                        rec: Recording) -> None:
    """Send each event (``await send(event)``) once the previous one's output has left; record its output
    words and its LAST_CYCLES."""
    for e, event in enumerate(events):
        await send(event)
        await receive(core, rec, e, cfg)
        rec.cycles.append(await core.axil.read_dword(REG["LAST_CYCLES"]))


async def record(dut, core: Core, cfg: dict, n_events: int, rec: Recording, crc: int) -> None:
    """Read the counters and CAPS, write the record ``cfg["output"]`` (.npz) and fail unless every event went in and
    out with no error flag (unless ``cfg["expect_errors"]``)."""
    total_ns = cocotb.utils.get_sim_time("ns") - rec.start_ns
    await RisingEdge(dut.clk)
    axil = core.axil
    status = await axil.read_dword(REG["STATUS"])
    events_in = await axil.read_dword(REG["EVENTS_IN"])
    events_out = await axil.read_dword(REG["EVENTS_OUT"])
    max_cycles = await axil.read_dword(REG["MAX_CYCLES"])
    malformed = await axil.read_dword(REG["MALFORMED"])
    caps = await axil.read_dword(REG["CAPS"])
    np.savez(cfg["output"], words=np.array(rec.out, dtype=np.uint32), cycles=np.array(rec.cycles, dtype=np.int64),
             total_cycles=round(total_ns / core.period), status=status, events_in=events_in, caps=caps,
             events_out=events_out, max_cycles=max_cycles, malformed=malformed, crc=crc,
             layers=np.array(rec.layers, dtype=str), packets=np.array(rec.packets, dtype=np.int64))
    if events_in != n_events or events_out != n_events:
        fail(f"registers count {events_in} events in and {events_out} out, {n_events} were sent")
    if status & ERRORS and not cfg.get("expect_errors"):
        fail(f"STATUS {status:#x}: error flags raised on a well-formed stream ({malformed} malformed words)")


@cocotb.test()
async def stream_events(dut) -> None:
    cfg = json.loads(Path(os.environ["NC_TB_CONFIG"]).read_text())
    words = np.load(cfg["input"]).astype(np.uint32)
    if cfg.get("frame_lengths") is not None:  # frames as given (batches; one whose end-of-event word is lost)
        events = np.split(words, np.cumsum(cfg["frame_lengths"])[:-1])
    else:
        ends = np.flatnonzero((words >> KIND_SHIFT) == KIND_END_OF_EVENT)
        events = np.split(words, ends[:-1] + 1) if len(ends) else []
    # events the core closes per frame: its end-of-event words, plus one that tlast closes without its word
    closes = [int(np.count_nonzero((f >> KIND_SHIFT) == KIND_END_OF_EVENT))
              + int(len(f) > 0 and f[-1] >> KIND_SHIFT != KIND_END_OF_EVENT) for f in events]
    core = await start_core(dut, cfg)
    source, sink = core.source, core.sink
    assert source is not None
    crc = await check_identity(core, cfg)

    if cfg.get("stall_output"):
        sink.pause = True  # a consumer that never takes a word: the testbench must time out, not hang
    if cfg.get("backpressure"):
        source.set_pause_generator(pauses(1, 0.3))
        sink.set_pause_generator(pauses(2, 0.3))

    rec = begin_recording(dut, cfg)
    if cfg.get("latency"):
        await one_at_a_time(core, cfg, events, lambda ev: source.send(AxiStreamFrame(tdata=ev.astype("<u4").tobytes())),
                            rec)
    else:
        async def feed() -> None:
            for ev in events:
                await source.send(AxiStreamFrame(tdata=ev.astype("<u4").tobytes()))

        cocotb.start_soon(feed())
        for e in range(len(events)):
            await receive(core, rec, e, cfg, closes[e])
    await record(dut, core, cfg, sum(closes), rec, crc)
