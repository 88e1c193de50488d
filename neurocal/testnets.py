"""Small networks for tests, benchmarks and demos: a NIR graph builder and random integer networks.

Trained networks come from ``neurocal.models``; nothing in the spine imports this module (``nir``
is imported only when a graph is built).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from neurocal.intnet import BIAS_MANT_MAX, VTH_MAX, IntLayer, IntNetwork, lava_dense_weights


def lif_graph(
    weights: list[np.ndarray],
    *,
    beta: float | np.ndarray | list[float | np.ndarray] = 0.9,
    threshold: float | np.ndarray | list[float | np.ndarray] = 1.0,
    biases: list[np.ndarray] | None = None,
    readout: str = "membrane",
    dt: float = 1e-4,
    alpha: float | np.ndarray | list[float | np.ndarray] | None = None,
) -> Any:
    """A NIR graph Affine → LIF → … as snnTorch's exporter writes it (tau = dt/(1−β), r = tau/dt).

    ``beta``, ``threshold`` (and ``alpha``) are a scalar, or per layer a scalar or a per-neuron array.
    With ``alpha`` the neurons are ``CubaLIF`` (tau_syn = dt/(1−α), w_in = tau_syn/dt, so the input
    gain is 1 and the Affine bias enters the current, as NIR defines it). For tests, benchmarks and
    demos; trained networks come from ``neurocal.models``.
    """
    import nir

    def per_layer(value: Any) -> list[Any]:
        return list(value) if isinstance(value, list) else [value] * len(weights)

    betas, thresholds = per_layer(beta), per_layer(threshold)
    alphas = per_layer(alpha) if alpha is not None else None
    nodes: dict[str, Any] = {"input": nir.Input(input_type=np.array([weights[0].shape[1]]))}
    edges = []
    prev = "input"
    for i, w in enumerate(weights):
        n_out = w.shape[0]

        def vec(value: Any, n: int = n_out) -> np.ndarray:
            return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()

        b = biases[i] if biases is not None else np.zeros(n_out)
        beta_i = vec(betas[i])
        tau = np.where(beta_i < 1.0, dt / np.maximum(1.0 - beta_i, 1e-300), np.inf)
        nodes[f"fc{i}"] = nir.Affine(weight=np.asarray(w, dtype=np.float64), bias=np.asarray(b, dtype=np.float64))
        if alphas is None:
            nodes[f"lif{i}"] = nir.LIF(tau=tau, r=tau / dt, v_leak=np.zeros(n_out), v_threshold=vec(thresholds[i]),
                                       v_reset=np.zeros(n_out))
        else:
            tau_syn = dt / (1.0 - vec(alphas[i]))
            nodes[f"lif{i}"] = nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau, r=tau / dt, v_leak=np.zeros(n_out),
                                           v_threshold=vec(thresholds[i]), v_reset=np.zeros(n_out),
                                           w_in=tau_syn / dt)
        edges += [(prev, f"fc{i}"), (f"fc{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["output"] = nir.Output(output_type=np.array([weights[-1].shape[0]]))
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"neurocal": {"dt": dt, "readout": readout}})


def random_network(
    sizes: list[int],
    rng: np.random.Generator,
    *,
    extreme: bool = False,
    readout: str = "membrane",
    groups: int = 1,
) -> IntNetwork:
    """A random valid :class:`IntNetwork` (no quantiser): for backend bit-exactness tests.

    ``extreme`` draws du/dv at 0 and 4095, saturating weights and exponents, large biases and
    tiny thresholds so that u wraps and v clips. ``groups`` > 1 gives each layer up to that many
    distinct per-neuron ``(du, dv, vth)`` sets, assigned to neurons at random.
    """
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        spiking = not (readout == "membrane" and i == len(sizes) - 2)
        mode = rng.choice(["mixed", "excitatory", "inhibitory"], p=[0.6, 0.25, 0.15])
        if extreme and rng.random() < 0.5:
            w = rng.choice([-256, -254, -2, 0, 2, 254], size=(n_out, n_in))  # saturating mantissas
        else:
            w = rng.integers(-256, 256, size=(n_out, n_in))
        if mode == "excitatory":
            w = np.abs(w).clip(0, 255)
        elif mode == "inhibitory":
            w = -np.abs(w).clip(0, 255)
        w = lava_dense_weights(w)

        def pick(lo: int, hi: int, edge: list[int]) -> int:
            return int(rng.choice(edge)) if extreme and rng.random() < 0.6 else int(rng.integers(lo, hi + 1))

        def per_neuron(lo: int, hi: int, edge: list[int], n: int = n_out) -> np.ndarray:
            choices = np.array([pick(lo, hi, edge) for _ in range(groups)])
            return choices[rng.integers(0, groups, size=n)]

        layers.append(
            IntLayer(
                name=f"lif{i}", synapse=f"fc{i}", kind="LIF", weights=w,
                weight_exp=pick(-3, 3, [-8, 0, 7]),
                bias_mant=rng.integers(-BIAS_MANT_MAX - 1, BIAS_MANT_MAX + 1, size=n_out) * (rng.random(n_out) < 0.3),
                bias_exp=pick(0, 3, [0, 7]),
                du=per_neuron(0, 4095, [0, 1, 4094, 4095]),
                dv=per_neuron(0, 4095, [0, 1, 4094, 4095]),
                vth=per_neuron(1, 4000, [0, 1, VTH_MAX]),
                spiking=spiking,
                scale=1.0,
                weight_step=1.0,
            )
        )
    return IntNetwork(n_inputs=sizes[0], layers=layers, readout=readout, source="<random>")


def corner_networks() -> list[tuple[str, IntNetwork, np.ndarray]]:
    """Fixed networks with inputs that reach the contract's edges; every backend test should run them.

    Each entry is (what it exercises, network, input spikes (events, ticks, n_in)):

    * ``u_to_minus_2^23``: four inputs × −256 × 2^7 drive ``a = −2^17`` (beyond the 16-bit port), so
      ``a << 6 = −2^23`` and Lava's wrap turns ``u = −2^23`` into ``+2^23``; a mixed layer whose
      all-negative row would be clipped to −255 if its rows ran alone (inhibitory mode);
    * ``vth_zero_weight_exp_-8``: a threshold of 0 (fires on any positive v) under ``weight_exp = −8``,
      the floor of a negative sum;
    * ``decays_0_and_4095``: ``du``/``dv`` at 0 and 4095 in one layer (four parameter groups);
    * ``readout_saturates``: ``spiking = false`` with a bias that pins ``v`` at 2^23 − 1 — a backend that
      used a threshold instead of the flag would fire.
    """
    nets = []
    full = np.ones((2, 6, 4), dtype=bool)
    full[1, ::2] = False
    w = np.array([[-256, -256, -256, -256], [2, 0, 0, 0]])
    nets.append(("u_to_minus_2^23", IntNetwork(n_inputs=4, readout="membrane", source="<corner>", layers=[
        IntLayer(name="l0", synapse="s0", kind="LIF", weights=w, weight_exp=7, bias_mant=[0, 0], bias_exp=0,
                 du=[4095, 0], dv=[0, 4095], vth=[VTH_MAX, 1], spiking=False),
    ]), full))
    rng = np.random.default_rng(0)
    w0 = rng.choice([-256, -2, 0, 2, 254], size=(5, 4))
    w0[0] = [-256, -256, 0, -2]
    nets.append(("vth_zero_weight_exp_-8", IntNetwork(n_inputs=4, readout="spikes", source="<corner>", layers=[
        IntLayer(name="l0", synapse="s0", kind="LIF", weights=lava_dense_weights(w0), weight_exp=-8,
                 bias_mant=[0, 1, -1, 0, 3], bias_exp=0, du=4095, dv=[0, 0, 4095, 4095, 0], vth=[0, 0, 0, 1, 2]),
        IntLayer(name="l1", synapse="s1", kind="LIF", weights=[[254, -256, 2, 0, 2]], weight_exp=7,
                 bias_mant=[0], bias_exp=0, du=0, dv=0, vth=0),
    ]), rng.random((3, 8, 4)) < 0.6))
    nets.append(("decays_0_and_4095", IntNetwork(n_inputs=3, readout="spikes", source="<corner>", layers=[
        IntLayer(name="l0", synapse="s0", kind="LIF", weights=[[200, 100, -50], [254, 0, 0], [2, 2, 2], [100, 0, 0]],
                 weight_exp=3, bias_mant=[0, -4096, 4095, 7], bias_exp=0, du=[0, 4095, 0, 4095],
                 dv=[0, 0, 4095, 4095], vth=[5000, 100, 1, 131071]),
    ]), rng.random((3, 10, 3)) < 0.5))
    nets.append(("readout_saturates", IntNetwork(n_inputs=2, readout="membrane", source="<corner>", layers=[
        IntLayer(name="l0", synapse="s0", kind="LIF", weights=[[254, 254], [-2, 2]], weight_exp=7,
                 bias_mant=[4095, -4096], bias_exp=7, du=0, dv=0, vth=0, spiking=False),
    ]), np.ones((2, 12, 2), dtype=bool)))
    return nets
