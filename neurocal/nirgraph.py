"""NIR graphs as neurocal reads them: a feed-forward chain of synapse → neuron layers.

Every consumer of a ``.nir`` file (the torch importer in ``neurocal.models``, the quantiser that
builds the integer network) goes through :func:`read_chain`, so a graph is understood one way.

NIR states neurons in continuous time. With the graph's time step ``dt`` (neurocal writes it in
the graph metadata; snnTorch's exporter hard-codes 1e-4) a layer becomes, per tick t::

    i[t] = alpha * i[t-1] + W @ s[t] + bias        (alpha = 0: the current carries no memory)
    v[t] = beta * v[t-1] + i[t]
    spike when v[t] > threshold, then v[t] = 0

with the NIR input gains (``r``, ``w_in``) and any leak potential folded into ``W`` and ``bias``:

* ``LIF``:     beta = 1 - dt/tau, gain = dt*r/tau, bias += (dt/tau)*v_leak
* ``CubaLIF``: alpha = 1 - dt/tau_syn, beta = 1 - dt/tau_mem, gain = (dt*w_in/tau_syn)*(dt*r/tau_mem)
* ``IF``:      beta = 1, gain = dt*r
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from neurocal.errors import NeurocalError

DEFAULT_DT = 1e-4  # snnTorch's export_to_nir hard-codes this time step
METADATA_KEY = "neurocal"

NeuronKind = Literal["LIF", "CubaLIF", "IF"]
Readout = Literal["membrane", "spikes"]

SYNAPSE_TYPES = ("Affine", "Linear")
NEURON_TYPES = ("LIF", "CubaLIF", "IF")


@dataclass
class ChainLayer:
    """One synapse → neuron layer in discrete time (see the module docstring)."""

    synapse_name: str
    neuron_name: str
    kind: NeuronKind
    weight: np.ndarray  # (out, in), gains folded in
    bias: np.ndarray  # (out,)
    alpha: np.ndarray  # (out,) current decay per tick; 0 for LIF and IF
    beta: np.ndarray  # (out,) voltage decay per tick
    threshold: np.ndarray  # (out,)

    @property
    def n_in(self) -> int:
        return int(self.weight.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.weight.shape[0])


@dataclass
class Chain:
    """A feed-forward spiking network read from NIR."""

    n_inputs: int
    layers: list[ChainLayer]
    dt: float = DEFAULT_DT
    readout: Readout = "spikes"
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = "<graph>"


def plain_metadata(value: Any) -> Any:
    """Metadata as ``nir.read`` returns it (numpy arrays and scalars, bytes) → plain JSON-able Python."""
    if isinstance(value, dict):
        return {str(k): plain_metadata(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [plain_metadata(v) for v in value.tolist()] if value.ndim else plain_metadata(value.item())
    if isinstance(value, list | tuple):
        return [plain_metadata(v) for v in value]
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _vec(node_name: str, field_name: str, value: Any, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        arr = np.full(n, float(arr[0]))
    if arr.shape != (n,):
        raise NeurocalError(f"node '{node_name}': field '{field_name}' has {arr.size} values for {n} neurons")
    if not np.all(np.isfinite(arr)):
        raise NeurocalError(f"node '{node_name}': field '{field_name}' has non-finite values (NaN or inf)")
    return arr


def _neuron_params(
    name: str, node: Any, n: int, dt: float
) -> tuple[NeuronKind, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kind, alpha, beta, gain, leak_bias) of a NIR neuron node with ``n`` neurons."""
    kind = type(node).__name__
    reset = _vec(name, "v_reset", node.v_reset, n)
    if np.any(reset != 0):
        raise NeurocalError(
            f"node '{name}' ({kind}): field 'v_reset' must be 0 (neurocal resets to zero, as Loihi does)"
        )
    zeros = np.zeros(n)
    if kind == "LIF":
        tau = _vec(name, "tau", node.tau, n)
        if np.any(tau <= 0):
            raise NeurocalError(f"node '{name}' (LIF): field 'tau' must be > 0")
        r = _vec(name, "r", node.r, n)
        leak = _vec(name, "v_leak", node.v_leak, n)
        return "LIF", zeros, 1.0 - dt / tau, dt * r / tau, (dt / tau) * leak
    if kind == "CubaLIF":
        tau_syn = _vec(name, "tau_syn", node.tau_syn, n)
        tau_mem = _vec(name, "tau_mem", node.tau_mem, n)
        if np.any(tau_syn <= 0) or np.any(tau_mem <= 0):
            raise NeurocalError(f"node '{name}' (CubaLIF): fields 'tau_syn' and 'tau_mem' must be > 0")
        if np.any(_vec(name, "v_leak", node.v_leak, n) != 0):
            raise NeurocalError(f"node '{name}' (CubaLIF): field 'v_leak' must be 0")
        gain = (dt * _vec(name, "w_in", node.w_in, n) / tau_syn) * (dt * _vec(name, "r", node.r, n) / tau_mem)
        return "CubaLIF", 1.0 - dt / tau_syn, 1.0 - dt / tau_mem, gain, zeros
    if kind == "IF":
        return "IF", zeros, np.ones(n), dt * _vec(name, "r", node.r, n), zeros
    raise NeurocalError(
        f"node '{name}' has type {kind}, which neurocal does not run (supported: {', '.join(NEURON_TYPES)})"
    )


def _size_of(node: Any) -> int:
    types = node.input_type if isinstance(node.input_type, dict) else {"input": node.input_type}
    shape = np.asarray(next(iter(types.values()))).reshape(-1)
    return int(np.prod(shape))


def chain_from_graph(graph: Any, source: str = "<graph>") -> Chain:
    """Walk a NIR graph from its Input to its Output and return the layer chain."""
    import nir

    nodes: dict[str, Any] = graph.nodes
    known = (*SYNAPSE_TYPES, *NEURON_TYPES, "Input", "Output")
    for name, node in nodes.items():
        if type(node).__name__ not in known:
            raise NeurocalError(
                f"{source}: node '{name}' has type {type(node).__name__}, which neurocal does not support "
                f"(supported: {', '.join(known)})"
            )
    successors: dict[str, list[str]] = {name: [] for name in nodes}
    for src, dst in graph.edges:
        if src not in nodes or dst not in nodes:
            raise NeurocalError(f"{source}: edge ({src!r}, {dst!r}) names a node that does not exist")
        successors[src].append(dst)
    inputs = [n for n, node in nodes.items() if isinstance(node, nir.Input)]
    if len(inputs) != 1:
        raise NeurocalError(f"{source}: expected exactly one Input node, found {len(inputs)}")

    meta = plain_metadata(dict(getattr(graph, "metadata", {}) or {}).get(METADATA_KEY, {}))
    try:
        dt = float(meta.get("dt", DEFAULT_DT))
    except (TypeError, ValueError):
        dt = math.nan
    if not math.isfinite(dt) or dt <= 0:
        raise NeurocalError(
            f"{source}: metadata field 'neurocal.dt' is {meta.get('dt')!r}; the time step must be a finite number "
            f"> 0 (seconds per tick, e.g. 2e-10 for 0.2 ns): fix the graph's metadata"
        )
    readout = meta.get("readout", "spikes")
    if readout not in ("membrane", "spikes"):
        raise NeurocalError(f"{source}: metadata field 'readout' is {readout!r}; use 'membrane' or 'spikes'")

    n_inputs = _size_of(nodes[inputs[0]])
    order: list[str] = []
    current = inputs[0]
    while True:
        nxt = successors[current]
        if len(nxt) != 1:
            raise NeurocalError(
                f"{source}: node '{current}' has {len(nxt)} successors; neurocal runs feed-forward chains only"
            )
        current = nxt[0]
        if isinstance(nodes[current], nir.Output):
            break
        if current in order:
            raise NeurocalError(f"{source}: node '{current}' closes a cycle; recurrent graphs are not supported")
        order.append(current)

    layers: list[ChainLayer] = []
    width = n_inputs
    for i in range(0, len(order), 2):
        syn_name = order[i]
        syn = nodes[syn_name]
        if type(syn).__name__ not in SYNAPSE_TYPES:
            raise NeurocalError(
                f"{source}: node '{syn_name}' ({type(syn).__name__}) stands where a synapse (Affine/Linear) must"
            )
        if i + 1 >= len(order):
            raise NeurocalError(f"{source}: synapse node '{syn_name}' is not followed by a neuron node")
        neu_name = order[i + 1]
        neu = nodes[neu_name]
        if type(neu).__name__ not in NEURON_TYPES:
            raise NeurocalError(
                f"{source}: node '{neu_name}' ({type(neu).__name__}) stands where a neuron "
                f"({', '.join(NEURON_TYPES)}) must"
            )
        weight = np.asarray(syn.weight, dtype=np.float64)
        if not np.all(np.isfinite(weight)):
            raise NeurocalError(f"{source}: node '{syn_name}': field 'weight' has non-finite values (NaN or inf)")
        if weight.ndim != 2 or weight.shape[1] != width:
            raise NeurocalError(
                f"{source}: node '{syn_name}': field 'weight' has shape {weight.shape}, expected (n_out, {width})"
            )
        n = weight.shape[0]
        bias = _vec(syn_name, "bias", syn.bias, n) if isinstance(syn, nir.Affine) else np.zeros(n)
        kind, alpha, beta, gain, leak = _neuron_params(neu_name, neu, n, dt)
        threshold = _vec(neu_name, "v_threshold", neu.v_threshold, n)
        layers.append(
            ChainLayer(
                synapse_name=syn_name,
                neuron_name=neu_name,
                kind=kind,
                weight=weight * gain[:, None],
                bias=bias * gain + leak,
                alpha=alpha,
                beta=beta,
                threshold=threshold,
            )
        )
        width = n
    if not layers:
        raise NeurocalError(f"{source}: the graph has no synapse → neuron layer")
    return Chain(n_inputs=n_inputs, layers=layers, dt=dt, readout=readout, metadata=dict(meta), source=source)


def read_chain(path: str | os.PathLike[str]) -> Chain:
    """Read a ``.nir`` file into a :class:`Chain`, with errors that name the file and the node."""
    import nir

    path = Path(path)
    if not path.is_file():
        raise NeurocalError(f"{path}: no such NIR file")
    try:
        graph = nir.read(path)
    except Exception as err:  # nir raises KeyError/OSError/ValueError for malformed files
        raise NeurocalError(f"{path}: not a readable NIR file ({type(err).__name__}: {err})") from err
    return chain_from_graph(graph, source=str(path))


def first_difference(a: Chain, b: Chain) -> str | None:
    """Where two chains differ in what they compute (shape, per-tick parameters, readout, front end), or None.

    Parameters compare to float32 rounding (relative 1e-6): an imported float64 graph comes back from
    torch in float32; two exports of one checkpoint are the same floats.
    """
    if a.n_inputs != b.n_inputs or len(a.layers) != len(b.layers):
        return f"shape {a.n_inputs}-{'-'.join(str(x.n_out) for x in a.layers)} vs " \
               f"{b.n_inputs}-{'-'.join(str(x.n_out) for x in b.layers)}"
    for i, (la, lb) in enumerate(zip(a.layers, b.layers, strict=True)):
        for name in ("kind", "weight", "bias", "alpha", "beta", "threshold"):
            va, vb = getattr(la, name), getattr(lb, name)
            same = va == vb if isinstance(va, str) else (
                np.shape(va) == np.shape(vb) and np.allclose(va, vb, rtol=1e-6, atol=1e-12))
            if not same:
                return f"layer {i} {name}"
    if a.readout != b.readout:  # (dt is not compared: the decays above are per tick already)
        return "readout"
    if a.metadata.get("frontend") != b.metadata.get("frontend"):
        return "front end"
    return None
