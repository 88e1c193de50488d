"""Golden model: the integer network of DESIGN §2 simulated in numpy, bit for bit as Lava runs it.

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
  ``spiking = False`` never fires (Lava: ``vth = 2^17``, above any clipped v).

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
from neurocal.intnet import ACT_SHIFT, DECAY_UNITY, UV_LIMIT, V_MAX, IntLayer, IntNetwork

_TWO_UV = np.int32(2 * UV_LIMIT)
_UV = np.int32(UV_LIMIT)
_VMAX = np.int32(V_MAX)
_PORT16 = 1 << 15


@dataclass
class GoldenResult:
    """Per layer: spikes (events, T+L, n) bool, final v and u (events, n) int32; ops (events, L)."""

    spikes: list[np.ndarray]
    v_final: list[np.ndarray]
    u_final: list[np.ndarray]
    ops: dict[str, np.ndarray]
    stats: list[dict[str, int]] | None = None


def _trunc_decay(x: np.ndarray, factor: int) -> np.ndarray:
    """int32(sign(x·f)·(|x·f| >> 12)) computed in int64, as Lava does."""
    prod = x.astype(np.int64) * factor
    return (np.sign(prod) * (np.abs(prod) >> 12)).astype(np.int32)


def synaptic_input(pre: np.ndarray, layer: IntLayer) -> np.ndarray:
    """Dense output for presynaptic spikes ``pre`` (events, ticks, n_in) bool → int32 (events, ticks, n_out).

    Not delayed here; the caller shifts by one tick.
    """
    n_ev, n_t, n_in = pre.shape
    w = layer.weights
    # Float BLAS is exact while every partial sum fits the mantissa (24 bits float32, 53 bits float64).
    exact32 = int(np.abs(w).sum(axis=1).max(initial=0)) < (1 << 24)
    dtype = np.float32 if exact32 else np.float64
    wt = w.T.astype(dtype)
    out = np.empty((n_ev, n_t, layer.n_out), dtype=np.int32)
    flat_pre = pre.reshape(n_ev * n_t, n_in)
    flat_out = out.reshape(n_ev * n_t, layer.n_out)
    block = max(1, (1 << 22) // max(n_in, 1))  # bound the float copy of the spikes to ~16 MB
    for start in range(0, flat_pre.shape[0], block):
        acc = (flat_pre[start : start + block].astype(dtype) @ wt).astype(np.int64)
        if layer.weight_exp >= 0:
            acc <<= layer.weight_exp
        else:
            acc >>= -layer.weight_exp
        flat_out[start : start + block] = acc.astype(np.int32)  # int32 channel: C wrap
    return out


def _run_layer(
    a_in: np.ndarray, layer: IntLayer, stats: dict[str, int] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LIF over all ticks: a_in int32 (events, ticks, n) already delayed → (spikes, v_final, u_final)."""
    n_ev, n_t, n = a_in.shape
    a64 = np.left_shift(a_in, np.int32(ACT_SHIFT))  # int32, wraps as Lava's does
    u = np.zeros((n_ev, n), dtype=np.int32)
    v = np.zeros((n_ev, n), dtype=np.int32)
    spikes = np.zeros((n_ev, n_t, n), dtype=bool)
    bias = np.broadcast_to(layer.effective_bias.astype(np.int32), (n,))
    has_bias = bool(np.any(bias))
    cu = DECAY_UNITY - (layer.du + 1)  # ds_offset = 1
    cv = DECAY_UNITY - layer.dv  # dm_offset = 0
    vth6 = np.int64(layer.vth) << ACT_SHIFT
    for t in range(n_t):
        d = a64[:, t] if cu == 0 else _trunc_decay(u, cu) + a64[:, t]
        over = d > _UV
        under = d <= -_UV
        if over.any() or under.any():  # Lava's wrap, exactly: the second test looks at the wrapped value
            w = np.where(over, d - _TWO_UV, d)
            u = np.where(w <= -_UV, d + _TWO_UV, w).astype(np.int32)
            if stats is not None:
                stats["u_wraps"] += int(np.count_nonzero(w != d) + np.count_nonzero(w <= -_UV))
        else:
            u = d.astype(np.int32, copy=True)
        vd = (v + u) if cv == DECAY_UNITY else _trunc_decay(v, cv) + u  # dv = 0: v·4096 >> 12 = v
        if has_bias:
            vd = vd + bias
        if stats is not None:
            stats["v_clips"] += int(np.count_nonzero((vd > _VMAX) | (vd < -_VMAX)))
            stats["peak_v"] = max(stats["peak_v"], int(np.abs(vd.astype(np.int64)).max(initial=0)))
            stats["peak_u"] = max(stats["peak_u"], int(np.abs(u.astype(np.int64)).max(initial=0)))
        v = np.clip(vd, -_VMAX, _VMAX).astype(np.int32)
        if layer.spiking:
            fired = v > vth6
            spikes[:, t] = fired
            v[fired] = 0
    if stats is not None:
        peak_a = np.abs(a_in.astype(np.int64)).max(initial=0)
        stats["peak_a_in"] = max(stats["peak_a_in"], int(peak_a))
        stats["a_in_over_16bit"] += int(np.count_nonzero((a_in >= _PORT16) | (a_in < -_PORT16)))
    return spikes, v, u


def simulate(net: IntNetwork, spikes: np.ndarray, *, stats: bool = False, chunk: int = 1024) -> GoldenResult:
    """Run ``net`` on boolean input spikes (events, ticks, n_in); each event from zero state.

    ``stats`` also measures headroom (peak |u|, |v|, |a_in|, wraps, clips) per layer.
    """
    spikes = np.asarray(spikes)
    if spikes.ndim != 3 or spikes.shape[2] != net.n_inputs:
        raise NeurocalError(f"input spikes must be (events, ticks, {net.n_inputs}), got {spikes.shape}")
    spikes = spikes.astype(bool, copy=False)
    n_ev, n_t, _ = spikes.shape
    n_layers = net.n_layers
    total = n_t + n_layers
    layer_stats = (
        [dict(peak_u=0, peak_v=0, peak_a_in=0, u_wraps=0, v_clips=0, a_in_over_16bit=0) for _ in net.layers]
        if stats else None
    )
    out_spikes = [np.zeros((n_ev, total, layer.n_out), dtype=bool) for layer in net.layers]
    v_final = [np.zeros((n_ev, layer.n_out), dtype=np.int32) for layer in net.layers]
    u_final = [np.zeros((n_ev, layer.n_out), dtype=np.int32) for layer in net.layers]
    for start in range(0, n_ev, chunk):
        stop = min(n_ev, start + chunk)
        pre = np.zeros((stop - start, total, net.n_inputs), dtype=bool)
        pre[:, :n_t] = spikes[start:stop]
        for i, layer in enumerate(net.layers):
            a_in = np.zeros((stop - start, total, layer.n_out), dtype=np.int32)
            a_in[:, 1:] = synaptic_input(pre[:, : total - 1], layer)  # one tick of Dense delay
            s, v, u = _run_layer(a_in, layer, layer_stats[i] if layer_stats else None)
            out_spikes[i][start:stop], v_final[i][start:stop], u_final[i][start:stop] = s, v, u
            pre = s
    counts = np.stack([s.sum(axis=(1, 2)) for s in out_spikes], axis=1).astype(np.int64)
    pre_counts = np.concatenate([spikes.sum(axis=(1, 2))[:, None].astype(np.int64), counts[:, :-1]], axis=1)
    fan_out = np.array([layer.n_out for layer in net.layers], dtype=np.int64)
    ops = {
        "synops": pre_counts * fan_out,  # dense: every presynaptic spike touches every output
        "neuron_updates": np.broadcast_to(fan_out * total, (n_ev, n_layers)).copy(),
        "spikes": counts,
    }
    return GoldenResult(spikes=out_spikes, v_final=v_final, u_final=u_final, ops=ops, stats=layer_stats)


class GoldenBackend:
    """The golden model as a backend (``neurocal run --backend golden``)."""

    name = "golden"

    def __init__(self, chunk: int = 1024, **_: Any) -> None:
        self.chunk = chunk

    def run(self, net: IntNetwork, spikes: np.ndarray) -> BackendResult:
        t0 = time.perf_counter()
        res = simulate(net, spikes, chunk=self.chunk)
        seconds = time.perf_counter() - t0
        return BackendResult(
            backend=self.name,
            output_spikes=res.spikes[-1],
            v_final=list(res.v_final),
            u_final=list(res.u_final),
            layer_spikes=list(res.spikes),
            ops=res.ops,
            seconds=seconds,
        )
