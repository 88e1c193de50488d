"""IntNetwork → the accelerator's parameter header and memory files (``nc_params.vh``, ``mem/*.mem``).

The header fixes the *shape* a build is compiled for (layer sizes, lanes, register widths); the
memory files hold the network's integers and are read at time zero (``$readmemh``), so one build
runs every network of its shape: rewrite the memory files, rerun. Every file starts with a banner
naming the command that made it.

Register widths, per layer (docs/design.md §2 static widths, :meth:`IntNetwork.static_widths`):

* synaptic accumulator ``ACC_W``: the int32 synaptic input ``a << 6`` only sees the low
  ``26 − weight_exp`` bits of the weight sum ``S`` (``weight_exp ≥ 0``; ``26 + |weight_exp|`` for a
  floor shift), so ``ACC_W = min(bits(max row sum), 26 − weight_exp)``: exact even where int32 wraps;
* current ``U_W = clamp(u_bits, 25, 32)`` (u can be 2^23 exactly: 25 bits; 32 where int32 wraps);
* voltage: 24 bits (clipped); weights 9-bit two's complement (Lava's values span [−256, 255]).

Parallelism, per layer: ``lanes`` neurons updated (and weights added per bank) per cycle, ``rows``
weight banks (input ``i`` in bank ``i mod rows``: a tick costs about the largest number of spikes
in one bank, times ``ceil(n_out / lanes)``); and ``words`` AER words per input beat (the s_axis
width is ``32 × words`` bits).

Input, chosen at build time (``input``): ``"aer"``, AER words from the host over s_axis; or ``"lines"``,
the detector front end's ``n_in`` spike lines sampled every 0.2 ns and deserialised ``line_k`` samples per
clock (``line_k · 0.2 ns`` is the clock period: 25 at the PYNQ-Z2 profile's 200 MHz), a trigger opening a
window of ``line_ticks`` ticks whose rasters go straight to layer 0 (``nc_line_rx.v``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurocal.atomic import write_text_atomic
from neurocal.errors import NeurocalError
from neurocal.hw.sources import rtl_source_hash
from neurocal.intnet import IntNetwork
from neurocal.quoting import printable
from neurocal.regmap import PARAM_BITS, PROFILE_NONE, WEIGHT_BITS

BIAS_BITS = 20
MAX_LAYERS = 99  # memory files are named l00 .. l98
MAX_ADDRESS = 1 << 16  # AER address field
ACT_BITS = 26  # 32-bit a64 = sum << (weight_exp + 6): 26 bits of the shifted sum reach it
PYNQ_Z2_BRAM_BITS = 140 * 36 * 1024  # xc7z020: 140 BRAM36
MAX_ROWS = 31  # default banks: odd, so the 4 threshold channels of a cell and nearby cells fall in different banks
#: default banks of a hidden layer: its input is the previous layer's spikes, ~10× sparser than the
#: detector's (demo: 1 928 input spikes per event, 252 into layer 1, 71 into layer 2); with 8 banks the
#: hidden layers stay faster than layer 0 (cycle model in hw/README.md) at a quarter of the adder trees
HIDDEN_ROWS = 8
#: block RAM the weight banks may take by default (of the xc7z020's 140 BRAM36; the rest is left to the
#: DMA, FIFOs and whatever else shares the fabric)
BLOCK_RAM_BUDGET = 120
MAX_BANKS = 1000  # bank files are named w000 .. w999
MAX_WORDS = 64  # AER words per input beat (a 2048-bit bus)
DEFAULT_WORDS = 16  # a 512-bit input beat: ~130 beats for a calorimeter event of ~2 000 words
INPUTS = ("aer", "lines")  # the input stage: AER words over s_axis, or the detector's sampled lines
TICK_NS = 0.2  # the front end's sampling period
#: line samples per clock by default: a 5 ns clock (the PYNQ-Z2 profile's 200 MHz) holds 25 ticks of 0.2 ns
DEFAULT_LINE_K = 25
DEFAULT_LINE_TICKS = 100  # the calorimeter's event window: 100 ticks of 0.2 ns


def default_rows(n_in: int, layer: int, max_rows: int = MAX_ROWS) -> int:
    """Weight banks of layer ``layer`` (``n_in`` inputs): up to ``max_rows`` for the input layer, up to
    ``HIDDEN_ROWS`` for hidden layers."""
    return max(1, min(n_in, max_rows if layer == 0 else min(max_rows, HIDDEN_ROWS)))


def default_block_banks(shape: HwShape, budget: float = BLOCK_RAM_BUDGET) -> tuple[int, ...]:
    """Weight banks placed in block RAM, per layer: layer 0's first, then the next layer's, while they fit
    ``budget`` BRAM36 (banks at least one 72-bit BRAM port wide). Distributed RAM costs about one LUT per
    1.5 bits of bank width (a RAM32M: 6 bits × 32 words in 4 LUTs), a block RAM bank nothing but its
    BRAM36; block RAM is otherwise idle here."""
    out = []
    for layer, banks in enumerate(shape.rows):
        cost = shape.bank_bram36(layer)
        wide = shape.lanes[layer] * WEIGHT_BITS >= 72  # narrower banks cost a handful of LUTs anyway
        take = min(banks, int(budget // cost)) if wide else 0
        budget -= take * cost
        out.append(take)
    return tuple(out)


@dataclass(frozen=True)
class HwShape:
    """What one build is compiled for: sizes (n_in, n_1, …, n_L), lanes and widths per layer."""

    sizes: tuple[int, ...]
    lanes: tuple[int, ...]
    acc_w: tuple[int, ...]
    u_w: tuple[int, ...]
    fifo_log2: int = 2
    writable: bool = True  # memories loadable over AXI4-Lite (False: fixed at build time, fewer LUTs)
    rows: tuple[int, ...] = ()  # weight banks per layer; () = default_rows of each layer
    words: int = DEFAULT_WORDS  # AER words per s_axis beat
    block_banks: tuple[int, ...] | None = None  # banks in block RAM per layer; None = default_block_banks
    debug: bool = False  # the dbg_* output of nc_top: every hidden layer's tokens (co-simulation; costs resources)
    lif_lanes: tuple[int, ...] = ()  # LIF updaters per layer, each dividing lanes; () = default_lif_lanes
    input: str = "aer"  # "aer": AER words over s_axis; "lines": the detector's sampled spike lines
    line_k: int = DEFAULT_LINE_K  # lines: 0.2 ns samples per clock
    line_ticks: int = DEFAULT_LINE_TICKS  # lines: ticks per event window, a multiple of line_k
    profile_id: int = PROFILE_NONE  # the part profile the build was fitted to (PROFILE register; neurocal.profiles)

    def __post_init__(self) -> None:
        if not self.lif_lanes:
            object.__setattr__(self, "lif_lanes", tuple(default_lif_lanes(k, -(-n // k))
                                                        for k, n in zip(self.lanes, self.sizes[1:], strict=True)))
        object.__setattr__(self, "lif_lanes", tuple(int(f) for f in self.lif_lanes))
        if len(self.lif_lanes) != len(self.lanes) or any(
                f < 1 or k % f for f, k in zip(self.lif_lanes, self.lanes, strict=False)):
            raise NeurocalError(f"lif_lanes {list(self.lif_lanes)}: one value per layer, each dividing that layer's "
                                f"lanes {list(self.lanes)}")
        if not self.rows:
            object.__setattr__(self, "rows", tuple(default_rows(n, i) for i, n in enumerate(self.sizes[:-1])))
        object.__setattr__(self, "rows", tuple(int(r) for r in self.rows))
        if self.block_banks is None:
            object.__setattr__(self, "block_banks", default_block_banks(self))
        object.__setattr__(self, "block_banks", tuple(int(b) for b in self.block_banks))

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def groups(self, layer: int) -> int:
        return -(-self.sizes[layer + 1] // self.lanes[layer])

    def lif_steps(self, layer: int) -> int:
        """LIF steps of one tick of ``layer`` (groups × lanes / lif_lanes): one issued per cycle."""
        return self.groups(layer) * (self.lanes[layer] // self.lif_lanes[layer])

    def bank_depth(self, layer: int) -> int:
        """Rows of one weight bank of ``layer`` (ceil(n_in / rows))."""
        return -(-self.sizes[layer] // self.rows[layer])

    def bank_bram36(self, layer: int) -> float:
        """BRAM36 one weight bank of ``layer`` takes in block RAM: simple dual port, 72 bits × 512 words
        per RAMB36, 36 × 512 per RAMB18 (half a BRAM36)."""
        width = self.lanes[layer] * WEIGHT_BITS
        depth = self.bank_depth(layer) * self.groups(layer)
        return math.ceil(width / 36) / 2 * math.ceil(depth / 512)

    def weight_bits(self) -> int:
        """Bits of all weight memories (rows × depth × groups × lanes × 9 per layer)."""
        return sum(self.rows[i] * self.bank_depth(i) * self.groups(i) * self.lanes[i] * WEIGHT_BITS
                   for i in range(self.n_layers))

    def union(self, other: HwShape) -> HwShape:
        """The shape that runs the networks of both (same sizes, lanes, rows, words; the wider registers)."""
        if (self.sizes, self.lanes, self.rows, self.words, self.fifo_log2, self.block_banks, self.lif_lanes,
                self.input, self.line_k, self.line_ticks, self.profile_id) != (
                other.sizes, other.lanes, other.rows, other.words, other.fifo_log2, other.block_banks,
                other.lif_lanes, other.input, other.line_k, other.line_ticks, other.profile_id):
            raise NeurocalError(f"shapes {self.sizes}/{self.lanes}/{self.rows} and {other.sizes}/{other.lanes}/"
                                f"{other.rows} differ")
        return HwShape(self.sizes, self.lanes, tuple(map(max, self.acc_w, other.acc_w)),
                       tuple(map(max, self.u_w, other.u_w)), self.fifo_log2, self.writable and other.writable,
                       self.rows, self.words, self.block_banks, self.debug or other.debug, self.lif_lanes,
                       self.input, self.line_k, self.line_ticks, self.profile_id)

    def debug_offsets(self) -> list[int]:
        """Where hidden layer ``l``'s token sits in ``dbg_data`` (``l`` = 0 .. L−2): token
        ``{eoe, event[15:0], raster[n_{l+1}−1:0]}`` at bits ``[offset_l, offset_l + n_{l+1} + 17)``."""
        out, at = [], 0
        for n in self.sizes[1:-1]:
            out.append(at)
            at += n + 17
        return out

    def debug_ports(self) -> tuple[int, int]:
        """Widths of nc_top's ``dbg_valid`` (one bit per hidden layer) and ``dbg_data`` (their tokens side by
        side); one tied-off bit each without the debug output or without hidden layers."""
        hidden = self.sizes[1:-1]
        if not self.debug or not hidden:
            return 1, 1
        return len(hidden), sum(n + 17 for n in hidden)

    @property
    def lines_width(self) -> int:
        """Bits of nc_top's ``lines`` port: ``n_in × line_k`` with the line input, else one tied-off bit."""
        return self.sizes[0] * self.line_k if self.input == "lines" else 1

    def check(self, net: IntNetwork, where: str = "build") -> None:
        """Raise unless ``net`` runs exactly on a build of this shape."""
        need = shape_for(net, lanes=self.lanes, fifo_log2=self.fifo_log2, writable=self.writable, rows=self.rows,
                         words=self.words, block_banks=self.block_banks, lif_lanes=self.lif_lanes)
        if need.sizes != self.sizes:
            raise NeurocalError(
                f"{net.source}: network sizes {list(need.sizes)} do not match the {where}'s {list(self.sizes)}; "
                f"generate and build for this network"
            )
        for i, (have_a, need_a, have_u, need_u) in enumerate(zip(self.acc_w, need.acc_w, self.u_w, need.u_w,
                                                                  strict=True)):
            if need_a > have_a or need_u > have_u:
                raise NeurocalError(
                    f"{net.source}: layer {i} needs a {need_a}-bit accumulator and {need_u}-bit current, the "
                    f"{where} has {have_a} and {have_u}; generate and build for this network"
                )


@dataclass(frozen=True)
class HwConfig:
    """Choices of the generator. ``lanes``: neurons per cycle, one int for every layer, a list per
    layer, or None for fully parallel layers (capped at ``max_lanes``). ``rows``: weight banks
    (spikes added per cycle), the same forms, None for :func:`default_rows`. ``words``: AER
    words per input beat (1 for a 32-bit DMA stream). ``lif_lanes``: LIF updaters per layer (2 DSP48E1
    each), each dividing the layer's lanes, None for :func:`default_lif_lanes`."""

    lanes: int | Sequence[int] | None = None
    max_lanes: int = 128
    fifo_log2: int = 2
    writable: bool = True  # memories loadable over AXI4-Lite; False bakes the network into the bitstream
    weight_memory_bits: int = PYNQ_Z2_BRAM_BITS  # configured weight memory, all layers together
    rows: int | Sequence[int] | None = None
    max_rows: int = MAX_ROWS
    words: int = DEFAULT_WORDS
    block_banks: int | Sequence[int] | None = None  # banks in block RAM: one int for every layer, or per layer
    debug: bool = False  # every hidden layer's spikes on nc_top's dbg_* output: co-simulation, not board builds
    lif_lanes: int | Sequence[int] | None = None  # LIF updaters: one int for every layer, a list, None: default
    input: str = "aer"  # "aer": AER words from the host (s_axis); "lines": the detector's 0.2 ns spike lines
    line_k: int = DEFAULT_LINE_K  # lines: 0.2 ns samples per clock (the clock period is line_k × 0.2 ns)
    line_ticks: int = DEFAULT_LINE_TICKS  # lines: ticks per event window, a multiple of line_k


def _lanes(net: IntNetwork, lanes: int | Sequence[int] | None, max_lanes: int) -> tuple[int, ...]:
    n_out = [layer.n_out for layer in net.layers]
    if lanes is None:
        out = [min(n, max_lanes) for n in n_out]
    elif isinstance(lanes, int):
        out = [min(lanes, n) for n in n_out]
    else:
        out = list(lanes)
        if len(out) != net.n_layers:
            raise NeurocalError(f"lanes {out}: one value per layer expected ({net.n_layers} layers)")
    if any(k < 1 for k in out):
        raise NeurocalError(f"lanes {out}: every layer needs at least one lane")
    return tuple(int(k) for k in out)


def _rows(net: IntNetwork, rows: int | Sequence[int] | None, max_rows: int) -> tuple[int, ...]:
    n_in = [layer.n_in for layer in net.layers]
    if rows is None:
        out = [default_rows(n, i, max_rows) for i, n in enumerate(n_in)]
    elif isinstance(rows, int):
        out = [min(rows, n) for n in n_in]
    else:
        out = list(rows)
        if len(out) != net.n_layers:
            raise NeurocalError(f"rows {out}: one value per layer expected ({net.n_layers} layers)")
    if any(r < 1 for r in out):
        raise NeurocalError(f"rows {out}: every layer needs at least one weight bank")
    return tuple(int(r) for r in out)


#: the fewest cycles a layer spends on a tick's LIF update: a step's state is read at its issue and written back
#: by the fourth stage of ``nc_lif_update`` (u(t+1) needs u(t)), so one neuron's steps are 4 cycles apart
LIF_TICK_MIN = 4


def default_lif_lanes(lanes: int, groups: int) -> int:
    """LIF updaters of a layer with ``lanes`` accumulator lanes in ``groups`` groups. The four-stage update
    costs at least :data:`LIF_TICK_MIN` cycles per tick, so a layer updated in one step per tick
    (groups == 1) updates in two steps of lanes / 2 at no cost in cycles and saves half its updaters (DSPs
    and LIF logic); odd lanes, or several groups, keep one updater per lane."""
    return lanes // 2 if groups == 1 and lanes % 2 == 0 else lanes


def _lif_lanes(net: IntNetwork, lif_lanes: int | Sequence[int] | None) -> tuple[int, ...]:
    """() for the defaults (HwShape fills them in), else one value per layer."""
    if lif_lanes is None:
        return ()
    if isinstance(lif_lanes, int):
        return (int(lif_lanes),) * net.n_layers
    out = tuple(int(f) for f in lif_lanes)
    if len(out) != net.n_layers:
        raise NeurocalError(f"lif_lanes {list(out)}: one value per layer expected ({net.n_layers} layers)")
    return out


def accumulator_bits(net: IntNetwork) -> list[int]:
    """ACC_W per layer (module docstring)."""
    out = []
    for layer in net.layers:
        w = layer.weights.astype(np.int64)
        bound = max(int(np.clip(w, 0, None).sum(axis=1).max(initial=0)),
                    int(np.clip(-w, 0, None).sum(axis=1).max(initial=0)))
        exact = bound.bit_length() + 1
        reach = ACT_BITS - layer.weight_exp  # 26 - e for e >= 0, 26 + |e| for a floor shift
        out.append(max(WEIGHT_BITS + 1, min(exact, reach)))
    return out


def shape_for(net: IntNetwork, lanes: int | Sequence[int] | None = None, *, max_lanes: int = 128,
              fifo_log2: int = 2, writable: bool = True, rows: int | Sequence[int] | None = None,
              max_rows: int = MAX_ROWS, words: int = DEFAULT_WORDS,
              block_banks: int | Sequence[int] | None = None, debug: bool = False,
              lif_lanes: int | Sequence[int] | None = None, input: str = "aer", line_k: int = DEFAULT_LINE_K,
              line_ticks: int = DEFAULT_LINE_TICKS) -> HwShape:
    """The smallest exact shape for ``net``."""
    u_w = [min(32, max(25, w.u_bits)) for w in net.static_widths()]
    row_counts = _rows(net, rows, max_rows)
    if isinstance(block_banks, int):
        block_banks = tuple(min(block_banks, r) for r in row_counts)
    return HwShape(sizes=(net.n_inputs, *(layer.n_out for layer in net.layers)),
                   lanes=_lanes(net, lanes, max_lanes), acc_w=tuple(accumulator_bits(net)), u_w=tuple(u_w),
                   fifo_log2=fifo_log2, writable=writable, rows=row_counts, words=int(words),
                   block_banks=None if block_banks is None else tuple(block_banks), debug=debug,
                   lif_lanes=_lif_lanes(net, lif_lanes), input=input, line_k=int(line_k), line_ticks=int(line_ticks))


def shape_from_config(net: IntNetwork, config: HwConfig) -> HwShape:
    """The smallest exact shape for ``net`` under the generator's choices."""
    return shape_for(net, config.lanes, max_lanes=config.max_lanes, fifo_log2=config.fifo_log2,
                     writable=config.writable, rows=config.rows, max_rows=config.max_rows, words=config.words,
                     block_banks=config.block_banks, debug=config.debug, lif_lanes=config.lif_lanes,
                     input=config.input, line_k=config.line_k, line_ticks=config.line_ticks)


def shape_for_any(sizes: Sequence[int], lanes: Sequence[int], *, fifo_log2: int = 2,
                  rows: Sequence[int] | None = None, words: int = DEFAULT_WORDS) -> HwShape:
    """A shape that runs *every* valid network of ``sizes`` (worst-case widths): the build to load
    networks into over AXI4-Lite, or to test many random networks without rebuilding."""
    acc_w = tuple(min((256 * n_in).bit_length() + 1, ACT_BITS + 8) for n_in in sizes[:-1])  # weight_exp ≥ −8
    return HwShape(sizes=tuple(sizes), lanes=tuple(lanes), acc_w=tuple(max(WEIGHT_BITS + 1, a) for a in acc_w),
                   u_w=(32,) * (len(sizes) - 1), fifo_log2=fifo_log2, rows=tuple(rows or ()), words=words)


def check_input(choice: HwConfig | HwShape, n_layers: int, source: str) -> None:
    """Refuse an unknown input stage, or a line window that is not a whole number of clocks or overflows the
    14-bit tick field with the network's ``n_layers`` empty ticks (one clear line)."""
    if choice.input not in INPUTS:
        raise NeurocalError(f"{source}: input {choice.input!r}; choose one of {', '.join(INPUTS)} (HwConfig.input)")
    if choice.input == "lines" and not (1 <= choice.line_k <= choice.line_ticks
                                        and choice.line_ticks % choice.line_k == 0
                                        and choice.line_ticks + n_layers <= 16383):
        raise NeurocalError(f"{source}: a window of {choice.line_ticks} ticks at {choice.line_k} samples per clock; "
                            f"the window must be a whole number of clocks and at most {16383 - n_layers} ticks "
                            f"(HwConfig.line_ticks, HwConfig.line_k)")


def check_fits(shape: HwShape, config: HwConfig, source: str) -> None:
    """Refuse a shape the configured memories or the word formats cannot hold (one clear line)."""
    if shape.n_layers > MAX_LAYERS:
        raise NeurocalError(f"{source}: {shape.n_layers} layers; the accelerator holds at most {MAX_LAYERS}")
    if max(shape.sizes) > MAX_ADDRESS:
        raise NeurocalError(f"{source}: a layer of {max(shape.sizes)} neurons exceeds the 16-bit AER address")
    for i, (rows, n_in) in enumerate(zip(shape.rows, shape.sizes[:-1], strict=True)):
        if not 1 <= rows <= min(n_in, MAX_BANKS - 1):
            raise NeurocalError(f"{source}: layer {i} has {rows} weight banks; choose 1..{min(n_in, MAX_BANKS - 1)} "
                                f"(HwConfig.rows)")
    if len(shape.block_banks) != shape.n_layers or any(
            not 0 <= b <= r for b, r in zip(shape.block_banks, shape.rows, strict=False)):
        raise NeurocalError(f"{source}: block RAM banks {list(shape.block_banks)} per layer; choose 0..the layer's "
                            f"banks {list(shape.rows)} (HwConfig.block_banks)")
    if not 1 <= shape.words <= MAX_WORDS:
        raise NeurocalError(f"{source}: {shape.words} AER words per input beat; choose 1..{MAX_WORDS} "
                            f"(HwConfig.words)")
    check_input(shape, shape.n_layers, source)
    bits = shape.weight_bits()
    if bits > config.weight_memory_bits:
        raise NeurocalError(
            f"{source}: the weights need {bits} bits ({math.ceil(bits / 36864)} BRAM36) but the configured weight "
            f"memory holds {config.weight_memory_bits} ({config.weight_memory_bits // 36864} BRAM36); use a smaller "
            f"network or raise HwConfig.weight_memory_bits for a larger part"
        )


def _hex_words(values: np.ndarray, width_bits: int) -> list[str]:
    """Unsigned integers (Python ints) → fixed-width hex strings."""
    digits = -(-width_bits // 4)
    return [format(int(v), f"0{digits}x") for v in values]


def _pack_lanes(fields: np.ndarray, bits: int) -> np.ndarray:
    """(words, lanes) two's complement fields → one int per word, lane k at bits [k·bits, (k+1)·bits)."""
    mask = (1 << bits) - 1
    out = np.zeros(fields.shape[0], dtype=object)
    for k in range(fields.shape[1]):
        out += (fields[:, k].astype(object) & mask) << (k * bits)
    return out


def memory_images(net: IntNetwork, shape: HwShape) -> dict[str, list[str]]:
    """File name → hex lines of every memory of ``net`` on a build of ``shape``."""
    images: dict[str, list[str]] = {}
    for i, layer in enumerate(net.layers):
        lanes, groups, banks, depth = shape.lanes[i], shape.groups(i), shape.rows[i], shape.bank_depth(i)
        n_pad = lanes * groups
        w = np.zeros((n_pad, banks * depth), dtype=np.int64)
        w[: layer.n_out, : layer.n_in] = layer.weights
        for b in range(banks):
            # bank b holds inputs r*banks + b; its word (r, group g) holds w[g*lanes + k, r*banks + b] in lane k
            words = w[:, b::banks].T.reshape(depth * groups, lanes)
            images[f"l{i:02d}_w{b:03d}.mem"] = _hex_words(_pack_lanes(words, WEIGHT_BITS), lanes * WEIGHT_BITS)
        par = np.zeros((n_pad, 4), dtype=np.int64)
        par[: layer.n_out] = np.stack([layer.du, layer.dv, layer.vth, layer.effective_bias], axis=1)
        words = ((par[:, 0].astype(object) << 49) | (par[:, 1].astype(object) << 37) | (par[:, 2].astype(object) << 20)
                 | (par[:, 3].astype(object) & ((1 << BIAS_BITS) - 1)))
        images[f"l{i:02d}_p.mem"] = _hex_words(words, PARAM_BITS)
        images[f"l{i:02d}_c.mem"] = [format((int(layer.spiking) << 4) | (layer.weight_exp & 0xF), "02x")]
    images["hash.mem"] = [net.content_hash.removeprefix("sha256:")[:16]]
    return images


def _banner(command: str, comment: str = "//") -> str:
    return f"{comment} Generated by `{printable(command)}` (neurocal.hw.generate); do not edit.\n"  # one line


def write_memories(net: IntNetwork, shape: HwShape, mem_dir: Path, command: str) -> list[Path]:
    """Write ``net``'s memory files for a build of ``shape`` into ``mem_dir`` (each file atomically)."""
    shape.check(net)
    mem_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, lines in memory_images(net, shape).items():
        path = mem_dir / name
        write_text_atomic(path, _banner(command) + f"// {net.content_hash}\n" + "\n".join(lines) + "\n")
        paths.append(path)
    return paths


def _vector(values: Sequence[int]) -> str:
    """Verilog packed vector of 32-bit fields, element i at [32*i +: 32]."""
    return "{" + ", ".join(f"32'd{v}" for v in reversed(values)) + "}"


#: the memory folder as nc_params.vh names it: relative to the folder the simulator or synthesis tool runs in
#: (a project folder stays valid when moved, and no path reaches a Verilog string, where Icarus mangles
#: non-ASCII bytes); define NC_MEM_DIR (e.g. ``+define+NC_MEM_DIR=\"/abs/mem/\"``) to run elsewhere
MEM_PREFIX = "mem/"


def params_header(shape: HwShape, command: str) -> str:
    n = shape.n_layers
    return (
        _banner(command)
        + "// Shape of the accelerator build; the integers are in the memory files under NC_MEM_PREFIX.\n"
        + f"localparam integer NC_LAYERS = {n};\n"
        + f"localparam [32*{n + 1}-1:0] NC_SIZES = {_vector(shape.sizes)};  // n_in, n_1, ..., n_L\n"
        + f"localparam [32*{n}-1:0] NC_LANES = {_vector(shape.lanes)};\n"
        + f"localparam [32*{n}-1:0] NC_LIF_LANES = {_vector(shape.lif_lanes)};  // LIF updaters\n"
        + f"localparam [32*{n}-1:0] NC_ROWS = {_vector(shape.rows)};  // weight banks\n"
        + f"localparam [32*{n}-1:0] NC_BLOCK_BANKS = {_vector(shape.block_banks)};  // of them in block RAM\n"
        + f"localparam integer NC_WORDS = {shape.words};  // AER words per s_axis beat\n"
        + f"localparam [32*{n}-1:0] NC_ACC_W = {_vector(shape.acc_w)};\n"
        + f"localparam [32*{n}-1:0] NC_U_W = {_vector(shape.u_w)};\n"
        + "`ifdef NC_MEM_DIR\n"
        + "localparam NC_MEM_PREFIX = `NC_MEM_DIR;\n"
        + "`else\n"
        + f'localparam NC_MEM_PREFIX = "{MEM_PREFIX}";  // relative to the folder the tool runs in\n'
        + "`endif\n"
        + f"localparam integer NC_FIFO_LOG2 = {shape.fifo_log2};\n"
        + f"localparam integer NC_WRITABLE = {int(shape.writable)};  // memories loadable over AXI4-Lite\n"
        + f"localparam [31:0] NC_SRC_HASH = 32'h{rtl_source_hash():08x};  // SRC_HASH register: the RTL sources\n"
        + f"localparam [31:0] NC_PROFILE = 32'd{shape.profile_id};  // PROFILE register (0: none)\n"
        + f"localparam integer NC_DEBUG = {int(shape.debug)};  // dbg_* output: every hidden layer's tokens\n"
        + f"localparam integer NC_INPUT = {INPUTS.index(shape.input)};  // 0: AER words (s_axis), 1: detector lines\n"
        + f"localparam integer NC_LINE_K = {shape.line_k};  // lines: 0.2 ns samples per clock\n"
        + f"localparam integer NC_LINE_TICKS = {shape.line_ticks};  // lines: ticks per event window\n"
    )


def ports_header(shape: HwShape, command: str) -> str:
    """``nc_ports.vh``: the widths nc_top's ports need before its body (s_axis, dbg_*)."""
    n_valid, n_data = shape.debug_ports()
    return (_banner(command) + f"`define NC_AXIS_WORDS {shape.words}\n"
            + f"`define NC_DEBUG_N {n_valid}  // dbg_valid bits (1 when NC_DEBUG is 0)\n"
            + f"`define NC_DEBUG_W {n_data}  // dbg_data bits (1 when NC_DEBUG is 0)\n"
            + f"`define NC_LINES_W {shape.lines_width}  // lines bits: n_in x NC_LINE_K (1 with the AER input)\n")


@dataclass(frozen=True)
class HwProject:
    """What :func:`generate` wrote: the include folder (``nc_params.vh``) and the memory folder."""

    shape: HwShape
    include_dir: Path
    mem_dir: Path

    @property
    def header(self) -> Path:
        return self.include_dir / "nc_params.vh"

    @property
    def headers(self) -> list[Path]:
        """Every generated header (``nc_params.vh``, and ``nc_ports.vh`` with the port widths)."""
        return [self.header, self.include_dir / "nc_ports.vh"]


def generate(
    net: IntNetwork,
    out_dir: str | Path,
    config: HwConfig | None = None,
    *,
    shape: HwShape | None = None,
    command: str = "neurocal.hw.generate.generate",
) -> HwProject:
    """Write ``nc_params.vh`` and the memory files of ``net`` under ``out_dir``.

    ``shape`` (default: the smallest exact one for ``net``) lets one build serve several networks:
    pass the union of their shapes.
    """
    config = config or HwConfig()
    shape = shape or shape_from_config(net, config)
    check_fits(shape, config, net.source)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mem_dir = out_dir / "mem"
    write_memories(net, shape, mem_dir, command)
    header = out_dir / "nc_params.vh"
    text = params_header(shape, command)
    if not header.is_file() or header.read_text() != text:  # unchanged header: cached builds stay valid
        write_text_atomic(header, text)
    ports = out_dir / "nc_ports.vh"
    ports_text = ports_header(shape, command)
    if not ports.is_file() or ports.read_text() != ports_text:
        write_text_atomic(ports, ports_text)
    return HwProject(shape=shape, include_dir=out_dir, mem_dir=mem_dir)
