"""cocotb register test of ``nc_top``: capabilities, memory read-back, the CRC walk, refused and extra accesses.

Configuration (JSON file named by ``$NC_TB_CONFIG``): ``layers`` (the build's layer count), ``memories``
(the build's memory words as :func:`neurocal.hw.cosim.axil_writes` gives them), ``change`` (one memory word
to write: layer, kind, addr, words = [dwords]), ``input`` (.npy of AER words: events streamed while the
output is stalled), ``backpressure``, ``timeout_cycles``, ``clock_ns``; ``output`` (.json written here with
every value read). The caller (tests/hw/test_regmap.py) compares them with what ``neurocal.regmap``
predicts; this testbench only fails for a hang.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, with_timeout
from cocotbext.axi import AxiLiteMaster, AxiStreamFrame

from neurocal import regmap
from neurocal.aer import KIND_END_OF_EVENT, KIND_SHIFT
from neurocal.hw.tb.common import fail
from neurocal.hw.tb.system import REG, pauses, read_words, run_crc, start_core, write_words

GLOBAL_CAPS = ("ID", "CONFIG", "CAPS", "SRC_HASH", "PROFILE")
LAYER_CAPS = ("L_N_IN", "L_N_OUT", "L_LANES", "L_BANKS", "L_WIDTHS", "L_BANK_WORDS")


async def read_caps(axil: AxiLiteMaster, n_layers: int) -> dict:
    """Every capability register; the per-layer window for layers 0..n_layers (the last one does not exist)."""
    caps = {name: await axil.read_dword(REG[name]) for name in GLOBAL_CAPS}
    layers = []
    for layer in range(n_layers + 1):
        await axil.write_dword(REG["LAYER_SEL"], layer)
        layers.append({name: await axil.read_dword(REG[name]) for name in LAYER_CAPS})
    return {"global": caps, "layers": layers}


async def read_memories(axil: AxiLiteMaster, memories: list[dict]) -> list[list[list[int]]]:
    return [await read_words(axil, m["layer"], m["kind"], m["addr"], len(m["words"]), len(m["words"][0]))
            for m in memories]


@cocotb.test()
async def registers(dut) -> None:
    cfg = json.loads(Path(os.environ["NC_TB_CONFIG"]).read_text())
    core = await start_core(dut, cfg)
    axil, sink, source, timeout_ns = core.axil, core.sink, core.source, core.timeout_ns
    assert source is not None
    out: dict = {}

    out["caps"] = await read_caps(axil, cfg["layers"])
    out["readback"] = await read_memories(axil, cfg["memories"])
    out["crc_built"] = await run_crc(axil, timeout_ns)

    # an extra MEM_DATA dword: flagged and counted, and the MEM_WRITE after it stores nothing
    ch = cfg["change"]
    bad = [d ^ 0xFFFFFFFF for d in ch["words"][0]] + [0x12345678]
    await write_words(axil, ch["layer"], ch["kind"], ch["addr"], [bad])
    out["extra"] = {"status": await axil.read_dword(REG["STATUS"]),
                    "count": await axil.read_dword(REG["MEM_EXTRA"]),
                    "word": (await read_words(axil, ch["layer"], ch["kind"], ch["addr"], 1, len(bad) - 1))[0]}
    await axil.write_dword(REG["CTRL"], regmap.bit("CTRL", "CLEAR"))

    # accesses while events are in flight (the consumer stalled, then back-pressure): refused, counted
    words = np.load(cfg["input"]).astype(np.uint32)
    ends = np.flatnonzero((words >> KIND_SHIFT) == KIND_END_OF_EVENT)
    events = np.split(words, ends[:-1] + 1)
    if cfg.get("backpressure"):
        source.set_pause_generator(pauses(1, 0.3))
    sink.pause = True

    async def feed() -> None:
        for ev in events:
            await source.send(AxiStreamFrame(tdata=ev.astype("<u4").tobytes()))

    cocotb.start_soon(feed())

    async def first_event_in() -> None:
        while await axil.read_dword(REG["EVENTS_IN"]) == 0:
            pass

    try:
        await with_timeout(first_event_in(), timeout_ns, "ns")
    except TimeoutError:
        fail("the first event was never taken")
    status_busy = await axil.read_dword(REG["STATUS"])
    await write_words(axil, ch["layer"], ch["kind"], ch["addr"], ch["words"])  # MEM_WRITE: refused
    await axil.write_dword(REG["MEM_READ"], 1)  # refused
    await axil.write_dword(REG["CTRL"], regmap.bit("CTRL", "CRC_START"))  # refused
    out["busy"] = {"status_before": status_busy, "status": await axil.read_dword(REG["STATUS"]),
                   "refused": await axil.read_dword(REG["REFUSED"])}
    if cfg.get("backpressure"):
        sink.set_pause_generator(pauses(2, 0.3))
    sink.pause = False
    received: list[int] = []
    for e in range(len(events)):
        try:
            frame = await with_timeout(sink.recv(), timeout_ns, "ns")
        except TimeoutError:
            fail(f"event {e}: no end-of-event word within {cfg['timeout_cycles']} cycles (hung after refusals)")
        received.extend(int(x) for x in frame.tdata)
    out["busy"]["words"] = received
    await ClockCycles(dut.clk, 4)
    out["busy"]["word_after"] = (await read_words(axil, ch["layer"], ch["kind"], ch["addr"], 1,
                                                  len(ch["words"][0])))[0]

    # idle again: the change is stored, the CRC sees it, the HASH registers still say what was written
    await write_words(axil, ch["layer"], ch["kind"], ch["addr"], ch["words"])
    out["changed"] = {"word": (await read_words(axil, ch["layer"], ch["kind"], ch["addr"], 1,
                                                len(ch["words"][0])))[0], **await run_crc(axil, timeout_ns)}

    # an event arriving during the walk aborts it (the walk is far longer than an event's first word)
    sink.set_pause_generator(pauses(3, 0.0))
    await axil.write_dword(REG["CTRL"], regmap.bit("CTRL", "CRC_START"))
    await source.send(AxiStreamFrame(tdata=events[0].astype("<u4").tobytes()))
    try:
        await with_timeout(sink.recv(), timeout_ns, "ns")
    except TimeoutError:
        fail("the event sent during the CRC walk never came out")
    out["aborted_status"] = await axil.read_dword(REG["STATUS"])
    Path(cfg["output"]).write_text(json.dumps(out))
