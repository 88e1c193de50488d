"""A simulated ``axi_dma`` (simple mode) and register port driving ``nc_top`` under cocotb + cocotbext-axi.

They offer what :class:`neurocal.fpga.driver.Driver` uses of PYNQ's objects — ``read``/``write`` at offsets;
``transfer(array, start, nbytes)``, ``idle``, ``error``, ``wait()``, ``transferred`` — as blocking calls made
from a thread started with ``cocotb.task.bridge``: each call is a ``cocotb.task.resume`` of a coroutine that
drives the simulation, so the driver runs unchanged against the RTL.

What is modelled of axi_dma 7.1 (PG021) and PYNQ's channel:

* the length register: a transfer longer than ``max_bytes`` (2^c_sg_length_width − 1) is refused with PYNQ's
  ``ValueError``; length 0 raises the DMA's internal error;
* MM2S: a start that is not a multiple of the memory-map width is refused (no realignment engine), as
  PYNQ does; the buffer's bytes from ``start`` become beats of the stream width (32 × WORDS bits), little-endian,
  the last beat's ``tkeep`` covering only its bytes and ``tlast`` set on it; ``idle`` once the last beat left;
* S2MM: ``tready`` only while a receive is programmed; the packet (until ``tlast``) is written to the buffer
  as 32-bit words; ``transferred`` (set by ``wait()``, as PYNQ reads the length register there) is its byte
  count; a packet longer than the programmed length fills the buffer and raises the channel's error
  (the DMA's DMAIntErr), as the hardware halts;
* ``transfer`` on a busy channel raises ``RuntimeError("DMA channel not idle")``.

Polling ``idle`` advances the simulation by ``poll_cycles`` clock cycles; ``now()`` is the simulated time in
seconds, so the driver's timeouts count device time.
"""

from __future__ import annotations

from typing import Any

import cocotb
import numpy as np
from cocotb.task import resume
from cocotb.triggers import ClockCycles
from cocotb.utils import get_sim_time
from cocotbext.axi import AxiLiteMaster, AxiStreamFrame, AxiStreamSink, AxiStreamSource


class SimRegisters:
    """``read(offset)`` / ``write(offset, value)`` over cocotbext-axi's AXI4-Lite master."""

    def __init__(self, axil: AxiLiteMaster) -> None:
        self._read = resume(axil.read_dword)
        self._write = resume(axil.write_dword)

    def read(self, offset: int) -> int:
        return int(self._read(offset))

    def write(self, offset: int, value: int) -> None:
        self._write(offset, int(value))


class _Channel:
    def __init__(self, clk: Any, max_bytes: int, poll_cycles: int) -> None:
        self.clk, self.max_bytes, self.poll_cycles = clk, max_bytes, poll_cycles
        self.transferred = 0
        self._busy = False
        self._error = False
        self._bytes = 0
        self._poll = resume(self._poll_async)
        self._start = resume(self._start_async)

    async def _poll_async(self) -> bool:
        await ClockCycles(self.clk, self.poll_cycles)
        return not self._busy

    async def _start_async(self, *args: Any) -> None:
        raise NotImplementedError

    @property
    def idle(self) -> bool:
        return self._poll()

    @property
    def error(self) -> bool:
        return self._error

    def _check(self, array: np.ndarray, start: int, nbytes: int) -> int:
        if self._busy:
            raise RuntimeError("DMA channel not idle")
        if nbytes == 0:
            nbytes = array.nbytes - start
        if nbytes > self.max_bytes:
            raise ValueError(f"Transfer size is {nbytes} bytes, which exceeds the maximum DMA buffer size "
                             f"{self.max_bytes}.")
        if nbytes <= 0 or start < 0 or start + nbytes > array.nbytes:
            self._error = True
            raise RuntimeError(f"DMA Internal Error (transfer of {nbytes} bytes at {start} in a {array.nbytes}-byte "
                               "buffer)")
        return nbytes

    def wait(self) -> None:
        while not self.idle:
            if self._error:
                raise RuntimeError("DMA Internal Error (packet longer than the programmed length)")
        self.transferred = self._bytes


class SimMm2s(_Channel):
    """Memory → stream: the core's ``s_axis``."""

    def __init__(self, source: AxiStreamSource, clk: Any, max_bytes: int, align_bytes: int,
                 poll_cycles: int = 16) -> None:
        super().__init__(clk, max_bytes, poll_cycles)
        self.source, self.align_bytes = source, align_bytes

    def transfer(self, array: np.ndarray, start: int = 0, nbytes: int = 0) -> None:
        nbytes = self._check(array, start, nbytes)
        if start % self.align_bytes:  # no realignment engine: PYNQ refuses (buffers themselves are page-aligned)
            raise RuntimeError(f"DMA does not support unaligned transfers; Starting address must be aligned to "
                               f"{self.align_bytes} bytes.")
        data = np.ascontiguousarray(array).view(np.uint8)[start:start + nbytes].tobytes()
        self._start(data)

    async def _start_async(self, data: bytes) -> None:
        self._busy = True

        async def run() -> None:
            await self.source.send(AxiStreamFrame(tdata=data))
            await self.source.wait()
            self._bytes = len(data)
            self._busy = False

        cocotb.start_soon(run())


class SimS2mm(_Channel):
    """Stream → memory: the core's ``m_axis`` (``tready`` low while no receive is programmed)."""

    def __init__(self, sink: AxiStreamSink, clk: Any, max_bytes: int, poll_cycles: int = 16) -> None:
        super().__init__(clk, max_bytes, poll_cycles)
        self.sink = sink
        self.stalled = False  # a receive side that never takes a word (a hung consumer): tready stays low
        sink.pause = True

    def transfer(self, array: np.ndarray, start: int = 0, nbytes: int = 0) -> None:
        nbytes = self._check(array, start, nbytes)
        self._start(array, start, nbytes)

    async def _start_async(self, array: np.ndarray, start: int, nbytes: int) -> None:
        self._busy = True
        self.sink.pause = self.stalled

        async def run() -> None:
            frame = await self.sink.recv()
            self.sink.pause = True
            data = np.asarray(frame.tdata, dtype=np.uint32).astype("<u4").tobytes()
            dest = array.view(np.uint8)
            n = min(len(data), nbytes)
            dest[start:start + n] = np.frombuffer(data[:n], dtype=np.uint8)
            self._bytes = n
            if len(data) > nbytes:
                self._error = True  # DMAIntErr: the hardware halts; the channel stays busy
                return
            self._busy = False

        cocotb.start_soon(run())


class SimClock:
    """``now()``: the simulated time in seconds."""

    def __init__(self) -> None:
        self._now = resume(self._now_async)

    @staticmethod
    async def _now_async() -> float:
        return get_sim_time("ns") * 1e-9

    def __call__(self) -> float:
        return self._now()


def allocate(shape: Any, dtype: Any = np.uint32) -> np.ndarray:
    """``pynq.allocate`` for the simulation: the buffer is process memory the simulated DMA reads and writes."""
    return np.zeros(shape, dtype=dtype)
