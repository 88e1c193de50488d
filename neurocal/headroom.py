"""Headroom of an integer network on calibration data: how close u, v and the synaptic input come to their limits.

The static widths in ``intnet.json`` (:func:`neurocal.intnet.layer_widths`) bound every quantity
over *any* input; this report measures what real events use, and flags a network whose synaptic
input exceeds Loihi silicon's 16-bit LIF input port (lava-nc lets it pass, silicon would saturate).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neurocal.intnet import IntNetwork


@dataclass
class LayerHeadroom:
    name: str
    peak_u: int
    peak_v: int  # before the ±(2^23 − 1) clip
    peak_a_in: int
    u_wraps: int  # (event, tick, neuron) updates where u wrapped
    v_clips: int
    a_in_over_16bit: int
    spikes: int

    @property
    def u_bits(self) -> float:
        return math.log2(self.peak_u + 1) + 1

    @property
    def v_bits(self) -> float:
        return math.log2(self.peak_v + 1) + 1


@dataclass
class Headroom:
    events: int
    ticks: int
    layers: list[LayerHeadroom]

    @property
    def ok(self) -> bool:
        return all(h.u_wraps == 0 and h.v_clips == 0 and h.a_in_over_16bit == 0 for h in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "ticks": self.ticks,
            "ok": self.ok,
            "layers": [asdict(h) | {"u_bits": round(h.u_bits, 2), "v_bits": round(h.v_bits, 2)} for h in self.layers],
        }

    def to_markdown(self) -> str:
        lines = [
            f"# Headroom over {self.events} calibration events × {self.ticks} ticks",
            "",
            "u and v are signed 24-bit (limit 2^23 − 1 = 8388607); the LIF input port is 16-bit on Loihi.",
            "",
            "| layer | peak \\|u\\| (bits) | peak \\|v\\| (bits) | peak \\|a_in\\| "
            "| u wraps | v clips | a_in > 16 bit | spikes |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for h in self.layers:
            lines.append(
                f"| {h.name} | {h.peak_u} ({h.u_bits:.1f}) | {h.peak_v} ({h.v_bits:.1f}) | {h.peak_a_in} | "
                f"{h.u_wraps} | {h.v_clips} | {h.a_in_over_16bit} | {h.spikes} |"
            )
        lines += ["", f"verdict: {self.verdict}"]
        return "\n".join(lines) + "\n"

    @property
    def verdict(self) -> str:
        return "no wrap, clip or port overflow" if self.ok else "OVERFLOW — see the counts above"

    def to_text(self) -> str:
        """The same table for a terminal: aligned columns, no markdown escapes."""
        head = ["layer", "peak |u| (bits)", "peak |v| (bits)", "peak |a_in|", "u wraps", "v clips", "a_in>16b",
                "spikes"]
        rows = [[h.name, f"{h.peak_u} ({h.u_bits:.1f})", f"{h.peak_v} ({h.v_bits:.1f})", str(h.peak_a_in),
                 str(h.u_wraps), str(h.v_clips), str(h.a_in_over_16bit), str(h.spikes)] for h in self.layers]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]]
        return "\n".join([*lines, f"headroom over {self.events} calibration events: {self.verdict}"])


def headroom(net: IntNetwork, spikes: np.ndarray) -> Headroom:
    """Run the golden model on calibration spikes and measure how close u, v, a_in come to their limits."""
    from neurocal.golden import simulate

    spikes = np.asarray(spikes, dtype=bool)
    result = simulate(net, spikes, stats=True)
    assert result.stats is not None
    layers = [
        LayerHeadroom(name=layer.name, spikes=int(result.ops["spikes"][:, i].sum()), **result.stats[i])
        for i, layer in enumerate(net.layers)
    ]
    return Headroom(events=int(spikes.shape[0]), ticks=int(spikes.shape[1]), layers=layers)
