"""Lava (Loihi 2 simulation) backend: an :class:`~neurocal.intnet.IntNetwork` run by lava-nc 0.10.0.

The network becomes ``RingBuffer`` (the events' input spikes) → ``Dense`` (bit-accurate, 8-bit
weights, ``weight_exp``) → ``LIF`` → … → ``Dense`` → ``LIF``, run with
``Loihi2SimCfg(select_tag="fixed_pt")`` — Lava's own ``PyDenseModelBitAcc``/``PyLifModelBitAcc``.
The float chain can be run the same way in ``floating_pt`` (:func:`run_chain_float`).

How many events share one Lava run, exactly like the golden model's fresh start per event:

* event ``e`` owns ticks ``[e·S, (e+1)·S)`` of the source with ``S = T + L`` (T input ticks, then
  L empty ticks that let the last input reach the output layer);
* after each event ``run(RunSteps(S))`` stops the clock, the final ``v`` and ``u`` of every LIF
  are read, then ``u``, ``v`` and the Dense buffers of layers ≥ 1 (spikes still in flight from
  the last tick) are set to zero; layer 0's buffer holds the empty last input tick already;
* spikes are recorded by a small ``SpikePacker`` process per layer that packs 48 neurons per
  float64-exact word, because Lava ships a Var to the host one element at a time (~15 µs each).

Per-neuron parameters: Lava's LIF takes one ``du``, ``dv``, ``vth`` per process, so a layer is
split into groups of neurons sharing them (:meth:`~neurocal.intnet.IntLayer.parameter_groups`):
one ``Dense`` with the group's weight rows → one ``LIF`` per group, and a small ``SpikeGather``
process puts the groups' spikes back in neuron order for the next layer (it forwards within the
tick, adding no delay). Every group's Dense computes full rows, so the sums, shifts and wraps are
those of the whole layer. A group whose rows alone would change Lava's sign mode (all ≤ 0 with a
−256, which inhibitory mode clips to −255) gets a silent pad row that keeps it mixed-sign.

The network's ``spiking = false`` flag (membrane readout) is realised here, and only here, by
``vth = 2^17``: ``vth << 6 = 2^23`` exceeds every clipped ``v``.
The whole Lava session runs in a forked child process with a timeout: a failed Lava run can hang
the interpreter, so the parent kills the child's process group if it does not answer in time.
Importing this module does not import Lava; :func:`_lava` does, after the Python 3.11 repair.
"""

from __future__ import annotations

import importlib.machinery
import math
import multiprocessing as mp
import os
import queue
import signal
import sys
import time
import traceback
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocal.backends import BackendResult
from neurocal.errors import NeurocalError
from neurocal.intnet import IntLayer, IntNetwork, identical_rows, lava_dense_weights
from neurocal.nirgraph import Chain

WORD_BITS = 48  # spikes per recorded word: exact in the float64 that Var.get ships

_LAVA: dict[str, Any] = {}
_PROC_MODULE = "neurocal_lava_procs"


def _lava() -> dict[str, Any]:
    """Import the Lava pieces once (after the 3.11 repair) and define the SpikePacker process."""
    if _LAVA:
        return _LAVA
    from neurocal.sim import lava_compat

    lava_compat.install()
    from lava.magma.core.decorator import implements, requires, tag
    from lava.magma.core.model.py.model import PyLoihiProcessModel
    from lava.magma.core.model.py.ports import PyInPort, PyOutPort
    from lava.magma.core.model.py.type import LavaPyType
    from lava.magma.core.process.ports.ports import InPort, OutPort
    from lava.magma.core.process.process import AbstractProcess
    from lava.magma.core.process.variable import Var
    from lava.magma.core.resources import CPU
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    class SpikePacker(AbstractProcess):
        """Records an (n,) spike vector per tick as ceil(n/48) integer words per tick."""

        def __init__(self, *, n: int, ticks: int) -> None:
            super().__init__(n=n, ticks=ticks)
            self.s_in = InPort(shape=(n,))
            self.packed = Var(shape=(-(-n // WORD_BITS), ticks), init=0)

    @implements(proc=SpikePacker, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("fixed_pt", "floating_pt")
    class PySpikePackerModel(PyLoihiProcessModel):
        s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
        packed: np.ndarray = LavaPyType(np.ndarray, np.int64)

        def run_spk(self) -> None:
            bits = np.asarray(self.s_in.recv()) != 0
            t = self.time_step - 1
            if t < self.packed.shape[1] and bits.any():
                for k in range(self.packed.shape[0]):
                    chunk = bits[k * WORD_BITS : (k + 1) * WORD_BITS].astype(np.int64)
                    self.packed[k, t] = int((chunk << np.arange(chunk.size, dtype=np.int64)).sum())

    _publish(SpikePacker, PySpikePackerModel)

    def gather_class(k: int) -> type:
        """A process with k spike inputs (group outputs, pad neurons included) and one output in neuron order."""
        key = f"SpikeGather{k}"
        if key in _LAVA:
            return _LAVA[key]

        def init(self: Any, *, sizes: list[int], index: list[np.ndarray], n: int) -> None:
            AbstractProcess.__init__(self, sizes=sizes, index=index, n=n)
            for j, size in enumerate(sizes):
                setattr(self, f"in{j}", InPort(shape=(size,)))
            self.s_out = OutPort(shape=(n,))

        proc = type(key, (AbstractProcess,), {"__init__": init})
        ports = {f"in{j}": LavaPyType(PyInPort.VEC_DENSE, np.int32) for j in range(k)}

        def run_spk(self: Any) -> None:
            out = np.zeros(self.proc_params["n"], dtype=np.int32)
            for j, index in enumerate(self.proc_params["index"]):
                out[index] = np.asarray(getattr(self, f"in{j}").recv())[: len(index)]
            self.s_out.send(out)

        body = {**ports, "s_out": LavaPyType(PyOutPort.VEC_DENSE, np.int32), "run_spk": run_spk,
                "__annotations__": {**dict.fromkeys(ports, PyInPort), "s_out": PyOutPort}}
        model = type(f"Py{key}Model", (PyLoihiProcessModel,), body)
        model = tag("fixed_pt", "floating_pt")(requires(CPU)(implements(proc=proc, protocol=LoihiProtocol)(model)))
        _publish(proc, model)
        _LAVA[key] = proc
        return proc

    _LAVA.update(
        RunSteps=RunSteps, Loihi2SimCfg=Loihi2SimCfg, Dense=Dense, RingBuffer=RingBuffer, LIF=LIF,
        SpikePacker=SpikePacker, PySpikePackerModel=PySpikePackerModel, gather_class=gather_class,
    )
    return _LAVA


def _publish(*classes: type) -> None:
    """Put the classes in a module of their own whose "directory" is empty.

    Lava finds a process's models in the process's module, and then also executes every ``.py``
    file beside that module's file and imports every module of its parent package — for
    ``neurocal.sim`` that would run the other stages' modules. A synthetic top-level module whose
    ``__file__`` lies in a directory that does not exist gives Lava nothing else to scan.
    """
    module = sys.modules.get(_PROC_MODULE)
    if module is None:
        module = types.ModuleType(_PROC_MODULE)
        module.__file__ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__no_such_dir__", "procs.py")
        module.__spec__ = importlib.machinery.ModuleSpec(_PROC_MODULE, None, origin=module.__file__)
    for cls in classes:
        cls.__module__ = _PROC_MODULE
        cls.__qualname__ = cls.__name__
        setattr(module, cls.__name__, cls)
    sys.modules[_PROC_MODULE] = module


def unpack_words(packed: np.ndarray, n: int) -> np.ndarray:
    """(words, ticks) packed spikes → bool (ticks, n)."""
    packed = np.asarray(packed).astype(np.int64)
    bits = (packed[:, :, None] >> np.arange(WORD_BITS, dtype=np.int64)) & 1  # (words, ticks, 48)
    return bits.transpose(1, 0, 2).reshape(packed.shape[1], -1)[:, :n].astype(bool)


LAVA_VTH_NEVER = 1 << 17  # vth << 6 = 2^23 > any clipped v: how this backend realises spiking = false


@dataclass
class _Group:
    index: np.ndarray  # the layer's neurons this group runs, in the group's order
    dense: dict[str, Any]
    lif: dict[str, Any]
    size: int  # LIF neurons, pad included


@dataclass
class _LayerSpec:
    groups: list[_Group]
    n: int


def _int_groups(layer: IntLayer) -> list[_Group]:
    groups = []
    bias = layer.bias_mant.astype(np.int32)
    for index in layer.parameter_groups():
        w = layer.weights[index].astype(np.int32)
        b = bias[index]
        if not np.array_equal(lava_dense_weights(w), w):  # the rows alone would change Lava's sign mode
            pad = np.zeros((1, w.shape[1]), dtype=np.int32)
            pad[0, 0] = 2
            w, b = np.concatenate([w, pad]), np.concatenate([b, np.zeros(1, dtype=np.int32)])
        j = int(index[0])
        vth = int(layer.vth[j]) if layer.spiking else LAVA_VTH_NEVER
        groups.append(_Group(
            index=index,
            dense=dict(weights=w, weight_exp=int(layer.weight_exp), num_weight_bits=8),
            lif=dict(shape=(w.shape[0],), du=int(layer.du[j]), dv=int(layer.dv[j]), vth=vth, bias_mant=b,
                     bias_exp=int(layer.bias_exp)),
            size=w.shape[0],
        ))
    return groups


def _int_specs(net: IntNetwork) -> list[_LayerSpec]:
    return [_LayerSpec(groups=_int_groups(layer), n=layer.n_out) for layer in net.layers]


def _float_specs(chain: Chain) -> list[_LayerSpec]:
    """The float chain for ``floating_pt``: bias b/(1−α) on v, the integer network's mapping (see quantize)."""
    specs = []
    for i, layer in enumerate(chain.layers):
        never = chain.readout == "membrane" and i == len(chain.layers) - 1
        params = np.stack([layer.alpha, layer.beta, layer.threshold], axis=1)
        groups = []
        for index in identical_rows(params):
            alpha, beta, theta = params[index[0]]
            groups.append(_Group(
                index=index,
                dense=dict(weights=layer.weight[index].astype(np.float64)),
                lif=dict(shape=(index.size,), du=1.0 - alpha, dv=1.0 - beta, vth=np.inf if never else float(theta),
                         bias_mant=(layer.bias[index] / (1.0 - layer.alpha[index])).astype(np.float64), bias_exp=0),
                size=index.size,
            ))
        specs.append(_LayerSpec(groups=groups, n=layer.n_out))
    return specs


def _session(
    specs: list[_LayerSpec], spikes: np.ndarray, tag: str, progress: bool, trace: bool, front: Any = None
) -> dict[str, Any]:
    """One Lava run over all events (in the child process). Returns numpy arrays only.

    With ``front`` the segmented ``spikes`` are the front end's input (e.g. photon counts):
    ``front.build(lv, data, seg) -> (source process, output port)`` builds the processes that turn
    them into the network's input spikes, and ``front.collect()`` reads what it recorded (see
    ``sim/photonic_lava.py``).

    With ``trace`` the clock stops after every tick to read every group's ``u`` and ``v`` (slow:
    meant for one or a few events).
    """
    lv = _lava()
    n_ev, n_t, n_in = spikes.shape
    seg = n_t + len(specs)
    data = np.zeros((n_in, n_ev * seg), dtype=np.float64 if tag == "floating_pt" else np.int32)
    for e in range(n_ev):
        data[:, e * seg : e * seg + n_t] = spikes[e].T
    if front is None:
        source = lv["RingBuffer"](data=data)
        prev = source.s_out
    else:
        source, prev = front.build(lv, data, seg)
    denses, lifs, packers = [], [], []  # denses/lifs: per layer, per group
    for spec in specs:
        layer_denses, layer_lifs = [], []
        for group in spec.groups:
            dense = lv["Dense"](**group.dense)
            lif = lv["LIF"](**group.lif)
            prev.connect(dense.s_in)
            dense.a_out.connect(lif.a_in)
            layer_denses.append(dense)
            layer_lifs.append(lif)
        only = spec.groups[0]
        if len(spec.groups) == 1 and only.size == spec.n:
            prev = layer_lifs[0].s_out  # one uniform group: the LIF's own output is the layer's
        else:
            gather = lv["gather_class"](len(spec.groups))(
                sizes=[g.size for g in spec.groups], index=[g.index for g in spec.groups], n=spec.n
            )
            for j, lif in enumerate(layer_lifs):
                lif.s_out.connect(getattr(gather, f"in{j}"))
            prev = gather.s_out
        packer = lv["SpikePacker"](n=spec.n, ticks=n_ev * seg)
        prev.connect(packer.s_in)
        denses.append(layer_denses)
        lifs.append(layer_lifs)
        packers.append(packer)
    cfg = lv["Loihi2SimCfg"](select_tag=tag)
    v_final = [np.zeros((n_ev, s.n)) for s in specs]
    u_final = [np.zeros((n_ev, s.n)) for s in specs]
    traces = [{q: np.zeros((n_ev, seg, s.n)) for q in ("u", "v")} for s in specs] if trace else None

    def read_state(into_v: list[np.ndarray], into_u: list[np.ndarray], at: tuple) -> None:
        for i, spec in enumerate(specs):
            for group, lif in zip(spec.groups, lifs[i], strict=True):
                into_v[i][(*at, group.index)] = np.asarray(lif.v.get())[: group.index.size]
                into_u[i][(*at, group.index)] = np.asarray(lif.u.get())[: group.index.size]

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_ev, desc=f"lava {tag}", unit="event", file=sys.stderr)
    t0 = time.perf_counter()
    run_seconds = 0.0
    try:
        for e in range(n_ev):
            t1 = time.perf_counter()
            if traces is None:
                source.run(condition=lv["RunSteps"](num_steps=seg), run_cfg=cfg)
            else:
                for t in range(seg):
                    source.run(condition=lv["RunSteps"](num_steps=1), run_cfg=cfg)
                    read_state([tr["v"] for tr in traces], [tr["u"] for tr in traces], (e, t))
            run_seconds += time.perf_counter() - t1
            read_state(v_final, u_final, (e,))
            if e + 1 < n_ev:  # fresh state for the next event, as the golden model assumes
                for i, spec in enumerate(specs):
                    for group, lif, dense in zip(spec.groups, lifs[i], denses[i], strict=True):
                        lif.v.set(np.zeros(group.size))
                        lif.u.set(np.zeros(group.size))
                        if i > 0:
                            dense.a_buff.set(np.zeros(group.size))
            if bar is not None:
                bar.update(1)
        packed = [p.packed.get() for p in packers]
        front_out = front.collect() if front is not None else None
    finally:
        source.stop()
        if bar is not None:
            bar.close()
    layer_spikes = [
        unpack_words(p, s.n).reshape(n_ev, seg, s.n) for p, s in zip(packed, specs, strict=True)
    ]
    return {
        "layer_spikes": layer_spikes, "v_final": v_final, "u_final": u_final, "trace": traces, "front": front_out,
        "seconds": time.perf_counter() - t0, "run_seconds": run_seconds, "ticks": n_ev * seg,
        "processes": sum(len(spec.groups) * 2 + 2 for spec in specs) + 1,
    }


def _child(
    conn: Any, specs: list[_LayerSpec], spikes: np.ndarray, tag: str, progress: bool, trace: bool, front: Any
) -> None:
    os.setsid()  # own process group: the parent can kill Lava's runtime processes with us
    try:
        conn.put(("ok", _session(specs, spikes, tag, progress, trace, front)))
    except BaseException as err:  # report everything: the parent turns it into a NeurocalError
        conn.put(("error", f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=6)}"))


def _run_guarded(
    specs: list[_LayerSpec],
    spikes: np.ndarray,
    tag: str,
    timeout: float,
    progress: bool,
    trace: bool = False,
    front: Any = None,
) -> dict:
    ctx = mp.get_context("fork")
    results: Any = ctx.Queue()
    proc = ctx.Process(target=_child, args=(results, specs, spikes, tag, progress, trace, front), daemon=False)
    proc.start()
    try:
        status, payload = results.get(timeout=None if math.isinf(timeout) else timeout)  # ∞: no limit
    except queue.Empty:
        raise NeurocalError(
            f"Lava ({tag}) did not finish {spikes.shape[0]} events in {timeout:.0f} s; the run was killed "
            f"(raise --timeout for long runs; --timeout 0 means no limit)"
        ) from None
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.join(timeout=5)
    if status != "ok":
        raise NeurocalError(f"Lava ({tag}) failed: {payload}")
    return payload


def default_timeout(n_events: int, ticks: int, n_layers: int, processes: int = 0) -> float:
    """Generous: 60 s start-up plus 10 ms per tick per layer and 1 ms per tick per extra process
    (measured ~0.7 ms per tick for a few processes)."""
    per_tick = 0.01 * max(n_layers, 1) + 0.001 * processes
    return 60.0 + per_tick * n_events * (ticks + n_layers)


class LavaBackend:
    """``neurocal run --backend lava``: the integer network in Lava's fixed_pt (bit-accurate) models."""

    name = "lava"

    def __init__(self, timeout: float | None = None, progress: bool = False, trace: bool = False, **_: Any) -> None:
        self.timeout = timeout
        self.progress = progress
        self.trace = trace

    def run(self, net: IntNetwork, spikes: np.ndarray) -> BackendResult:
        spikes = np.asarray(spikes, dtype=bool)
        if spikes.ndim != 3 or spikes.shape[2] != net.n_inputs:
            raise NeurocalError(f"input spikes must be (events, ticks, {net.n_inputs}), got {spikes.shape}")
        specs = _int_specs(net)
        processes = sum(2 * len(spec.groups) for spec in specs)
        timeout = self.timeout or default_timeout(spikes.shape[0], spikes.shape[1], net.n_layers, processes)
        t0 = time.perf_counter()
        out = _run_guarded(specs, spikes, "fixed_pt", timeout, self.progress, self.trace)
        seconds = time.perf_counter() - t0
        layer_spikes = out["layer_spikes"]
        counts = np.stack([s.sum(axis=(1, 2)) for s in layer_spikes], axis=1).astype(np.int64)
        return BackendResult(
            backend=self.name,
            output_spikes=layer_spikes[-1],
            v_final=[np.asarray(v).astype(np.int64).astype(np.int32) for v in out["v_final"]],
            u_final=[np.asarray(u).astype(np.int64).astype(np.int32) for u in out["u_final"]],
            layer_spikes=layer_spikes,
            ops={"spikes": counts},
            seconds=seconds,
            info={"lava_seconds": out["seconds"], "run_seconds": out["run_seconds"], "ticks": out["ticks"],
                  "processes": out["processes"]},
            trace=[{q: np.asarray(a).astype(np.int64).astype(np.int32) for q, a in t.items()} for t in out["trace"]]
            if out["trace"] is not None else None,
        )


def run_chain_float(
    chain: Chain, spikes: np.ndarray, *, timeout: float | None = None, progress: bool = False
) -> dict[str, Any]:
    """The float chain in Lava ``floating_pt`` (same segmenting): layer_spikes, v_final, u_final (floats)."""
    spikes = np.asarray(spikes, dtype=bool)
    timeout = timeout or default_timeout(spikes.shape[0], spikes.shape[1], len(chain.layers))
    return _run_guarded(_float_specs(chain), spikes, "floating_pt", timeout, progress)
