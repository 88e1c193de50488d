"""Backends that run an :class:`~neurocal.intnet.IntNetwork`, and the one way to compare them.

A backend is a class with ``name`` and ``run(net, spikes) -> BackendResult`` where ``spikes`` is
boolean ``(events, ticks, n_in)``; it is constructed with keyword options (``progress``,
``timeout``, ``trace`` …) and ignores the ones it does not use. Backends are found through the
Python entry-point group ``neurocal.backends`` (``name = "package.module:Class"``), so a hardware
room or a third-party package adds one by declaring it in its own packaging — the spine never
imports Lava, hls4ml or pynq by itself.

Every result is validated against the network and the input before it is compared
(:func:`validate_result`); :func:`compare_results` is strict and names the first divergence —
event, layer, tick, neuron, quantity, expected, got.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

import numpy as np

from neurocal.errors import NeurocalError
from neurocal.intnet import IntNetwork

ENTRY_POINT_GROUP = "neurocal.backends"


@dataclass
class BackendResult:
    """What a backend returns for ``events`` events of ``ticks`` input ticks (outputs span ticks + L).

    ``v_final[l]`` / ``u_final[l]`` / ``layer_spikes[l]`` may be None for a layer the backend cannot
    read; the output layer's voltage and spikes are always present. ``ops`` (when available) holds
    per-event, per-layer int arrays (events, L): ``synops``, ``neuron_updates``, ``spikes``.
    ``trace`` (when asked for and available) holds per layer ``{"u", "v"}`` int arrays
    (events, ticks + L, n): the state after every tick.
    """

    backend: str
    output_spikes: np.ndarray  # bool (events, ticks + L, n_out)
    v_final: list[np.ndarray | None]  # per layer, int (events, n)
    u_final: list[np.ndarray | None] = field(default_factory=list)
    layer_spikes: list[np.ndarray | None] = field(default_factory=list)
    ops: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    trace: list[dict[str, np.ndarray]] | None = None

    @property
    def n_events(self) -> int:
        return int(self.output_spikes.shape[0])

    @property
    def readout_v(self) -> np.ndarray:
        v = self.v_final[-1]
        if v is None:
            raise NeurocalError(f"backend '{self.backend}' returned no readout voltage")
        return v


class Backend(Protocol):
    name: str

    def run(self, net: IntNetwork, spikes: np.ndarray) -> BackendResult: ...


# ----------------------------------------------------------------------------------------- discovery


def available_backends() -> dict[str, EntryPoint]:
    """Installed backends by name (the ``neurocal.backends`` entry points)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_backend(name: str, **options: Any) -> Backend:
    """Instantiate the backend installed as ``name`` (imported only now)."""
    found = available_backends()
    if name not in found:
        known = ", ".join(sorted(found)) or "none (is neurocal installed? pip install -e .)"
        raise NeurocalError(f"backend '{name}' is not installed; installed backends: {known}")
    try:
        cls = found[name].load()
    except (ImportError, AttributeError) as err:
        raise NeurocalError(
            f"backend '{name}' ({found[name].value}) cannot be imported ({err}); is its toolchain installed?"
        ) from err
    return cls(**options)


# ----------------------------------------------------------------------------------------- validation


def validate_result(result: Any, net: IntNetwork, spikes_shape: tuple[int, ...], name: str) -> BackendResult:
    """Check a backend's result against the network and the input before anything compares it.

    Shapes, dtypes and layer counts; the error names the backend and the field.
    """

    def bad(field_name: str, what: str) -> NeurocalError:
        return NeurocalError(f"backend '{name}' returned a malformed result: field '{field_name}' {what}")

    if not isinstance(result, BackendResult):
        raise bad("result", f"is a {type(result).__name__}, expected neurocal.backends.BackendResult")
    n_ev, n_t = int(spikes_shape[0]), int(spikes_shape[1])
    total, n_layers = n_t + net.n_layers, net.n_layers

    def check_array(field_name: str, value: Any, shape: tuple[int, ...], kind: str) -> None:
        if not isinstance(value, np.ndarray):
            raise bad(field_name, f"is a {type(value).__name__}, expected a numpy array")
        if value.shape != shape:
            raise bad(field_name, f"has shape {value.shape}, expected {shape}")
        ok = value.dtype == np.bool_ if kind == "bool" else np.issubdtype(value.dtype, np.integer)
        if not ok:
            raise bad(field_name, f"has dtype {value.dtype}, expected {'bool' if kind == 'bool' else 'an integer'}")

    check_array("output_spikes", result.output_spikes, (n_ev, total, net.n_outputs), "bool")
    for list_name, kind, per_tick, required in (("v_final", "int", False, True), ("u_final", "int", False, False),
                                                ("layer_spikes", "bool", True, False)):
        values = getattr(result, list_name)
        if not isinstance(values, list):
            raise bad(list_name, f"is a {type(values).__name__}, expected a list (one entry per layer)")
        if (required or values) and len(values) != n_layers:
            raise bad(list_name, f"has {len(values)} entries for a network of {n_layers} layers")
        for i, value in enumerate(values):
            if value is None:
                if required and i == n_layers - 1:
                    raise bad(f"{list_name}[{i}]", "is missing: every backend returns the output layer's voltage")
                continue
            n = net.layers[i].n_out
            check_array(f"{list_name}[{i}]", value, (n_ev, total, n) if per_tick else (n_ev, n), kind)
    for key, value in result.ops.items():
        check_array(f"ops['{key}']", value, (n_ev, n_layers), "int")
    if result.trace is not None:
        if len(result.trace) != n_layers:
            raise bad("trace", f"has {len(result.trace)} entries for a network of {n_layers} layers")
        for i, entry in enumerate(result.trace):
            for q in ("u", "v"):
                check_array(f"trace[{i}]['{q}']", entry.get(q), (n_ev, total, net.layers[i].n_out), "int")
    return result


# ----------------------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Divergence:
    """Where two results first differ. ``tick`` is None for a final value (after the last tick)."""

    event: int
    layer: int
    tick: int | None
    neuron: int
    quantity: str
    expected: int
    got: int

    def __str__(self) -> str:
        when = f"tick {self.tick}" if self.tick is not None else "final"
        return (f"event {self.event}, layer {self.layer}, {when}, neuron {self.neuron}: {self.quantity} "
                f"expected {self.expected}, got {self.got}")

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "layer": self.layer, "tick": self.tick, "neuron": self.neuron,
                "quantity": self.quantity, "expected": self.expected, "got": self.got}


@dataclass
class Comparison:
    """Which events differ between a reference and another backend, and where the first one diverges."""

    reference: str
    other: str
    events: int
    mismatched: np.ndarray  # event indices that differ anywhere
    by_field: dict[str, np.ndarray]  # field → event indices
    first: Divergence | None = None

    @property
    def n_mismatched(self) -> int:
        return int(self.mismatched.size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "other": self.other,
            "events": self.events,
            "mismatched_events": self.n_mismatched,
            "first_mismatches": self.mismatched[:10].tolist(),
            "by_field": {k: int(v.size) for k, v in self.by_field.items()},
            "first_divergence": self.first.to_dict() if self.first else None,
        }


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.nonzero((a != b).reshape(a.shape[0], -1).any(axis=1))[0]


def _first_in_event(ref: BackendResult, other: BackendResult, e: int) -> Divergence:
    """The earliest (tick, layer, neuron) where event ``e`` differs: per-tick quantities before final ones."""
    candidates: list[tuple[float, int, int, str, int, int]] = []  # (tick, layer, neuron, quantity, exp, got)
    per_tick: list[tuple[str, int, np.ndarray, np.ndarray]] = []
    for i, (a, b) in enumerate(zip(ref.layer_spikes, other.layer_spikes, strict=False)):
        if a is not None and b is not None:
            per_tick.append(("spike", i, a[e], b[e]))
    if ref.trace is not None and other.trace is not None:
        for i, (ta, tb) in enumerate(zip(ref.trace, other.trace, strict=True)):
            per_tick += [("u", i, ta["u"][e], tb["u"][e]), ("v", i, ta["v"][e], tb["v"][e])]
    if not any(q == "spike" and i == len(ref.v_final) - 1 for q, i, _, _ in per_tick):
        per_tick.append(("spike", len(ref.v_final) - 1, ref.output_spikes[e], other.output_spikes[e]))
    for quantity, layer, a, b in per_tick:
        diff = np.argwhere(a != b)
        if diff.size:
            t, n = (int(x) for x in diff[0])
            candidates.append((t, layer, n, quantity, int(a[t, n]), int(b[t, n])))
    if not candidates:
        for quantity, ours, theirs in (("u", ref.u_final, other.u_final), ("v", ref.v_final, other.v_final)):
            for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
                if a is not None and b is not None and np.any(a[e] != b[e]):
                    n = int(np.flatnonzero(a[e] != b[e])[0])
                    candidates.append((np.inf, i, n, quantity, int(a[e, n]), int(b[e, n])))
    order = {"u": 0, "v": 1, "spike": 2}  # the order a tick computes them in
    tick, layer, neuron, quantity, expected, got = min(candidates, key=lambda c: (c[0], c[1], order[c[3]]))
    return Divergence(event=e, layer=layer, tick=None if tick == np.inf else int(tick), neuron=neuron,
                      quantity=quantity, expected=expected, got=got)


def compare_results(reference: BackendResult, other: BackendResult) -> Comparison:
    """Compare two validated runs of the same events, strictly: output spikes, and every voltage,
    current and spike train both report. Reports the first divergence (earliest event, then tick)."""
    if reference.n_events != other.n_events:
        raise NeurocalError(f"{reference.backend} ran {reference.n_events} events, {other.backend} {other.n_events}")
    if reference.output_spikes.shape != other.output_spikes.shape:
        raise NeurocalError(
            f"{reference.backend} and {other.backend} returned output spikes of shapes "
            f"{reference.output_spikes.shape} and {other.output_spikes.shape}"
        )
    by_field: dict[str, np.ndarray] = {"output_spikes": _differs(reference.output_spikes, other.output_spikes)}
    pairs = (("v_final", reference.v_final, other.v_final), ("u_final", reference.u_final, other.u_final),
             ("layer_spikes", reference.layer_spikes, other.layer_spikes))
    for name, ours, theirs in pairs:
        if ours and theirs and len(ours) != len(theirs):
            raise NeurocalError(
                f"{reference.backend} and {other.backend} report '{name}' for {len(ours)} and {len(theirs)} layers"
            )
        for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
            if a is not None and b is not None:
                by_field[f"{name}[{i}]"] = _differs(np.asarray(a), np.asarray(b))
    if reference.trace is not None and other.trace is not None:
        for i, (ta, tb) in enumerate(zip(reference.trace, other.trace, strict=True)):
            for q in ("u", "v"):
                by_field[f"trace[{i}].{q}"] = _differs(ta[q], tb[q])
    mismatched = np.unique(np.concatenate([v for v in by_field.values()] + [np.zeros(0, dtype=np.int64)]))
    mismatched = mismatched.astype(np.int64)
    first = _first_in_event(reference, other, int(mismatched[0])) if mismatched.size else None
    return Comparison(reference.backend, other.backend, reference.n_events, mismatched, by_field, first)
