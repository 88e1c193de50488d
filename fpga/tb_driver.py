"""cocotb test of the board driver against ``nc_top``: the driver's own calls, through the simulated DMA and
register port of :mod:`neurocal.fpga.simdev`, in a thread bridged into the simulation.

Configuration (JSON named by ``$NC_TB_CONFIG``): ``input`` (.npy AER words), ``n_events``, ``out_words``
(an event's answer at most, words), ``expected`` (deploy.json's expected values), ``n_outputs``, ``max_bytes``
(the DMA's length limit), ``align_bytes`` (its memory-map width), ``batch_events`` (events per batch, or null),
``timeout_s`` (device seconds), ``clock_ns``, ``tamper`` (memories the testbench writes before the driver
connects, or null), ``load`` (memories the driver loads before its check, or null), ``crc``, ``stall_output``
(S2MM never ready), ``serial`` (one event at a time: :class:`Driver`'s ``serial``), ``result`` (JSON written
here; ``cycles``: the driver's LAST_CYCLES reads, one per batch). A refusal, timeout or length-limit error of the
driver is written as ``{"error": message}`` and is not a testbench failure: the caller reports it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.task import bridge
from cocotb.triggers import ClockCycles
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiStreamBus, AxiStreamSink, AxiStreamSource

from neurocal.fpga import simdev
from neurocal.fpga.driver import DmaLimit, Driver, FramingError, HardwareMismatch, StreamTimeout


@cocotb.test()
async def driver_run(dut) -> None:
    cfg = json.loads(Path(os.environ["NC_TB_CONFIG"]).read_text())
    cocotb.start_soon(Clock(dut.clk, round(float(cfg["clock_ns"]) * 1000), "ps").start())
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst, byte_size=32)
    axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
    for part in (source, sink, axil.write_if, axil.read_if):
        part.log.setLevel("WARNING")
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 2)

    regs = simdev.SimRegisters(axil)
    send = simdev.SimMm2s(source, dut.clk, cfg["max_bytes"], cfg["align_bytes"])
    recv = simdev.SimS2mm(sink, dut.clk, cfg["max_bytes"])
    words = np.load(cfg["input"]).astype(np.uint32)
    result: dict = {}

    def host() -> None:
        recv.stalled = bool(cfg.get("stall_output"))
        drv = Driver(regs, send, recv, allocate=simdev.allocate, now=simdev.SimClock(), max_bytes=cfg["max_bytes"],
                     n_outputs=cfg["n_outputs"], timeout_s=cfg["timeout_s"], batch_events=cfg.get("batch_events"),
                     align_bytes=cfg["align_bytes"], serial=bool(cfg.get("serial")))
        if cfg.get("tamper"):
            drv.load(cfg["tamper"])
        if cfg.get("load"):
            drv.load(cfg["load"])
        drv.check(cfg["expected"], crc=cfg.get("crc", True))
        t0 = drv.now()
        outs = drv.run_words(words, cfg["n_events"], cfg["out_words"])
        result["device_seconds"] = drv.now() - t0
        result["sends"], result["receives"] = drv.sends, drv.receives
        result["cycles"] = [int(c) for c in drv.cycles]
        result["words"] = [int(w) for o in outs for w in o]
        result["registers"] = {n: drv.read(n) for n in ("STATUS", "EVENTS_IN", "EVENTS_OUT", "MAX_CYCLES")}

    try:
        await bridge(host)()
    except (HardwareMismatch, StreamTimeout, DmaLimit, FramingError) as err:
        result = {"error": str(err), "kind": type(err).__name__}
    result["modules"] = sorted({m.split(".")[0] for m in sys.modules})  # what the simulator's Python imported
    Path(cfg["result"]).write_text(json.dumps(result))
