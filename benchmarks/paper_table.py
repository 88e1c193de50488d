"""Side-by-side table of SNN-Cal's results and neurocal's networks on the same data (issue 9, item 5).

    python benchmarks/paper_table.py --events 1500 --epochs 5 --out build/paper_table [--dat DIR] [--threads 1]

For each dataset — neurocal's simulation at its defaults (the paper's light convention, SNN-Cal's
target definitions), and a directory of SNN-Cal ``.dat`` files when ``--dat`` is given — it trains
and evaluates, on one seeded 70/15/15 split:

* ``snn-cal preset``: SNN-Cal's float network and recipe (``TrainConfig.from_preset``), energy and
  energy + centroid, membrane readout;
* ``deployable SNN``: the hardware-faithful recipe (zero reset, no delay, one tick per layer in the
  integer network), float, and its integer network through ``neurocal export``/``quantize`` and the
  golden model (``neurocal evaluate --bundle``);
* ``ANN (spike rates)``: the deployable run's ANN of the same size; ``ANN (photon sums, BN)``:
  SNN-Cal's ANN baseline, trained in the preset run; ``linear N → E``: SNN-Cal's linear fit;
* SNN-Cal's own numbers as the issue quotes them (not re-derived here).

Prints one markdown table per dataset with the scale (events, epochs) and the wall time, and writes
it to ``OUT/paper_table.md`` (+ ``.json``). CPU-heavy: run it once, with ``--threads 1`` when the
machine is shared.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from neurocal.models.baselines import linear_energy_baseline
from neurocal.models.config import TrainConfig
from neurocal.models.metrics import evaluate, headline
from neurocal.models.training import load_split, train
from neurocal.sim import load_events
from neurocal.sim.simulate import SimConfig, simulate_to_file

# What the issue quotes from SNN-Cal (paper and notebook); n/a where it quotes nothing.
PUBLISHED = {
    "centroid: MAE x (mm)": "0.93 (paper); ~1.5 = 0.49 cell (notebook)",
    "centroid: MAE y (mm)": "< 3 (paper: 'less than one cell')",
    "centroid: MAE z (mm)": "< 12 (paper: 'less than one cell')",
}
METRICS = ("energy: MRE E", "energy: resolution", "energy: MRE log10 E", "centroid: MAE x (mm)",
           "centroid: MAE y (mm)", "centroid: MAE z (mm)")


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "neurocal.cli", *args], check=True, stdout=subprocess.DEVNULL)


def _train_eval(name: str, config: TrainConfig, data: Path, out: Path, integer: bool = False) -> dict[str, Any]:
    run = out / name
    t0 = time.perf_counter()
    if not (run / "snn_best.pt").exists():
        train(config, data, run, progress=False)
    bundle = None
    if integer:
        bundle = out / f"{name}_bundle"
        if not bundle.exists():
            _cli("export", str(run), "--out", str(out / f"{name}.nir"))
            _cli("quantize", str(out / f"{name}.nir"), "--data", str(data), "--out", str(bundle))
    result = evaluate(run, plots=False, bundle=bundle)
    return {"run": str(run), "seconds": time.perf_counter() - t0,
            "models": {k: headline(v) for k, v in result["models"].items()}}


def table_for(data: Path, out: Path, epochs: int, deploy_epochs: int, threads: int,
              max_events: int | None) -> dict[str, Any]:
    """Train everything on ``data``; returns {'columns': {name: {metric: value}}, 'seconds': ...}."""
    out.mkdir(parents=True, exist_ok=True)
    common = {"threads": threads, "max_events": max_events, "seed": 0}
    t0 = time.perf_counter()
    columns: dict[str, dict[str, float]] = {}
    runs = {}
    # the preset as SNN-Cal trains it (energy alone; energy + centroid), the deployable recipe per target
    for preset_target, deploy_target in (("energy", "energy"), ("energy_centroid", "centroid")):
        preset = TrainConfig.from_preset("snn-cal", target=preset_target, readout="membrane", epochs=epochs,
                                         **common)
        runs[f"preset_{preset_target}"] = _train_eval(f"preset_{preset_target}", preset, data, out)
        deploy = TrainConfig.from_preset("deployable", target=deploy_target, epochs=deploy_epochs, **common)
        runs[f"deploy_{deploy_target}"] = _train_eval(f"deploy_{deploy_target}", deploy, data, out, integer=True)
    # energy from the energy-only runs; the centroid from the energy + centroid preset and the centroid run
    for preset_run, deploy_run in (("preset_energy_centroid", "deploy_centroid"), ("preset_energy", "deploy_energy")):
        columns.setdefault("snn-cal preset (float)", {}).update(runs[preset_run]["models"]["snn"])
        columns.setdefault("ANN (photon sums, BN)", {}).update(runs[preset_run]["models"]["ann"])
        for model, column in (("snn", "deployable SNN (float)"), ("integer", "deployable SNN (integer)"),
                              ("ann", "ANN (spike rates)"), ("baseline", "training mean")):
            columns.setdefault(column, {}).update(runs[deploy_run]["models"].get(model, {}))
    events = load_events(data)
    split = load_split(out / "deploy_energy" / "split.npz")
    linear = linear_energy_baseline(events, split)["energy"]
    columns["linear N → E"] = {"energy: MRE E": linear["mre_E"], "energy: resolution": linear["resolution"],
                               "energy: MRE log10 E": linear["mre_log10E"]}
    return {"data": str(data), "n_events": events.n_events if max_events is None else min(max_events,
            events.n_events), "epochs": epochs, "deploy_epochs": deploy_epochs,
            "seconds": time.perf_counter() - t0, "columns": columns, "runs": runs}


def format_table(t: dict[str, Any], threads: int) -> str:
    names = ["SNN-Cal (quoted)", *t["columns"]]
    lines = [f"### {t['data']}: {t['n_events']} events (70/15/15), {t['epochs']} epochs (preset), "
             f"{t['deploy_epochs']} epochs (deployable and its ANN), "
             f"{t['seconds'] / 60:.1f} min wall on 2 shared cores, torch threads {threads}", "",
             "| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for metric in METRICS:
        cells = [PUBLISHED.get(metric, "n/a")]
        for name in t["columns"]:
            v = t["columns"][name].get(metric)
            cells.append("—" if v is None else f"{v:.4g}")
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1500, help="simulated events")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the snn-cal preset (SNN-Cal: 5-10)")
    parser.add_argument("--deploy-epochs", type=int, default=10, help="epochs of the deployable SNN and its ANN")
    parser.add_argument("--data", type=Path, default=None, help="simulated events to use instead of simulating")
    parser.add_argument("--max-events", type=int, default=None, help="use at most this many of them")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("build/paper_table"))
    parser.add_argument("--dat", type=Path, default=None, help="folder tree of SNN-Cal .dat files")
    parser.add_argument("--dat-events", type=int, default=None, help="use at most this many .dat events")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sim = args.data or args.out / f"sim_{args.events}.h5"
    if not sim.exists():
        simulate_to_file(["proton", "kaon", "pion"], args.events, seed=1, out=sim, config=SimConfig())
    tables = [table_for(sim, args.out / "sim", args.epochs, args.deploy_epochs, args.threads, args.max_events)]
    if args.dat is not None:
        tables.append(table_for(args.dat, args.out / "dat", args.epochs, args.deploy_epochs, args.threads,
                                args.dat_events))
    text = "\n".join(format_table(t, args.threads) for t in tables)
    print(text)
    (args.out / "paper_table.md").write_text(text)
    (args.out / "paper_table.json").write_text(json.dumps(tables, indent=2, default=str))


if __name__ == "__main__":
    main()
