"""Training runs: deterministic resume, clear errors for bad input, evaluation and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from neurocal.cli import main
from neurocal.errors import NeurocalError
from neurocal.models.config import TrainConfig, load_config
from neurocal.models.metrics import evaluate
from neurocal.models.training import load_checkpoint, load_model, train
from neurocal.sim.dataset import write_h5

from .synthetic import synthetic_events

TINY = {"hidden": [16], "batch_size": 48, "ann_baseline": False, "seed": 5, "threads": 1}


@pytest.mark.slow
def test_resume_equals_straight_training(synthetic_h5: Path, tmp_path: Path) -> None:
    straight = train(TrainConfig(epochs=2, **TINY), synthetic_h5, tmp_path / "straight", progress=False)
    part = train(TrainConfig(epochs=1, **TINY), synthetic_h5, tmp_path / "part", progress=False)
    assert load_checkpoint(part / "snn_last.pt")["epoch"] == 1
    train(TrainConfig(epochs=2, **TINY), synthetic_h5, part, progress=False, resume=True)
    a = load_checkpoint(straight / "snn_last.pt")
    b = load_checkpoint(part / "snn_last.pt")
    assert a["epoch"] == b["epoch"] == 2
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert [h["val_loss"] for h in a["history"]] == [h["val_loss"] for h in b["history"]]
    assert (part / "split.npz").read_bytes() == (straight / "split.npz").read_bytes()


def test_resume_refuses_a_different_experiment(trained_run: Path) -> None:
    config = load_config(trained_run / "config.yaml").with_overrides(hidden=[8])
    with pytest.raises(NeurocalError, match="hidden"):
        train(config, None, trained_run, progress=False, resume=True)
    with pytest.raises(NeurocalError, match="already holds a run"):
        train(load_config(trained_run / "config.yaml"), None, trained_run, progress=False)


def test_missing_target_is_a_clear_error(tmp_path: Path) -> None:
    events = synthetic_events(40, seed=1)
    events.centroid[:] = np.nan  # as read from an old-layout .dat file
    write_h5(events, tmp_path / "old.h5")
    with pytest.raises(NeurocalError, match=r"centroid.*missing"):
        train(TrainConfig(target="centroid", epochs=1, **TINY), tmp_path / "old.h5", tmp_path / "run", progress=False)
    events.particle[:] = 1
    write_h5(events, tmp_path / "protons.h5")
    with pytest.raises(NeurocalError, match="only class"):
        train(TrainConfig(target="pid", epochs=1, **TINY), tmp_path / "protons.h5", tmp_path / "run2", progress=False)


def test_missing_dataset_field_is_a_clear_error(tmp_path: Path) -> None:
    import h5py

    write_h5(synthetic_events(20, seed=2), tmp_path / "cut.h5")
    with h5py.File(tmp_path / "cut.h5", "a") as f:
        del f["targets/energy_mev"]
    with pytest.raises(NeurocalError, match="energy_mev"):
        train(TrainConfig(epochs=1, **TINY), tmp_path / "cut.h5", tmp_path / "run", progress=False)


def test_corrupt_checkpoint_is_a_clear_error(trained_run: Path, tmp_path: Path) -> None:
    bad = tmp_path / "run"
    bad.mkdir()
    for name in ("config.yaml", "run.json", "split.npz"):
        (bad / name).write_bytes((trained_run / name).read_bytes())
    (bad / "snn_best.pt").write_bytes((trained_run / "snn_best.pt").read_bytes()[:300])
    with pytest.raises(NeurocalError, match="corrupt"):
        load_model(bad, "snn")


def test_bad_config_file_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "cfg.yaml").write_text("target: energy\nhiden: [10]\n")
    with pytest.raises(NeurocalError, match="hiden"):
        load_config(tmp_path / "cfg.yaml")
    (tmp_path / "cfg.yaml").write_text("epochs: -1\n")
    with pytest.raises(NeurocalError, match="epochs"):
        load_config(tmp_path / "cfg.yaml")


@pytest.mark.slow  # matplotlib: ~3 s idle, >10 s on a loaded machine
def test_evaluate_reports_every_metric_and_baseline(trained_run: Path) -> None:
    result = evaluate(trained_run)
    assert set(result["models"]) == {"snn", "ann", "baseline"}
    on_disk = json.loads((trained_run / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(result))
    for name, m in result["models"].items():
        assert set(m) == {"energy", "centroid", "dispersion", "pid"}, name
        assert np.isfinite(m["energy"]["mre_E"]) and set(m["centroid"]["mae_mm"]) == {"x", "y", "z"}
        cm = np.array(m["pid"]["confusion"])
        assert cm.shape == (3, 3) and cm.sum() == result["n_test"]
        assert m["pid"]["accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    baseline = result["models"]["baseline"]
    # the baseline predicts one value: its log10 E residual spread is the target's spread
    assert baseline["energy"]["response"] > 0
    for plot in result["plots"]:
        assert (trained_run / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"log10_energy_mev.png", "energy_response.png", "pid_confusion.png", "training.png"} <= set(
        result["plots"]
    )


def test_cli_train_evaluate_export_import(synthetic_h5: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    run = tmp_path / "cli_run"
    res = runner.invoke(main, ["train", "--data", str(synthetic_h5), "--target", "pid", "--out", str(run),
                               "--epochs", "1", "--hidden", "12", "--no-ann", "--threads", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["evaluate", str(run), "--no-plots"])
    assert res.exit_code == 0, res.output
    assert "PID: accuracy" in res.output
    res = runner.invoke(main, ["export", str(run), "--out", str(tmp_path / "m.nir")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["import-nir", str(tmp_path / "m.nir")])
    assert res.exit_code == 0, res.output
    assert "400 → 12" in res.output and '"target": "pid"' in res.output
    res = runner.invoke(main, ["train", "--data", str(tmp_path / "none.h5"), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "none.h5" in res.output
    res = runner.invoke(main, ["import-nir", str(tmp_path / "none.nir")])
    assert res.exit_code == 2 and "no such NIR file" in res.output
