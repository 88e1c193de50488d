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

A never-firing membrane readout gets ``vth = 2^17`` (``vth << 6 = 2^23`` exceeds the clipped v).
The whole Lava session runs in a forked child process with a timeout: a failed Lava run can hang
the interpreter, so the parent kills the child's process group if it does not answer in time.
Importing this module does not import Lava; :func:`_lava` does, after the Python 3.11 repair.
"""

from __future__ import annotations

import importlib.machinery
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
from neurocal.intnet import IntNetwork
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
    from lava.magma.core.model.py.ports import PyInPort
    from lava.magma.core.model.py.type import LavaPyType
    from lava.magma.core.process.ports.ports import InPort
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
    _LAVA.update(
        RunSteps=RunSteps, Loihi2SimCfg=Loihi2SimCfg, Dense=Dense, RingBuffer=RingBuffer, LIF=LIF,
        SpikePacker=SpikePacker, PySpikePackerModel=PySpikePackerModel,
    )
    return _LAVA


def _publish(*classes: type) -> None:
    """Put the classes in a module of their own whose "directory" is empty.

    Lava finds a process's models in the process's module, and then also executes every ``.py``
    file beside that module's file and imports every module of its parent package — for
    ``neurocal.sim`` that would run the other stages' modules. A synthetic top-level module whose
    ``__file__`` lies in a directory that does not exist gives Lava nothing else to scan.
    """
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


@dataclass
class _LayerSpec:
    dense: dict[str, Any]
    lif: dict[str, Any]
    n: int


def _int_specs(net: IntNetwork) -> list[_LayerSpec]:
    return [
        _LayerSpec(
            dense=dict(weights=layer.weights.astype(np.int32), weight_exp=int(layer.weight_exp), num_weight_bits=8),
            lif=dict(
                shape=(layer.n_out,), du=int(layer.du), dv=int(layer.dv), vth=int(layer.lava_vth),
                bias_mant=layer.bias_mant.astype(np.int32), bias_exp=int(layer.bias_exp),
            ),
            n=layer.n_out,
        )
        for layer in net.layers
    ]


def _float_specs(chain: Chain) -> list[_LayerSpec]:
    specs = []
    for i, layer in enumerate(chain.layers):
        never = chain.readout == "membrane" and i == len(chain.layers) - 1
        specs.append(
            _LayerSpec(
                dense=dict(weights=layer.weight.astype(np.float64)),
                lif=dict(
                    shape=(layer.n_out,), du=1.0 - float(layer.alpha[0]), dv=1.0 - float(layer.beta[0]),
                    vth=np.inf if never else float(layer.threshold[0]), bias_mant=layer.bias.astype(np.float64),
                    bias_exp=0,
                ),
                n=layer.n_out,
            )
        )
    return specs


def _session(specs: list[_LayerSpec], spikes: np.ndarray, tag: str, progress: bool) -> dict[str, Any]:
    """One Lava run over all events (in the child process). Returns numpy arrays only."""
    lv = _lava()
    n_ev, n_t, n_in = spikes.shape
    seg = n_t + len(specs)
    data = np.zeros((n_in, n_ev * seg), dtype=np.float64 if tag == "floating_pt" else np.int32)
    for e in range(n_ev):
        data[:, e * seg : e * seg + n_t] = spikes[e].T
    source = lv["RingBuffer"](data=data)
    denses, lifs, packers = [], [], []
    prev = source.s_out
    for spec in specs:
        dense = lv["Dense"](**spec.dense)
        lif = lv["LIF"](**spec.lif)
        packer = lv["SpikePacker"](n=spec.n, ticks=n_ev * seg)
        prev.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        lif.s_out.connect(packer.s_in)
        denses.append(dense)
        lifs.append(lif)
        packers.append(packer)
        prev = lif.s_out
    cfg = lv["Loihi2SimCfg"](select_tag=tag)
    v_final = [np.zeros((n_ev, s.n)) for s in specs]
    u_final = [np.zeros((n_ev, s.n)) for s in specs]
    zeros = [np.zeros(s.n) for s in specs]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_ev, desc=f"lava {tag}", unit="event", file=sys.stderr)
    t0 = time.perf_counter()
    run_seconds = 0.0
    try:
        for e in range(n_ev):
            t1 = time.perf_counter()
            source.run(condition=lv["RunSteps"](num_steps=seg), run_cfg=cfg)
            run_seconds += time.perf_counter() - t1
            for i, lif in enumerate(lifs):
                v_final[i][e] = lif.v.get()
                u_final[i][e] = lif.u.get()
            if e + 1 < n_ev:  # fresh state for the next event, as the golden model assumes
                for i, lif in enumerate(lifs):
                    lif.v.set(zeros[i])
                    lif.u.set(zeros[i])
                for i in range(1, len(denses)):
                    denses[i].a_buff.set(zeros[i])
            if bar is not None:
                bar.update(1)
        packed = [p.packed.get() for p in packers]
    finally:
        source.stop()
        if bar is not None:
            bar.close()
    layer_spikes = [
        unpack_words(p, s.n).reshape(n_ev, seg, s.n) for p, s in zip(packed, specs, strict=True)
    ]
    return {
        "layer_spikes": layer_spikes, "v_final": v_final, "u_final": u_final,
        "seconds": time.perf_counter() - t0, "run_seconds": run_seconds, "ticks": n_ev * seg,
    }


def _child(conn: Any, specs: list[_LayerSpec], spikes: np.ndarray, tag: str, progress: bool) -> None:
    os.setsid()  # own process group: the parent can kill Lava's runtime processes with us
    try:
        conn.put(("ok", _session(specs, spikes, tag, progress)))
    except BaseException as err:  # report everything: the parent turns it into a NeurocalError
        conn.put(("error", f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=6)}"))


def _run_guarded(specs: list[_LayerSpec], spikes: np.ndarray, tag: str, timeout: float, progress: bool) -> dict:
    ctx = mp.get_context("fork")
    results: Any = ctx.Queue()
    proc = ctx.Process(target=_child, args=(results, specs, spikes, tag, progress), daemon=False)
    proc.start()
    try:
        status, payload = results.get(timeout=timeout)
    except queue.Empty:
        raise NeurocalError(
            f"Lava ({tag}) did not finish {spikes.shape[0]} events in {timeout:.0f} s; the run was killed "
            f"(raise --timeout for long runs)"
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


def default_timeout(n_events: int, ticks: int, n_layers: int) -> float:
    """Generous: 60 s start-up plus 10 ms per tick per layer (measured ~0.7 ms per tick)."""
    return 60.0 + 0.01 * n_events * (ticks + n_layers) * max(n_layers, 1)


class LavaBackend:
    """``neurocal run --backend lava``: the integer network in Lava's fixed_pt (bit-accurate) models."""

    name = "lava"

    def __init__(self, timeout: float | None = None, progress: bool = False, **_: Any) -> None:
        self.timeout = timeout
        self.progress = progress

    def run(self, net: IntNetwork, spikes: np.ndarray) -> BackendResult:
        spikes = np.asarray(spikes, dtype=bool)
        if spikes.ndim != 3 or spikes.shape[2] != net.n_inputs:
            raise NeurocalError(f"input spikes must be (events, ticks, {net.n_inputs}), got {spikes.shape}")
        timeout = self.timeout or default_timeout(spikes.shape[0], spikes.shape[1], net.n_layers)
        t0 = time.perf_counter()
        out = _run_guarded(_int_specs(net), spikes, "fixed_pt", timeout, self.progress)
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
            info={"lava_seconds": out["seconds"], "run_seconds": out["run_seconds"], "ticks": out["ticks"]},
        )


def run_chain_float(
    chain: Chain, spikes: np.ndarray, *, timeout: float | None = None, progress: bool = False
) -> dict[str, Any]:
    """The float chain in Lava ``floating_pt`` (same segmenting): layer_spikes, v_final, u_final (floats)."""
    spikes = np.asarray(spikes, dtype=bool)
    timeout = timeout or default_timeout(spikes.shape[0], spikes.shape[1], len(chain.layers))
    return _run_guarded(_float_specs(chain), spikes, "floating_pt", timeout, progress)
