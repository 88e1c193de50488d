"""Test vectors for one LIF update, computed by the golden model's own exact rule (``_run_exact``).

Trajectories start from zero state, as every event does; the input sequences are chosen so that the
states they reach cover the corners: u near and beyond ±2^23 (wraps), v clipped, int32 extremes of
``a << 6``, du/dv at 0/1/4094/4095, vth at 0/1/max, extreme biases, non-spiking layers.
"""

from __future__ import annotations

import numpy as np

from neurocal.golden import _run_exact
from neurocal.intnet import BIAS_MANT_MAX, VTH_MAX, IntLayer

_A_CORNERS = np.array(
    [0, 64, -64, (1 << 31) - 64, -(1 << 31), 1 << 23, -(1 << 23), (1 << 23) - 64, -(1 << 23) + 64,
     1 << 24, -(1 << 24), (1 << 24) + (1 << 23), 1 << 30, -(1 << 30)], dtype=np.int64,
)


def _pick(rng: np.random.Generator, lo: int, hi: int, corners: list[int]) -> int:
    return int(rng.choice(corners)) if rng.random() < 0.5 else int(rng.integers(lo, hi + 1))


def _inputs(rng: np.random.Generator, ticks: int, n: int, a_limit: int) -> np.ndarray:
    """a << 6 sequences (ticks, n), multiples of 64 like the synapse makes them, |a64| ≤ a_limit."""
    mode = rng.integers(0, 4, size=n)
    small = rng.integers(-(1 << 18), 1 << 18, size=(ticks, n)) * 64
    wide = rng.integers(-(1 << 31), 1 << 31, size=(ticks, n)) & ~63
    corner = rng.choice(_A_CORNERS, size=(ticks, n))
    quiet = np.where(rng.random((ticks, n)) < 0.6, 0, small)  # decays and bias alone, as in silent ticks
    a = np.select([mode == 0, mode == 1, mode == 2], [small, wide, corner], quiet)
    return (np.clip(a, -a_limit, a_limit) // 64 * 64).astype(np.int64)


def lif_vectors(rng: np.random.Generator, *, groups: int = 24, neurons: int = 8, ticks: int = 12,
                u_bits: int = 32) -> dict[str, np.ndarray]:
    """Vectors (state before, a64, parameters → u, v, spike after) for ``groups`` parameter sets.

    ``u_bits < 32`` limits |a << 6| to 2^23 so that |u| ≤ 2^23 fits the narrower register.
    """
    a_limit = (1 << 31) if u_bits >= 32 else (1 << 23)
    rows: dict[str, list[np.ndarray]] = {k: [] for k in (
        "a_in", "u_in", "v_in", "du", "dv", "vth", "bias", "spiking", "u_out", "v_out", "spike", "trajectory", "tick")}
    for g in range(groups):
        # per-neuron du, dv, vth (corners or uniform draws), one spiking flag and bias exponent per layer
        layer = IntLayer(
            name="lif", synapse="fc", kind="LIF", weights=np.zeros((neurons, 1), dtype=np.int32), weight_exp=0,
            bias_mant=np.where(rng.random(neurons) < 0.5, rng.integers(-BIAS_MANT_MAX - 1, BIAS_MANT_MAX + 1, neurons),
                               rng.choice([0, -BIAS_MANT_MAX - 1, BIAS_MANT_MAX], neurons)),
            bias_exp=_pick(rng, 0, 7, [0, 7]),
            du=[_pick(rng, 0, 4095, [0, 1, 4094, 4095]) for _ in range(neurons)],
            dv=[_pick(rng, 0, 4095, [0, 1, 4094, 4095]) for _ in range(neurons)],
            vth=[_pick(rng, 0, VTH_MAX, [0, 1, 2048, VTH_MAX]) for _ in range(neurons)],
            spiking=bool(rng.random() < 0.8),
        )
        a64 = _inputs(rng, ticks, neurons, a_limit)[:, None, :].astype(np.int32)
        total = ticks + 1
        trace = {"u": np.zeros((total, 1, neurons), np.int32), "v": np.zeros((total, 1, neurons), np.int32)}
        spikes, _, _ = _run_exact(a64, layer, total, None, trace)
        u_after, v_after = trace["u"][:, 0].astype(np.int64), trace["v"][:, 0].astype(np.int64)
        zero = np.zeros((1, neurons), dtype=np.int64)
        columns = {
            "a_in": np.concatenate([zero, a64[:, 0].astype(np.int64)]),  # tick 0 has no input
            "u_in": np.concatenate([zero, u_after[:-1]]), "v_in": np.concatenate([zero, v_after[:-1]]),
            "u_out": u_after, "v_out": v_after, "spike": spikes[:, 0].astype(np.int64),
            "du": np.broadcast_to(layer.du, (total, neurons)), "dv": np.broadcast_to(layer.dv, (total, neurons)),
            "vth": np.broadcast_to(layer.vth, (total, neurons)),
            "bias": np.broadcast_to(layer.effective_bias, (total, neurons)),
            "spiking": np.full((total, neurons), int(layer.spiking)),
            "trajectory": np.broadcast_to(g * neurons + np.arange(neurons), (total, neurons)),
            "tick": np.broadcast_to(np.arange(total)[:, None], (total, neurons)),
        }
        for key, value in columns.items():
            rows[key].append(np.asarray(value, dtype=np.int64).reshape(-1))
    out = {k: np.concatenate(v) for k, v in rows.items()}
    if u_bits < 32:
        lo, hi = -(1 << (u_bits - 1)), (1 << (u_bits - 1)) - 1
        assert np.all((out["u_out"] >= lo) & (out["u_out"] <= hi)), "vectors leave the narrow u register"
    return out
