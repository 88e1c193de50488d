"""cocotb test of ``nc_line_rx`` behind the behavioural deserialiser (``nc_line_rx_tb``): spike lines driven
in simulated time, one 0.2 ns tick at a time, must come out as the layers' tokens — the window's rasters, the
network's empty ticks and the end-of-event token — under random back-pressure. ``$NC_TB_CONFIG`` names a JSON
file: ``spikes`` (.npy, bool (events, ticks, channels)), ``layers``, ``backpressure`` (probability of a
stalled cycle), ``overrun`` (open a second window while the first is held and expect it refused)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, with_timeout

from neurocal.hw.tb.aer_encoder import drive_window
from neurocal.hw.tb.common import fail, reset


async def collect(dut, tokens: list[tuple[int, int, int]], stall: float, seed: int) -> None:
    """Take tokens (eoe, event, raster): between clock edges, m_ready is drawn (low at random) and a token on
    the bus while it is high is taken at the next rising edge."""
    rng = random.Random(seed)
    channels = len(dut.line.value)
    while True:
        await FallingEdge(dut.clk)
        ready = rng.random() >= stall
        dut.m_ready.value = int(ready)
        if ready and int(dut.m_valid.value):
            word = int(dut.m_data.value)
            tokens.append((word >> (channels + 16), (word >> channels) & 0xFFFF, word & ((1 << channels) - 1)))


@cocotb.test()
async def line_rx_emits_the_window_rasters(dut) -> None:
    cfg = json.loads(Path(os.environ["NC_TB_CONFIG"]).read_text())
    spikes = np.load(cfg["spikes"])
    layers = int(cfg["layers"])
    n_events, ticks, _ = spikes.shape
    dut.line.value = 0
    dut.window.value = 0
    dut.m_ready.value = 0
    await reset(dut, 3, 2)
    tokens: list[tuple[int, int, int]] = []
    cocotb.start_soon(collect(dut, tokens, float(cfg.get("backpressure", 0.0)), 5))

    overruns = [0]
    cocotb.start_soon(count_pulses(dut, overruns))
    limit_ns = 4 * 8 * (ticks + layers + 20)
    for e, event in enumerate(spikes):
        await drive_window(dut, event)
        if cfg.get("overrun") and e == 0:
            for _ in range(3):  # a second window while the first is held: refused and flagged
                await RisingEdge(dut.clk)
                dut.window.value = 1
                await RisingEdge(dut.clk)
                dut.window.value = 0
                await ClockCycles(dut.clk, 2)
        try:
            await with_timeout(_until_idle(dut), limit_ns, "ns")
        except TimeoutError:
            fail(f"event {e}: the window was not sent within {limit_ns} ns")

    per_event = ticks + layers + 1
    if len(tokens) != n_events * per_event:
        fail(f"{len(tokens)} tokens out, {n_events * per_event} expected ({per_event} per event)")
    for e in range(n_events):
        for k in range(per_event):
            eoe, number, raster = tokens[e * per_event + k]
            want = (1, e, 0) if k == ticks + layers else (
                0, 0, int(sum(1 << int(c) for c in np.flatnonzero(spikes[e, k]))) if k < ticks else 0)
            if (eoe, number, raster) != want:
                fail(f"event {e}, token {k}: expected (eoe, event, raster) {want}, got {(eoe, number, raster)}")
    if cfg.get("overrun") and overruns[0] != 3:
        fail(f"3 windows opened while one was held: err_overrun pulsed {overruns[0]} times")
    dut._log.info("%d windows, %d tokens, every raster equal to the lines driven", n_events, len(tokens))


async def count_pulses(dut, count: list[int]) -> None:
    """Count the cycles err_overrun is high (sampled between clock edges)."""
    while True:
        await FallingEdge(dut.clk)
        count[0] += int(dut.err_overrun.value)


async def _until_idle(dut) -> None:
    await ClockCycles(dut.clk, 2)
    while int(dut.busy.value):
        await RisingEdge(dut.clk)
