"""SNN-Cal's training grid in one command: 9 regression tasks × 2 readouts of the ``snn-cal`` preset.

The tasks of SNN-Cal's ``train_all.py``: energy; centroid x, y, z; dispersion x, y, z (one output
each, 20 readout neurons); energy + centroid and energy + dispersion (four outputs). Each runs with
a spike-count and a last-tick-membrane readout into ``OUT/<task>_<readout>/`` (an ordinary run:
``evaluate``, ``export`` and friends work on it), then ``OUT/grid.json`` gathers every run's
headline metrics and ``OUT/grid.md`` shows them as a table. The command line is
``neurocal train-grid --data D --out OUT`` (``models/train_cli.py``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from neurocal.atomic import check_output_dir, write_text_atomic
from neurocal.errors import NeurocalError

TASKS = ("energy", "centroid_x", "centroid_y", "centroid_z", "dispersion_x", "dispersion_y", "dispersion_z",
         "energy_centroid", "energy_dispersion")
READOUTS = ("spikes", "membrane")


def train_grid(
    data: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    tasks: Sequence[str] = TASKS,
    readouts: Sequence[str] = READOUTS,
    log: Callable[[str], None] | None = None,
    **overrides: Any,
) -> list[dict[str, Any]]:
    """Train and evaluate the ``snn-cal`` preset on every (task, readout); returns one row per run.

    ``overrides`` are TrainConfig fields applied to every run (e.g. ``epochs``, ``max_events``,
    ``threads``). A run folder that already holds a trained run is evaluated, not trained again.
    """
    from neurocal.models.config import TrainConfig
    from neurocal.models.metrics import evaluate, headline
    from neurocal.models.training import read_run, train
    from neurocal.sim import load_events

    log = log or (lambda msg: None)
    unknown = [t for t in tasks if t not in TASKS] + [r for r in readouts if r not in READOUTS]
    if unknown:
        raise NeurocalError(f"unknown grid task or readout {', '.join(unknown)}; tasks: {', '.join(TASKS)}; "
                            f"readouts: {', '.join(READOUTS)}")
    out = Path(out_dir)
    check_output_dir(out, "--out")
    if (out / "run.json").exists():
        raise NeurocalError(f"{out}: holds a training run (run.json); train-grid writes one run per task and "
                            "readout into its --out: choose an empty or new folder")
    fingerprint = load_events(data).fingerprint()
    configs = {(task, readout): TrainConfig.from_preset("snn-cal", target=task, readout=readout, **overrides)
               for task in tasks for readout in readouts}
    for (task, readout), config in configs.items():  # before any training: a re-run must match what is there
        run_dir = out / f"{task}_{readout}"
        if (run_dir / "run.json").exists():
            _check_same_run(run_dir, config, fingerprint, *read_run(run_dir))
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for (task, readout), config in configs.items():
        run_dir = out / f"{task}_{readout}"
        t0 = time.perf_counter()
        done = (run_dir / "run.json").exists() and read_run(run_dir)[1].get("status") == "trained"
        if not done:
            train(config, data, run_dir, progress=False, resume=(run_dir / "run.json").exists(), log=log)
        result = evaluate(run_dir, plots=False)
        row = {"task": task, "readout": readout, "run": str(run_dir), "seconds": time.perf_counter() - t0,
               "models": {k: headline(v) for k, v in result["models"].items()}}
        rows.append(row)
        log(f"{task} {readout}: " + ", ".join(f"{k} {v:.4g}" for k, v in row["models"]["snn"].items()))
    write_text_atomic(out / "grid.json", json.dumps({"schema": "neurocal.grid/1", "rows": rows}, indent=2))
    write_text_atomic(out / "grid.md", format_grid(rows))
    return rows


def _check_same_run(run_dir: Path, config: Any, fingerprint: str, stored: Any, info: dict[str, Any]) -> None:
    """A run folder of an earlier grid is reused (or resumed) only if it is the same run: config and data."""
    a, b = stored.model_dump(), config.model_dump()
    changed = [f"{k} {a[k]!r} there, {b[k]!r} asked" for k in sorted(a) if a[k] != b.get(k) and k != "threads"]
    if info.get("data_fingerprint") != fingerprint:
        recorded = str(info.get("data_fingerprint"))[:12]
        changed.insert(0, f"dataset {info.get('data_path')} there (fingerprint {recorded}…, {fingerprint[:12]}… asked)")
    if changed:
        raise NeurocalError(f"{run_dir}: an earlier grid run differs from this one ({'; '.join(changed)}); "
                            "its metrics would be reused: choose a new --out or remove the run")


def format_grid(rows: list[dict[str, Any]]) -> str:
    """Markdown table: one line per (task, readout, model), one column per metric."""
    lines = ["| task | readout | model | metric | value |", "|---|---|---|---|---|"]
    for row in rows:
        for model, metrics in row["models"].items():
            for name, value in metrics.items():
                lines.append(f"| {row['task']} | {row['readout']} | {model} | {name} | {value:.4g} |")
    return "\n".join(lines) + "\n"
