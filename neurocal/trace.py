"""Per-tick traces of one event: an ``.npz`` per backend and a VCD an FPGA engineer opens beside the RTL's.

A trace holds, per layer, the spikes and the ``u`` and ``v`` of every neuron after every tick
(:class:`~neurocal.backends.BackendResult` ``trace`` + ``layer_spikes``). In the VCD one tick is
``tick_ns`` of simulated time (0.2 ns by default, timescale 1 ps); each layer is a scope holding
``s<n>`` (1 bit), ``u<n>`` and ``v<n>`` (32-bit two's complement) per neuron, plus an ``input``
scope with the event's input spikes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from neurocal.atomic import GuardedFile
from neurocal.backends import BackendResult


def event_trace(result: BackendResult, event: int) -> dict[str, np.ndarray]:
    """The arrays of one event: ``spikes_<l>`` (ticks, n) and, when traced, ``u_<l>``, ``v_<l>``."""
    arrays: dict[str, np.ndarray] = {}
    spikes = result.layer_spikes or [None] * (len(result.v_final) - 1) + [result.output_spikes]
    for i, s in enumerate(spikes):
        if s is not None:
            arrays[f"spikes_{i}"] = np.asarray(s[event])
    for i, entry in enumerate(result.trace or []):
        arrays[f"u_{i}"] = np.asarray(entry["u"][event])
        arrays[f"v_{i}"] = np.asarray(entry["v"][event])
    return arrays


def write_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray], **attrs: Any) -> Path:
    """Write a trace into a folder that :func:`neurocal.atomic.atomic_dir` swaps in whole; ``attrs`` (backend,
    content hash, event) go in as 0-d string arrays. A write error (full disk) is raised once zipfile has let go
    (:class:`~neurocal.atomic.GuardedFile`: zipfile would otherwise retry while being collected)."""
    path = Path(path)
    path.write_bytes(b"")
    fh = GuardedFile(path)
    try:
        np.savez_compressed(fh, **arrays, **{f"attr_{k}": np.asarray(str(v)) for k, v in attrs.items()})
        fh.check()
    finally:
        fh.release()
    return path


def _identifiers() -> Iterator[str]:
    """VCD short identifiers: printable ASCII 33..126, then pairs, …"""
    alphabet = [chr(c) for c in range(33, 127)]
    n = 1
    while True:
        for k in range(len(alphabet) ** n):
            ident = ""
            for _ in range(n):
                k, r = divmod(k, len(alphabet))
                ident += alphabet[r]
            yield ident
        n += 1


def _bits(value: int, width: int = 32) -> str:
    return format(int(value) & ((1 << width) - 1), f"0{width}b")


def write_vcd(
    path: str | os.PathLike[str],
    trace: dict[str, np.ndarray],
    inputs: np.ndarray | None = None,
    *,
    tick_ns: float = 0.2,
    comment: str = "",
) -> Path:
    """Write ``trace`` (from :func:`event_trace`) as a Value Change Dump into a folder written whole (see
    :func:`write_npz`); only changes are written."""
    path = Path(path)
    ids = _identifiers()
    signals: list[tuple[str, str, str, int, np.ndarray]] = []  # (scope, name, id, width, values (ticks,))
    if inputs is not None:
        for n in range(inputs.shape[1]):
            signals.append(("input", f"in{n}", next(ids), 1, inputs[:, n].astype(np.int64)))
    layers = sorted({int(k.split("_")[1]) for k in trace})
    for layer in layers:
        spikes, u, v = (trace.get(f"{q}_{layer}") for q in ("spikes", "u", "v"))
        n_out = next(a for a in (spikes, u, v) if a is not None).shape[1]
        for n in range(n_out):
            if spikes is not None:
                signals.append((f"layer{layer}", f"s{n}", next(ids), 1, spikes[:, n].astype(np.int64)))
            if u is not None:
                signals.append((f"layer{layer}", f"u{n}", next(ids), 32, u[:, n].astype(np.int64)))
            if v is not None:
                signals.append((f"layer{layer}", f"v{n}", next(ids), 32, v[:, n].astype(np.int64)))
    n_ticks = max(len(sig[4]) for sig in signals) if signals else 0
    step_ps = round(tick_ns * 1000)

    def emit(fh: TextIO, ident: str, width: int, value: int) -> None:
        fh.write(f"{value & 1}{ident}\n" if width == 1 else f"b{_bits(value, width)} {ident}\n")

    with path.open("w") as fh:  # into a folder written whole (see write_npz)
        fh.write(f"$comment {comment or 'neurocal per-tick trace'} $end\n$timescale 1ps $end\n")
        for scope in dict.fromkeys(sig[0] for sig in signals):
            fh.write(f"$scope module {scope} $end\n")
            for sc, name, ident, width, _ in signals:
                if sc == scope:
                    fh.write(f"$var {'wire' if width == 1 else 'integer'} {width} {ident} {name} $end\n")
            fh.write("$upscope $end\n")
        fh.write("$enddefinitions $end\n")
        previous: dict[str, int] = {}
        for t in range(n_ticks):
            fh.write(f"#{t * step_ps}\n")
            for _, _, ident, width, values in signals:
                value = int(values[t]) if t < len(values) else int(values[-1])
                if previous.get(ident) != value:
                    emit(fh, ident, width, value)
                    previous[ident] = value
        fh.write(f"#{n_ticks * step_ps}\n")
    return path
