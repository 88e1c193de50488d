"""Golden model: the integer network of docs/design.md §2 simulated in numpy, bit for bit as Lava runs it.

Semantics (each choice copies lava-nc 0.10.0 ``PyDenseModelBitAcc``/``PyLifModelBitAcc``):

* **Dense**: ``a = Σ w`` over the inputs that spiked (int64 sum), then ``<< weight_exp``
  (``>>``, i.e. floor, if negative), stored as int32 (Lava's channel is int32; it wraps there).
  The Dense buffers its result one tick: layer ``l`` (0-based) answers input tick ``t`` at
  tick ``t + l + 1``; an event of T ticks runs ``T + L`` ticks; every event starts from zero
  ``u``, ``v`` and an empty Dense buffer.
* **LIF input**: ``a << 6`` in int32 (wraps like numpy). Lava declares the port 16-bit but does
  not truncate it; the headroom analysis counts values beyond 16 bits instead.
* **Current**: ``d = trunc0(int64(u)·(4095 − du) / 4096)`` (truncation toward zero:
  ``sign·(|x| >> 12)``), ``d += a << 6`` in int32, then Lava's one-step wrap: where
  ``d > 2^23`` → ``d − 2^24``; then where that is ``≤ −2^23`` → ``d + 2^24`` (of the original d).
* **Voltage**: ``v = clip(trunc0(int64(v)·(4096 − dv) / 4096) + u + (bias_mant << bias_exp),
  −(2^23 − 1), 2^23 − 1)`` with int32 sums; the bias is not shifted by 6.
* **Spike**: ``v > vth << 6`` (strict), then ``v = 0`` (reset to zero, same tick). A layer with
  ``spiking = False`` never fires. ``du``, ``dv`` and ``vth`` are per-neuron arrays.

Every array is computed in the dtype Lava uses, so wraps and clips happen where Lava's happen.
The simulation is vectorised over events: each layer's synaptic input for all ticks is one
matrix product (float32/float64 BLAS, exact for these integer sizes), then a loop over ticks
updates (events × neurons) arrays.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocal.backends import BackendResult
from neurocal.errors import NeurocalError
from neurocal.intnet import ACT_SHIFT, DECAY_UNITY, INPUT_PORT, UV_LIMIT, V_MAX, IntLayer, IntNetwork

_TWO_UV = np.int32(2 * UV_LIMIT)
_UV = np.int32(UV_LIMIT)
_VMAX = np.int32(V_MAX)


@dataclass
class GoldenResult:
    """Per layer: spikes (events, T+L, n) bool, final v and u (events, n) int32; ops (events, L)."""

    spikes: list[np.ndarray]
    v_final: list[np.ndarray]
    u_final: list[np.ndarray]
    ops: dict[str, np.ndarray]
    stats: list[dict[str, int]] | None = None
    trace: list[dict[str, np.ndarray]] | None = None  # per layer "u", "v": int32 (events, T+L, n) after each tick


def _trunc_decay(x: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """int32(sign(x·f)·(|x·f| >> 12)) computed in int64, as Lava does."""
    prod = x.astype(np.int64) * factor
    return (np.sign(prod) * (np.abs(prod) >> 12)).astype(np.int32)


def synaptic_input(pre: np.ndarray, layer: IntLayer, row_counts: np.ndarray | None = None) -> np.ndarray:
    """Dense output for presynaptic spikes ``pre`` (rows, n_in) bool → int32 (rows, n_out).

    If ``row_counts`` (rows,) is given it receives each row's number of spikes, for the operation
    counts: a column of ones appended to the weights makes the product count them at no extra pass.

    ``(Σ w) << weight_exp`` (``>>`` floors for a negative exponent), wrapped to int32 like Lava's
    channel. Rows are independent (any event/tick order); the caller applies the one-tick delay.
    The sums go through float BLAS, exact while every partial sum fits the mantissa (24 bits in
    float32, 53 in float64); silent rows (most calorimeter ticks) are skipped.
    """
    w = layer.weights
    row_bound = int(np.abs(w.astype(np.int64)).sum(axis=1).max(initial=0))
    dtype = np.float32 if row_bound < (1 << 24) else np.float64
    wt = w.T.astype(dtype)
    if row_counts is not None:
        row_counts[:] = 0
        wt = np.concatenate([wt, np.ones((wt.shape[0], 1), dtype=dtype)], axis=1)  # exact: n_in < 2^24
    # int32 all the way when no shifted sum can leave int32 (then int32 and int64 agree bit for bit)
    narrow = (row_bound << max(layer.weight_exp, 0)) < (1 << 31)
    out = np.zeros((pre.shape[0], layer.n_out), dtype=np.int32)
    block = max(1, (1 << 22) // max(pre.shape[1], 1))  # bound the temporaries to a few tens of MB
    for start in range(0, pre.shape[0], block):
        part = pre[start : start + block]
        active = np.flatnonzero(part.any(axis=1))
        if not active.size:
            continue
        # Sparse inputs (calorimeter ticks are mostly silent): multiply the active rows only. Busy
        # hidden layers: the gather and scatter would cost more than the rows they skip.
        rows = slice(start, start + len(part)) if 2 * active.size > len(part) else active + start
        product = pre[rows].astype(dtype) @ wt
        if row_counts is not None:
            row_counts[rows] = product[:, -1]
            product = product[:, :-1]
        acc = product.astype(np.int32 if narrow else np.int64)
        if layer.weight_exp >= 0:
            acc <<= layer.weight_exp
        else:
            acc >>= -layer.weight_exp
        out[rows] = acc  # int64 → int32 channel: C wrap
    return out


def _fast_ok(a64: np.ndarray, layer: IntLayer) -> bool:
    """True if u can never wrap: |u| ≤ max|a << 6| · 4096 / (du + 1) < 2^23 (geometric series).

    Then |u|, |v| < 2^23 and every sum stays far inside int32 and exactly inside float64.
    """
    a_peak = max(int(a64.max()), -int(a64.min())) if a64.size else 0
    return a_peak * DECAY_UNITY < (int(layer.du.min()) + 1) * (UV_LIMIT - 1)


def _run_fast(a64: np.ndarray, layer: IntLayer, total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LIF in float64 holding exact integers (no wrap possible, see :func:`_fast_ok`); time-major.

    ``trunc(x · (c / 4096))`` equals ``sign·(|x·c| >> 12)``: x·c < 2^43 is exact in float64 and the
    division by a power of two is exact too.
    """
    width, n_ev, n = a64.shape
    fu = (DECAY_UNITY - (layer.du.astype(np.float64) + 1)) / DECAY_UNITY  # per neuron, broadcast over events
    fv = (DECAY_UNITY - layer.dv.astype(np.float64)) / DECAY_UNITY
    vth6 = (layer.vth.astype(np.int64) << ACT_SHIFT).astype(np.float64)
    if layer.uniform:  # scalars: a scalar multiply and compare are cheaper than broadcasting an (n,) row
        fu, fv, vth6 = float(fu[0]), float(fv[0]), float(vth6[0])
    no_current_memory = bool(np.all(fu == 0.0))
    no_leak = bool(np.all(fv == 1.0))
    bias = layer.effective_bias.astype(np.float64)
    has_bias = bool(np.any(bias))
    u = np.zeros((n_ev, n))
    v = np.zeros((n_ev, n))
    spikes = np.zeros((total, n_ev, n), dtype=bool)
    a_f = a64.astype(np.float64)
    zero = np.zeros((n_ev, n))
    for t in range(total):
        a = a_f[t - 1] if 1 <= t <= width else zero
        if no_current_memory:
            u = a
        else:
            u *= fu
            np.trunc(u, out=u)
            u += a
        if not no_leak:
            v *= fv
            np.trunc(v, out=v)
        v += u
        if has_bias:
            v += bias
        np.minimum(v, V_MAX, out=v)  # two ufuncs: cheaper than np.clip's Python wrapper per tick
        np.maximum(v, -V_MAX, out=v)
        if layer.spiking:
            fired = np.greater(v, vth6, out=spikes[t])
            np.putmask(v, fired, 0.0)
    return spikes, v.astype(np.int32), np.asarray(u).astype(np.int32)


def _run_exact(
    a64: np.ndarray,
    layer: IntLayer,
    total: int,
    stats: dict[str, int] | None,
    trace: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LIF in Lava's own dtypes (int32 sums, int64 decay products), time-major: wraps where Lava wraps.

    ``trace`` (optional) receives ``u`` and ``v`` after every tick, arrays (T+L, events, n).
    """
    width, n_ev, n = a64.shape
    u = np.zeros((n_ev, n), dtype=np.int32)
    v = np.zeros((n_ev, n), dtype=np.int32)
    spikes = np.zeros((total, n_ev, n), dtype=bool)
    bias = np.broadcast_to(layer.effective_bias.astype(np.int32), (n,))
    cu = DECAY_UNITY - (layer.du.astype(np.int64) + 1)  # ds_offset = 1; per neuron
    cv = DECAY_UNITY - layer.dv.astype(np.int64)  # dm_offset = 0
    vth6 = layer.vth.astype(np.int64) << ACT_SHIFT
    zero = np.zeros((n_ev, n), dtype=np.int32)
    for t in range(total):
        a = a64[t - 1] if 1 <= t <= width else zero
        d = _trunc_decay(u, cu) + a
        over = d > _UV
        w = np.where(over, d - _TWO_UV, d)
        wrapped_up = w <= -_UV  # Lava's second test looks at the first one's result
        u = np.where(wrapped_up, d + _TWO_UV, w).astype(np.int32)
        vd = _trunc_decay(v, cv) + u + bias
        if stats is not None:
            stats["u_wraps"] += int(np.count_nonzero(over | wrapped_up))
            stats["v_clips"] += int(np.count_nonzero((vd > _VMAX) | (vd < -_VMAX)))
            stats["peak_v"] = max(stats["peak_v"], int(np.abs(vd.astype(np.int64)).max(initial=0)))
            stats["peak_u"] = max(stats["peak_u"], int(np.abs(u.astype(np.int64)).max(initial=0)))
        v = np.clip(vd, -_VMAX, _VMAX).astype(np.int32)
        if layer.spiking:
            fired = np.greater(v, vth6, out=spikes[t])
            v[fired] = 0
        if trace is not None:
            trace["u"][t], trace["v"][t] = u, v
    return spikes, v, u


def _run_layer(
    a_in: np.ndarray,
    layer: IntLayer,
    total: int,
    stats: dict[str, int] | None,
    trace: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One LIF layer. ``a_in`` int32 (width, events, n): the Dense output, a_in[t − 1] drives tick t."""
    if stats is not None:
        stats["peak_a_in"] = max(stats["peak_a_in"], int(np.abs(a_in.astype(np.int64)).max(initial=0)))
        stats["a_in_over_16bit"] += int(np.count_nonzero((a_in >= INPUT_PORT) | (a_in < -INPUT_PORT)))
    a64 = np.left_shift(a_in, np.int32(ACT_SHIFT))  # int32, wraps as Lava's does
    if stats is None and trace is None and _fast_ok(a64, layer):
        return _run_fast(a64, layer, total)
    return _run_exact(a64, layer, total, stats, trace)


def simulate(
    net: IntNetwork, spikes: np.ndarray, *, stats: bool = False, trace: bool = False, chunk: int = 256
) -> GoldenResult:
    """Run ``net`` on boolean input spikes (events, ticks, n_in); each event from zero state.

    ``stats`` also measures headroom (peak |u|, |v|, |a_in|, wraps, clips) per layer; ``trace``
    records every layer's ``u`` and ``v`` after every tick (memory: events × (T+L) × neurons × 8
    bytes, meant for a few events). Events go in
    chunks of ``chunk``: 256 keeps one tick's (events × neurons) arrays in L2 cache (measured:
    10.9k events/s for 400-50-30 at 256, 9.6k at 1024, one core).
    """
    spikes = np.asarray(spikes)
    if spikes.ndim != 3 or spikes.shape[2] != net.n_inputs:
        raise NeurocalError(f"input spikes must be (events, ticks, {net.n_inputs}), got {spikes.shape}")
    spikes = spikes.astype(bool, copy=False)
    n_ev, n_t, n_in = spikes.shape
    n_layers = net.n_layers
    total = n_t + n_layers
    layer_stats = (
        [dict(peak_u=0, peak_v=0, peak_a_in=0, u_wraps=0, v_clips=0, a_in_over_16bit=0) for _ in net.layers]
        if stats else None
    )
    out_spikes = [np.zeros((n_ev, total, layer.n_out), dtype=bool) for layer in net.layers]
    v_final = [np.zeros((n_ev, layer.n_out), dtype=np.int32) for layer in net.layers]
    u_final = [np.zeros((n_ev, layer.n_out), dtype=np.int32) for layer in net.layers]
    n_input = np.zeros(n_ev, dtype=np.int64)
    traces = (
        [{q: np.zeros((total, n_ev, layer.n_out), dtype=np.int32) for q in ("u", "v")} for layer in net.layers]
        if trace else None
    )
    for start in range(0, n_ev, chunk):
        stop = min(n_ev, start + chunk)
        m = stop - start
        input_counts = np.empty(m * n_t, dtype=np.int64)
        # Time-major (tick, event, neuron) arrays keep each tick's update contiguous. The input layer
        # is multiplied event-major (rows are independent) and only its small output is transposed.
        first = synaptic_input(spikes[start:stop].reshape(m * n_t, n_in), net.layers[0], input_counts)
        a_in = np.ascontiguousarray(first.reshape(m, n_t, net.layers[0].n_out).transpose(1, 0, 2))
        prev = a_in  # replaced by each layer's spikes
        for i, layer in enumerate(net.layers):
            if i > 0:  # the previous layer's spikes of ticks 0 … total − 2 reach this layer one tick later
                pre = prev[: total - 1].reshape((total - 1) * m, net.layers[i - 1].n_out)
                a_in = synaptic_input(pre, layer).reshape(total - 1, m, layer.n_out)
            layer_trace = {q: a[:, start:stop] for q, a in traces[i].items()} if traces else None
            s, v, u = _run_layer(a_in, layer, total, layer_stats[i] if layer_stats else None, layer_trace)
            out_spikes[i][start:stop] = s.transpose(1, 0, 2)
            v_final[i][start:stop], u_final[i][start:stop] = v, u
            prev = s
        n_input[start:stop] = input_counts.reshape(m, n_t).sum(axis=1)
    counts = np.stack([np.count_nonzero(s.reshape(n_ev, -1), axis=1) for s in out_spikes], axis=1).astype(np.int64)
    ops = operation_counts(net, total, n_input, counts)
    event_major = [{q: a.transpose(1, 0, 2).copy() for q, a in t.items()} for t in traces] if traces else None
    return GoldenResult(
        spikes=out_spikes, v_final=v_final, u_final=u_final, ops=ops, stats=layer_stats, trace=event_major
    )


def operation_counts(net: IntNetwork, ticks: int, n_input: np.ndarray, layer_spikes: np.ndarray | None
                     ) -> dict[str, np.ndarray]:
    """Operation counts per event and layer, (events, L), as every backend reports them in ``BackendResult.ops``.

    ``neuron_updates`` = n_out · ticks (every neuron is updated every tick, T + L of them);
    ``synops`` = presynaptic spikes · n_out (a Dense layer: every presynaptic spike touches every output),
    the presynaptic spikes being the input spikes (``n_input``, per event) for layer 0 and layer l−1's
    spikes for layer l; ``spikes`` = each layer's spikes (``layer_spikes``). Without ``layer_spikes``
    (a backend that does not expose hidden layers) only ``neuron_updates`` is known.
    """
    n_ev = int(np.shape(n_input)[0])
    fan_out = np.array([layer.n_out for layer in net.layers], dtype=np.int64)
    ops = {"neuron_updates": np.broadcast_to(fan_out * ticks, (n_ev, net.n_layers)).copy()}
    if layer_spikes is None:
        return ops
    counts = np.asarray(layer_spikes, dtype=np.int64)
    pre_counts = np.concatenate([np.asarray(n_input, dtype=np.int64)[:, None], counts[:, :-1]], axis=1)
    ops["synops"] = pre_counts * fan_out
    ops["spikes"] = counts
    return ops


class GoldenBackend:
    """The golden model as a backend (``neurocal run --backend golden``)."""

    name = "golden"

    def __init__(self, chunk: int = 256, trace: bool = False, **_: Any) -> None:
        self.chunk = chunk
        self.trace = trace

    def run(self, net: IntNetwork, spikes: np.ndarray) -> BackendResult:
        t0 = time.perf_counter()
        res = simulate(net, spikes, chunk=self.chunk, trace=self.trace)
        seconds = time.perf_counter() - t0
        return BackendResult(
            backend=self.name,
            output_spikes=res.spikes[-1],
            v_final=list(res.v_final),
            u_final=list(res.u_final),
            layer_spikes=list(res.spikes),
            ops=res.ops,
            seconds=seconds,
            trace=res.trace,
        )
