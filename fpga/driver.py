"""The board driver of the neurocal core: numpy and pynq only (plus neurocal's aer and regmap, copied beside it).

The driver never asks what is under it. :class:`Driver` is handed

* a register port — ``read(offset) -> int`` and ``write(offset, value)``, as on ``pynq.DefaultIP``/``MMIO``;
* two DMA channels — ``transfer(buffer, start, nbytes)``, ``idle``, ``error``, ``wait()``, ``transferred``,
  as on ``pynq.lib.dma``'s ``sendchannel``/``recvchannel``;
* ``allocate(shape, dtype)`` (``pynq.allocate`` on a board) and ``now()`` (seconds on the device's clock,
  which bounds every wait).

On a board ``neurocal.fpga.overlay.NeurocalOverlay`` passes PYNQ's objects; in CI ``neurocal.fpga.simdev``
passes a simulated ``axi_dma`` and register port that drive the same RTL top under cocotb. This module does
not import pynq.

Streams. The input is AER words (``neurocal.aer``), events back to back. A batch of whole events goes out in one
send transfer (axi_dma's MM2S sets ``tlast`` on its last beat) and the core answers it with one packet: its
output's ``tlast`` follows the input's, on the end-of-event word of the batch's last event. So a batch costs one
send and one receive, and ``transferred`` gives the packet's length. Batches hold as many events as the DMA's
length register allows (``max_bytes`` = 2^c_sg_length_width − 1) for the send and for the largest answer the
receive must hold, and at most ``batch_events``; events are never cut.

Latency. After every batch's answer the driver reads ``LAST_CYCLES`` (the core's count, first input word to
last output word, of the batch's last event) into :attr:`Driver.cycles`. With ``serial`` every batch is one
event, sent only once the previous answer is in and the next receive is programmed: each event meets an idle
core and a ready output, so ``cycles`` holds every event's own latency in clock cycles (what the cycle model
of a serial run predicts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from neurocal import aer, regmap

#: what Vivado names a module reference of nc_top in the .hwh (tcl/build.tcl instantiates it so)
CORE_VLNV = "xilinx.com:module_ref:nc_top:1.0"
#: the per-layer capability window (read with LAYER_SEL set)
LAYER_REGS = ("L_N_IN", "L_N_OUT", "L_LANES", "L_BANKS", "L_WIDTHS", "L_BANK_WORDS")


class RegisterPort(Protocol):
    def read(self, offset: int) -> int: ...
    def write(self, offset: int, value: int) -> None: ...


class DmaChannel(Protocol):
    transferred: int

    @property
    def idle(self) -> bool: ...
    @property
    def error(self) -> bool: ...
    def transfer(self, array: Any, start: int = 0, nbytes: int = 0) -> None: ...
    def wait(self) -> None: ...


class HardwareMismatch(RuntimeError):
    """The hardware is not the one the deploy folder was made for (the message names the difference)."""


class DmaLimit(ValueError):
    """An event does not fit one DMA transfer (the length register is too narrow for it)."""


class StreamTimeout(TimeoutError):
    """A DMA transfer did not finish within the driver's timeout (a stalled stream)."""


class FramingError(RuntimeError):
    """The core answered a batch with another number of events than it was sent."""


def split_transfers(words: np.ndarray, max_bytes: int, max_events: int | None = None) -> list[tuple[int, int]]:
    """(first word, word count) of each send transfer for ``words``: whole events only, at most ``max_bytes``
    bytes and (if given) ``max_events`` events each; every word is sent once, in order, nothing truncated.

    Whole events because axi_dma's MM2S raises ``tlast`` on the last beat of every transfer and the core takes
    ``tlast`` as the end of an event (a cut inside one would close it early). An event longer than the length
    register is refused (``DmaLimit``) rather than cut."""
    ends = np.flatnonzero((words >> aer.KIND_SHIFT) == aer.KIND_END_OF_EVENT) + 1
    if len(words) and (not len(ends) or ends[-1] != len(words)):
        ends = np.append(ends, len(words))  # trailing words of an unfinished event travel as one more piece
    limit = max_bytes // 4
    out, start, k = [], 0, 0
    while k < len(ends):
        stop_k = k
        while (stop_k + 1 < len(ends) and ends[stop_k + 1] - start <= limit
               and (max_events is None or stop_k + 1 - k < max_events)):
            stop_k += 1
        stop = int(ends[stop_k])
        if stop - start > limit:
            raise DmaLimit(f"event {k} is {4 * (stop - start)} bytes of AER words, over the DMA's {max_bytes}-byte "
                           "length limit (c_sg_length_width): build with a wider length register")
        out.append((start, stop - start))
        start, k = stop, stop_k + 1
    return out


def aligned_offsets(pieces: list[tuple[int, int]], align_bytes: int) -> tuple[list[int], int]:
    """Word offsets that place each piece on an ``align_bytes`` boundary of one buffer, and the buffer's words
    (axi_dma without its realignment engine reads from memory-map-width aligned addresses; PYNQ refuses others)."""
    step = max(align_bytes // 4, 1)
    offsets, at = [], 0
    for _, count in pieces:
        offsets.append(at)
        at += -(-count // step) * step
    return offsets, at


class Driver:
    """Runs events through the core: capability check, memory load, CRC, batched DMA transfers.

    ``timeout_s`` bounds every wait in device time: a register poll (the CRC walk), and a batch's answer at
    ``timeout_s`` per event sent and not yet answered. ``serial``: one event at a time (module docstring,
    *Latency*)."""

    def __init__(self, regs: RegisterPort, send: DmaChannel, recv: DmaChannel, *,
                 allocate: Callable[..., np.ndarray], now: Callable[[], float], max_bytes: int,
                 n_outputs: int, timeout_s: float = 1.0, batch_events: int | None = None,
                 align_bytes: int = 4, serial: bool = False) -> None:
        self.regs, self.send, self.recv = regs, send, recv
        self.allocate, self.now = allocate, now
        self.max_bytes, self.n_outputs, self.timeout_s = max_bytes, n_outputs, timeout_s
        self.batch_events = batch_events  # events per batch (None: as many as the length register allows)
        self.align_bytes = align_bytes  # a send's start: a multiple of the DMA's memory-map width in bytes
        self.serial = serial  # one event per batch, the next sent once the previous answer is in
        self.sends = self.receives = 0
        self.cycles: list[int] = []  # LAST_CYCLES after each batch's answer (serial: every event's latency)

    # ------------------------------------------------------------------------------- registers

    def read(self, name: str) -> int:
        return self.regs.read(regmap.OFFSET[name])

    def write(self, name: str, value: int) -> None:
        self.regs.write(regmap.OFFSET[name], value)

    def capabilities(self, n_layers: int) -> tuple[dict[str, int], list[dict[str, int]]]:
        """The global capability registers and the ``L_*`` window of each layer."""
        glob = {name: self.read(name) for name in ("ID", "CONFIG", "CAPS", "SRC_HASH", "PROFILE")}
        layers = []
        for i in range(n_layers):
            self.write("LAYER_SEL", i)
            layers.append({name: self.read(name) for name in LAYER_REGS})
        return glob, layers

    def memory_crc(self) -> int:
        """Let the core walk its memories (CTRL.CRC_START) and return its CRC-32."""
        self.write("CTRL", regmap.bit("CTRL", "CRC_START"))
        deadline = self.now() + self.timeout_s
        while True:
            status = self.read("STATUS")
            if status & regmap.bit("STATUS", "CRC_DONE"):
                return self.read("CRC")
            if status & (regmap.bit("STATUS", "CRC_ABORTED") | regmap.bit("STATUS", "REFUSED")):
                raise HardwareMismatch(f"the core refused or aborted its memory CRC walk (STATUS {status:#x})")
            if self.now() > deadline:
                raise StreamTimeout(f"the core's memory CRC walk did not finish within {self.timeout_s} s")

    def hash64(self) -> int:
        return (self.read("HASH_HI") << 32) | self.read("HASH_LO")

    def check(self, expected: dict[str, Any], *, crc: bool = True) -> None:
        """Refuse hardware built for another shape, RTL or network: compare the capability registers, the
        content hash and (``crc``) the memory CRC with a deploy folder's ``expected`` values."""
        glob, layers = self.capabilities(len(expected["layers"]))
        for name, want in expected["capabilities"].items():
            if glob[name] != want:
                raise HardwareMismatch(f"register {name} reads {glob[name]:#x}, the deploy folder expects "
                                       f"{want:#x}: {_what(name)}")
        for i, (have, want) in enumerate(zip(layers, expected["layers"], strict=True)):
            for name, value in want.items():
                if have[name] != value:
                    raise HardwareMismatch(f"layer {i}: register {name} reads {have[name]}, the deploy folder "
                                           f"expects {value}: hardware built for another shape")
        if self.hash64() != expected["hash64"]:
            raise HardwareMismatch(f"register HASH reads {self.hash64():016x}, the deploy folder's network is "
                                   f"{expected['hash64']:016x}: the core holds another network or front end "
                                   "(the hash covers both)")
        if crc:
            got = self.memory_crc()
            if got != expected["memory_crc"]:
                raise HardwareMismatch(f"memory CRC reads {got:#010x}, the deploy folder's network gives "
                                       f"{expected['memory_crc']:#010x}: the core's weights differ")

    def load(self, memories: Sequence[dict[str, Any]]) -> None:
        """Write memory words over AXI4-Lite (``[{"layer", "kind", "addr", "words": [[dword, ...], ...]}]``, as
        ``neurocal.hw.cosim.axil_writes`` gives them); the core must be idle and built writable."""
        for mem in memories:
            self.write("MEM_SEL", (mem["layer"] << regmap.field("MEM_SEL", "LAYER").lsb)
                       | (mem["kind"] << regmap.field("MEM_SEL", "KIND").lsb))
            self.write("MEM_ADDR", mem.get("addr", 0))
            for dwords in mem["words"]:
                for d in dwords:
                    self.write("MEM_DATA", d)
                self.write("MEM_WRITE", 1)
        status = self.read("STATUS")
        bad = regmap.bit("STATUS", "OVERFLOW") | regmap.bit("STATUS", "REFUSED") | regmap.bit("STATUS", "EXTRA")
        if status & bad:
            raise HardwareMismatch(f"memory load failed (STATUS {status:#x}): core busy, not writable, or a word "
                                   "outside its memories")

    # ------------------------------------------------------------------------------- streams

    def _wait(self, channel: DmaChannel, what: str) -> None:
        deadline = self.now() + self.timeout_s
        while not channel.idle:
            if channel.error:
                raise RuntimeError(f"DMA {what}: the channel reports an error")
            if self.now() > deadline:
                raise StreamTimeout(f"DMA {what} did not finish within {self.timeout_s} s: stalled stream")
        channel.wait()

    def max_output_words(self, ticks: int, n_layers: int) -> int:
        """Output words of one event at most: every output neuron spiking on every output tick, the voltages and
        the end-of-event word."""
        return self.n_outputs * (ticks + n_layers) + self.n_outputs + 1

    def batches(self, words: np.ndarray, out_words: int) -> list[tuple[int, int]]:
        """(first word, word count) of each batch: :func:`split_transfers` with at most as many events as one
        receive of the length limit holds answers of ``out_words`` words (and at most ``batch_events``)."""
        per_receive = self.max_bytes // (4 * out_words)
        if per_receive == 0:
            raise DmaLimit(f"an event's answer can be {4 * out_words} bytes, over the DMA's {self.max_bytes}-byte "
                           "length limit (c_sg_length_width): build with a wider length register")
        cap = 1 if self.serial else per_receive if self.batch_events is None else min(self.batch_events, per_receive)
        return split_transfers(words, self.max_bytes, cap)

    def run_words(self, words: np.ndarray, n_events: int, out_words: int) -> list[np.ndarray]:
        """Send AER ``words`` (``n_events`` whole events) and return each event's output words; ``out_words``
        bounds one event's answer (:meth:`max_output_words`).

        One send and one receive per batch (:meth:`batches`). The next batch is sent as soon as the previous
        send is done, while its answer may still be on its way (the core holds its output until the next
        receive is programmed), so the core never waits on the host for input."""
        words = np.asarray(words, dtype=np.uint32)
        pieces = self.batches(words, out_words)
        offsets, total = aligned_offsets(pieces, self.align_bytes)
        closes = [int(np.count_nonzero(words[f:f + c] >> aer.KIND_SHIFT == aer.KIND_END_OF_EVENT))
                  + int(words[f + c - 1] >> aer.KIND_SHIFT != aer.KIND_END_OF_EVENT) for f, c in pieces]
        if sum(closes) != n_events:
            raise ValueError(f"{n_events} events expected, the words hold {sum(closes)}")
        self.sends = self.receives = 0  # transfers of the last run (for reports)
        self.cycles = []
        if not pieces:
            return []
        inbuf = self.allocate((max(total, 1),), np.uint32)
        for (first, count), at in zip(pieces, offsets, strict=True):
            inbuf[at:at + count] = words[first:first + count]
        outbuf = self.allocate((max(closes) * out_words,), np.uint32)
        results: list[np.ndarray] = []
        self.recv.transfer(outbuf, 0, 4 * closes[0] * out_words)
        self.send.transfer(inbuf, 4 * offsets[0], 4 * pieces[0][1])
        sent, received = 1, 0

        def patience() -> float:  # the events sent and not yet answered, timeout_s each
            return self.timeout_s * sum(closes[received:sent])

        deadline = self.now() + patience()
        while received < len(pieces):
            if sent < len(pieces) and (not self.serial or received == sent) and self.send.idle:
                self.send.wait()
                self.send.transfer(inbuf, 4 * offsets[sent], 4 * pieces[sent][1])
                sent += 1
                deadline = self.now() + patience()
                continue
            if self.recv.idle:
                self.recv.wait()
                packet = np.array(outbuf[:self.recv.transferred // 4], dtype=np.uint32)
                ends = np.flatnonzero(packet >> aer.KIND_SHIFT == aer.KIND_END_OF_EVENT) + 1
                if len(ends) != closes[received] or (len(ends) and ends[-1] != len(packet)):
                    raise FramingError(f"batch {received}: {closes[received]} events sent, the core's packet of "
                                       f"{len(packet)} words holds {len(ends)} answers")
                results.extend(np.split(packet, ends[:-1]))
                self.cycles.append(self.read("LAST_CYCLES"))
                received += 1
                if received < len(pieces):
                    self.recv.transfer(outbuf, 0, 4 * closes[received] * out_words)
                deadline = self.now() + patience()
                continue
            for ch, what in ((self.send, "send"), (self.recv, "receive")):
                if ch.error:
                    raise RuntimeError(f"DMA {what}: the channel reports an error (an answer longer than the "
                                       f"{4 * closes[received] * out_words}-byte receive buffer?)")
            if self.now() > deadline:
                raise StreamTimeout(f"no answer to batch {received} (events {sum(closes[:received])}.."
                                    f"{sum(closes[:received + 1]) - 1}) within {patience():.3g} s ({self.timeout_s:.3g}"
                                    " s per event in flight): stalled stream")
        self._wait(self.send, "send")
        self.sends, self.receives = sent, received
        return results

    def run_events(self, spikes: np.ndarray, n_layers: int, first_event: int = 0) -> np.ndarray:
        """Input spikes (events, ticks, channels) → the concatenated output words of every event."""
        words = aer.encode_events(np.asarray(spikes, dtype=bool), first_event=first_event)
        outs = self.run_words(words, len(spikes), self.max_output_words(spikes.shape[1], n_layers))
        return np.concatenate(outs) if outs else np.zeros(0, np.uint32)


def _what(register: str) -> str:
    return {"ID": "not a neurocal core of this register map", "CONFIG": "hardware built for another shape",
            "CAPS": "hardware built with other build options", "SRC_HASH": "hardware built from other RTL sources",
            "PROFILE": "hardware built for another board profile"}.get(register, "another build")
