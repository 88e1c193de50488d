"""Backends that run an :class:`~neurocal.intnet.IntNetwork`, and the one way to compare them.

A backend is a class with ``name`` and ``run(net, spikes) -> BackendResult`` where ``spikes`` is
boolean ``(events, ticks, n_in)``. Backends are registered by name → ``"module:Class"`` and
imported only when asked for, so that the spine never imports Lava, hls4ml or pynq by itself.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from neurocal.errors import NeurocalError
from neurocal.intnet import IntNetwork

REGISTRY: dict[str, str] = {
    "golden": "neurocal.golden:GoldenBackend",
    "lava": "neurocal.sim.lava_backend:LavaBackend",
}


@dataclass
class BackendResult:
    """What a backend returns for ``events`` events of ``ticks`` input ticks (outputs span ticks + L).

    ``v_final[l]`` / ``u_final[l]`` / ``layer_spikes[l]`` may be None for a layer the backend cannot
    read; the output layer's voltage and spikes are always present. ``ops`` (when available) holds
    per-event, per-layer int arrays (events, L): ``synops``, ``neuron_updates``, ``spikes``.
    """

    backend: str
    output_spikes: np.ndarray  # bool (events, ticks + L, n_out)
    v_final: list[np.ndarray | None]  # per layer, int (events, n)
    u_final: list[np.ndarray | None] = field(default_factory=list)
    layer_spikes: list[np.ndarray | None] = field(default_factory=list)
    ops: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return int(self.output_spikes.shape[0])

    @property
    def readout_v(self) -> np.ndarray:
        v = self.v_final[-1]
        assert v is not None, "every backend returns the output layer's voltage"
        return v


class Backend(Protocol):
    name: str

    def run(self, net: IntNetwork, spikes: np.ndarray) -> BackendResult: ...


def get_backend(name: str, **options: Any) -> Backend:
    """Instantiate the backend registered as ``name`` (lazy import)."""
    if name not in REGISTRY:
        raise NeurocalError(f"backend '{name}' is unknown; choose one of: {', '.join(sorted(REGISTRY))}")
    module_name, _, class_name = REGISTRY[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise NeurocalError(f"backend '{name}' cannot be imported ({err}); is its toolchain installed?") from err
    return getattr(module, class_name)(**options)


def register(name: str, target: str) -> None:
    """Register a backend as ``"package.module:Class"`` (used by the hardware rooms)."""
    REGISTRY[name] = target


@dataclass
class Comparison:
    """Which events differ between a reference and another backend, and where."""

    reference: str
    other: str
    events: int
    mismatched: np.ndarray  # event indices that differ anywhere
    by_field: dict[str, np.ndarray]  # field → event indices

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
        }


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise NeurocalError(f"cannot compare results of shapes {a.shape} and {b.shape}")
    return np.nonzero((a != b).reshape(a.shape[0], -1).any(axis=1))[0]


def compare_results(reference: BackendResult, other: BackendResult) -> Comparison:
    """Compare two runs of the same events: output spikes, every voltage/current/spike both report."""
    if reference.n_events != other.n_events:
        raise NeurocalError(f"{reference.backend} ran {reference.n_events} events, {other.backend} {other.n_events}")
    by_field: dict[str, np.ndarray] = {"output_spikes": _differs(reference.output_spikes, other.output_spikes)}
    pairs = (("v_final", reference.v_final, other.v_final), ("u_final", reference.u_final, other.u_final),
             ("layer_spikes", reference.layer_spikes, other.layer_spikes))
    for name, ours, theirs in pairs:
        for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
            if a is not None and b is not None:
                by_field[f"{name}[{i}]"] = _differs(a, b)
    mismatched = np.unique(np.concatenate([v for v in by_field.values()] + [np.zeros(0, dtype=np.int64)]))
    return Comparison(reference.backend, other.backend, reference.n_events, mismatched.astype(np.int64), by_field)
