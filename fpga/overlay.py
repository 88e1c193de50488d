"""PYNQ binding of the core: ``NeurocalCore(pynq.DefaultIP)`` bound to the core's VLNV and
``NeurocalOverlay(pynq.Overlay)``, which hands PYNQ's register and DMA objects to :class:`Driver`.

Import this on the board: importing it registers :class:`NeurocalCore` with PYNQ, so that loading the overlay
binds ``nc_top_0`` to it. pynq 4 imports on any machine, but ``Overlay``, ``MMIO`` and ``allocate`` raise
without a device: nothing here calls them at import.
"""

from __future__ import annotations

import time
from typing import ClassVar

import pynq

from neurocal.fpga.driver import CORE_VLNV, Driver, HardwareMismatch


class NeurocalCore(pynq.DefaultIP):
    """The core's AXI4-Lite registers (``read(offset)``/``write(offset, value)`` from DefaultIP)."""

    bindto: ClassVar[list[str]] = [CORE_VLNV]


class NeurocalOverlay(pynq.Overlay):
    """``NeurocalOverlay("overlay/neurocal.bit")`` (the ``.hwh`` beside it), then :meth:`driver`."""

    def driver(self, n_outputs: int, timeout_s: float = 1.0, core: str = "nc_top_0",
               dma: str = "axi_dma_0") -> Driver:
        ip = getattr(self, core)
        if not isinstance(ip, NeurocalCore):
            raise HardwareMismatch(f"{core} is bound to {type(ip).__name__}, not NeurocalCore: the bitstream's "
                                   f"core is not {CORE_VLNV}")
        dma_ip = getattr(self, dma)
        # sends start on the memory-map width (no realignment engine at 128 bits; PYNQ refuses unaligned starts)
        align = int(dma_ip.description["parameters"]["C_M_AXI_MM2S_DATA_WIDTH"]) // 8
        return Driver(ip, dma_ip.sendchannel, dma_ip.recvchannel, allocate=pynq.allocate, now=time.monotonic,
                      max_bytes=dma_ip.buffer_max_size, n_outputs=n_outputs, timeout_s=timeout_s,
                      align_bytes=align)
