"""The accelerator's AXI4-Lite register map (version 3): the one source of every offset and field.

``nc_axil_regs.v`` includes the header generated from this table (``hw/rtl/nc_regmap.vh``), the cocotb
testbenches and the CLI import it, and the board driver imports it too: this module is in the spine and
imports the standard library only. ``neurocal.hw.regmap`` writes the header and the ``hw/README.md`` table
from it (``python -m neurocal.hw.regmap``; a test checks both are current) and computes the CRC of a
network's memory images.

Registers are 32 bits at byte offsets (AXI4-Lite, 8-bit address); reads of unmapped offsets return 0,
writes to them are acknowledged and ignored. Access: RO read-only, RW read/write, WO write-only (reads
return 0).

**Capabilities.** ``ID``, ``CONFIG``, ``CAPS``, ``SRC_HASH``, ``PROFILE`` and the per-layer window
(``LAYER_SEL`` selects the layer whose ``L_*`` registers read back) describe the build: a host compares
them with :func:`capabilities` / :func:`layer_capabilities` of the shape it expects and so tells a core
built for another shape (or from other RTL sources) apart without streaming an event.

**Memories.** Kind 0 weights (address ``bank << 20 | word``), 1 neuron parameters, 2 layer config, 3 the
content hash (layer ignored, address 0). A word is ``width`` bits: weights ``lanes × 9`` of its layer,
parameters 61, config 5, hash 64. It moves over ``MEM_DATA`` 32 bits at a time, least significant first,
``ceil(width / 32)`` dwords. Writing: ``MEM_SEL``, ``MEM_ADDR``, the dwords to ``MEM_DATA``, then
``MEM_WRITE`` (stores, ``MEM_ADDR += 1``). Reading: ``MEM_SEL``, ``MEM_ADDR``, ``MEM_READ`` (fetches,
``MEM_ADDR += 1``), then the dwords from ``MEM_DATA``. A ``MEM_DATA`` dword beyond the word's width is an
error (``STATUS.EXTRA``, ``MEM_EXTRA`` += 1) and the next ``MEM_WRITE`` is refused. ``MEM_WRITE``,
``MEM_READ`` and ``CTRL.CRC_START`` while an event is in flight (``STATUS.BUSY``) or a CRC walk runs are
refused: nothing changes, ``REFUSED`` += 1, ``STATUS.REFUSED`` set; so are ``MEM_DATA`` accesses during a
walk (it uses the staging register; a refused read returns 0).

**CRC.** ``CTRL.CRC_START`` makes the core walk its own memories and compute the CRC-32 of zlib (reflected
polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF) over them; ``STATUS.CRC_DONE`` then says
``CRC`` holds the result. Walk order: for each layer 0..L-1, weight bank 0..banks-1, each bank's words in
address order; then the layer's parameter words 0..lanes·groups-1; then its config word; after the last
layer the content-hash word. Byte order: a word of ``width`` bits is ``ceil(width / 8)`` bytes, least
significant byte first. That is exactly the order of :func:`neurocal.hw.generate.memory_images` with each hex
line read as a little-endian number: :func:`images_crc` (``neurocal.hw.regmap.memory_crc`` of a network).
An event arriving during the walk aborts it (``STATUS.CRC_ABORTED``; start again when idle). The ``HASH``
registers show what the host wrote; the CRC is what proves the weights the core holds.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

VERSION = 3
MAGIC = 0x4E43  # "NC"
ID_VALUE = (MAGIC << 16) | VERSION
ADDR_W = 8  # AXI4-Lite address bits
PROFILE_NONE = 0  # no named hardware profile

KIND_WEIGHTS, KIND_PARAMS, KIND_CONFIG, KIND_HASH = 0, 1, 2, 3
BANK_SHIFT = 20  # weight address: bank << BANK_SHIFT | word
# bits of one memory word: a weight (a weight word holds lanes of them), a neuron's parameters
# {du[12], dv[12], vth[17], bias[20]}, a layer's config {spiking, weight_exp[3:0]}, the content hash
WEIGHT_BITS, PARAM_BITS, CONFIG_BITS, HASH_BITS = 9, 61, 5, 64


@dataclass(frozen=True)
class Field:
    """Bits ``[lsb + width - 1 : lsb]`` of a register."""

    name: str
    lsb: int
    width: int
    doc: str

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb

    def get(self, value: int) -> int:
        return (value >> self.lsb) & ((1 << self.width) - 1)


@dataclass(frozen=True)
class Register:
    name: str
    offset: int
    access: str  # RO, RW, WO
    reset: int
    doc: str
    fields: tuple[Field, ...] = ()

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"register {self.name} has no field {name}")


def _f(name: str, lsb: int, width: int, doc: str) -> Field:
    return Field(name, lsb, width, doc)


REGISTERS: tuple[Register, ...] = (
    Register("ID", 0x00, "RO", ID_VALUE, "map identity", (
        _f("VERSION", 0, 16, "register map version (3)"), _f("MAGIC", 16, 16, "0x4E43, \"NC\""))),
    Register("CTRL", 0x04, "WO", 0, "commands (write 1 to a bit)", (
        _f("CLEAR", 0, 1, "clear the error flags, counters and cycle statistics"),
        _f("CRC_START", 1, 1, "walk the memories and compute CRC (refused while busy)"))),
    Register("STATUS", 0x08, "RO", 0, "state and sticky error flags (cleared by CTRL.CLEAR)", (
        _f("BUSY", 0, 1, "an event is in flight"),
        _f("MALFORMED", 1, 1, "a malformed AER word was dropped"),
        _f("OVERFLOW", 2, 1, "tick overflow, event queue full, or a memory access outside the selected memory"),
        _f("REFUSED", 3, 1, "a MEM_WRITE, MEM_READ or CRC_START was refused (busy)"),
        _f("EXTRA", 4, 1, "a MEM_DATA dword beyond the selected memory's word width"),
        _f("CRC_BUSY", 5, 1, "the CRC walk runs"),
        _f("CRC_DONE", 6, 1, "CRC holds the result of the last walk"),
        _f("CRC_ABORTED", 7, 1, "an event arrived during the walk: no result"))),
    Register("HASH_LO", 0x0C, "RO", 0, "content hash word (kind 3) as written: bits 31:0 of the hash's first 64 bits"),
    Register("HASH_HI", 0x10, "RO", 0, "bits 63:32 (the hash's first 16 hex digits as one big-endian number)"),
    Register("EVENTS_IN", 0x14, "RO", 0, "events accepted (end-of-event words in)"),
    Register("EVENTS_OUT", 0x18, "RO", 0, "events answered (end-of-event words out)"),
    Register("LAST_CYCLES", 0x1C, "RO", 0, "cycles of the last answered event, first input word to last output word"),
    Register("MAX_CYCLES", 0x20, "RO", 0, "largest LAST_CYCLES since the last clear"),
    Register("MALFORMED", 0x24, "RO", 0, "malformed AER words dropped"),
    Register("CONFIG", 0x28, "RO", 0, "network shape", (
        _f("LAYERS", 0, 8, "layers"), _f("N_IN", 8, 17, "input channels"))),
    Register("REFUSED", 0x2C, "RO", 0, "MEM_WRITE, MEM_READ and CRC_START requests refused while busy (and "
             "MEM_DATA accesses during a CRC walk)"),
    Register("MEM_SEL", 0x30, "RW", 0, "memory to access", (
        _f("KIND", 0, 2, "0 weights, 1 neuron parameters, 2 layer config, 3 content hash"),
        _f("LAYER", 16, 8, "layer"))),
    Register("MEM_ADDR", 0x34, "RW", 0, "word address (weights: bank << 20 | word); writing restarts MEM_DATA"),
    Register("MEM_DATA", 0x38, "RW", 0, "write: the next 32 bits of the word to store; read: the next 32 bits of "
             "the word fetched (least significant first)"),
    Register("MEM_WRITE", 0x3C, "WO", 0, "store the staged word at (MEM_SEL, MEM_ADDR), then MEM_ADDR += 1"),
    Register("MEM_READ", 0x40, "WO", 0, "fetch the word at (MEM_SEL, MEM_ADDR) for MEM_DATA, then MEM_ADDR += 1"),
    Register("MEM_EXTRA", 0x44, "RO", 0, "MEM_DATA dwords beyond the selected memory's word width"),
    Register("CRC", 0x48, "RO", 0, "CRC-32 of the memories (valid when STATUS.CRC_DONE)"),
    Register("SRC_HASH", 0x4C, "RO", 0, "first 32 bits of the sha256 of the RTL sources the core was built from"),
    Register("PROFILE", 0x50, "RO", PROFILE_NONE, "hardware profile id (0: none)"),
    Register("CAPS", 0x54, "RO", 0, "build options", (
        _f("WORDS", 0, 8, "AER words per s_axis beat"),
        _f("WRITABLE", 8, 1, "memories writable over AXI4-Lite"),
        _f("INPUT", 9, 1, "input stage: 0 AER words over s_axis, 1 the detector's sampled spike lines"),
        _f("FIFO_LOG2", 12, 4, "log2 of the inter-stage FIFO depth"),
        _f("MEM_W", 16, 16, "bits of the widest memory word"))),
    Register("LAYER_SEL", 0x58, "RW", 0, "layer shown by the L_* registers", (_f("LAYER", 0, 8, "layer"),)),
    Register("L_N_IN", 0x5C, "RO", 0, "selected layer: inputs (0 if no such layer)"),
    Register("L_N_OUT", 0x60, "RO", 0, "selected layer: neurons"),
    Register("L_LANES", 0x64, "RO", 0, "selected layer: parallelism", (
        _f("LANES", 0, 16, "accumulator lanes: weights added per bank per cycle"),
        _f("LIF_LANES", 16, 16, "LIF updaters: neurons updated per cycle"))),
    Register("L_BANKS", 0x68, "RO", 0, "selected layer: weight banks", (
        _f("BANKS", 0, 16, "weight banks"), _f("BLOCK_BANKS", 16, 16, "of them in block RAM"))),
    Register("L_WIDTHS", 0x6C, "RO", 0, "selected layer: register widths", (
        _f("ACC_W", 0, 8, "synaptic accumulator bits"), _f("U_W", 8, 8, "current bits"))),
    Register("L_BANK_WORDS", 0x70, "RO", 0, "selected layer: words per weight bank"),
)

BY_NAME: dict[str, Register] = {r.name: r for r in REGISTERS}
OFFSET: dict[str, int] = {r.name: r.offset for r in REGISTERS}  # name -> byte offset


def field(register: str, name: str) -> Field:
    return BY_NAME[register].field(name)


def bit(register: str, name: str) -> int:
    """Mask of a one-bit field (or of a whole field)."""
    return BY_NAME[register].field(name).mask


# ------------------------------------------------------------------------------------- capabilities

class ShapeLike(Protocol):
    """What :class:`neurocal.hw.generate.HwShape` offers (duck-typed: this module imports no numpy)."""

    sizes: tuple[int, ...]
    lanes: tuple[int, ...]
    rows: tuple[int, ...]
    block_banks: tuple[int, ...]
    acc_w: tuple[int, ...]
    u_w: tuple[int, ...]
    words: int
    writable: bool
    fifo_log2: int


def mem_width(shape: ShapeLike) -> int:
    """Bits of the widest memory word (the staging register): max(64, lanes × 9 of every layer)."""
    return max(64, *(k * WEIGHT_BITS for k in shape.lanes))


def bank_words(shape: ShapeLike, layer: int) -> int:
    """Words of one weight bank: ceil(n_in / banks) × ceil(n_out / lanes)."""
    n_in, n_out = shape.sizes[layer], shape.sizes[layer + 1]
    return -(-n_in // shape.rows[layer]) * -(-n_out // shape.lanes[layer])


def capabilities(shape: ShapeLike, src_hash: int, profile: int = PROFILE_NONE) -> dict[str, int]:
    """The global capability registers a core built for ``shape`` reads back."""
    return {
        "ID": ID_VALUE,
        "CONFIG": (len(shape.sizes) - 1) | (shape.sizes[0] << 8),
        "CAPS": shape.words | (int(shape.writable) << 8) | (int(getattr(shape, "input", "aer") == "lines") << 9)
        | (shape.fifo_log2 << 12) | (mem_width(shape) << 16),
        "SRC_HASH": src_hash,
        "PROFILE": profile,
    }


def layer_capabilities(shape: ShapeLike, layer: int) -> dict[str, int]:
    """The ``L_*`` registers with ``LAYER_SEL = layer`` (all zero for a layer the core does not have)."""
    if not 0 <= layer < len(shape.sizes) - 1:
        return {"L_N_IN": 0, "L_N_OUT": 0, "L_LANES": 0, "L_BANKS": 0, "L_WIDTHS": 0, "L_BANK_WORDS": 0}
    return {
        "L_N_IN": shape.sizes[layer],
        "L_N_OUT": shape.sizes[layer + 1],
        "L_LANES": shape.lanes[layer] | (getattr(shape, "lif_lanes", shape.lanes)[layer] << 16),
        "L_BANKS": shape.rows[layer] | (shape.block_banks[layer] << 16),
        "L_WIDTHS": shape.acc_w[layer] | (shape.u_w[layer] << 8),
        "L_BANK_WORDS": bank_words(shape, layer),
    }


# ------------------------------------------------------------------------------------- CRC

def word_bytes(hex_line: str) -> bytes:
    """One memory word (a hex line of a memory file) as the walk feeds it to the CRC: ceil(width / 8) bytes,
    least significant first (a hex line has ceil(width / 4) digits, so its byte count is ceil(digits / 2))."""
    n = -(-len(hex_line) // 2)
    return int(hex_line, 16).to_bytes(n, "little")


def images_crc(images: Mapping[str, Iterable[str]]) -> int:
    """CRC-32 (zlib) of memory images in the core's walk order: the order of
    :func:`neurocal.hw.generate.memory_images` (per layer the banks, parameters, config; the hash last)."""
    crc = 0
    for lines in images.values():
        for line in lines:
            crc = zlib.crc32(word_bytes(line), crc)
    return crc
