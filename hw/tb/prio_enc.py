"""cocotb test of ``nc_prio_enc`` (combinational): every request vector for a narrow WIDTH, corner cases
(none, each single bit, all set) and random vectors for a wide one, each checked against Python's
lowest-set-bit arithmetic (``r & -r``). ``$NC_TB_CONFIG`` names a JSON file: ``width``, ``random`` (how
many random vectors when the width is too wide for all of them), ``seed``."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
from cocotb.triggers import Timer

from neurocal.hw.tb.common import fail


def expected(req: int) -> tuple[int, int, int]:
    """(index, onehot, valid) of the lowest set bit; (0, 0, 0) when none."""
    onehot = req & -req
    return max(onehot.bit_length() - 1, 0), onehot, int(req != 0)


@cocotb.test()
async def lowest_set_bit(dut) -> None:
    cfg = json.loads(Path(os.environ["NC_TB_CONFIG"]).read_text())
    width = int(cfg["width"])
    if width <= 12:
        vectors = list(range(1 << width))
    else:
        rng = random.Random(cfg.get("seed", 1))
        vectors = [0, (1 << width) - 1, *(1 << i for i in range(width))]
        # random vectors with their low bits cleared at random depths, so every index is hit often
        vectors += [rng.getrandbits(width) >> s << s for s in (rng.randrange(width) for _ in range(cfg["random"]))]
    for req in vectors:
        dut.req.value = req
        await Timer(1, "ns")
        got = (int(dut.index.value), int(dut.onehot.value), int(dut.valid.value))
        if got != expected(req):
            fail(f"WIDTH {width}, req {req:#x}: (index, onehot, valid) = {got}, expected {expected(req)}")
    dut._log.info("%d vectors checked", len(vectors))
