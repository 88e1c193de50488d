"""A training run's network as NIR, for the spine (:class:`neurocal.runs.RunExporter`, entry point
``neurocal.runs:snntorch``)."""

from __future__ import annotations

from pathlib import Path


class TrainingRuns:
    """Runs written by ``neurocal train`` (snnTorch checkpoints), exported by :func:`neurocal.models.nir_io.export`."""

    name = "snntorch"

    def export_nir(self, run_dir: Path, out: Path) -> Path:
        from neurocal.models.nir_io import export
        from neurocal.models.training import read_run

        read_run(run_dir)  # a damaged run.json is refused before any work
        return export(run_dir, out)
