"""cocotb test of ``nc_aer_encoder`` behind a behavioural deserialiser (``nc_aer_encoder_tb``): the spike
lines are driven in simulated time, one 0.2 ns tick at a time, and the AER words that come out must
be exactly ``neurocal.aer.encode_events`` of the spikes driven. ``$NC_TB_CONFIG`` names a JSON file:
``spikes`` (.npy, bool (events, ticks, channels)), ``overrun`` (also open a window while one is being
sent and expect it refused)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge, Timer, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamSink

from neurocal.aer import encode_events
from neurocal.hw.tb.common import fail, reset


async def drive_window(dut, event: np.ndarray) -> None:
    """Drive one event window: tick t's lines during [t·0.2, (t+1)·0.2) ns after a clock edge."""
    await RisingEdge(dut.clk)
    dut.window.value = 1
    for tick in event:
        dut.line.value = int(sum(1 << int(c) for c in np.flatnonzero(tick)))  # int: numpy's << wraps at 64
        await Timer(200, "ps")
    dut.window.value = 0
    dut.line.value = 0


@cocotb.test()
async def encoder_matches_aer(dut) -> None:
    cfg = json.loads(Path(os.environ["NC_TB_CONFIG"]).read_text())
    spikes = np.load(cfg["spikes"])
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst, byte_size=32)
    sink.log.setLevel("WARNING")
    dut.line.value = 0
    dut.window.value = 0
    await reset(dut, 3, 2)

    got: list[int] = []
    overruns = 0
    limit_ns = 4 * (spikes.shape[1] * (spikes.shape[2] + 2) + 200)
    for e, event in enumerate(spikes):
        await drive_window(dut, event)
        if cfg.get("overrun") and e == 0:
            # a second window while the first is still being sent: refused, flagged, not emitted
            await RisingEdge(dut.clk)
            dut.window.value = 1
            for _ in range(12):
                await RisingEdge(dut.clk)
                overruns += int(dut.err_overrun.value)
            dut.window.value = 0
        try:
            frame = await with_timeout(sink.recv(), limit_ns, "ns")
        except TimeoutError:
            fail(f"event {e}: no end-of-event word within {limit_ns} ns")
        got += [int(x) for x in frame.tdata]
        while int(dut.busy.value):
            await RisingEdge(dut.clk)
    expected = encode_events(spikes).tolist()
    if got != expected:
        i = next((k for k, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), min(len(got),
                                                                                                len(expected)))
        fail(f"first divergence at output word {i}: expected "
             f"{expected[i] if i < len(expected) else None!r:}, got {got[i] if i < len(got) else None!r} "
             f"({len(got)} words out, {len(expected)} expected)")
    if cfg.get("overrun") and overruns == 0:
        fail("a window opened during sending did not pulse err_overrun")
    dut._log.info("%d events, %d words, all equal to neurocal.aer.encode_events", len(spikes), len(got))
