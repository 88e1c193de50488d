"""Hardware cost models of an integer network, and the one way to find them.

A cost model says, for a hardware choice (part profile, lanes and weight banks per layer, AER words
per input beat), whether a network of given layer sizes fits, and what running it costs: latency per
event from the spike rasters, resources against the profile. Rooms provide cost models through the
entry-point group ``neurocal.costmodels`` (``name = "package.module:Class"``), so the spine and the
search never import the hardware room by name; a model whose room is not installed is simply absent.

Two calls, because fitting is known before training and cost only after:

* ``check(sizes, hardware) -> str | None``: why a network of layer sizes ``(n_in, n_1, …, n_L)``
  cannot be built for ``hardware`` (one line), or None when it fits;
* ``cost(net, spikes, reference, hardware) -> Cost``: the objectives of ``net`` on input ``spikes``
  ``(events, T, n_in)``, given the golden model's result on them (the rasters every stage sees).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

import numpy as np

from neurocal.backends import BackendResult
from neurocal.errors import NeurocalError
from neurocal.intnet import IntNetwork

ENTRY_POINT_GROUP = "neurocal.costmodels"


@dataclass(frozen=True)
class Hardware:
    """A hardware choice: the part profile and the core's parallelism per layer (None = the generator's default)."""

    profile: str
    lanes: tuple[int, ...] | None = None  # neurons updated per cycle, per layer
    rows: tuple[int, ...] | None = None  # weight banks (spikes added per cycle), per layer
    words: int | None = None  # AER words per input beat

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "lanes": None if self.lanes is None else list(self.lanes),
                "rows": None if self.rows is None else list(self.rows), "words": self.words}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Hardware:
        def ints(v: Any) -> tuple[int, ...] | None:
            return None if v is None else tuple(int(x) for x in v)

        return cls(profile=str(values["profile"]), lanes=ints(values.get("lanes")), rows=ints(values.get("rows")),
                   words=None if values.get("words") is None else int(values["words"]))


@dataclass
class Cost:
    """What a cost model measured: objectives by name (lower is better, units in the name) and notes."""

    objectives: dict[str, float]
    info: dict[str, Any] = field(default_factory=dict)


class CostModel(Protocol):
    name: str
    objectives: tuple[str, ...]  # the names ``cost`` returns, lower is better

    def check(self, sizes: tuple[int, ...], hardware: Hardware) -> str | None: ...

    def cost(self, net: IntNetwork, spikes: np.ndarray, reference: BackendResult, hardware: Hardware) -> Cost: ...


def available_costmodels() -> dict[str, EntryPoint]:
    """Installed cost models by name (the ``neurocal.costmodels`` entry points)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_costmodel(name: str) -> CostModel:
    """Instantiate the cost model installed as ``name`` (imported only now)."""
    found = available_costmodels()
    if name not in found:
        known = ", ".join(sorted(found)) or "none (is neurocal installed? pip install -e .)"
        raise NeurocalError(f"cost model '{name}' is not installed; installed cost models: {known}")
    try:
        cls = found[name].load()
    except (ImportError, AttributeError) as err:
        raise NeurocalError(f"cost model '{name}' ({found[name].value}) cannot be imported ({err})") from err
    return cls()
