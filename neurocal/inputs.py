"""Events and front ends, as the spine's commands need them, and the one way to find them.

``quantize``, ``run`` and ``compare`` read events files and turn photon frames into input spikes with the
network's own front end (its settings travel in ``intnet.json``). The room that simulates and reads events
(``neurocal.sim``) provides both through the entry-point group ``neurocal.inputs``
(``name = "package.module:Class"``), so the spine imports no room.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from neurocal.config import StreamConfig
from neurocal.errors import NeurocalError

ENTRY_POINT_GROUP = "neurocal.inputs"
DEFAULT_INPUTS = "events"


class Events(Protocol):
    """An events file's content: photon frames ``(events, ticks, sensors)`` on a time base."""

    n_events: int
    n_ticks: int
    tick_ns: float
    photons: np.ndarray


class FrontEnd(Protocol):
    """Photon frames ``(events, ticks, sensors)`` → input spikes ``(events, ticks, channels)``."""

    def encode(self, photons: np.ndarray) -> np.ndarray: ...

    def to_dict(self) -> dict[str, Any]: ...


class InputProvider(Protocol):
    name: str

    def load_events(self, path: Path) -> Events:
        """The events of ``path`` (NeurocalError naming the file when it cannot be read)."""

    def frontend(self, settings: Mapping[str, Any] | None, source: str) -> FrontEnd:
        """The front end of a network's ``frontend`` settings (None: the default one)."""

    def frontend_from_metadata(self, metadata: Mapping[str, Any] | None, source: str,
                               stream: StreamConfig | None) -> FrontEnd:
        """The front end a NIR graph's metadata records (``stream`` fills a time base the graph does not state)."""

    def check_stream(self, frontend: FrontEnd, n_ticks: int, tick_ns: float, source: str) -> None:
        """Refuse events on another time base than the front end's."""


def available_inputs() -> dict[str, EntryPoint]:
    """Installed input providers by name (the ``neurocal.inputs`` entry points)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_inputs(name: str = DEFAULT_INPUTS) -> InputProvider:
    """The input provider installed as ``name`` (its room imported only now)."""
    found = available_inputs()
    if name not in found:
        known = ", ".join(sorted(found)) or "none (is neurocal installed? pip install -e .)"
        raise NeurocalError(f"inputs '{name}' are not installed; installed: {known}")
    return found[name].load()()
