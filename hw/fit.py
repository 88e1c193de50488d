"""Fit a network's core to a part profile: the fastest build whose resource estimate is within the fit limits.

The knobs, per layer ``l`` (``n_in`` inputs, ``n_out`` neurons): accumulator lanes ``k`` (``G = ceil(n_out/k)``
groups: time-multiplexed neurons), LIF updaters ``f`` dividing ``k`` (2 DSPs each; the step's group and sub-group
are counters in the RTL, so any ``k / f`` is free of dividers), weight banks ``R`` of which
``B`` in block RAM; and for the core the AER words per input beat ``W``, at most the profile's DMA width
(``dma_bits / 32``: a wider rx than the feed is LUTs that buy nothing). Resources come from the resource model
(:mod:`neurocal.hw.resource_model`, a sum over layers plus the rest of the core), cycles from the cycle model
(:mod:`neurocal.hw.costmodel`, exact for given rasters).

Speed of a stage, in cycles per tick on a workload of rasters (each layer's input spikes), where ``s_b(t)``
is tick ``t``'s spikes in bank ``b`` and ``s(t)`` all of them:

* input: ``max(1, (s(t) + 1) / W)`` (the spikes and the end-of-tick word, ``W`` per cycle); with the detector
  input (``input = "lines"``) ``1``: ``nc_line_rx`` captures ``K`` ticks per clock and hands a raster per cycle,
  so ``W`` is no knob (the s_axis port is unused; the build keeps ``W = 1``) and the cycle model runs the line
  receiver;
* layer: ``max(G · max_b s_b(t), G · k / f, 4)`` (synapse reads, LIF steps, the four-stage update:
  :data:`~neurocal.hw.generate.LIF_TICK_MIN`).

The stages run as a pipeline, so an event costs about ``T ×`` the slowest stage's mean. The search, for every
``W`` and every bound ``C`` on that mean, picks per layer the candidate of mean ≤ ``C`` that is cheapest in
a weighted sum of its resources (weights start at 1 / limit and grow on a resource the sum exceeds, a
Lagrangian relaxation of the shared limits), keeps the smallest ``C`` whose whole core fits, and then ranks
the finalists by the cycle model's exact mean cycles on the workload (ties: the smaller largest share of
the part). The workload is the caller's rasters, or Bernoulli rasters shaped like the demo's showers
(:func:`workload`: a burst of ~170 input spikes per tick around tick 5, a quiet tail), because a stage's cost is
set tick by tick: ``T ×`` the slowest mean under-counts a burst that the input stage spends cycles on while a
layer's LIF steps wait, so a layer's speed is taken beside the input stage (``max`` per tick, then the mean).

A resource is within its limit when ``estimate ≤ fit × available``; DSPs also keep :data:`DSP_RESERVE` for the
index multipliers yosys maps to DSP48 beside the LIF updaters (1–9 measured), and the
distributed-RAM sites must fit the part's LUTRAM. What cannot fit is refused with, per resource, what the
smallest build needs, what the part has and the limit.

The resource model prices the AER receiver; a lines build is priced with the same small receiver term (``W = 1``):
``nc_line_rx`` is not in the calibrated model (benchmarks/results/2026-12-05-bulk.md gives what yosys makes of it
alone: 455 FF, 8 177 LUT and 1 667 RAM32M at 400 channels, K 25, 100 ticks).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocal.errors import NeurocalError
from neurocal.hw.generate import LIF_TICK_MIN, MAX_ROWS, WEIGHT_BITS, HwShape
from neurocal.hw.resource_model import (
    FF_FEATURES,
    LUT_FEATURES,
    core_features,
    exact,
    features,
    layer_features,
    state_counts,
)
from neurocal.intnet import IntNetwork
from neurocal.profiles import Profile

#: mean spike probability per neuron and tick the fitter assumes without rasters, input and hidden layers (the
#: demo network on simulated showers: 1 904 input spikes per event over 400 channels and 100 ticks; 163 and 35
#: spikes of its 50 and 30 hidden neurons over 103 ticks)
DEFAULT_ACTIVITY = (0.048, 0.03)
DEFAULT_TICKS = 100
WORKLOAD_EVENTS = 4
#: DSP48s kept free for yosys's index multipliers (address × groups, the output stage's voltage select): 1–5 on
#: the calibration builds, 9 on the first full-design build of the demo network (benchmarks/results/2026-12-04-fit.md)
DSP_RESERVE = 10
RESOURCES = ("LUT", "FF", "BRAM36", "DSP")
MAX_GROUPS = 32  # time-multiplexing searched per layer: 1 .. 32 groups
MAX_FINALISTS = 12
FINALISTS_PER_WORDS = 3
TIE = 0.01  # builds within 1 % of the fewest cycles are equally fast


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
        feed = f"{s.words} words" if s.input == "aer" else f"line input ({s.line_ticks} ticks, K {s.line_k})"
        return (f"fitted to {self.profile}: lanes {_dash(s.lanes)}, LIF lanes {_dash(s.lif_lanes)}, banks "
                f"{_dash(s.rows)} (block RAM {_dash(s.block_banks)}), {feed}; estimate {use}; "
                f"~{self.cycles_mean:.0f} cycles per event (max {self.cycles_max}) on the fit's workload")


def _dash(values: Sequence[int]) -> str:
    return "-".join(map(str, values))


def pulse(ticks: int, shift: int = 0) -> np.ndarray:
    """The calorimeter's time profile, normalised to mean 1 over ``ticks``: a gamma pulse ``x² e^{2(1−x)}``,
    ``x = (t − shift + 1) / 6.5``, peaking at tick ~5 and falling to a tenth by tick ~20 (the demo showers'
    mean input spikes per tick: 14, 96, 157, 174, 145, 114, 81, 52, 32, 19 … at ticks 0, 2, 4, … 18), over
    a floor of 0.5 % of the peak (their tail)."""
    x = (np.arange(ticks) - shift + 1) / 6.5
    g = np.where(x > 0, x * x * np.exp(2 * (1 - x)), 0.0) + 0.005
    return g / g.mean()


def workload(sizes: Sequence[int], *, activity: Sequence[float] | None = None, ticks: int = DEFAULT_TICKS,
             events: int = WORKLOAD_EVENTS, seed: int = 0) -> list[np.ndarray]:
    """Bernoulli rasters for every layer's input and the output, in :func:`~neurocal.hw.costmodel.predict_cycles`'s
    layout (fixed seed): the input ``(events, ticks, n_in)``, the later ones ``(events, ticks + L, n)``. Layer
    ``l``'s spike probability per neuron and tick is ``activity[l] · pulse(t − l)`` (default
    :data:`DEFAULT_ACTIVITY`: the input's, then the hidden layers'), so every stage sees the showers' burst."""
    act = list(activity) if activity is not None else [DEFAULT_ACTIVITY[0]] + [DEFAULT_ACTIVITY[1]] * (len(sizes) - 1)
    rng = np.random.default_rng(seed)
    hidden = ticks + len(sizes) - 1
    out = []
    for i, n in enumerate(sizes):
        t = ticks if i == 0 else hidden
        p = np.clip(act[i] * pulse(t, shift=i), 0.0, 1.0)
        out.append(rng.random((events, t, n)) < p[None, :, None])
    return out


def limits(part: Profile) -> dict[str, float]:
    """The most of each resource a core may take on ``part`` (DSPs less the reserve)."""
    out = {r: part.limit(r) for r in RESOURCES}
    out["DSP"] -= DSP_RESERVE
    return out


def estimate_parts(shape: HwShape) -> tuple[dict[str, float], float]:
    """The resource model's LUT/FF/BRAM36/DSP of ``shape`` and its distributed-RAM LUT sites (weight banks and
    deep neuron state)."""
    from neurocal.hw import resource_fit

    f = features(shape)
    res = {"LUT": sum(resource_fit.LUT.get(k, 0.0) * f[k] for k in LUT_FEATURES),
           "FF": sum(resource_fit.FF.get(k, 0.0) * f[k] for k in FF_FEATURES), **exact(shape)}
    return res, f["dist_sites"] + f["state_sites"]


def violations(shape: HwShape, part: Profile) -> list[str]:
    """Per resource over its limit: ``LUT needs 71 100, the xc7z020 has 53 200, limit 80 % = 42 560``."""
    res, dist = estimate_parts(shape)
    lim = limits(part)
    out = [f"{r} needs {res[r]:.0f}, the {part.part} has {part.resources[r]:.0f}, limit "
           f"{100 * part.fit.get(r, 1.0):.0f} % = {part.limit(r):.0f}"
           + (f" less {DSP_RESERVE} kept for yosys's index multipliers" if r == "DSP" else "")
           for r in RESOURCES if res[r] > lim[r]]
    if dist > part.resources["LUTRAM"]:
        out.append(f"distributed RAM needs {dist:.0f} LUT sites, the {part.part} has {part.resources['LUTRAM']:.0f}")
    return out


@dataclass(frozen=True)
class _Options:
    """A layer's candidates, one row each: knobs, mean cycles per tick, resources (``RESOURCES`` order) and
    distributed-RAM LUT sites."""

    knobs: np.ndarray  # (n, 4) int: lanes, lif, rows, block
    timing: np.ndarray  # (n,) int: the row of ``ticks`` that times the candidate
    ticks: np.ndarray  # (m, events, T_l): cycles per tick of each distinct (groups, banks, LIF steps)
    res: np.ndarray  # (n, 4)
    dist: np.ndarray  # (n,)

    def speed(self, rx: np.ndarray) -> np.ndarray:
        """Mean cycles per tick of every candidate beside an input stage taking ``rx`` ``(events, T_l)`` cycles
        per tick: a tick lasts as long as the slower of the two."""
        return np.maximum(self.ticks, rx[None]).mean(axis=(1, 2))[self.timing]


def _per_tick_reads(raster: np.ndarray, rows: int) -> np.ndarray:
    """max_b s_b(t) for every event and tick of ``raster`` ``(E, T, n)``."""
    n = raster.shape[-1]
    depth = -(-n // rows)
    pad = np.zeros((*raster.shape[:-1], depth * rows - n), dtype=bool)
    return np.concatenate([raster, pad], axis=-1).reshape(*raster.shape[:-1], depth, rows).sum(axis=-2).max(axis=-1)


def _coefficients() -> tuple[dict[str, float], dict[str, float]]:
    from neurocal.hw import resource_fit

    return resource_fit.LUT, resource_fit.FF


def _layer_options(base: HwShape, layer: int, raster: np.ndarray, lanes: int | None, rows: int | None,
                   lif: int | None) -> _Options:
    """Every candidate of ``layer`` within the fixed knobs, priced and timed."""
    lut_c, ff_c = _coefficients()
    n_in, n_out = base.sizes[layer], base.sizes[layer + 1]
    lane_set = [lanes] if lanes else sorted({-(-n_out // g) for g in range(1, min(n_out, MAX_GROUPS) + 1)})
    row_set = [rows] if rows else list(range(1, min(n_in, MAX_ROWS) + 1))
    reads = {r: _per_tick_reads(raster, r) for r in row_set}
    knobs, timing, res, dist = [], [], [], []
    ticks: list[np.ndarray] = []
    for k in lane_set:
        groups = -(-n_out // k)
        lif_set = np.array([lif] if lif else [f for f in range(1, k + 1) if k % f == 0])
        lif_set = lif_set[k % lif_set == 0]
        for r in row_set:
            depth_words = -(-n_in // r) * groups
            bram_bank = math.ceil(k * WEIGHT_BITS / 36) / 2 * math.ceil(depth_words / 512)
            feats = layer_features(n_in, n_out, k, 0, r, 0, base.acc_w[layer], base.u_w[layer])
            # block-RAM banks leave distributed RAM: the sites fall linearly with them (resource model)
            blocks = np.arange(r + 1) if k * WEIGHT_BITS >= 72 else np.zeros(1, dtype=np.int64)
            sites = feats["dist_sites"] * (r - blocks) / r
            f, b = np.meshgrid(lif_set, blocks, indexing="ij")
            s = np.broadcast_to(sites, f.shape)
            # a layer deep in LIF steps keeps its state in distributed RAM (resource model): per LIF choice, its
            # LUT sites and the change in state bits from the registers feats prices
            state = np.array([state_counts(n_out, k, int(x), base.acc_w[layer], base.u_w[layer]) for x in lif_set],
                             dtype=float)
            st_sites = np.broadcast_to(state[:, :1], f.shape)
            st_bits = np.broadcast_to(state[:, 1:] - feats["state_bits"], f.shape)
            lut = (sum(lut_c.get(n, 0.0) * v for n, v in feats.items() if n != "dist_sites")
                   + lut_c.get("lif", 0.0) * f + lut_c.get("dist_sites", 0.0) * s
                   + lut_c.get("state_sites", 0.0) * st_sites + lut_c.get("state_bits", 0.0) * st_bits)
            ff = (sum(ff_c.get(n, 0.0) * v for n, v in feats.items() if n != "dist_sites")
                  + ff_c.get("lif", 0.0) * f + ff_c.get("dist_sites", 0.0) * s + ff_c.get("state_bits", 0.0) * st_bits)
            first = len(ticks)
            ticks.extend(np.maximum(np.maximum(groups * reads[r], groups * (k // x)), LIF_TICK_MIN) for x in lif_set)
            steps = np.arange(first, len(ticks))
            knobs.append(np.stack([np.full(f.size, k), f.ravel(), np.full(f.size, r), b.ravel()], axis=1))
            timing.append(np.broadcast_to(steps[:, None], f.shape).ravel())
            res.append(np.stack([lut.ravel(), ff.ravel(), (b * bram_bank).ravel(), 2.0 * f.ravel()], axis=1))
            dist.append((s + st_sites).ravel())
    if not knobs:
        return _Options(np.zeros((0, 4), dtype=np.int64), np.zeros(0, dtype=np.int64),
                        np.zeros((0, *raster.shape[:2])), np.zeros((0, 4)), np.zeros(0))
    return _Options(np.concatenate(knobs).astype(np.int64), np.concatenate(timing), np.stack(ticks).astype(np.float32),
                    np.concatenate(res), np.concatenate(dist))


def _choose(per_layer: list[_Options], speeds: list[np.ndarray], bound: float, fixed: np.ndarray, lim: np.ndarray,
            lutram: float) -> tuple[list[tuple[int, ...]], bool] | None:
    """Per layer the candidate no slower than ``bound`` that is cheapest in a weighted sum of resources, the
    weights raised on every resource the whole core exceeds; with whether the core fits (else the try whose
    largest share of a limit is smallest); None if a layer has no candidate that fast."""
    weight = 1.0 / np.maximum(lim, 1e-9)
    w_dist = 1.0 / lutram
    masks = [speed <= bound for speed in speeds]
    if not all(m.any() for m in masks):
        return None
    best: tuple[float, list[int]] | None = None  # the try of the smallest largest share of a limit
    for _ in range(16):
        rows = [int(np.argmin(np.where(m, o.res @ weight + w_dist * o.dist, np.inf))) for o, m in
                zip(per_layer, masks, strict=True)]
        total = fixed + sum(o.res[i] for o, i in zip(per_layer, rows, strict=True))
        dist = sum(o.dist[i] for o, i in zip(per_layer, rows, strict=True))
        worst = max(float((total / np.maximum(lim, 1e-9)).max()), dist / lutram)
        if best is None or worst < best[0]:
            best = (worst, rows)
        if worst <= 1.0:
            break
        weight = np.where(total > lim, weight * 4.0, weight)
        w_dist *= 4.0 if dist > lutram else 1.0
    assert best is not None
    return [tuple(int(v) for v in o.knobs[i]) for o, i in zip(per_layer, best[1], strict=True)], best[0] <= 1.0


def _spend(per_layer: list[_Options], speeds: list[np.ndarray], pick: list[tuple[int, ...]], fixed: np.ndarray,
           lim: np.ndarray, lutram: float) -> list[tuple[int, ...]]:
    """``pick`` made faster where the limits leave room: layer by layer, the fastest candidate (then the
    cheapest) that keeps the whole core within them. Layers faster than the bound still shorten the ticks
    where another stage waits on them, which only the cycle model sees."""
    rows = [int(np.flatnonzero((o.knobs == np.array(p)).all(axis=1))[0]) for o, p in zip(per_layer, pick, strict=True)]
    for i, (o, speed) in enumerate(zip(per_layer, speeds, strict=True)):
        others = fixed + sum(q.res[j] for k, (q, j) in enumerate(zip(per_layer, rows, strict=True)) if k != i)
        dist = sum(q.dist[j] for k, (q, j) in enumerate(zip(per_layer, rows, strict=True)) if k != i)
        ok = ((others[None] + o.res) <= lim).all(axis=1) & (dist + o.dist <= lutram) & (speed <= speed[rows[i]])
        if ok.any():
            cand = np.flatnonzero(ok)
            rows[i] = int(cand[np.lexsort((o.res[cand] @ (1.0 / np.maximum(lim, 1e-9)), speed[cand]))[0]])
    return [tuple(int(v) for v in o.knobs[j]) for o, j in zip(per_layer, rows, strict=True)]


def _build(base: HwShape, pick: list[tuple[int, ...]], words: int, profile_id: int) -> HwShape:
    return dataclasses.replace(base, lanes=tuple(p[0] for p in pick), lif_lanes=tuple(p[1] for p in pick),
                               rows=tuple(p[2] for p in pick), block_banks=tuple(p[3] for p in pick),
                               words=words, profile_id=profile_id)


def fit(base: HwShape, part: Profile, *, lanes: Sequence[int] | None = None, rows: Sequence[int] | None = None,
        words: int | None = None, lif_lanes: Sequence[int] | None = None,
        rasters: Sequence[np.ndarray] | None = None, what: str = "the network") -> Fit:
    """The fastest build of ``base``'s network (its sizes, widths, writable, debug, FIFOs and input) on ``part``
    within its fit limits; the knobs given are kept as they are. ``rasters``: every layer's input and the
    output, ``(events, T, n)`` each (default :func:`workload`; with the line input, of ``base.line_ticks``
    ticks). NeurocalError naming every resource the smallest build exceeds when nothing fits."""
    from neurocal.hw.costmodel import predict_cycles

    lines = base.input == "lines"
    if lines and words:
        raise NeurocalError(f"{what}: --words sets the AER input's beat; a build with the line input takes none")
    rasters = list(rasters) if rasters is not None else workload(
        base.sizes, ticks=base.line_ticks if lines else DEFAULT_TICKS)
    if lines and rasters[0].shape[1] != base.line_ticks:
        raise NeurocalError(f"{what}: a workload of {rasters[0].shape[1]} ticks for a line window of "
                            f"{base.line_ticks} ticks")
    lim_d = limits(part)
    lim = np.array([lim_d[r] for r in RESOURCES])
    lutram = part.resources["LUTRAM"]
    per_layer = [_layer_options(base, i, rasters[i], lanes[i] if lanes else None, rows[i] if rows else None,
                                lif_lanes[i] if lif_lanes else None) for i in range(base.n_layers)]
    for i, opts in enumerate(per_layer):
        if not len(opts.timing):
            raise NeurocalError(f"{what}: layer {i}'s LIF lanes divide none of its lane choices; "
                                f"give --lanes with --lif-lanes, or leave --lif-lanes out")
    word_set = [1] if lines else [words] if words else list(range(1, max(1, part.dma_bits // 32) + 1))
    spikes = rasters[0].sum(axis=-1)
    lut_c, ff_c = _coefficients()
    finalists: list[tuple[float, HwShape]] = []
    closest: HwShape | None = None  # the most balanced build that does not fit (what a refusal quotes)
    for w in word_set:
        # (events, T): the input stage's cycles per tick (the line receiver: a raster per cycle)
        rx = np.ones(spikes.shape) if lines else np.maximum(1.0, (spikes + 1) / w)
        rx_speed = float(rx.mean())
        speeds = [o.speed(np.pad(rx, ((0, 0), (0, r.shape[1] - rx.shape[1])), constant_values=1.0))
                  for o, r in zip(per_layer, rasters, strict=False)]
        core = core_features(base.sizes, w, base.fifo_log2)
        fixed = np.array([sum(lut_c.get(k, 0.0) * v for k, v in core.items()),
                          sum(ff_c.get(k, 0.0) * v for k, v in core.items()), 0.0, 0.0])
        every = np.unique(np.concatenate([*speeds, np.array([rx_speed])]))
        bounds = every[every >= rx_speed]
        # the smallest bound that fits: more time per tick only adds candidates, so bisect
        lo, hi, found = 0, len(bounds) - 1, None
        while lo <= hi:
            mid = (lo + hi) // 2
            chosen = _choose(per_layer, speeds, float(bounds[mid]), fixed, lim, lutram)
            if chosen is not None and chosen[1]:
                found, hi = mid, mid - 1
            else:
                lo = mid + 1
        if found is not None:
            # the bound is an estimate: the next few builds go to the cycle model too
            for at in range(found, min(found + FINALISTS_PER_WORDS, len(bounds))):
                chosen = _choose(per_layer, speeds, float(bounds[at]), fixed, lim, lutram)
                if chosen is not None and chosen[1]:
                    finalists.append((float(bounds[at]), _build(base, chosen[0], w, part.profile_id)))
                    if at == found:
                        faster = _spend(per_layer, speeds, chosen[0], fixed, lim, lutram)
                        finalists.append((float(bounds[at]), _build(base, faster, w, part.profile_id)))
        elif closest is None:
            chosen = _choose(per_layer, speeds, math.inf, fixed, lim, lutram)
            if chosen is not None:
                closest = _build(base, chosen[0], w, part.profile_id)
    finalists = [(b, s) for b, s in finalists if not violations(s, part)]
    if not finalists:
        over = violations(closest, part) if closest is not None else []
        where = f" (lanes {_dash(closest.lanes)}, LIF lanes {_dash(closest.lif_lanes)}, banks {_dash(closest.rows)})" \
            if closest is not None else ""
        raise NeurocalError(f"{what} does not fit the {part.name} ({part.part}) within its limits; its closest "
                            f"build{where}: " + "; ".join(over or ["within the model's limits only by a margin the "
                                                                  "fitter could not find"]))
    finalists.sort(key=lambda x: x[0])
    scored = []
    for _, shape in list(dict.fromkeys(finalists))[:MAX_FINALISTS]:
        cycles = predict_cycles(shape, rasters[:-1], rasters[-1], serial=True).cycles
        res, _ = estimate_parts(shape)
        share = {r: res[r] / part.resources[r] for r in RESOURCES}
        scored.append(Fit(shape, res, share, float(cycles.mean()), int(cycles.max()), part.name))
    # the fewest cycles; within TIE of them the rx as wide as the DMA (a narrower one only where it buys a fit or
    # speed), then the smallest largest share of the part
    fastest = min(f.cycles_mean for f in scored)
    return min((f for f in scored if f.cycles_mean <= fastest * (1 + TIE)),
               key=lambda f: (-f.shape.words, max(f.share.values())))


def check_shape(shape: HwShape, part: Profile, what: str = "build") -> None:
    """Refuse ``shape`` (explicit knobs) when its estimate exceeds ``part``'s fit limits, with the numbers."""
    over = violations(shape, part)
    if over:
        raise NeurocalError(f"{what} (lanes {_dash(shape.lanes)}, banks {_dash(shape.rows)}, {shape.words} words) "
                            f"does not fit the {part.name}: " + "; ".join(over))


def fit_network(net: IntNetwork, part: Profile, *, lanes: int | Sequence[int] | None = None,
                rows: int | Sequence[int] | None = None, words: int | None = None,
                lif_lanes: int | Sequence[int] | None = None, writable: bool = True, debug: bool = False,
                input_kind: str = "aer", line_k: int | None = None, line_ticks: int | None = None) -> Fit:
    """:func:`fit` for ``net`` with the CLI's knobs (None: the fitter chooses; an int: every layer; a list:
    per layer), which are kept and checked; ``input_kind``, ``line_k``, ``line_ticks`` as in
    :class:`~neurocal.hw.generate.HwConfig` (None: its defaults)."""
    from neurocal.hw.generate import DEFAULT_LINE_K, DEFAULT_LINE_TICKS, _lanes, _lif_lanes, _rows, shape_for

    fixed_lanes = None if lanes is None else _lanes(net, lanes, max(net.layers[i].n_out for i in range(net.n_layers)))
    fixed_rows = None if rows is None else _rows(net, rows, MAX_ROWS)
    fixed_lif = _lif_lanes(net, lif_lanes) or None
    base = shape_for(net, fixed_lanes, rows=fixed_rows, words=words or 1, writable=writable, debug=debug,
                     lif_lanes=fixed_lif if fixed_lanes else None, input=input_kind,
                     line_k=DEFAULT_LINE_K if line_k is None else line_k,
                     line_ticks=DEFAULT_LINE_TICKS if line_ticks is None else line_ticks)
    given = [f"--{k} {_dash(v) if isinstance(v, tuple) else v}" for k, v in
             (("lanes", fixed_lanes), ("rows", fixed_rows), ("words", words), ("lif-lanes", fixed_lif)) if v]
    what = f"{net.source}: network {_dash(base.sizes)}" + (f" with {' '.join(given)}" if given else "")
    return fit(base, part, lanes=fixed_lanes, rows=fixed_rows, words=words, lif_lanes=fixed_lif, what=what)


class ResourceCostModel:
    """The resource model as a :class:`neurocal.costmodels.CostModel` (entry point ``resources``): whether a network
    of given sizes fits the profile's part within its limits (the fitter, or the knobs of the hardware choice as
    given), and the fitted build's LUT/FF/BRAM36/DSP in % of the part."""

    name = "resources"
    objectives = ("lut_pct", "ff_pct", "bram36_pct", "dsp_pct")

    @staticmethod
    def _fit(base: HwShape, hardware: Any, what: str) -> Fit:
        from neurocal.profiles import profile

        return fit(base, profile(hardware.profile), lanes=hardware.lanes, rows=hardware.rows, words=hardware.words,
                   what=what)

    def check(self, sizes: tuple[int, ...], hardware: Any) -> str | None:
        from neurocal.hw.generate import shape_for_any

        sizes = tuple(int(n) for n in sizes)
        base = shape_for_any(sizes, hardware.lanes or tuple(sizes[1:]), rows=hardware.rows)
        try:
            self._fit(base, hardware, f"network {_dash(sizes)}")
        except NeurocalError as err:
            return str(err)
        return None

    def cost(self, net: IntNetwork, spikes: np.ndarray, reference: Any, hardware: Any) -> Any:
        from neurocal.costmodels import Cost
        from neurocal.hw.generate import shape_for

        base = shape_for(net, hardware.lanes, rows=hardware.rows, words=hardware.words or 1)
        chosen = self._fit(base, hardware, f"{net.source}: network {_dash(base.sizes)}")
        return Cost(objectives={f"{r.lower()}_pct": 100.0 * chosen.share[r] for r in RESOURCES},
                    info=chosen.to_dict())
