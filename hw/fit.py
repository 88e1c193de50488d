"""Fit a network's core to a part profile: the fastest build whose resource estimate is within the fit limits.

The knobs, per layer ``l`` (``n_in`` inputs, ``n_out`` neurons): accumulator lanes ``k`` (``G = ceil(n_out/k)``
groups: time-multiplexed neurons), LIF updaters ``f`` dividing ``k`` (2 DSPs each), weight banks ``R`` of which
``B`` in block RAM; and for the core the AER words per input beat ``W``, at most the profile's DMA width
(``dma_bits / 32``: a wider rx than the feed is LUTs that buy nothing). Resources come from the resource model
(:mod:`neurocal.hw.resource_model`, a sum over layers plus the rest of the core), cycles from the cycle model
(:mod:`neurocal.hw.costmodel`, exact for given rasters).

Speed of a stage, in cycles per tick on a workload of rasters (each layer's input spikes), where ``s_b(t)``
is tick ``t``'s spikes in bank ``b`` and ``s(t)`` all of them:

* input: ``max(1, (s(t) + 1) / W)`` (the spikes and the end-of-tick word, ``W`` per cycle);
* layer: ``max(G · max_b s_b(t), G · k / f, 2)`` (synapse reads, LIF steps, the two-stage update).

The stages run as a pipeline, so an event costs about ``T ×`` the slowest stage's mean. The search, for every
``W`` and every bound ``C`` on that mean, picks per layer the candidate of mean ≤ ``C`` that is cheapest in
a weighted sum of its resources (weights start at 1 / limit and grow on a resource the sum exceeds, a
Lagrangian relaxation of the shared limits), keeps the smallest ``C`` whose whole core fits, and then ranks
the finalists by the cycle model's exact mean cycles on the workload (ties: the smaller largest share of
the part). The workload is the caller's rasters, or Bernoulli rasters at :data:`DEFAULT_ACTIVITY` (the demo
network's: ~1 930 input spikes per event over 100 ticks and 400 channels, ~5 % of hidden neurons per tick).

A resource is within its limit when ``estimate ≤ fit × available``; DSPs also keep :data:`DSP_RESERVE` for the
index multipliers yosys maps to DSP48 beside the LIF updaters (1–5 on the calibration builds), and the
distributed-RAM sites must fit the part's LUTRAM. What cannot fit is refused with, per resource, what the
smallest build needs, what the part has and the limit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurocal.errors import NeurocalError
from neurocal.hw.generate import MAX_ROWS, WEIGHT_BITS, HwShape
from neurocal.hw.resource_model import FF_FEATURES, LUT_FEATURES, core_features, exact, features, layer_features
from neurocal.profiles import Profile

#: spike probability per neuron and tick of the workload the fitter assumes without rasters
DEFAULT_ACTIVITY = 0.05
DEFAULT_TICKS = 100
WORKLOAD_EVENTS = 4
#: DSP48s kept free for yosys's index multipliers (address × groups, the output stage's voltage select)
DSP_RESERVE = 5
RESOURCES = ("LUT", "FF", "BRAM36", "DSP")
MAX_GROUPS = 32  # time-multiplexing searched per layer: 1 .. 32 groups
MAX_FINALISTS = 6


@dataclass(frozen=True)
class Fit:
    """The chosen build: its shape, the model's resources and shares of the part, and cycles per event."""

    shape: HwShape
    resources: dict[str, float]  # LUT, FF, BRAM36, DSP (the resource model's estimate)
    share: dict[str, float]  # resources / available
    cycles_mean: float  # cycle model on the workload (serial events)
    cycles_max: int
    profile: str

    def to_dict(self) -> dict[str, object]:
        return {"profile": self.profile, "lanes": list(self.shape.lanes), "lif_lanes": list(self.shape.lif_lanes),
                "rows": list(self.shape.rows), "block_banks": list(self.shape.block_banks), "words": self.shape.words,
                "resources": self.resources, "share": self.share, "cycles_mean": self.cycles_mean,
                "cycles_max": self.cycles_max}

    def summary(self) -> str:
        s = self.shape
        use = ", ".join(f"{r} {self.resources[r]:.0f} ({100 * self.share[r]:.0f} %)" for r in RESOURCES)
        return (f"fitted to {self.profile}: lanes {_dash(s.lanes)}, LIF lanes {_dash(s.lif_lanes)}, banks "
                f"{_dash(s.rows)} (block RAM {_dash(s.block_banks)}), {s.words} words; estimate {use}; "
                f"~{self.cycles_mean:.0f} cycles per event (max {self.cycles_max}) on the fit's workload")


def _dash(values: Sequence[int]) -> str:
    return "-".join(map(str, values))


def workload(sizes: Sequence[int], *, activity: float = DEFAULT_ACTIVITY, ticks: int = DEFAULT_TICKS,
             events: int = WORKLOAD_EVENTS, seed: int = 0) -> list[np.ndarray]:
    """Bernoulli rasters for every layer's input and the output, in :func:`~neurocal.hw.costmodel.predict_cycles`'s
    layout (fixed seed): the input ``(events, ticks, n_in)``, the later ones ``(events, ticks + L, n)``."""
    rng = np.random.default_rng(seed)
    hidden = ticks + len(sizes) - 1
    return [rng.random((events, ticks if i == 0 else hidden, n)) < activity for i, n in enumerate(sizes)]


def limits(part: Profile) -> dict[str, float]:
    """The most of each resource a core may take on ``part`` (DSPs less the reserve)."""
    out = {r: part.limit(r) for r in RESOURCES}
    out["DSP"] -= DSP_RESERVE
    return out


def estimate_parts(shape: HwShape) -> tuple[dict[str, float], float]:
    """The resource model's LUT/FF/BRAM36/DSP of ``shape`` and its distributed-RAM LUT sites."""
    from neurocal.hw import resource_fit

    f = features(shape)
    res = {"LUT": sum(resource_fit.LUT.get(k, 0.0) * f[k] for k in LUT_FEATURES),
           "FF": sum(resource_fit.FF.get(k, 0.0) * f[k] for k in FF_FEATURES), **exact(shape)}
    return res, f["dist_sites"]


def violations(shape: HwShape, part: Profile) -> list[str]:
    """Per resource over its limit: ``LUT needs 71 100, the xc7z020 has 53 200, limit 80 % = 42 560``."""
    res, dist = estimate_parts(shape)
    lim = limits(part)
    out = [f"{r} needs {res[r]:.0f}, the {part.part} has {part.resources[r]:.0f}, limit "
           f"{100 * part.fit.get(r, 1.0):.0f} % = {lim[r]:.0f}" + (f" less {DSP_RESERVE} kept for yosys's index "
                                                                   f"multipliers" if r == "DSP" else "")
           for r in RESOURCES if res[r] > lim[r]]
    if dist > part.resources["LUTRAM"]:
        out.append(f"distributed RAM needs {dist:.0f} LUT sites, the {part.part} has {part.resources['LUTRAM']:.0f}")
    return out


@dataclass(frozen=True)
class _Option:
    lanes: int
    lif: int
    rows: int
    block: int
    speed: float  # mean cycles per tick
    res: dict[str, float]
    dist: float


def _per_tick_reads(raster: np.ndarray, rows: int) -> np.ndarray:
    """max_b s_b(t) for every event and tick of ``raster`` ``(E, T, n)``."""
    n = raster.shape[-1]
    depth = -(-n // rows)
    pad = np.zeros((*raster.shape[:-1], depth * rows - n), dtype=bool)
    return np.concatenate([raster, pad], axis=-1).reshape(*raster.shape[:-1], depth, rows).sum(axis=-2).max(axis=-1)


def _coefficients() -> tuple[dict[str, float], dict[str, float]]:
    from neurocal.hw import resource_fit

    return resource_fit.LUT, resource_fit.FF


def _layer_options(base: HwShape, layer: int, raster: np.ndarray, part: Profile, lanes: int | None,
                   rows: int | None, lif: int | None) -> list[_Option]:
    """Every candidate of ``layer`` within the fixed knobs, priced and timed."""
    lut_c, ff_c = _coefficients()
    n_in, n_out = base.sizes[layer], base.sizes[layer + 1]
    lane_set = [lanes] if lanes else sorted({-(-n_out // g) for g in range(1, min(n_out, MAX_GROUPS) + 1)})
    row_set = [rows] if rows else list(range(1, min(n_in, MAX_ROWS) + 1))
    reads = {r: _per_tick_reads(raster, r) for r in row_set}
    out = []
    for k in lane_set:
        groups = -(-n_out // k)
        lif_set = [lif] if lif else [f for f in range(1, k + 1) if k % f == 0]
        for r in row_set:
            depth_words = -(-n_in // r) * groups
            bram_bank = math.ceil(k * WEIGHT_BITS / 36) / 2 * math.ceil(depth_words / 512)
            blocks = (0, r) if k * WEIGHT_BITS >= 72 else (0,)
            for f in lif_set:
                if k % f:
                    continue
                speed = float(np.maximum(np.maximum(groups * reads[r], groups * (k // f)), 2).mean())
                for b in blocks:
                    feats = layer_features(n_in, n_out, k, f, r, b, base.acc_w[layer], base.u_w[layer])
                    res = {"LUT": sum(lut_c.get(n, 0.0) * v for n, v in feats.items()),
                           "FF": sum(ff_c.get(n, 0.0) * v for n, v in feats.items()),
                           "BRAM36": b * bram_bank, "DSP": 2.0 * f}
                    out.append(_Option(k, f, r, b, speed, res, feats["dist_sites"]))
    return _pareto(out)


def _pareto(options: list[_Option]) -> list[_Option]:
    """Drop a candidate another is at least as fast and as cheap as in every resource."""
    options.sort(key=lambda o: (o.speed, o.res["LUT"], o.res["DSP"], o.res["BRAM36"], o.res["FF"]))
    kept: list[_Option] = []
    for o in options:
        if not any(k.speed <= o.speed and k.dist <= o.dist and all(k.res[r] <= o.res[r] for r in RESOURCES)
                   for k in kept):
            kept.append(o)
    return kept


def _choose(per_layer: list[list[_Option]], bound: float, fixed: dict[str, float], lim: dict[str, float],
            lutram: float) -> list[_Option] | None:
    """Per layer the candidate no slower than ``bound`` that is cheapest in a weighted sum of resources, the
    weights raised on every resource the whole core exceeds; None if no weighting fits."""
    weight = {r: 1.0 / max(lim[r], 1e-9) for r in RESOURCES}
    w_dist = 1.0 / lutram
    pools = [[o for o in opts if o.speed <= bound] for opts in per_layer]
    if any(not p for p in pools):
        return None
    for _ in range(16):
        pick = [min(p, key=lambda o: sum(weight[r] * o.res[r] for r in RESOURCES) + w_dist * o.dist) for p in pools]
        total = {r: fixed[r] + sum(o.res[r] for o in pick) for r in RESOURCES}
        over = [r for r in RESOURCES if total[r] > lim[r]]
        dist_over = sum(o.dist for o in pick) > lutram
        if not over and not dist_over:
            return pick
        for r in over:
            weight[r] *= 4.0
        if dist_over:
            w_dist *= 4.0
    return None


def fit(base: HwShape, part: Profile, *, lanes: Sequence[int] | None = None, rows: Sequence[int] | None = None,
        words: int | None = None, lif_lanes: Sequence[int] | None = None,
        rasters: Sequence[np.ndarray] | None = None, what: str = "network") -> Fit:
    """The fastest build of ``base``'s network (its sizes, widths, writable, debug and FIFOs) on ``part``
    within its fit limits; the knobs given are kept as they are. ``rasters``: every layer's input and the
    output, ``(events, T, n)`` each (default :func:`workload`). NeurocalError naming every resource the
    smallest build exceeds when nothing fits."""
    from neurocal.hw.costmodel import predict_cycles

    rasters = list(rasters) if rasters is not None else workload(base.sizes)
    lim = limits(part)
    n = base.n_layers
    per_layer = [_layer_options(base, i, rasters[i], part, lanes[i] if lanes else None,
                                rows[i] if rows else None, lif_lanes[i] if lif_lanes else None) for i in range(n)]
    dma_words = max(1, part.dma_bits // 32)
    word_set = [words] if words else list(range(1, dma_words + 1))
    spikes = rasters[0].sum(axis=-1)
    finalists: list[tuple[float, HwShape]] = []
    for w in word_set:
        rx_speed = float(np.maximum(1.0, (spikes + 1) / w).mean())
        fixed = {r: 0.0 for r in RESOURCES}
        lut_c, ff_c = _coefficients()
        core = core_features(base.sizes, w, base.fifo_log2)
        fixed["LUT"] = sum(lut_c.get(k, 0.0) * v for k, v in core.items())
        fixed["FF"] = sum(ff_c.get(k, 0.0) * v for k, v in core.items())
        bounds = sorted({o.speed for opts in per_layer for o in opts if o.speed >= rx_speed} | {rx_speed})
        for bound in bounds:
            pick = _choose(per_layer, bound, fixed, lim, part.resources["LUTRAM"])
            if pick is not None:
                finalists.append((bound, dataclasses.replace(
                    base, lanes=tuple(o.lanes for o in pick), lif_lanes=tuple(o.lif for o in pick),
                    rows=tuple(o.rows for o in pick), block_banks=tuple(o.block for o in pick), words=w)))
                break
    finalists = [(b, s) for b, s in finalists if not violations(s, part)]
    if not finalists:
        smallest = _smallest(base, per_layer, words or 1)
        raise NeurocalError(f"{what} {_dash(base.sizes)} does not fit the {part.name} ({part.part}) even at its "
                            f"smallest build (lanes {_dash(smallest.lanes)}, banks {_dash(smallest.rows)}): "
                            + "; ".join(violations(smallest, part) or ["the per-layer knobs given cannot fit"]))
    finalists.sort(key=lambda x: x[0])
    best: Fit | None = None
    for _, shape in finalists[:MAX_FINALISTS]:
        cycles = predict_cycles(shape, rasters[:-1], rasters[-1], serial=True).cycles
        res, _ = estimate_parts(shape)
        share = {r: res[r] / part.resources[r] for r in RESOURCES}
        cand = Fit(shape, res, share, float(cycles.mean()), int(cycles.max()), part.name)
        if best is None or (cand.cycles_mean, max(cand.share.values())) < (best.cycles_mean, max(best.share.values())):
            best = cand
    assert best is not None
    return best


def _smallest(base: HwShape, per_layer: list[list[_Option]], words: int) -> HwShape:
    """The build of the fewest LUTs among the candidates (what a refusal quotes)."""
    pick = [min(opts, key=lambda o: (o.res["LUT"] + 100 * o.res["DSP"], o.res["BRAM36"])) for opts in per_layer]
    return dataclasses.replace(base, lanes=tuple(o.lanes for o in pick), lif_lanes=tuple(o.lif for o in pick),
                               rows=tuple(o.rows for o in pick), block_banks=tuple(o.block for o in pick), words=words)


def check_shape(shape: HwShape, part: Profile, what: str = "build") -> None:
    """Refuse ``shape`` (explicit knobs) when its estimate exceeds ``part``'s fit limits, with the numbers."""
    over = violations(shape, part)
    if over:
        raise NeurocalError(f"{what} (lanes {_dash(shape.lanes)}, banks {_dash(shape.rows)}, {shape.words} words) "
                            f"does not fit the {part.name}: " + "; ".join(over))
