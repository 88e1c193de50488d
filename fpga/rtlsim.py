"""``deploy run --target rtl-sim``: the board driver's calls against the RTL of a deploy folder's core.

The core is generated and built as :mod:`neurocal.hw.cosim` does it (one build per shape, cached by
:mod:`neurocal.hw.simulators`); the cocotb test :mod:`neurocal.fpga.tb_driver` runs :class:`Driver` through the
simulated DMA and register port. The output words are decoded here and compared with the golden model by the
caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurocal import aer
from neurocal.errors import NeurocalError
from neurocal.hw import cosim, simulators
from neurocal.hw.generate import HwShape
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


def run_driver(
    info: dict[str, Any],
    net: IntNetwork,
    shape: HwShape,
    spikes: np.ndarray,
    *,
    sim: str = "icarus",
    build_root: Path = Path("build") / "rtl",
    core_net: IntNetwork | None = None,
    core_shape: HwShape | None = None,
    tamper: IntNetwork | None = None,
    load: bool = False,
    max_bytes: int | None = None,
    batch_events: int | None = None,
    stall_output: bool = False,
    timeout_s: float | None = None,
) -> DriverRun:
    """Run ``spikes`` (events, ticks, n_in) through the driver against a simulated core.

    The simulated core is built for ``core_shape`` holding ``core_net`` (default: the deploy folder's own
    network and shape; another network or shape is how a test builds a core the driver must refuse).
    ``tamper``: a network whose weights (not its hash word) the testbench writes into the core before the
    driver connects. ``load``: the driver loads the deploy folder's memories first (a writable core)."""
    core_net, core_shape = core_net or net, core_shape or shape
    # the simulated clock: a whole, even number of picoseconds (the simulator's precision; 300 MHz: 3.334 ns)
    clock_ns = 2 * round(500.0 / float(info["clock_mhz"]), 3)
    project, built = cosim.prepare(core_net, sim, Path(build_root).resolve(), shape=core_shape)
    run_dir = built.build_dir / "driver-run"
    run_dir.mkdir(parents=True, exist_ok=True)
    cosim.link_memories(project, run_dir)  # nc_params.vh names the memory folder relative to the run
    words = aer.encode_events(np.asarray(spikes, dtype=bool))
    np.save(run_dir / "input.npy", words)
    n_t = spikes.shape[1]
    out_words = net.n_outputs * (n_t + net.n_layers) + net.n_outputs + 1
    if timeout_s is None:  # generous: every word and neuron update of one event, four times over, in device time
        groups = max(shape.groups(i) for i in range(shape.n_layers))
        per_event = len(words) // max(len(spikes), 1) * groups + (n_t + net.n_layers) * (groups + 2) * net.n_layers
        timeout_s = (4 * (per_event + sum(shape.sizes)) + 20000 + _crc_cycles(shape)) * clock_ns * 1e-9
    tampered = None
    if tamper is not None:
        tampered = [m for m in cosim.axil_writes(tamper, core_shape) if m["kind"] != 3]
    cfg = {
        "input": str(run_dir / "input.npy"), "n_events": len(spikes), "out_words": int(out_words),
        "expected": info["expected"], "n_outputs": net.n_outputs, "timeout_s": timeout_s, "clock_ns": clock_ns,
        "max_bytes": int(max_bytes or (1 << info["dma_length_width"]) - 1), "tamper": tampered,
        "batch_events": batch_events, "align_bytes": int(info["dma_mm_bits"]) // 8,
        "load": cosim.axil_writes(net, shape) if load else None, "stall_output": stall_output,
        "result": str(run_dir / "result.json"),
    }
    (run_dir / "config.json").write_text(json.dumps(cfg))
    (run_dir / "result.json").unlink(missing_ok=True)
    simulators.run(built, TB_MODULE, test_dir=run_dir, extra_env={"NC_TB_CONFIG": str(run_dir / "config.json")})
    del project
    result = json.loads((run_dir / "result.json").read_text())
    if "error" in result:
        raise NeurocalError(f"driver ({sim} simulation): {result['error']}")
    return DriverRun(np.asarray(result["words"], dtype=np.uint32), float(result["device_seconds"]),
                     result["registers"], clock_ns, int(result["sends"]), int(result["receives"]),
                     result["modules"])


def _crc_cycles(shape: HwShape) -> int:
    """Cycles of the core's CRC walk (one byte per cycle) with margin."""
    from neurocal.regmap import mem_width

    return 2 * (shape.weight_bits() // 8 + sum(shape.sizes) * 8 + 64) + 16 * mem_width(shape)
