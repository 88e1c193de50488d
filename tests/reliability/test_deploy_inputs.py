"""Bad input and faults of the deploy commands (issue 8 items 3, 5, 11, 13 and the deploy parts of 2, 6, 7).

Through the real CLI, like test_cli_inputs.py: a non-zero exit, one stderr line naming the file,
field or option, no traceback, and every pre-existing output byte-identical afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import nir
import numpy as np
import pytest

from neurocal.sim.dataset import write_h5
from neurocal.testnets import lif_graph
from tests.reliability.conftest import assert_one_line, assert_unchanged, file_limit, run_cli, snapshot
from tests.sim.helpers import random_events


def _graph(seed: int = 0, dt: float = 1e-4, weight: float | None = None) -> object:
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.3, (8, 400)), rng.normal(0, 0.3, (2, 8))]
    if weight is not None:
        weights[0][3, 5] = weight
    return lif_graph(weights, threshold=1.0, dt=dt)


@pytest.fixture
def deployed(tmp_path: Path) -> Path:
    """tmp_path with model.nir, d.h5 (12 events) and bundle/ quantised from them."""
    nir.write(tmp_path / "model.nir", _graph())
    write_h5(random_events(12, seed=5), tmp_path / "d.h5")
    proc = run_cli("quantize", "model.nir", "--data", "d.h5", "--out", "bundle", "--events", "12", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path


# ----------------------------------------------------------------------------------------------- 3: bundles


def test_quantize_disk_full_keeps_the_old_bundle_whole(deployed):
    nir.write(deployed / "other.nir", _graph(seed=1))
    before = snapshot(deployed)
    proc = run_cli("quantize", "other.nir", "--data", "d.h5", "--out", "bundle", "--events", "12", cwd=deployed,
                   preexec_fn=file_limit(4096))
    assert_one_line(proc, "disk full")
    assert_unchanged(before, deployed)


def test_run_refuses_a_torn_bundle(deployed):
    (deployed / "bundle" / "headroom.md").unlink()  # what a half-replaced bundle looks like
    proc = run_cli("run", "--bundle", "bundle", "--data", "d.h5", cwd=deployed)
    assert_one_line(proc, "headroom.md")


def test_quantize_out_existing_file_and_read_only_folder(deployed):
    (deployed / "file").write_text("mine")
    ro = deployed / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        before = snapshot(deployed)
        assert_one_line(run_cli("quantize", "model.nir", "--data", "d.h5", "--out", "file", cwd=deployed),
                        "file", "directory")
        assert_one_line(run_cli("quantize", "model.nir", "--data", "d.h5", "--out", "ro/bundle", cwd=deployed,
                                drop_caps=True), "ro/bundle", "not writable")
        assert_unchanged(before, deployed)
    finally:
        ro.chmod(0o755)


# ----------------------------------------------------------------------------------------------- 5: intnet.json


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["layers"][0].__setitem__("weights", _set_first(d["layers"][0]["weights"], 58 + 2**32)), "weights"),
        (lambda d: d["layers"][0].__setitem__("weights", _set_first(d["layers"][0]["weights"], 58.9)), "weights"),
        (lambda d: d["layers"][0].__setitem__("weight_exp", 1.7), "weight_exp"),
        (lambda d: d["layers"][0].__setitem__("spiking", "no"), "spiking"),
    ],
)
def test_edited_intnet_is_refused_with_its_field(deployed, edit, field):
    path = deployed / "bundle" / "intnet.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    proc = run_cli("run", "--bundle", "bundle/intnet.json", "--data", "d.h5", cwd=deployed)
    assert_one_line(proc, field)


def _set_first(weights: list, value: float) -> list:
    row = weights
    while isinstance(row[0], list):
        row = row[0]
    row[0] = value
    return weights


# ----------------------------------------------------------------------------------------------- 6, 11: NIR


@pytest.mark.parametrize(("graph", "field"), [
    (lambda: _graph(weight=float("nan")), "weight"),
    (lambda: _graph(weight=float("inf")), "weight"),
    (lambda: _graph(dt=float("nan")), "dt"),
    (lambda: _graph(dt=0.0), "dt"),
])
def test_bad_nir_is_refused_by_import_and_quantize(tmp_path, graph, field):
    nir.write(tmp_path / "bad.nir", graph())
    write_h5(random_events(4, seed=5), tmp_path / "d.h5")
    assert_one_line(run_cli("import-nir", "bad.nir", cwd=tmp_path), "bad.nir", field)
    assert_one_line(run_cli("quantize", "bad.nir", "--data", "d.h5", "--out", "b", cwd=tmp_path), "bad.nir", field)
    assert not (tmp_path / "b").exists()


# ----------------------------------------------------------------------------------------------- 7, 13: run


def test_run_out_in_read_only_folder_fails_before_work(deployed):
    ro = deployed / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        proc = run_cli("run", "--bundle", "bundle", "--data", "d.h5", "--out", "ro/r.npz", cwd=deployed,
                       drop_caps=True)
        assert_one_line(proc, "ro/r.npz", "not writable")
        assert "events/s" not in proc.stdout  # nothing ran
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_run_timeout_is_validated(deployed, value):
    proc = run_cli("run", "--backend", "golden", "--bundle", "bundle", "--data", "d.h5", "--timeout", value,
                   cwd=deployed)
    assert_one_line(proc, "--timeout")


def test_run_h5_out_disk_full_keeps_the_old_file(deployed, old_file):
    old_file("r.h5")
    before = snapshot(deployed)
    proc = run_cli("run", "--bundle", "bundle", "--data", "d.h5", "--out", "r.h5", cwd=deployed,
                   preexec_fn=file_limit(2048))
    assert proc.returncode != 139
    assert_one_line(proc, "r.h5", "disk full")
    assert_unchanged(before, deployed)


def test_export_disk_full_keeps_the_old_file(deployed, old_file):
    """export writes NIR (HDF5): needs models/nir_io.py to write through neurocal.atomic.atomic_file."""
    rng = np.random.default_rng(2)
    graph = lif_graph([rng.normal(0, 0.3, (8, 400)), rng.normal(0, 0.3, (1, 8))], threshold=1.0)
    graph.metadata["neurocal"]["target"] = "energy"  # one output: an energy run
    nir.write(deployed / "energy.nir", graph)
    proc = run_cli("import-nir", "energy.nir", "--out", "run", cwd=deployed)
    assert proc.returncode == 0, proc.stderr
    old_file("out.nir")
    before = snapshot(deployed)
    proc = run_cli("export", "run", "--out", "out.nir", cwd=deployed, preexec_fn=file_limit(2048))
    assert proc.returncode != 139
    assert_one_line(proc, "out.nir", "disk full")
    assert_unchanged(before, deployed)
