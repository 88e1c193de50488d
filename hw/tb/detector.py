"""cocotb system test of ``nc_top`` built with the detector input (``nc_top_lines_tb``: the core behind the
behavioural deserialiser): each event's spike lines are driven in simulated time, one 0.2 ns tick at a time,
one window after the previous event's output has left; the output stream, every event's LAST_CYCLES and the
debug output are recorded.

Configuration (JSON file named by ``$NC_TB_CONFIG``): ``spikes`` (.npy, bool (events, ticks, channels)),
``output`` (.npz written here, as ``system.py`` writes it), ``hash``, ``crc``, ``backpressure`` (random
pauses on the output stream), ``timeout_cycles`` (per event), ``clock_ns`` (line_k × 0.2 ns), ``debug``.
The comparison with the golden model happens in the caller (neurocal.hw.cosim).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np

from neurocal.hw.tb.aer_encoder import drive_window
from neurocal.hw.tb.system import begin_recording, check_identity, one_at_a_time, pauses, record, start_core


@cocotb.test()
async def detector_events(dut) -> None:
    cfg = json.loads(Path(os.environ["NC_TB_CONFIG"]).read_text())
    spikes = np.load(cfg["spikes"])
    dut.line.value = 0
    dut.window.value = 0
    core = await start_core(dut, cfg, stream_input=False)
    crc = await check_identity(core, cfg)
    if cfg.get("backpressure"):
        core.sink.set_pause_generator(pauses(2, 0.3))

    rec = begin_recording(dut, cfg)
    await one_at_a_time(core, cfg, spikes, lambda event: drive_window(dut, event), rec)
    await record(dut, core, cfg, len(spikes), rec, crc)
