"""Target parts of the hardware builds: resources, the share of them a core may take, and the PL clock.

One constant per fact: the clock a board build runs the core at, the part's resources and the fit
limits live here and nowhere else (the generator, ``rtl synth``, the cycle-to-time conversions and the
board scripts read them).

Resources are the programmable logic's, from AMD's product tables: Zynq-7000 DS190 Table 1 (xc7z020:
53 200 LUT, 106 400 FF, 140 BRAM36, 220 DSP48E1; 17 400 LUTs in SLICEMs can be distributed RAM) and Zynq
UltraScale+ DS891 Table 1 (xczu7ev: 230 400 LUT, 460 800 FF, 312 BRAM36, 96 URAM, 1 728 DSP48E2; 101 760
LUTs can be distributed RAM).

``fit``: the share of each resource the core may use, so that the DMA, the AXI interconnect and the
router's slack fit beside it (LUT ≤ 80 %, FF ≤ 60 %, BRAM ≤ 90 %, DSP ≤ 90 %).

``clock_mhz``: the PL clock of a board build (``FCLK_CLK0``, an integer divider of the PS's 1 000 MHz IO
PLL on Zynq-7000: 250, 200, 166.7 … MHz). It is a target: only a Vivado timing report says whether the
core meets it; ``rtl synth`` prints yosys's logic-only estimate beside it.

``dma_bits``: the stream width of the host's DMA into the core (``axi_dma`` on an HP port: 64 bits on
Zynq-7000's S_AXI_HP, 128 on UltraScale+'s S_AXI_HP), i.e. the AER words per beat the host path can feed.

``dma_mbytes_s``: the sustained rate the host path can feed, where a vendor figure exists: AMD's Zynq-7000
TRM (UG585 v1.11, Table 22-8) suggests at most 1 200 MB/s per AXI_HP interface for a PL DMA in one direction.
An event of the calorimeter is ~2 000 AER words (~8 KB), so one HP port feeds ~150 k events/s: the host path,
not the core, bounds the rate there; the detector path (``nc_line_rx``) does not go through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neurocal.errors import NeurocalError


@dataclass(frozen=True)
class Profile:
    """A board and its part, as the generator and the reports see them."""

    name: str
    board: str
    part: str  # Vivado part name
    board_part: str  # Vivado board part (board files)
    yosys_family: str  # synth_xilinx -family
    resources: dict[str, float]  # LUT, LUTRAM, FF, BRAM36, DSP (+ URAM)
    clock_mhz: float
    dma_bits: int
    dma_mbytes_s: float | None  # sustained host DMA into the PL (one HP port), None where no vendor figure
    dma_source: str
    fit: dict[str, float] = field(default_factory=lambda: {"LUT": 0.80, "FF": 0.60, "BRAM36": 0.90, "DSP": 0.90})
    profile_id: int = 0  # the core's PROFILE capability register

    @property
    def clock_ns(self) -> float:
        return 1000.0 / self.clock_mhz

    def host_events_per_s(self, bytes_per_event: float) -> float:
        """Events per second one host DMA stream can feed at ``bytes_per_event`` (the vendor figure, or 128/64
        bits per PL clock where there is none)."""
        rate = self.dma_mbytes_s * 1e6 if self.dma_mbytes_s else self.dma_bits / 8 * self.clock_mhz * 1e6
        return rate / bytes_per_event

    def limit(self, resource: str) -> float:
        """The most of ``resource`` the core may take on this part."""
        return self.resources[resource] * self.fit.get(resource, 1.0)


PROFILES: dict[str, Profile] = {
    "pynq-z2": Profile(
        name="pynq-z2", board="TUL PYNQ-Z2", part="xc7z020clg400-1", board_part="tul.com.tw:pynq-z2:part0:1.0",
        yosys_family="xc7",
        resources={"LUT": 53200, "LUTRAM": 17400, "FF": 106400, "BRAM36": 140, "DSP": 220},
        clock_mhz=200.0, dma_bits=64, profile_id=1,
        dma_mbytes_s=1200.0, dma_source="AMD UG585 v1.11 Table 22-8 (PL AXI_HP DMA, per interface)",
    ),
    "zcu104": Profile(
        name="zcu104", board="AMD ZCU104", part="xczu7ev-ffvc1156-2-e", board_part="xilinx.com:zcu104:part0:1.1",
        yosys_family="xcup",
        resources={"LUT": 230400, "LUTRAM": 101760, "FF": 460800, "BRAM36": 312, "URAM": 96, "DSP": 1728},
        clock_mhz=300.0, dma_bits=128, profile_id=2,
        dma_mbytes_s=None, dma_source="no vendor throughput figure used; the bound is 128 bits per PL clock",
    ),
}
DEFAULT_PROFILE = "pynq-z2"
#: the clock of simulations that name no profile (cycles → ns in `rtl sim`, the bulk backends)
SIM_CLOCK_MHZ = PROFILES[DEFAULT_PROFILE].clock_mhz


def profile(name: str) -> Profile:
    """The profile called ``name``; one clear error naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise NeurocalError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
