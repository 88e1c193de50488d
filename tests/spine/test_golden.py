"""Golden model: hand-checked semantics and agreement with a literal scalar transcription of Lava's text."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocal.golden import GoldenBackend, simulate
from neurocal.intnet import IntLayer, IntNetwork
from neurocal.testnets import random_network


def _i32(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def _trunc(x: int) -> int:
    return -((-x) >> 12) if x < 0 else x >> 12


def reference(net: IntNetwork, spikes: np.ndarray) -> tuple[list[np.ndarray], list[list[int]]]:
    """One event, scalar Python ints, line by line after PyDenseModelBitAcc / PyLifModelBitAcc."""
    n_t = spikes.shape[0]
    total = n_t + net.n_layers
    pre = [[bool(x) for x in row] for row in spikes] + [[False] * net.n_inputs] * net.n_layers
    outs, v_final = [], []
    for layer in net.layers:
        u = [0] * layer.n_out
        v = [0] * layer.n_out
        bias = [int(b) << layer.bias_exp for b in layer.bias_mant]
        buf = [0] * layer.n_out
        out = np.zeros((total, layer.n_out), dtype=bool)
        for t in range(total):
            a_in = buf  # Dense sends last tick's accumulation first
            acc = [sum(int(layer.weights[j, k]) for k in range(layer.n_in) if pre[t][k]) for j in range(layer.n_out)]
            e = layer.weight_exp
            buf = [_i32(a << e if e >= 0 else a >> -e) for a in acc]
            for j in range(layer.n_out):
                d = _i32(_trunc(u[j] * (4096 - int(layer.du[j]) - 1)) + _i32(a_in[j] << 6))
                w = d - 2**24 if d > 2**23 else d
                u[j] = _i32(d + 2**24 if w <= -(2**23) else w)
                vd = _i32(_trunc(v[j] * (4096 - int(layer.dv[j]))) + u[j] + bias[j])
                v[j] = max(-(2**23 - 1), min(2**23 - 1, vd))
                if layer.spiking and v[j] > int(layer.vth[j]) << 6:
                    out[t, j] = True
                    v[j] = 0
        outs.append(out)
        v_final.append(v)
        pre = [list(row) for row in out]
    return outs, v_final


def _one_neuron(**kw) -> IntNetwork:
    params = dict(weights=[[10]], weight_exp=0, bias_mant=[0], bias_exp=0, du=4095, dv=0, vth=1000, spiking=True)
    params.update(kw)
    return IntNetwork(n_inputs=1, layers=[IntLayer(name="n", synapse="s", kind="LIF", **params)], readout="spikes")


def test_dense_delay_and_act_shift():
    spikes = np.zeros((1, 4, 1), dtype=bool)
    spikes[0, 1, 0] = True
    res = simulate(_one_neuron(), spikes)
    # input at tick 1 reaches layer 0 at tick 2: u = 10 << 6; no current memory (du = 4095)
    assert res.u_final[0][0, 0] == 0
    assert res.v_final[0][0, 0] == 640
    assert res.spikes[0].shape == (1, 5, 1)


def test_strict_threshold_and_reset():
    net = _one_neuron(weights=[[250]], vth=250, weight_exp=0)  # v reaches exactly 250 << 6: no spike
    spikes = np.zeros((1, 2, 1), dtype=bool)
    spikes[0, 0, 0] = True
    res = simulate(net, spikes)
    assert not res.spikes[0].any() and res.v_final[0][0, 0] == 250 * 64
    net = _one_neuron(weights=[[250]], vth=249)
    res = simulate(net, spikes)
    assert res.spikes[0][0, 1, 0] and res.v_final[0][0, 0] == 0


def test_negative_decay_truncates_toward_zero_and_bias_is_not_shifted():
    net = _one_neuron(weights=[[-2]], dv=2048, bias_mant=[3], bias_exp=1, vth=1000)  # inhibitory weight
    spikes = np.zeros((1, 1, 1), dtype=bool)
    spikes[0, 0, 0] = True
    res = simulate(net, spikes)
    # tick 0: v = 6 (bias 3 << 1); tick 1: v = trunc(6/2) + (-2 << 6) + 6 = 3 - 128 + 6 = -119
    assert res.v_final[0][0, 0] == -119
    net2 = _one_neuron(weights=[[-2]], dv=1, bias_mant=[0])
    spikes2 = np.zeros((1, 2, 1), dtype=bool)
    spikes2[0, 0, 0] = True
    # tick 1: -128; tick 2: trunc(-128 · 4095 / 4096) = -127 (toward zero; flooring would give -128)
    assert simulate(net2, spikes2).v_final[0][0, 0] == -127
    net3 = _one_neuron(weights=[[-2]], dv=2048, bias_mant=[0], weight_exp=-7)  # -2 >> 7 floors to -1
    assert simulate(net3, spikes).v_final[0][0, 0] == -64


def test_u_wraps_v_saturates():
    net = _one_neuron(weights=[[254]], weight_exp=7, du=0, dv=0, vth=0, spiking=False)
    spikes = np.ones((1, 3, 1), dtype=bool)
    res = simulate(net, spikes, stats=True)
    a = 254 << 7 << 6  # 2080768 per tick, u accumulates (du = 0 keeps 4095/4096)
    u = 0
    for _ in range(3):
        u = -((-(u * 4095)) >> 12) if u < 0 else (u * 4095) >> 12
        u += a
    assert res.u_final[0][0, 0] == u and u < 2**23  # not yet wrapped after 3 ticks
    long = np.ones((1, 6, 1), dtype=bool)
    res = simulate(net, long, stats=True)
    assert res.stats[0]["u_wraps"] >= 1
    assert res.stats[0]["v_clips"] >= 1
    assert abs(int(res.v_final[0][0, 0])) <= 2**23 - 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    extreme=st.booleans(),
    readout=st.sampled_from(["membrane", "spikes"]),
    groups=st.sampled_from([1, 3]),
)
def test_matches_scalar_transcription(seed: int, extreme: bool, readout: str, groups: int):
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 7)), int(rng.integers(1, 5)), int(rng.integers(1, 4))]
    net = random_network(sizes, rng, extreme=extreme, readout=readout, groups=groups)
    spikes = rng.random((3, int(rng.integers(1, 12)), sizes[0])) < rng.choice([0.1, 0.5, 1.0])
    res = simulate(net, spikes, chunk=2)  # chunking must not matter
    for e in range(spikes.shape[0]):
        outs, v_final = reference(net, spikes[e])
        for i in range(net.n_layers):
            assert np.array_equal(res.spikes[i][e], outs[i])
            assert res.v_final[i][e].tolist() == v_final[i]


def test_backend_result_and_ops(rng):
    net = random_network([20, 8, 4], rng)
    spikes = rng.random((5, 10, 20)) < 0.2
    res = GoldenBackend().run(net, spikes)
    assert res.output_spikes.shape == (5, 12, 4)
    assert not res.output_spikes.any()  # membrane readout never fires
    assert np.array_equal(res.ops["synops"][:, 0], spikes.sum(axis=(1, 2)) * 8)
    assert np.array_equal(res.ops["spikes"][:, 0], res.layer_spikes[0].sum(axis=(1, 2)))
    assert (res.ops["neuron_updates"] == [8 * 12, 4 * 12]).all()


def test_rejects_wrong_input_width(rng):
    from neurocal.errors import NeurocalError

    with pytest.raises(NeurocalError, match="input spikes"):
        simulate(random_network([20, 4], rng), np.zeros((1, 5, 19), dtype=bool))


def test_per_neuron_parameters_act_per_neuron():
    """Two neurons with the same input but different dv and vth: each follows its own parameters."""
    net = IntNetwork(n_inputs=1, readout="spikes", layers=[IntLayer(
        name="n", synapse="s", kind="LIF", weights=[[10], [10]], weight_exp=0, bias_mant=[0, 0], bias_exp=0,
        du=4095, dv=[0, 2048], vth=[1000, 5], spiking=True)])
    res = simulate(net, np.ones((1, 3, 1), dtype=bool), trace=True)
    v = res.trace[0]["v"][0]  # (ticks, neurons)
    assert v[1:4, 0].tolist() == [640, 1280, 1920]  # no leak, vth 1000 << 6 = 64000 not reached
    assert res.spikes[0][0, 1:4, 1].all()  # 640 > 5 << 6 = 320: fires every tick, reset to 0
    assert v[1:4, 1].tolist() == [0, 0, 0]


def test_trace_equals_the_final_state_and_forces_the_exact_path(rng):
    net = random_network([12, 6, 3], rng, groups=3)
    spikes = rng.random((4, 9, 12)) < 0.3
    plain = simulate(net, spikes)
    traced = simulate(net, spikes, trace=True, chunk=3)
    for i in range(net.n_layers):
        assert np.array_equal(traced.spikes[i], plain.spikes[i])
        assert np.array_equal(traced.trace[i]["v"][:, -1], plain.v_final[i])
        assert np.array_equal(traced.trace[i]["u"][:, -1], plain.u_final[i])


def test_an_event_of_zero_ticks_runs_the_flush_ticks_only(rng):
    """The AER format allows an event with no tick (an end-of-event word alone): L flush ticks, bias only."""
    net = random_network([6, 4, 3], rng, readout="spikes")
    net.layers[0].bias_mant[:] = 900  # something happens in the flush ticks
    res = simulate(net, np.zeros((2, 0, 6), dtype=bool))
    assert res.spikes[-1].shape == (2, 2, 3) and res.v_final[0].shape == (2, 4)
    outs, v_final = reference(net, np.zeros((0, 6), dtype=bool))
    for i in range(net.n_layers):
        assert np.array_equal(res.spikes[i][0], outs[i]) and res.v_final[i][0].tolist() == v_final[i]
    assert np.any(res.v_final[0] != 0) or res.spikes[0].any()
