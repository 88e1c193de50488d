"""cocotb unit test of one pipeline stage (``nc_aer_rx``, ``nc_lif_layer``, ``nc_aer_tx``): tokens or AER
beats in, tokens or AER words out, random pauses on both sides, every wait with a timeout.

Configuration (JSON file named by ``$NC_TB_CONFIG``): ``source`` ("axis": ``frames``, lists of AER words
sent as little-endian bytes with a byte-level tkeep; "tokens": ``tokens``, hex strings on
``s_data``/``s_valid``/``s_ready``), ``sink`` ("axis": AER words from ``m_axis_*``; "tokens": hex strings
from ``m_data``/``m_valid``/``m_ready``), ``expected`` (how many words or tokens to collect),
``backpressure``, ``timeout_cycles``, ``output`` (JSON file written here: the collected hex strings).
The caller compares them with what the golden functions give.

An "axis" source may also give ``keeps``: per frame, one 4-bit tkeep per word (0: absent word, 0xF: present,
else malformed; default all 0xF). ``rx_stats`` (a JSON file name) makes the testbench watch ``nc_aer_rx``'s
side outputs and write there: the sum of ``err_malformed``, the counts of ``event_start``, ``event_end``,
``err_framing`` (``framing``) and ``err_overflow`` (``overflow``),
the beats taken, and ``cycles``: from the first cycle with ``s_axis_tvalid`` high to the last beat taken,
inclusive (meaningful without back-pressure, when the source never pauses).

``token_cycles`` (a JSON file name; "tokens" source and sink): the cycles of every token handshake,
``{"in": [...], "out": [...]}``, counted from the first cycle after reset.

``reads`` (``nc_lif_layer`` only): ``[kind, addr]`` pairs read through the memory read port, with random
gaps, once after reset (before any token) and once more after the outputs, when ``busy`` is low;
``read_output`` (a JSON file name) receives ``{"before": [...], "after": [...]}``, per read its ``rdata``
(hex), ``overflow`` (``mem_overflow`` in the ``mem_re`` cycle) and ``latency`` (cycles to ``mem_rvalid``).
"""

from __future__ import annotations

import json
import os
import random
from collections import deque
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from neurocal.hw.tb.common import fail, reset

PERIOD_NS = 4.0


def _pauses(seed: int, p: float):
    rng = random.Random(seed)
    while True:
        yield rng.random() < p


async def _drive_tokens(dut, tokens: list[int], pause) -> None:
    """Inputs change only at falling edges; a handshake is seen at ReadOnly before the rising edge."""
    i = 0
    while i < len(tokens):
        await FallingEdge(dut.clk)
        if next(pause):
            dut.s_valid.value = 0
            continue
        dut.s_data.value = tokens[i]
        dut.s_valid.value = 1
        await ReadOnly()
        if dut.s_ready.value:
            i += 1
    await FallingEdge(dut.clk)
    dut.s_valid.value = 0


async def _collect_tokens(dut, n: int, pause, out: list[str]) -> None:
    while len(out) < n:
        await FallingEdge(dut.clk)
        ready = not next(pause)
        dut.m_ready.value = int(ready)
        await ReadOnly()
        if ready and dut.m_valid.value:
            out.append(format(int(dut.m_data.value), "x"))


async def _collect_words(sink: AxiStreamSink, n: int, out: list[str]) -> None:
    while len(out) < n:
        frame = await sink.recv()
        out.extend(format(int(x), "x") for x in frame.tdata)


async def _watch_rx(dut, stats: dict[str, int]) -> None:
    """Sample nc_aer_rx's side outputs once per cycle, when the inputs have settled before the rising edge."""
    first_valid = None
    cycle = 0
    while True:
        await FallingEdge(dut.clk)
        await ReadOnly()
        cycle += 1
        if dut.rst.value:
            continue
        valid = bool(dut.s_axis_tvalid.value)
        if valid and first_valid is None:
            first_valid = cycle
        stats["malformed"] += int(dut.err_malformed.value)
        stats["event_start"] += int(dut.event_start.value)
        stats["event_end"] += int(dut.event_end.value)
        stats["framing"] += int(dut.err_framing.value)
        stats["overflow"] += int(dut.err_overflow.value)
        if valid and dut.s_axis_tready.value:
            stats["beats"] += 1
            stats["cycles"] = cycle - first_valid + 1


async def _read_memories(dut, reads: list[list[int]], pause) -> list[dict]:
    """Issue one ``mem_re`` per cycle (but for random gaps) and match each ``mem_rvalid`` pulse with the
    oldest read in flight."""
    in_flight: deque[tuple[int, int]] = deque()  # (issue cycle, mem_overflow)
    results: list[dict] = []
    cycle = i = 0
    while len(results) < len(reads):
        await FallingEdge(dut.clk)
        cycle += 1
        issue = i < len(reads) and not next(pause)
        dut.mem_re.value = int(issue)
        if issue:
            dut.mem_kind.value, dut.mem_addr.value = reads[i]
        await ReadOnly()
        if dut.mem_rvalid.value:
            if not in_flight:
                fail(f"mem_rvalid in cycle {cycle} without a read in flight")
            issued, overflow = in_flight.popleft()
            results.append({"rdata": format(int(dut.mem_rdata.value), "x"), "overflow": overflow,
                            "latency": cycle - issued})
        if issue:
            in_flight.append((cycle, int(dut.mem_overflow.value)))
            i += 1
        if in_flight and cycle - in_flight[0][0] > 50:
            fail(f"no mem_rvalid within 50 cycles of the read of {reads[len(results)]}")
    await FallingEdge(dut.clk)
    dut.mem_re.value = 0
    return results


async def _watch_tokens(dut, cycles: dict[str, list[int]]) -> None:
    """The cycles (counted from the first after reset) of every token handshake on both sides."""
    cycle = 0
    while True:
        await FallingEdge(dut.clk)
        await ReadOnly()
        cycle += 1
        if dut.s_valid.value and dut.s_ready.value:
            cycles["in"].append(cycle)
        if dut.m_valid.value and dut.m_ready.value:
            cycles["out"].append(cycle)


@cocotb.test()
async def stage_streams(dut) -> None:
    cfg = json.loads(Path(os.environ["NC_TB_CONFIG"]).read_text())
    p = 0.3 if cfg.get("backpressure") else 0.0
    timeout_ns = float(cfg["timeout_cycles"]) * PERIOD_NS
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, "ns").start())
    if cfg["source"] == "tokens":
        dut.s_valid.value = 0
    if cfg["sink"] == "tokens":
        dut.m_ready.value = 0
    reads = cfg.get("reads")
    if reads is not None:
        dut.mem_we.value = 0
        dut.mem_re.value = 0
    await reset(dut, 4)
    read_out = {}
    if reads is not None:
        read_out["before"] = await _read_memories(dut, reads, _pauses(3, 0.3))

    token_cycles: dict[str, list[int]] = {"in": [], "out": []}
    if cfg.get("token_cycles"):
        cocotb.start_soon(_watch_tokens(dut, token_cycles))

    if cfg["source"] == "axis":
        source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst)
        source.log.setLevel("WARNING")
        if p:
            source.set_pause_generator(_pauses(1, p))

        keeps = cfg.get("keeps") or [[0xF] * len(words) for words in cfg["frames"]]

        async def feed() -> None:
            for words, keep in zip(cfg["frames"], keeps, strict=True):
                data = b"".join(int(w).to_bytes(4, "little") for w in words)
                tkeep = [(k >> b) & 1 for k in keep for b in range(4)]
                await source.send(AxiStreamFrame(tdata=data, tkeep=tkeep))

        cocotb.start_soon(feed())
    else:
        cocotb.start_soon(_drive_tokens(dut, [int(t, 16) for t in cfg["tokens"]], _pauses(1, p)))

    stats = {"malformed": 0, "event_start": 0, "event_end": 0, "framing": 0, "overflow": 0, "beats": 0, "cycles": 0}
    if cfg.get("rx_stats"):
        cocotb.start_soon(_watch_rx(dut, stats))

    out: list[str] = []
    if cfg["sink"] == "axis":
        sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst, byte_size=32)
        sink.log.setLevel("WARNING")
        if p:
            sink.set_pause_generator(_pauses(2, p))
        collect = _collect_words(sink, cfg["expected"], out)
    else:
        collect = _collect_tokens(dut, cfg["expected"], _pauses(2, p), out)
    try:
        await with_timeout(collect, timeout_ns, "ns")
    except TimeoutError:
        Path(cfg["output"]).write_text(json.dumps(out))
        fail(f"{len(out)} of {cfg['expected']} outputs within {cfg['timeout_cycles']} cycles (stalled stream)")
    Path(cfg["output"]).write_text(json.dumps(out))
    if reads is not None:
        for _ in range(100):
            await FallingEdge(dut.clk)
            await ReadOnly()
            if not dut.busy.value:
                break
        else:
            fail("busy still high 100 cycles after the last output")
        read_out["after"] = await _read_memories(dut, reads, _pauses(4, 0.3))
        Path(cfg["read_output"]).write_text(json.dumps(read_out))
    if cfg.get("rx_stats"):
        Path(cfg["rx_stats"]).write_text(json.dumps(stats))
    if cfg.get("token_cycles"):
        Path(cfg["token_cycles"]).write_text(json.dumps(token_cycles))
