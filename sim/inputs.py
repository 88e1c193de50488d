"""The events reader and the front ends as the spine sees them (:class:`neurocal.inputs.InputProvider`, entry
point ``neurocal.inputs:events``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neurocal.config import StreamConfig
from neurocal.sim import load_events
from neurocal.sim.dataset import EventSet
from neurocal.sim.frontend import FrontEnd, check_stream, frontend_from_dict, frontend_from_metadata


class EventInputs:
    """neurocal HDF5 and SNN-Cal ``.dat`` events (:func:`neurocal.sim.load_events`); the threshold and photonic
    front ends (:mod:`neurocal.sim.frontend`)."""

    name = "events"

    def load_events(self, path: Path) -> EventSet:
        return load_events(path)

    def frontend(self, settings: Mapping[str, Any] | None, source: str) -> FrontEnd:
        return frontend_from_dict(settings, source)

    def frontend_from_metadata(self, metadata: Mapping[str, Any] | None, source: str,
                               stream: StreamConfig | None) -> FrontEnd:
        return frontend_from_metadata(metadata, source, stream)

    def check_stream(self, frontend: FrontEnd, n_ticks: int, tick_ns: float, source: str) -> None:
        check_stream(frontend, n_ticks, tick_ns, source)
