"""Front ends that turn photon frames into spike channels (docs/design.md §3) — one interface, two kinds.

A front end takes photon counts ``(events, ticks, sensors)`` and returns boolean spikes
``(events, ticks, sensors · n_levels)``; channel address = sensor · n_levels + level, so a
sensor's levels are neighbours. It is part of the deployed model: its settings travel as a
plain dict ``{"kind": ..., **settings, "n_ticks": ..., "tick_ns": ...}`` (``FrontEnd.to_dict()``,
the integer network's ``frontend`` field), covered by the network's content hash, and
``frontend_from_dict`` rebuilds the same front end from it. ``n_ticks`` and ``tick_ns`` are the
stream the front end was designed for (:class:`~neurocal.config.StreamConfig`);
:func:`check_stream` refuses data recorded on another time base.

Kinds:

* ``threshold`` — the ideal encoder, a bank of discriminators: level i of a sensor fires in a
  tick when the sensor's photon count in that tick is strictly greater than ``thresholds[i]``
  (10^(i+2) by default);
* ``photonic`` — the InP nanowire superpixel (:mod:`neurocal.sim.photonic`): absorbers, nanowire
  detectors and picosecond photonic LIF neurons, with shot noise, dark counts and jitter.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ValidationError

from neurocal.config import StreamConfig, ThresholdConfig
from neurocal.errors import NeurocalError

METADATA_KEY = "threshold_levels"  # legacy: a network's metadata listing the ideal encoder's levels
FRONTEND_KEY = "frontend"  # a network's metadata (and IntNetwork.frontend) holding FrontEnd.to_dict()

# kind → "module:Class"; a class has ``from_settings(dict)`` and is imported only when asked for
KINDS: dict[str, str] = {
    "threshold": "neurocal.sim.frontend:ThresholdFrontEnd",
    "photonic": "neurocal.sim.photonic:PhotonicFrontEnd",
}


@runtime_checkable
class FrontEnd(Protocol):
    """Photon frames in, spike frames out, with settings that serialise to a dict."""

    kind: str
    stream: StreamConfig

    @property
    def n_levels(self) -> int: ...

    def encode(self, photons: np.ndarray, first_event: int = 0) -> np.ndarray:
        """Photon counts ``(events, ticks, sensors)`` → bool ``(events, ticks, sensors · n_levels)``.

        ``first_event`` is the index of ``photons[0]`` in its dataset: a stochastic front end
        seeds each event by its index, so a slice encodes exactly as the whole file does.
        """
        ...

    def to_dict(self) -> dict[str, Any]: ...


def channel_address(sensor: np.ndarray | int, level: np.ndarray | int, n_levels: int = 4) -> np.ndarray:
    """Input channel of (sensor, threshold level)."""
    return np.asarray(sensor) * n_levels + np.asarray(level)


def threshold_config(levels: ThresholdConfig | Sequence[float] | None) -> ThresholdConfig:
    """A validated front-end configuration from a config, a list of levels, or None (the default 10^2..10^5)."""
    if levels is None:
        return ThresholdConfig()
    if isinstance(levels, ThresholdConfig):
        return levels
    return ThresholdConfig(thresholds=tuple(float(t) for t in levels))


def encode_thresholds(photons: np.ndarray, levels: ThresholdConfig | Sequence[float] | None = None) -> np.ndarray:
    """Photon counts ``(..., ticks, sensors)`` → boolean spikes ``(..., ticks, sensors · n_levels)``.

    Writes each level straight into the output, so memory stays at the size of the result.
    """
    thresholds = threshold_config(levels).thresholds
    photons = np.asarray(photons)
    out = np.empty((*photons.shape, len(thresholds)), dtype=bool)
    for i, threshold in enumerate(thresholds):
        np.greater(photons, threshold, out=out[..., i])
    return out.reshape(*photons.shape[:-1], photons.shape[-1] * len(thresholds))


class ThresholdFrontEnd:
    """The ideal encoder as a :class:`FrontEnd`: level i fires when the tick's count > thresholds[i]."""

    kind = "threshold"

    def __init__(
        self, config: ThresholdConfig | Sequence[float] | None = None, stream: StreamConfig | None = None
    ) -> None:
        self.config = threshold_config(config)
        self.stream = stream or StreamConfig()

    @property
    def n_levels(self) -> int:
        return self.config.n_levels

    def encode(self, photons: np.ndarray, first_event: int = 0) -> np.ndarray:
        return encode_thresholds(check_photons(photons), self.config)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.config.model_dump(mode="json"), **self.stream.model_dump(mode="json")}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], source: str = "front end") -> ThresholdFrontEnd:
        settings = dict(settings)
        stream = {k: settings.pop(k) for k in StreamConfig.model_fields if k in settings}
        return cls(
            validate_settings(ThresholdConfig, settings, source), validate_settings(StreamConfig, stream, source)
        )

    def __repr__(self) -> str:
        return f"ThresholdFrontEnd(thresholds={self.config.thresholds}, {self.stream!r})"


def check_stream(front: FrontEnd, n_ticks: int, tick_ns: float, source: str) -> None:
    """Refuse events whose time base differs from the one the front end (and the network) was built for."""
    want = front.stream
    if n_ticks != want.n_ticks or not np.isclose(tick_ns, want.tick_ns, rtol=1e-9, atol=0.0):
        raise NeurocalError(
            f"{source}: events have {n_ticks} ticks of {tick_ns:g} ns but the front end expects {want.n_ticks} ticks "
            f"of {want.tick_ns:g} ns; simulate or read the data with the network's time base"
        )


def check_photons(photons: np.ndarray) -> np.ndarray:
    """Photon frames as a non-negative array ``(events, ticks, sensors)``, or one clear error."""
    photons = np.asarray(photons)
    if photons.ndim != 3:
        raise NeurocalError(f"photon frames must be (events, ticks, sensors), got shape {photons.shape}")
    if photons.dtype.kind not in "ui" and not (photons.dtype.kind == "f" and np.all(photons == np.floor(photons))):
        raise NeurocalError(f"photon frames must hold integer counts, got dtype {photons.dtype}")
    if photons.dtype.kind != "u" and photons.size and photons.min() < 0:
        raise NeurocalError("photon frames hold a negative count; photon counts are >= 0")
    return photons


def validate_settings(model: type[BaseModel], settings: Mapping[str, Any], source: str) -> Any:
    """``model(**settings)`` or a NeurocalError naming the source, the field and what is wrong."""
    try:
        return model(**dict(settings))
    except ValidationError as err:
        e = err.errors()[0]
        field = "".join(f".{part}" if isinstance(part, str) else f"[{part}]" for part in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")  # a model-level check names its field itself
        more = f" (and {len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
        raise NeurocalError(f"{source}: front_end{field}: {msg}{more}") from err


def frontend_from_dict(d: Mapping[str, Any] | None, source: str = "front end") -> FrontEnd:
    """Rebuild a front end from ``FrontEnd.to_dict()``; None → the default ideal encoder."""
    if d is None:
        return ThresholdFrontEnd()
    if not isinstance(d, Mapping):
        raise NeurocalError(f"{source}: front_end must be a mapping with a 'kind', got {type(d).__name__}")
    settings = dict(d)
    kind = settings.pop("kind", None)
    if kind not in KINDS:
        raise NeurocalError(f"{source}: front_end.kind is {kind!r}; choose one of: {', '.join(KINDS)}")
    module_name, _, class_name = KINDS[kind].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls.from_settings(settings, source)


def frontend_from_metadata(
    metadata: Mapping[str, Any] | None, source: str = "network metadata", stream: StreamConfig | None = None
) -> FrontEnd:
    """The front end a network was trained with: ``front_end`` dict, else legacy ``threshold_levels``, else default.

    ``stream`` (the time base of the data the network is being quantised on) fills in ``n_ticks`` and ``tick_ns``
    where the graph does not state them (a foreign graph): a stated time base always wins and is then checked
    against the data with :func:`check_stream`.
    """
    metadata = metadata or {}
    fill = {} if stream is None else stream.model_dump(mode="json")
    recorded = metadata.get(FRONTEND_KEY)
    if isinstance(recorded, str):  # NIR metadata (HDF5 attributes) cannot hold None: exports write JSON text
        try:
            recorded = json.loads(recorded)
        except json.JSONDecodeError as err:
            raise NeurocalError(f"{source}: field '{FRONTEND_KEY}' is not valid JSON ({err})") from err
    if isinstance(recorded, Mapping):
        recorded = fill | dict(recorded)
    if recorded is not None:
        return frontend_from_dict(recorded, source)
    legacy: dict[str, Any] = {"kind": "threshold"} | fill  # an older export: threshold levels and the stream, flat
    if metadata.get(METADATA_KEY) is not None:
        legacy["thresholds"] = metadata[METADATA_KEY]
    legacy |= {k: metadata[k] for k in StreamConfig.model_fields if metadata.get(k) is not None}
    return frontend_from_dict(legacy, source)

