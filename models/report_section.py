"""The report's **physics** section: the float SNN against the integer network per target metric, with the
ANN and the predict-the-mean baseline beside them, from :func:`neurocal.models.metrics.evaluate` (the same
metrics ``neurocal evaluate`` writes; nothing is recomputed differently here).

It needs the bundle's training run (``--run``), evaluated on the test split of the data it was trained on
(``--data`` only for a run that names no data file it can find). The run's ``metrics.json`` is used when it
already holds this bundle's integer network; otherwise the run is evaluated (which refreshes its
``metrics.json``). The result is cached by the run's checkpoints and the bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurocal.errors import NeurocalError
from neurocal.report.quantity import measured, show
from neurocal.report.section import Context, Figure, SectionResult, Table

MODELS = {"snn": "float SNN", "integer": "integer network (golden)", "ann": "ANN", "baseline": "predict the mean"}


def _run_files_key(run: Path) -> dict[str, str]:
    from neurocal.report.cache import file_sha256

    return {p.name: file_sha256(p) for p in sorted(run.iterdir())
            if p.suffix in (".pt", ".npz") or p.name == "run.json"}


def _metrics(ctx: Context) -> dict[str, Any]:
    import json

    from neurocal.models.metrics import evaluate

    run = ctx.run
    assert run is not None
    existing = run / "metrics.json"
    if existing.is_file():
        try:
            found = json.loads(existing.read_text())
        except (OSError, ValueError):
            found = {}
        if found.get("integer", {}).get("content_hash") == ctx.net.content_hash:
            return found
    from neurocal.models.training import read_run

    # the run's own data (its split indexes that file); --data only for a run that names none it can find
    named = read_run(run)[1].get("data_path")
    data = Path(named) if named and Path(named).is_file() else ctx.data
    ctx.progress(f"evaluating run {run} on {data} with the integer network (refreshes its metrics.json)")
    return evaluate(run, data, plots=False, bundle=ctx.bundle)


class PhysicsSection:
    name = "physics"
    title = "Physics: float SNN vs integer network"

    def build(self, ctx: Context) -> SectionResult:
        from neurocal.models.metrics import headline

        out = SectionResult()
        if ctx.run is None:
            out.not_run.append("not run, because no --run (the bundle's training run) was given")
            return out
        if not (ctx.run / "run.json").is_file():
            raise NeurocalError(f"--run {ctx.run}: holds no run.json, so it is not a training run")
        metrics = ctx.cache.get("physics", {"network": ctx.net.content_hash, "run": _run_files_key(ctx.run)},
                                lambda: _metrics(ctx))
        models = {k: headline(v) for k, v in metrics["models"].items()}
        names = [k for k in MODELS if k in models]
        metric_names = list(dict.fromkeys(m for k in names for m in models[k]))
        how = f"neurocal.models.metrics.evaluate, {metrics['n_test']} test events of {metrics['data']}"
        rows = []
        for m in metric_names:
            unit = "mm" if "(mm)" in m else "1"
            cells: list[Any] = [m]
            for k in names:
                if m in models[k]:
                    q = measured(models[k][m], unit, how)
                    out.numbers[f"{k}: {m}"] = q
                    cells.append(q)
                else:
                    cells.append("—")
            rows.append(cells)
        out.tables.append(Table(f"{metrics['target']} on the test split", ["metric", *(MODELS[k] for k in names)],
                                rows))
        if "integer" not in models:
            out.not_run.append("integer network: not run, because the run's evaluation holds no integer network")
        energy = {k: metrics["models"][k]["energy"]["binned"] for k in names if "energy" in metrics["models"][k]}
        if energy:
            out.figures.append(Figure("response.png", _response_plot(energy), "Energy response ⟨E_pred/E⟩ and "
                                      "resolution σ/⟨E_pred/E⟩ in bins of true energy (test split)"))
        lead = "integer" if "integer" in models else "snn"
        first = metric_names[0]
        key = f"{lead}: {first}"
        others = ", ".join(f"{MODELS[k]} {show(out.numbers[f'{k}: {first}'])}" for k in names
                           if k != lead and f"{k}: {first}" in out.numbers)
        out.headline = f"physics: {first}: {MODELS[lead]} {show(out.numbers[key])} ({others})"
        out.headline_key = key
        return out


def _response_plot(binned: dict[str, list[dict[str, float]]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from neurocal.report.sections import png

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for kind, bins in binned.items():
        centres = [np.sqrt(b["e_low_mev"] * b["e_high_mev"]) for b in bins]
        axes[0].plot(centres, [b["response"] for b in bins], "o-", label=MODELS[kind])
        axes[1].plot(centres, [b["resolution"] for b in bins], "o-", label=MODELS[kind])
    axes[0].axhline(1.0, color="k", lw=0.8)
    axes[0].set(xscale="log", xlabel="true E (MeV)", ylabel="response ⟨E_pred/E⟩")
    axes[1].set(xscale="log", xlabel="true E (MeV)", ylabel="resolution σ/⟨E_pred/E⟩")
    axes[0].legend()
    return png(fig)
