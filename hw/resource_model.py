"""Resource model of the core: LUT, FF, BRAM36 and DSP of a build from its shape alone, no synthesis.

Block RAM follows from the structure exactly: a weight bank in block RAM takes
:meth:`~neurocal.hw.generate.HwShape.bank_bram36`. DSPs are two per LIF updater (the two decay multiply-adds
of ``nc_lif_update``); yosys also maps a few index multiplications (address × groups, the output stage's
voltage select) to DSP48E1, 1–5 more on the calibration builds, which the model leaves out. LUTs and
flip-flops are a linear model over structural counts of the RTL, one set of counts per module (below), whose
coefficients are fitted to yosys (``synth_xilinx -family xc7``, the counting of :mod:`neurocal.hw.synth`) by
``benchmarks/calibrate_resources.py``, which writes :mod:`neurocal.hw.resource_fit`. That module records the
RTL sources it was fitted on; :func:`estimate` says so when the sources have changed since (a re-fit is then
due), and the calibration's own errors are stored beside its coefficients.

Counts per layer ``l`` (n_in inputs, n_out neurons, ``lanes`` accumulator lanes, ``lif`` LIF updaters,
``rows`` banks of which ``block`` in block RAM, ``G = ceil(n_out/lanes)`` groups, bank depth
``D = ceil(n_in/rows)``, accumulator ``ACC_W``, current ``U_W``):

* ``tree_bits``: adder bits of the per-lane adder trees, ``lanes · Σ_nodes min(ACC_W, 9 + level)``, plus the
  accumulator adds ``lanes · ACC_W`` (one LUT per bit on a carry chain);
* ``lif``: LIF updaters (wrap, clip, compare and the multiplexers around the DSPs);
* ``lanes``: per-lane logic independent of the tree (the weight-exponent shifter, the tree's output path);
* ``state_bits``: neuron state in flip-flops. A layer of ``S = G · lanes / lif`` LIF steps per tick with
  ``S <`` :data:`STATE_RAM_MIN` (nc_lif_layer's registers): the accumulators ``G · buffers · lanes · ACC_W`` and the
  currents and voltages ``G · lanes · (U_W + 24)`` (as the calibration prices them). A deeper layer (distributed
  RAM): one live bit per word, ``3 G + S``;
* ``state_sites``: LUT sites of a deep layer's state in distributed RAM (:func:`lutram_sites`): the accumulators,
  ``3 G`` words of ``lanes · ACC_W`` bits read at two addresses, and the currents and voltages, ``S`` words of
  ``lif · (U_W + 24)`` bits read at one. Without ``lif`` (the fitter's per-layer pricing, ``lif = 0``) the state is
  priced as registers, which over-states a deep layer's LUT and FF;
* ``dist_sites``: LUT sites of the weight banks in distributed RAM, ``(rows − block) · ceil(9 · lanes / 6) ·
  4 · ceil(D · G / 32)`` (a RAM32M: 32 words × 6 bits in four LUTs);
* ``read_bits``: the banks' read registers, ``rows · 9 · lanes``;
* ``inputs``: pending-spike bits and their per-bank encoders, ``ceil(n_in/rows) · rows``;
* ``param_bits``: the neurons' parameter memory, ``61 · lanes · G``;

and for the rest of the core: the input stage (``n_in · words`` raster lines, ``words²`` address compares),
the output stage (``24 · n_out`` voltage bits), the FIFOs (their bits) and the register file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from neurocal.errors import NeurocalError
from neurocal.hw.generate import WEIGHT_BITS, HwShape

PARAM_BITS = 61
VOLTAGE_BITS = 24
DSP_PER_LIF = 2
#: accumulator buffers per group of a layer (double-buffered: tick t updates while t+1 accumulates)
ACC_BUFFERS = 2
#: a layer of at least this many LIF steps per tick keeps its state in distributed RAM (nc_lif_layer's
#: STATE_RAM_MIN), else in registers
STATE_RAM_MIN = 16

LUT_FEATURES = ("tree_bits", "lif", "lanes", "state_sites", "state_bits", "dist_sites", "inputs", "param_bits",
                "rx_lines", "rx_compares", "tx_bits", "fifo_bits", "core")
FF_FEATURES = ("state_bits", "read_bits", "inputs", "lif", "rx_lines", "tx_bits", "fifo_bits", "core")


def lif_lanes(shape: HwShape, layer: int) -> int:
    """LIF updaters of ``layer`` (the accumulator lanes where the shape has no separate count)."""
    per_layer = getattr(shape, "lif_lanes", None)
    return int(per_layer[layer]) if per_layer else int(shape.lanes[layer])


def lutram_sites(depth: int, bits: int, reads: int) -> int:
    """LUT sites of a ``depth`` × ``bits`` memory with one write port and ``reads`` asynchronous read ports (1: at
    any address; 2: one of them at the write address), as yosys 0.23 maps it to 7-series distributed RAM. One read
    port: RAM32M, 6 bits in 4 sites, up to 32 words; else RAM64M, 3 bits in 4 sites per 64 words. Two: RAM32M, 4
    bits in 4 sites, up to 32 words; RAM64X1D, 2 sites per bit, up to 64; else RAM128X1D, 4 sites per bit per 128
    words. (The read multiplexer of deeper memories is logic, not counted here.)"""
    if reads == 1:
        return 4 * math.ceil(bits / 6) if depth <= 32 else 4 * math.ceil(bits / 3) * math.ceil(depth / 64)
    if depth <= 32:
        return 4 * math.ceil(bits / 4)
    return 2 * bits if depth <= 64 else 4 * bits * math.ceil(depth / 128)


def state_counts(n_out: int, lanes: int, lif: int, acc_w: int, u_w: int) -> tuple[int, int]:
    """``(state_sites, state_bits)`` of a layer (module docstring): deep state in distributed RAM, shallow state
    and live bits in flip-flops. ``lif = 0``: priced as registers."""
    groups = -(-n_out // lanes)
    steps = groups * (lanes // lif) if lif else 0
    if steps < STATE_RAM_MIN:
        return 0, groups * (ACC_BUFFERS * lanes * acc_w + lanes * (u_w + VOLTAGE_BITS))
    return (lutram_sites(3 * groups, lanes * acc_w, 2) + lutram_sites(steps, lif * (u_w + VOLTAGE_BITS), 1),
            3 * groups + steps)


def tree_bits(lanes: int, rows: int, acc_w: int) -> int:
    """Adder bits of ``lanes`` balanced trees over ``rows`` 9-bit words, nodes only as wide as their sums,
    plus the accumulator add (``nc_lif_layer``'s adder tree)."""
    levels = math.ceil(math.log2(rows)) if rows > 1 else 0
    bits = 0
    width_leaves = 1 << levels
    for level in range(1, levels + 1):  # level above the leaves: nodes = leaves / 2^level
        bits += (width_leaves >> level) * min(acc_w, WEIGHT_BITS + level)
    return lanes * (bits + acc_w)


def layer_features(n_in: int, n_out: int, lanes: int, lif: int, rows: int, block: int, acc_w: int, u_w: int
                   ) -> dict[str, float]:
    """The per-layer structural counts of the module docstring for one layer (no shape needed: the fitter
    prices candidate layers one by one; the model is a sum over layers plus the rest of the core)."""
    groups, depth = -(-n_out // lanes), -(-n_in // rows)
    return {"tree_bits": tree_bits(lanes, rows, acc_w), "lif": lif, "lanes": lanes,
            "state_sites": state_counts(n_out, lanes, lif, acc_w, u_w)[0],
            "state_bits": state_counts(n_out, lanes, lif, acc_w, u_w)[1],
            "dist_sites": (rows - block) * math.ceil(WEIGHT_BITS * lanes / 6) * 4 * math.ceil(depth * groups / 32),
            "read_bits": rows * WEIGHT_BITS * lanes, "inputs": depth * rows, "param_bits": PARAM_BITS * lanes * groups}


def core_features(sizes: tuple[int, ...], words: int, fifo_log2: int) -> dict[str, float]:
    """The counts of the rest of the core: input and output stages, FIFOs, register file."""
    depth = 1 << fifo_log2
    widths = [n + 17 for n in sizes[:-1]] + [VOLTAGE_BITS * sizes[-1] + 17]
    return {"rx_lines": sizes[0] * words, "rx_compares": words * words, "tx_bits": VOLTAGE_BITS * sizes[-1],
            "fifo_bits": depth * sum(widths), "core": 1.0}


def features(shape: HwShape) -> dict[str, float]:
    """The structural counts of the module docstring, summed over the layers, for the whole core."""
    f = dict.fromkeys({*LUT_FEATURES, *FF_FEATURES}, 0.0)
    block = shape.block_banks or (0,) * shape.n_layers
    for i in range(shape.n_layers):
        one = layer_features(shape.sizes[i], shape.sizes[i + 1], shape.lanes[i], lif_lanes(shape, i), shape.rows[i],
                             block[i], shape.acc_w[i], shape.u_w[i])
        for k, v in one.items():
            f[k] += v
    f.update(core_features(shape.sizes, shape.words, shape.fifo_log2))
    return f


def exact(shape: HwShape) -> dict[str, float]:
    """DSP48E1 of the LIF updaters and BRAM36 of the block-RAM banks, which follow from the structure."""
    block = shape.block_banks or (0,) * shape.n_layers
    return {"DSP": float(DSP_PER_LIF * sum(lif_lanes(shape, i) for i in range(shape.n_layers))),
            "BRAM36": float(sum(block[i] * shape.bank_bram36(i) for i in range(shape.n_layers)))}


@dataclass
class Estimate:
    """Resources of a build by the model, and how much to trust it."""

    resources: dict[str, float]  # LUT, FF, BRAM36, DSP
    fitted_on: str  # RTL sources digest the coefficients were fitted on
    current: bool  # the RTL sources are those the coefficients were fitted on
    calibration_error: dict[str, float] = field(default_factory=dict)  # worst relative error of the fit's points


def predict(shape: HwShape, lut: dict[str, float], ff: dict[str, float]) -> dict[str, float]:
    """LUT and FF from coefficients ``lut``/``ff`` (feature → per-unit cost), DSP and BRAM exactly."""
    f = features(shape)
    return {"LUT": sum(lut.get(k, 0.0) * f[k] for k in LUT_FEATURES),
            "FF": sum(ff.get(k, 0.0) * f[k] for k in FF_FEATURES), **exact(shape)}


def estimate(shape: HwShape) -> Estimate:
    """Resources of ``shape`` from the fitted coefficients (:mod:`neurocal.hw.resource_fit`)."""
    from neurocal.hw.synth import sources_digest

    try:
        from neurocal.hw import resource_fit
    except ImportError:
        raise NeurocalError("the resource model has no fitted coefficients yet (hw/resource_fit.py); run "
                            "`python benchmarks/calibrate_resources.py` (yosys, ~30 min)") from None

    return Estimate(predict(shape, resource_fit.LUT, resource_fit.FF), resource_fit.SOURCES,
                    resource_fit.SOURCES == sources_digest(), dict(resource_fit.ERROR))
