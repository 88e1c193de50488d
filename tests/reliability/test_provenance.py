"""Every derived artefact is used only with what it came from (issue 19, provenance).

A resume on the same photons recorded through another front end, an export whose ``--bundle`` was
quantised from another network, ``quantize RUN_DIR`` of a run without a checkpoint, a QAT start from a
run that cannot be exported, and ``--preset`` beside another starting configuration: each is refused
in one line naming the difference, through the real CLI, with every file unchanged.
"""

from __future__ import annotations

import dataclasses
import shutil

import nir
import numpy as np
import pytest

from neurocal.sim.dataset import read_h5, write_h5
from neurocal.sim.frontend import ThresholdFrontEnd
from neurocal.testnets import lif_graph
from tests.reliability.conftest import assert_one_line, assert_unchanged, run_cli, snapshot


def test_resume_on_the_same_photons_through_another_front_end_is_refused(snn_cal_once, tmp_path):
    shutil.copytree(snn_cal_once, tmp_path, dirs_exist_ok=True)
    events = read_h5(tmp_path / "small.h5")
    other = ThresholdFrontEnd([50.0, 500.0, 5e3, 5e4]).to_dict()  # same photons, other spikes
    write_h5(dataclasses.replace(events, generator={**events.generator, "frontend": other}), tmp_path / "fe.h5")
    before = snapshot(tmp_path)
    proc = run_cli("train", "--resume", "--out", "run", "--data", "fe.h5", "--epochs", "2", "--quiet", cwd=tmp_path)
    assert_one_line(proc, "fe.h5", "front end")
    assert_unchanged(before, tmp_path)


def test_qat_from_a_run_that_cannot_be_exported_is_refused_before_training(snn_cal_once, tmp_path):
    before = snapshot(snn_cal_once)
    proc = run_cli("train", "--qat-from", str(snn_cal_once / "run"), "--out", "qat", "--quiet", cwd=tmp_path)
    assert_one_line(proc, "--qat-from", "reset")
    assert "epoch" not in proc.stdout
    assert not (tmp_path / "qat").exists()
    assert_unchanged(before, snn_cal_once)


@pytest.mark.parametrize("other", [["--qat-from", "run"], ["--demo"], ["--config", "c.yaml"], ["--resume"]])
def test_preset_beside_another_starting_configuration_is_refused(tmp_path, small_h5, other):
    (tmp_path / "c.yaml").write_text("epochs: 1\n")
    (tmp_path / "run").mkdir()
    before = snapshot(tmp_path)
    proc = run_cli("train", "--preset", "deployable", *other, "--data", str(small_h5), "--out", "new", cwd=tmp_path)
    assert_one_line(proc, "--preset", other[0])
    assert_unchanged(before, tmp_path)


def test_export_refuses_a_bundle_quantised_from_another_network(work):
    assert run_cli("import-nir", "model.nir", "--out", "run", cwd=work).returncode == 0
    rng = np.random.default_rng(1)
    graph = lif_graph([rng.normal(0, 0.3, (8, 400)), rng.normal(0, 0.3, (1, 8))], threshold=1.0, dt=1e-4)
    graph.metadata["neurocal"]["target"] = "energy"
    nir.write(work / "other.nir", graph)
    assert run_cli("quantize", "other.nir", "--data", "d.h5", "--out", "other", "--events", "12",
                   cwd=work).returncode == 0
    ok = run_cli("export", "run", "--out", "g.nir", "--qonnx", "g.onnx", "--bundle", "bundle", cwd=work)
    assert ok.returncode == 0, ok.stderr  # the bundle quantised from this run's network
    before = snapshot(work)
    proc = run_cli("export", "run", "--out", "g.nir", "--qonnx", "g.onnx", "--bundle", "other", cwd=work)
    assert_one_line(proc, "--bundle", "another network", "layer 0 weight")
    assert_unchanged(before, work)


def test_quantize_run_without_checkpoint_does_not_take_a_stray_nir(work):
    assert run_cli("import-nir", "model.nir", "--out", "run", cwd=work).returncode == 0
    (work / "run" / "snn_best.pt").unlink()  # the run's model.nir stays: a graph, not the run's checkpoint
    before = snapshot(work)
    assert_one_line(run_cli("quantize", "run", "--data", "d.h5", "--out", "b", cwd=work), "snn_best.pt")
    assert_unchanged(before, work)
