"""Training runs as the spine's commands need them, and the one way to find them.

``neurocal quantize RUN_DIR`` quantises the network of a training run: the training room (``neurocal.models``)
exports it to NIR through the entry-point group ``neurocal.runs`` (``name = "package.module:Class"``), so the
spine imports no room. A folder is a training run when it holds ``run.json``.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Protocol

from neurocal.errors import NeurocalError

ENTRY_POINT_GROUP = "neurocal.runs"
DEFAULT_RUNS = "snntorch"
RUN_FILE = "run.json"


class RunExporter(Protocol):
    name: str

    def export_nir(self, run_dir: Path, out: Path) -> Path:
        """Write the run's network as a NIR graph at ``out`` and return it (NeurocalError, before any work,
        naming the field of a damaged ``run.json``)."""


def available_runs() -> dict[str, EntryPoint]:
    """Installed run exporters by name (the ``neurocal.runs`` entry points)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_runs(name: str = DEFAULT_RUNS) -> RunExporter:
    """The run exporter installed as ``name`` (its room imported only now)."""
    found = available_runs()
    if name not in found:
        known = ", ".join(sorted(found)) or "none (is neurocal installed? pip install -e .)"
        raise NeurocalError(f"training runs '{name}' are not installed; installed: {known}")
    return found[name].load()()
