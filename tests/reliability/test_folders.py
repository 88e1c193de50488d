"""The one rule for folder outputs (issue 19): a user's files are never deleted, a folder of another kind is
never written into.

A folder ``--out`` is replaced only if neurocal wrote it as the same kind and it holds nothing else;
otherwise the command is refused before any work, in one line naming the foreign files. Through the
real CLI, every file byte-identical afterwards.
"""

from __future__ import annotations

from pathlib import Path

from tests.reliability.conftest import assert_one_line, assert_unchanged, run_cli, snapshot


def test_quantize_keeps_the_users_file_in_a_bundle(work):
    (work / "bundle" / "notes.txt").write_text("my notes on this bundle\n")
    before = snapshot(work)
    proc = run_cli("quantize", "model.nir", "--data", "d.h5", "--out", "bundle", "--events", "12", cwd=work)
    assert_one_line(proc, "bundle", "notes.txt", "--out")
    assert_unchanged(before, work)


def test_quantize_keeps_a_hand_edited_bundle_file(work):
    path = work / "bundle" / "headroom.md"
    path.write_text(path.read_text() + "my remark\n")
    before = snapshot(work)
    proc = run_cli("quantize", "model.nir", "--data", "d.h5", "--out", "bundle", "--events", "12", cwd=work)
    assert_one_line(proc, "headroom.md", "changed")
    assert_unchanged(before, work)


def test_rtl_build_keeps_a_hand_added_source(work):
    assert run_cli("rtl", "build", "--bundle", "bundle", "--out", "proj", cwd=work).returncode == 0
    assert run_cli("rtl", "build", "--bundle", "bundle", "--out", "proj", cwd=work).returncode == 0  # ours: replaced
    (work / "proj" / "rtl" / "my_patch.v").write_text("// mine\n")
    before = snapshot(work)
    proc = run_cli("rtl", "build", "--bundle", "bundle", "--out", "proj", cwd=work)
    assert_one_line(proc, "proj", "rtl/my_patch.v", "--out")
    assert_unchanged(before, work)


def test_train_grid_refuses_a_bundle_and_a_run(work):
    assert run_cli("import-nir", "model.nir", "--out", "run", cwd=work).returncode == 0
    before = snapshot(work)
    for folder in ("bundle", "run"):
        proc = run_cli("train-grid", "--data", "d.h5", "--out", folder, "--task", "energy", "--readout", "spikes",
                       "--epochs", "1", cwd=work)
        assert_one_line(proc, folder, "--out")
    assert_unchanged(before, work)


def test_plot_superpixel_refuses_a_bundle(work):
    before = snapshot(work)
    assert_one_line(run_cli("plot-superpixel", "d.h5", "--out", "bundle", cwd=work), "bundle", "--out")
    assert_unchanged(before, work)


def test_firmware_csim_build_dir_refuses_a_bundle_and_a_file(work):
    (work / "file").write_text("mine")
    before = snapshot(work)
    for folder in ("bundle", "file"):
        proc = run_cli("firmware", "csim", "--bundle", "bundle", "--data", "d.h5", "--build-dir", folder, cwd=work)
        assert_one_line(proc, folder, "--build-dir")
    assert_unchanged(before, work)


def _grid(cwd: Path, data: str, epochs: str) -> object:
    return run_cli("train-grid", "--data", data, "--out", "grid", "--task", "energy", "--readout", "spikes",
                   "--epochs", epochs, "--max-events", "12", cwd=cwd)


def test_train_grid_rerun_with_other_settings_or_data_is_refused(work):
    from neurocal.sim.dataset import write_h5
    from tests.sim.helpers import random_events

    proc = _grid(work, "d.h5", "1")
    assert proc.returncode == 0, proc.stderr
    assert _grid(work, "d.h5", "1").returncode == 0  # the same grid: its runs are reused
    write_h5(random_events(12, seed=6), work / "other.h5")
    before = snapshot(work)
    assert_one_line(_grid(work, "d.h5", "2"), "energy_spikes", "epochs")
    assert_one_line(_grid(work, "other.h5", "1"), "energy_spikes", "dataset")
    assert_unchanged(before, work)
