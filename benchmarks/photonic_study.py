"""Ideal 4-threshold encoder vs the InP nanowire photonic front end: spikes, physics, energy, speed.

    python benchmarks/photonic_study.py                           # 1500 events, paper light, energy target
    python benchmarks/photonic_study.py --events 3000 --epochs 10 --out build/photonic_study

Steps (everything cached under ``--out``, so a re-run reuses the data, spikes and trained runs):

1. simulate ``--events`` showers (p, K, π; the paper's light convention by default, which lights
   all four levels) and encode them with the ideal encoder, with the photonic front end in its
   ideal limit (checked identical) and with the default (noisy) photonic settings;
2. spike statistics per level: spikes per event, and how often the photonic channel fires in a
   tick where the ideal one does / does not;
3. energy per event of the photonic front end (spikes × (E_spike + E_link) + static power ×
   window), with the constants' sources, and at the low end of the nanoLED estimate (10 fJ);
4. physics: train the demo SNN (``TrainConfig.demo``) on ideal spikes; evaluate it on the test
   events encoded ideally and photonically ("as trained"); retrain on photonic spikes and
   evaluate on photonic spikes ("retrained"); predict-the-mean as the floor;
5. sensitivity (cheap, test events only, no retraining): spikes per level and the ideal-trained
   network's metrics for variants of the photonic settings (``VARIANTS``);
6. deployment: export the photonic-trained run, quantise it on photonic spikes with the photonic
   front end stored in the bundle, and run ``--lava-events`` events on golden and Lava (from the
   numpy front end's spikes, and photons → photonic process → network inside Lava when the Lava
   backend has its ``front`` hook): every event must agree bit for bit.

Prints markdown tables and writes them with the raw numbers to ``--out/photonic_study.{md,json}``,
and the figures ``spikes_per_level.png``, ``energy_per_event.png`` and ``superpixel.png`` (the
brightest sensor of the first test event, as ``neurocal plot-superpixel`` draws it).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurocal.atomic import write_text_atomic
from neurocal.errors import NeurocalError
from neurocal.models.config import TrainConfig
from neurocal.models.metrics import headline, physics_metrics
from neurocal.models.training import _train_into, load_model, predict, prepare
from neurocal.sim.frontend import encode_thresholds
from neurocal.sim.photonic import EnergyConstants, PhotonicFrontEnd, PhotonicSettings, energy_per_event, ideal_settings
from neurocal.targets import split_outputs


def _dataset(out: Path, n_events: int, light: str, seed: int) -> Path:
    path = out / f"sim{n_events}_seed{seed}_{light}.h5"
    if not path.exists():
        from neurocal.sim.dataset import write_h5
        from neurocal.sim.simulate import SimConfig, simulate

        print(f"simulating {n_events} events ({light} light) → {path}", flush=True)
        write_h5(simulate(["proton", "kaon", "pion"], n_events, seed, SimConfig(light=light)), path)
    return path


def settings_tag(fe: PhotonicFrontEnd) -> str:
    """Short hash of the front end's settings: cached spikes and runs are reused only for the same settings."""
    return hashlib.sha256(json.dumps(fe.to_dict(), sort_keys=True).encode()).hexdigest()[:10]


def _photonic(out: Path, photons: np.ndarray, fe: PhotonicFrontEnd) -> tuple[np.ndarray, np.ndarray, float]:
    """(spikes, neuron spikes per event, seconds per event), cached in ``out``."""
    path = out / f"photonic_{len(photons)}ev_{settings_tag(fe)}.npz"
    if path.exists():
        z = np.load(path)
        return z["spikes"], z["n_spikes"], float(z["seconds_per_event"])
    t0 = time.perf_counter()
    run = fe.run(photons)
    per_event = (time.perf_counter() - t0) / len(photons)
    np.savez_compressed(path, spikes=run.spikes, n_spikes=run.n_spikes.sum(axis=1), seconds_per_event=per_event)
    return run.spikes, run.n_spikes.sum(axis=1), per_event


def spike_table(ideal: np.ndarray, photonic: np.ndarray, n_levels: int) -> list[dict[str, float]]:
    """Per level: spikes per event of each front end, P(photonic | ideal fires), P(photonic | ideal silent)."""
    a = ideal.reshape(*ideal.shape[:2], -1, n_levels)
    b = photonic.reshape(*photonic.shape[:2], -1, n_levels)
    rows = []
    for i in range(n_levels):
        on, ph = a[..., i], b[..., i]
        rows.append({
            "level": i,
            "ideal spikes/event": float(on.sum() / len(on)),
            "photonic spikes/event": float(ph.sum() / len(ph)),
            "P(photonic | ideal fires)": float(ph[on].mean()) if on.any() else float("nan"),
            "P(photonic | ideal silent)": float(ph[~on].mean()),
        })  # fmt: skip
    return rows


VARIANTS: dict[str, dict[str, Any]] = {
    "no latency, no jitter": {"latency_ps": 0.0, "jitter_ps": 0.0},
    "no latency, jitter 10 ps clipped at 0": {"latency_ps": 0.0},
    "quarter of the light per channel": {"area_share": 0.25},
    "mean-current threshold": {"threshold_design": "mean"},
}


def sensitivity(run: Path, data: Any, photons: np.ndarray, ideal: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """Per variant: spikes per level and the ideal-trained network's metrics on the test events.

    The test events are encoded as a batch of their own (event i of the batch seeds its noise),
    a valid noise realisation though not the one of the full-dataset encoding.
    """
    test = data.split["test"]
    rows = []
    for name, overrides in VARIANTS.items():
        fe = PhotonicFrontEnd(PhotonicSettings(seed=seed, **overrides))
        spikes = fe.encode(photons[test])
        x = torch.zeros_like(data.x)
        x[torch.from_numpy(test)] = torch.from_numpy(spikes)
        per_level = [
            r["photonic spikes/event"] / r["ideal spikes/event"] for r in spike_table(ideal[test], spikes, fe.n_levels)
        ]
        rows.append({
            "variant": name,
            "θ (pe)": fe.design.threshold_pe,
            **{f"spikes/ideal L{i}": v for i, v in enumerate(per_level)},
            **_evaluate(run, data, x),
        })  # fmt: skip
    return rows


def _evaluate(run: Path, data: Any, x: torch.Tensor) -> dict[str, float]:
    model, _, info = load_model(run, "snn", "best")
    test = torch.from_numpy(data.split["test"])
    out = predict(model, x[test]).numpy()
    reg, cls = split_outputs(out, data.spec, np.asarray(info["target_mean"]), np.asarray(info["target_std"]))
    return headline(physics_metrics(data.spec, data.y_reg_raw[data.split["test"]], data.y_cls.numpy()[test], reg, cls))


def _mean_baseline(data: Any) -> dict[str, float]:
    test = data.split["test"]
    reg = np.broadcast_to(data.y_reg_raw[data.split["train"]].mean(axis=0), data.y_reg_raw[test].shape)
    cls = np.zeros(len(test), dtype=np.int64) if data.spec.has_pid else None
    return headline(physics_metrics(data.spec, data.y_reg_raw[test], data.y_cls.numpy()[test], reg, cls))


def _train(out: Path, config: TrainConfig, data: Any) -> Path:
    if not (out / "snn_best.pt").exists():
        out.mkdir(parents=True, exist_ok=True)
        _train_into(
            out, config, data, resume=False, fake_quant=None, progress=False, log=lambda m: print(m, flush=True)
        )
    return out


def deployment_check(
    run: Path,
    out: Path,
    photons: np.ndarray,
    spikes: np.ndarray,
    fe: PhotonicFrontEnd,
    calib_idx: np.ndarray,
    n_events: int,
) -> dict[str, Any]:
    """Bundle from the photonic-trained run; golden vs Lava on events 0..n_events-1 (bit for bit)."""
    from neurocal.backends import compare_results, get_backend
    from neurocal.golden import GoldenBackend
    from neurocal.models.nir_io import export
    from neurocal.nirgraph import read_chain
    from neurocal.quantize import quantize
    from neurocal.sim.photonic_lava import run_photonic_lava

    net = quantize(read_chain(export(run, out / "photonic_model.nir")), spikes[calib_idx], frontend=fe.to_dict())
    golden = GoldenBackend().run(net, spikes[:n_events])
    lava = get_backend("lava").run(net, spikes[:n_events])
    result: dict[str, Any] = {
        "content_hash": net.content_hash,
        "events": n_events,
        "golden_vs_lava_mismatched_events": compare_results(golden, lava).n_mismatched,
        "lava_s_per_event": lava.seconds / n_events,
    }
    try:
        t0 = time.perf_counter()
        inside = run_photonic_lava(photons[:n_events], fe, net)
        result["photons_in_lava_mismatched_events"] = compare_results(golden, inside.network).n_mismatched
        result["photons_in_lava_front_identical"] = bool(np.array_equal(inside.front_spikes, spikes[:n_events]))
        result["photons_in_lava_s_per_event"] = (time.perf_counter() - t0) / n_events
    except NeurocalError as err:  # e.g. the Lava backend without its front hook: say so in the table
        result["photons_in_lava"] = f"not run: {str(err).splitlines()[0]}"
    return result


def figures(
    out: Path, report: dict[str, Any], energy_j: np.ndarray, events: Any, index: int, fe: PhotonicFrontEnd
) -> list[Path]:
    """The study's PNGs: spikes per level (ideal vs photonic), energy per event, one superpixel."""
    from neurocal.sim.photonic_plots import brightest_sensor, superpixel_figure
    from neurocal.sim.plots import _pyplot, save_figures

    plt = _pyplot()
    rows = report["spikes"]
    fig1, ax = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["ideal spikes/event"] for r in rows], 0.4, label="ideal encoder")
    ax.bar(x + 0.2, [r["photonic spikes/event"] for r in rows], 0.4, label="photonic front end")
    ax.set_yscale("log")
    ax.set_xticks(x, [f"level {r['level']}" for r in rows])
    ax.set_ylabel("spikes per event")
    ax.legend()
    fig2, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(energy_j * 1e12, bins=40, color="tab:green")
    ax.set_xlabel("photonic front-end energy per event (pJ)")
    ax.set_ylabel("events")
    k = report["energy"]["constants"]
    ax.set_title(
        f"{k['energy_per_spike_fj']['value']:g} fJ/spike + {k['link_energy_fj']['value']:g} fJ link "
        f"+ {k['static_power_w']['value']:g} W/channel static",
        fontsize=8,
    )
    fig3 = superpixel_figure(events, index, brightest_sensor(events, index), fe)
    return save_figures(
        {out / "spikes_per_level.png": fig1, out / "energy_per_event.png": fig2, out / "superpixel.png": fig3}
    )


def markdown(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=1500)
    ap.add_argument("--light", choices=["paper", "physical"], default="paper")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", default="energy")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lava-events", type=int, default=20, help="events for the golden vs Lava check (0: skip)")
    ap.add_argument("--out", type=Path, default=Path("build/photonic_study"))
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    data_path = _dataset(out, args.events, args.light, args.seed)
    config = TrainConfig.demo(args.target, epochs=args.epochs, ann_baseline=False, seed=args.seed)
    data = prepare(config, data_path)  # ideal spikes, targets, split
    from neurocal.sim import load_events

    photons = load_events(data_path).photons
    ideal = data.x.numpy()
    assert np.array_equal(ideal, encode_thresholds(photons, config.thresholds))

    settings = PhotonicSettings(seed=args.seed)
    fe = PhotonicFrontEnd(settings)
    limit, _, limit_s = _photonic(out, photons, PhotonicFrontEnd(ideal_settings(tuple(config.thresholds))))
    assert np.array_equal(limit, ideal), "the photonic front end's ideal limit differs from the ideal encoder"
    spikes, n_spikes, noisy_s = _photonic(out, photons, fe)

    design = {
        "eta": fe.design.eta,
        "threshold_pe": fe.design.threshold_pe,
        "transmission": fe.design.transmission.tolist(),
        "photon_thresholds": fe.design.photon_thresholds.tolist(),
    }
    report: dict[str, Any] = {
        "command": f"python benchmarks/photonic_study.py --events {args.events} --light {args.light} "
        f"--seed {args.seed} --target {args.target} --epochs {args.epochs} --lava-events {args.lava_events}",
        "photonic_settings": fe.to_dict(),
        "design": design,
        "speed": {"photonic_s_per_event": noisy_s, "ideal_limit_s_per_event": limit_s},
        "ideal_limit_identical": True,
    }
    report["spikes"] = spike_table(ideal, spikes, len(config.thresholds))

    window_ns = photons.shape[1] * settings.tick_ns
    n_ch = spikes.shape[2]
    energy = energy_per_event(n_spikes, n_ch, window_ns)
    low = energy_per_event(n_spikes, n_ch, window_ns, EnergyConstants(energy_per_spike_fj=10.0))
    report["energy"] = {
        "neuron_spikes_per_event_mean": float(n_spikes.mean()),
        "energy_per_event_pJ_mean": float(energy["energy_j"].mean() * 1e12),
        "energy_per_event_pJ_p90": float(np.percentile(energy["energy_j"], 90) * 1e12),
        "static_pJ": float(energy["static_j"] * 1e12),
        "energy_per_event_pJ_mean_at_10fJ_per_spike": float(low["energy_j"].mean() * 1e12),
        "constants": energy["constants"],
    }

    runs = {"ideal": _train(out / f"run_ideal_{args.target}", config, data)}
    photonic_data = dataclasses.replace(data, x=torch.from_numpy(spikes))
    runs["photonic"] = _train(out / f"run_photonic_{args.target}_{settings_tag(fe)}", config, photonic_data)
    rows = [
        {"model": "predict the mean", **_mean_baseline(data)},
        {"model": "trained ideal, tested ideal", **_evaluate(runs["ideal"], data, data.x)},
        {"model": "trained ideal, tested photonic (as trained)", **_evaluate(runs["ideal"], data, photonic_data.x)},
        {"model": "trained photonic, tested photonic (retrained)",
         **_evaluate(runs["photonic"], data, photonic_data.x)},
    ]  # fmt: skip
    report["physics"] = rows
    report["sensitivity"] = sensitivity(runs["ideal"], data, photons, ideal, args.seed)
    if args.lava_events:
        calib = data.split["train"][:64]
        report["deployment"] = deployment_check(runs["photonic"], out, photons, spikes, fe, calib, args.lava_events)

    text = "\n\n".join([
        f"# Photonic front end study\n\n`{report['command']}`",
        "## Spikes per level (test and train events together)\n\n" + markdown(report["spikes"]),
        "## Energy of the photonic front end per event\n\n" + markdown([{k: v for k, v in report["energy"].items()
                                                                          if k != "constants"}]),
        "## Physics (test split)\n\n" + markdown(rows),
        "## Sensitivity: ideal-trained network on variants of the photonic settings (test split)\n\n"
        + markdown(report["sensitivity"]),
        "## Deployment of the photonic-trained network\n\n" + markdown([report.get("deployment", {"skipped": True})]),
        f"## Speed\n\nphotonic front end (numpy, noisy): {noisy_s * 1e3:.1f} ms/event; ideal limit "
        f"{limit_s * 1e3:.1f} ms/event",
    ])  # fmt: skip
    print(text)
    first_test = int(data.split["test"][0])
    for path in figures(out, report, energy["energy_j"], load_events(data_path), first_test, fe):
        print(f"wrote {path}")
    write_text_atomic(out / "photonic_study.md", text + "\n")
    write_text_atomic(out / "photonic_study.json", json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
