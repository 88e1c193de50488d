"""``deploy run --target rtl-sim``: the board driver's calls against the RTL of a deploy folder's core.

The deploy folder's core provider (:mod:`neurocal.cores`) builds the core's simulation model (one build per
shape, cached); the cocotb test :mod:`neurocal.fpga.tb_driver` runs :class:`Driver` through the simulated DMA and
register port. The output words are decoded and compared with the golden model by the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurocal import aer, regmap
from neurocal.errors import NeurocalError
from neurocal.fpga.deploy import deploy_core
from neurocal.intnet import IntNetwork

TB_MODULE = "neurocal.fpga.tb_driver"


@dataclass
class DriverRun:
    """What the driver returned from the simulated board."""

    words: np.ndarray  # every event's output words, in order
    device_seconds: float  # simulated time from the first send to the last receive
    registers: dict[str, int]
    clock_ns: float
    sends: int  # send transfers the driver made
    receives: int  # receive transfers (one per batch: the core's output packet ends where the batch did)
    modules: list[str]  # top-level modules imported in the simulator's Python
    cycles: list[int]  # the driver's LAST_CYCLES read after each batch (serial: each event's latency in cycles)


def run_driver(
    info: dict[str, Any],
    net: IntNetwork,
    shape: Any,
    spikes: np.ndarray,
    *,
    sim: str = "icarus",
    build_root: Path = Path("build") / "rtl",
    core_net: IntNetwork | None = None,
    core_shape: Any = None,
    tamper: IntNetwork | None = None,
    load: bool = False,
    max_bytes: int | None = None,
    batch_events: int | None = None,
    stall_output: bool = False,
    timeout_s: float | None = None,
    serial: bool = False,
) -> DriverRun:
    """Run ``spikes`` (events, ticks, n_in) through the driver against a simulated core.

    The simulated core is built for ``core_shape`` holding ``core_net`` (default: the deploy folder's own
    network and shape; another network or shape is how a test builds a core the driver must refuse).
    ``tamper``: a network whose weights (not its hash word) the testbench writes into the core before the
    driver connects. ``load``: the driver loads the deploy folder's memories first (a writable core). ``serial``:
    one event at a time, each meeting an idle core, so ``DriverRun.cycles`` holds every event's latency."""
    core_net, core_shape = core_net or net, core_shape or shape
    core = deploy_core(info)
    # the simulated clock: a whole, even number of picoseconds (the simulator's precision; 300 MHz: 3.334 ns)
    clock_ns = 2 * round(500.0 / float(info["clock_mhz"]), 3)
    model = core.cosim(core_net, core_shape, sim=sim, build_root=Path(build_root))
    run_dir = model.run_dir
    words = aer.encode_events(np.asarray(spikes, dtype=bool))
    np.save(run_dir / "input.npy", words)
    n_t = spikes.shape[1]
    out_words = net.n_outputs * (n_t + net.n_layers) + net.n_outputs + 1
    if timeout_s is None:  # generous: every word and neuron update of one event, four times over, in device time
        groups = max(-(-n_out // k) for n_out, k in zip(shape.sizes[1:], shape.lanes, strict=True))
        per_event = len(words) // max(len(spikes), 1) * groups + (n_t + net.n_layers) * (groups + 2) * net.n_layers
        timeout_s = (4 * (per_event + sum(shape.sizes)) + 20000 + _crc_cycles(shape)) * clock_ns * 1e-9
    tampered = None
    if tamper is not None:
        tampered = [m for m in core.memory_writes(tamper, core_shape) if m["kind"] != regmap.KIND_HASH]
    cfg = {
        "input": str(run_dir / "input.npy"), "n_events": len(spikes), "out_words": int(out_words),
        "expected": info["expected"], "n_outputs": net.n_outputs, "timeout_s": timeout_s, "clock_ns": clock_ns,
        "max_bytes": int(max_bytes or (1 << info["dma_length_width"]) - 1), "tamper": tampered,
        "batch_events": batch_events, "align_bytes": int(info["dma_mm_bits"]) // 8,
        "load": core.memory_writes(net, shape) if load else None, "stall_output": stall_output,
        "serial": serial, "result": str(run_dir / "result.json"),
    }
    (run_dir / "config.json").write_text(json.dumps(cfg))
    (run_dir / "result.json").unlink(missing_ok=True)
    model.run(TB_MODULE, {"NC_TB_CONFIG": str(run_dir / "config.json")})
    result = json.loads((run_dir / "result.json").read_text())
    if "error" in result:
        raise NeurocalError(f"driver ({sim} simulation): {result['error']}")
    return DriverRun(np.asarray(result["words"], dtype=np.uint32), float(result["device_seconds"]),
                     result["registers"], clock_ns, int(result["sends"]), int(result["receives"]),
                     result["modules"], [int(c) for c in result["cycles"]])


def _crc_cycles(shape: Any) -> int:
    """Cycles of the core's CRC walk (one byte per cycle) with margin."""
    weight_bits = sum(regmap.bank_words(shape, i) * shape.rows[i] * shape.lanes[i] * regmap.WEIGHT_BITS
                      for i in range(len(shape.sizes) - 1))
    return 2 * (weight_bits // 8 + sum(shape.sizes) * 8 + 64) + 16 * regmap.mem_width(shape)
