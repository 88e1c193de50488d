"""Bad input and faults through the real CLI (issue 8): one line, non-zero exit, nothing lost.

Items of issue 8 covered here: 1 (device nodes, FIFOs, symlinks as --out), 2 (disk full),
4 (train --resume on another dataset), 6 (tracebacks for bad numbers, configs, empty files,
read-only folders), 7 (outputs checked before work), 8 (absurd event counts), 9 (SIGINT/SIGTERM
while writing), 12 (no empty folder after a failure), and the umask and `inspect x.txt` findings.
The deploy commands' items (3, 5, 11, 13 and their parts of 6/7) are in test_deploy_inputs.py.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest

from neurocal.sim.dataset import write_h5
from neurocal.testnets import lif_graph
from tests.reliability.conftest import (
    CLI,
    IS_ROOT,
    STOP_SIGNALS,
    assert_one_line,
    assert_unchanged,
    file_limit,
    run_cli,
    snapshot,
    spawn_cli,
)
from tests.sim.helpers import random_events

# The file sizes the disk-full cases are calibrated on (~7 kB per event) come from this generator setting; the
# defaults follow the physics and may change, so the writer's tests pin it.
SIM = ("simulate", "--quiet", "--light", "physical", "--gun", "corner", "--reflections", "0",
       "--readout-cubelet", "most_energy", "--events")

# ----------------------------------------------------------------------------------------------- 1: --out kinds


def test_simulate_refuses_a_fifo_and_a_device_as_out(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    targets = ["fifo"]
    if IS_ROOT:  # a character device like /dev/full, made here instead of touching /dev
        os.mknod(tmp_path / "full", stat.S_IFCHR | 0o666, os.makedev(1, 7))
        targets.append("full")
    before = snapshot(tmp_path)
    for name in targets:
        proc = run_cli(*SIM, "5", "--out", name, cwd=tmp_path)
        assert_one_line(proc, name, "never replaces")
    assert_unchanged(before, tmp_path)
    assert stat.S_ISFIFO((tmp_path / "fifo").lstat().st_mode)


@pytest.mark.parametrize("command", [
    ("plot-event", "{data}", "--out", "{out}"),
    ("train", "--data", "{data}", "--out", "{out}", "--quiet"),
    ("export", "run", "--out", "{out}"),
    ("import-nir", "m.nir", "--out", "{out}"),
    ("demo", "--out", "{out}"),
])
def test_no_command_replaces_a_fifo(tmp_path, small_h5, command):
    """Every command that writes checks the kind of its --out first: a FIFO is never replaced or waited on."""
    os.mkfifo(tmp_path / "fifo")
    before = snapshot(tmp_path)
    proc = run_cli(*(a.format(data=small_h5, out="fifo") for a in command), cwd=tmp_path, timeout=120)
    assert_one_line(proc, "fifo", "FIFO")
    assert_unchanged(before, tmp_path)


def test_simulate_writes_through_a_symlink(tmp_path):
    (tmp_path / "real.h5").write_bytes(b"old")
    (tmp_path / "link.h5").symlink_to("real.h5")
    proc = run_cli(*SIM, "4", "--out", "link.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "link.h5").is_symlink() and os.readlink(tmp_path / "link.h5") == "real.h5"
    with h5py.File(tmp_path / "real.h5") as f:
        assert f["photons"].shape[0] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.h5", "real.h5"]


# ----------------------------------------------------------------------------------------------- 2: disk full


@pytest.mark.parametrize(("n_events", "limit", "says"), [(40, 64 * 1024, "disk full while writing"),
                                                         (300, 3 * 2**19, "needs about")])
def test_simulate_disk_full_keeps_the_old_file(tmp_path, old_file, n_events, limit, says):
    """40 events (~270 kB) in ulimit -f 64 KiB: the write fails part-way. 300 events (~2.1 MB) in 1.5 MiB:
    the first batch (~0.45 MB) fits, and the size projected from it is refused before the rest is simulated."""
    old_file("data.h5")
    before = snapshot(tmp_path)
    proc = run_cli(*SIM, str(n_events), "--out", "data.h5", cwd=tmp_path, preexec_fn=file_limit(limit))
    assert proc.returncode != -signal.SIGSEGV and proc.returncode != 139
    assert_one_line(proc, "data.h5", says)
    assert_unchanged(before, tmp_path)


@pytest.fixture
def tiny_fs(tmp_path):
    """A 512 KiB tmpfs: a really full disk (ENOSPC), not only a file-size limit."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mounted = IS_ROOT and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)],
                                         capture_output=True).returncode == 0
    if not mounted:
        pytest.skip("a real full disk needs root and permission to mount a tmpfs (the RLIMIT_FSIZE cases run)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@pytest.mark.parametrize("n_events", [64, 3000])
def test_simulate_on_a_full_filesystem_keeps_the_old_file(tiny_fs, n_events):
    """ENOSPC part-way through (64 events), or refused from the projected size (3000)."""
    (tiny_fs / "data.h5").write_bytes(os.urandom(100_000))
    before = snapshot(tiny_fs)
    proc = run_cli(*SIM, str(n_events), "--out", "data.h5", cwd=tiny_fs)
    assert_one_line(proc, "data.h5", "disk")
    assert_unchanged(before, tiny_fs)


def test_plot_event_disk_full_keeps_old_pngs(tmp_path, small_h5):
    (tmp_path / "p").mkdir()
    for name in ("event_3.png", "profiles.png"):
        (tmp_path / "p" / name).write_bytes(b"\x89PNG old " + name.encode())
    before = snapshot(tmp_path)
    proc = run_cli("plot-event", small_h5, "--event", "3", "--out", "p", cwd=tmp_path, preexec_fn=file_limit(2048))
    assert_one_line(proc, "disk full")
    assert_unchanged(before, tmp_path)


def test_train_disk_full_leaves_no_run_folder(tmp_path, small_h5):
    """The first checkpoint does not fit: one line naming it, and the half-made run folder is gone."""
    proc = run_cli("train", "--data", small_h5, "--out", "run", "--hidden", "4", "--epochs", "1", "--no-ann",
                   "--quiet", "--threads", "1", cwd=tmp_path, preexec_fn=file_limit(4096))
    assert_one_line(proc, "snn_", "disk full")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------- 6: bad numbers


@pytest.mark.parametrize(
    ("args", "option"),
    [
        ((*SIM, "5", "--seed", "-1"), "--seed"),
        ((*SIM, "5", "--seed", "4294967296"), "--seed"),
        ((*SIM, "5", "--energy-gev", "0"), "--energy-gev"),
        ((*SIM, "5", "--energy-gev", "-100"), "--energy-gev"),
        ((*SIM, "5", "--energy-gev", "nan"), "--energy-gev"),
        ((*SIM, "5", "--energy-gev", "inf"), "--energy-gev"),
        ((*SIM, "5", "--energy-gev", "1e9"), "--energy-gev"),
        ((*SIM, "0"), "--events"),
        ((*SIM, "-5"), "--events"),
        ((*SIM, "99999999999999999999"), "--events"),
        (("train", "--data", "d.h5", "--out", "r", "--seed", "-1"), "--seed"),
        (("train", "--data", "d.h5", "--out", "r", "--seed", "99999999999999999999"), "--seed"),
        (("train", "--data", "d.h5", "--out", "r", "--threads", "99999"), "--threads"),
        (("train", "--data", "d.h5", "--out", "r", "--threads", "0"), "--threads"),
        (("train", "--data", "d.h5", "--out", "r", "--hidden", "50,x"), "--hidden"),
        (("train", "--data", "d.h5", "--out", "r", "--hidden", "0"), "--hidden"),
        (("train", "--data", "d.h5", "--out", "r", "--epochs", "0"), "--epochs"),
        (("plot-event", "d.h5", "--event", "-1"), "--event"),
        (("demo", "--events", "0", "--out", "demo"), "--events"),
        (("demo", "--timeout", "-1", "--out", "demo"), "--timeout"),
        (("demo", "--timeout", "nan", "--out", "demo"), "--timeout"),
    ],
)
def test_bad_numbers_are_one_line_before_any_work(tmp_path, args, option):
    proc = run_cli(*args, cwd=tmp_path)
    assert_one_line(proc, option)
    assert list(tmp_path.iterdir()) == []


def test_train_hidden_too_big_for_memory(tmp_path, small_h5):
    """--hidden 999999 would need terabytes: refused from an estimate, not by the allocator."""
    proc = run_cli("train", "--data", small_h5, "--out", "run", "--hidden", "999999,999999", "--no-ann",
                   "--quiet", cwd=tmp_path)
    assert_one_line(proc, "--hidden", "memory")
    assert not (tmp_path / "run").exists()


def test_train_config_with_equal_thresholds(tmp_path, small_h5):
    (tmp_path / "cfg.yaml").write_text("thresholds: [0, 0, 0, 0]\n")
    proc = run_cli("train", "--data", small_h5, "--out", "run", "--config", "cfg.yaml", cwd=tmp_path)
    assert_one_line(proc, "cfg.yaml", "thresholds")
    assert not (tmp_path / "run").exists()


def test_inspect_empty_files(tmp_path):
    (tmp_path / "empty.dat").write_bytes(b"")
    events = random_events(3)
    write_h5(events.subset(slice(0, 0)), tmp_path / "none.h5")
    (tmp_path / "notes.txt").write_text("abc\n")
    for name in ("empty.dat", "none.h5"):
        assert_one_line(run_cli("inspect", name, cwd=tmp_path), name, "no events")
    line = assert_one_line(run_cli("inspect", "notes.txt", cwd=tmp_path), "notes.txt")
    assert ".h5" in line and ".dat" in line  # says which formats are accepted


# ----------------------------------------------------------------------------------------------- 6/7: read-only


def _read_only(folder: Path) -> Path:
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def test_read_only_out_folders_fail_before_work(tmp_path, small_h5):
    ro = _read_only(tmp_path / "ro")
    try:
        cases = [
            (("train", "--data", small_h5, "--out", "ro/run", "--quiet"), "ro/run"),
            (("plot-event", small_h5, "--out", "ro/plots"), "ro/plots"),
            (("simulate", "--events", "2000", "--out", "ro/z.h5"), "ro/z.h5"),
        ]
        for args, name in cases:
            proc = run_cli(*args, cwd=tmp_path, drop_caps=True)
            assert_one_line(proc, name, "not writable")
            assert "simulate:" not in proc.stderr and "data:" not in proc.stdout  # failed before simulating/loading
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_import_nir_into_read_only_folder(tmp_path):
    nir.write(tmp_path / "m.nir", lif_graph([np.ones((8, 400)), np.ones((1, 8))]))
    ro = _read_only(tmp_path / "ro")
    try:
        proc = run_cli("import-nir", "m.nir", "--out", "ro/run", cwd=tmp_path, drop_caps=True)
        assert_one_line(proc, "ro/run", "not writable")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_simulate_missing_folder_fails_before_simulating(tmp_path):
    proc = run_cli("simulate", "--events", "2000", "--out", "missing_dir/z.h5", cwd=tmp_path)
    assert_one_line(proc, "missing_dir", "does not exist")
    assert "simulate:" not in proc.stderr  # no progress bar: nothing was simulated


def test_absurd_event_count_is_refused_from_the_disk_estimate(tmp_path):
    """10⁸ events cannot fit in ulimit -f 10 MB: refused up front (it used to try to allocate 3.6 TiB)."""
    proc = run_cli(*SIM, "100000000", "--out", "z.h5", cwd=tmp_path, preexec_fn=file_limit(10 * 2**20))
    assert_one_line(proc, "z.h5", "100000000 events", "on disk")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------- 9: signals


@pytest.mark.parametrize("name", sorted(STOP_SIGNALS))
def test_signal_while_writing_keeps_the_old_file(tmp_path, old_file, name):
    signum, code = STOP_SIGNALS[name]
    old_file("data.h5")
    before = snapshot(tmp_path)
    child = spawn_cli(*SIM, "20000", "--out", "data.h5", cwd=tmp_path)
    deadline = time.monotonic() + 120
    try:
        while not any(p.name.startswith(".data.h5.") for p in tmp_path.iterdir()):  # the write phase began
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "no temporary file appeared"
            time.sleep(0.05)
        time.sleep(0.3)  # well inside the HDF5 writes
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == code, err
    assert "Traceback" not in err and ("interrupted" in err or "stopped by SIGTERM" in err), err
    assert_unchanged(before, tmp_path)


# ----------------------------------------------------------------------------------------------- 12: folders


def test_failed_plot_event_leaves_no_folder(tmp_path, small_h5):
    proc = run_cli("plot-event", small_h5, "--event", "99", "--out", "plots/new", cwd=tmp_path)
    assert_one_line(proc, "--event 99")
    assert list(tmp_path.iterdir()) == []


def test_failed_train_leaves_no_folder(tmp_path):
    events = random_events(8)
    events.energy_mev[:] = np.nan  # no usable target: training fails after loading the data
    write_h5(events, tmp_path / "bad.h5")
    before = snapshot(tmp_path)
    proc = run_cli("train", "--data", "bad.h5", "--out", "runs/energy", "--quiet", cwd=tmp_path)
    assert_one_line(proc, "bad.h5", "energy_mev")
    assert_unchanged(before, tmp_path)


def test_import_nir_failure_leaves_no_folder(tmp_path):
    (tmp_path / "broken.nir").write_bytes(b"not hdf5")
    proc = run_cli("import-nir", "broken.nir", "--out", "runs/imported", cwd=tmp_path)
    assert_one_line(proc, "broken.nir")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.nir"]


# ----------------------------------------------------------------------------------------------- 4: resume


@pytest.mark.slow
def test_resume_refuses_another_dataset_of_the_same_size(tmp_path):
    write_h5(random_events(30, seed=1), tmp_path / "a.h5")
    write_h5(random_events(30, n_ticks=7, seed=1), tmp_path / "b.h5")  # same count, 7 ticks
    common = ("--out", "run", "--hidden", "4", "--no-ann", "--quiet", "--threads", "1")
    first = run_cli("train", "--data", "a.h5", *common, "--epochs", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads((tmp_path / "run" / "run.json").read_text())["data_fingerprint"].startswith("sha256:")
    before = snapshot(tmp_path)
    proc = run_cli("train", "--data", "b.h5", *common, "--epochs", "2", "--resume", cwd=tmp_path)
    assert_one_line(proc, "b.h5", "not the dataset this run was trained on", "a.h5")
    assert_unchanged(before, tmp_path)
    again = run_cli("train", "--data", "a.h5", *common, "--epochs", "2", "--resume", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


# ----------------------------------------------------------------------------------------------- also found


def test_outputs_follow_the_umask(tmp_path):
    for mask, mode in ((0o027, 0o640), (0o002, 0o664)):
        proc = run_cli(*SIM, "3", "--out", f"d{mode:o}.h5", cwd=tmp_path, preexec_fn=lambda m=mask: os.umask(m))
        assert proc.returncode == 0, proc.stderr
        assert stat.S_IMODE((tmp_path / f"d{mode:o}.h5").stat().st_mode) == mode


def test_replaced_file_keeps_its_mode(tmp_path):
    (tmp_path / "d.h5").write_bytes(b"old")
    (tmp_path / "d.h5").chmod(0o664)
    assert run_cli(*SIM, "3", "--out", "d.h5", cwd=tmp_path).returncode == 0
    assert stat.S_IMODE((tmp_path / "d.h5").stat().st_mode) == 0o664


@pytest.mark.slow
def test_interrupted_training_leaves_whole_checkpoints_and_resumes(tmp_path, small_h5):
    args = ("train", "--data", small_h5, "--out", "run", "--hidden", "4", "--no-ann", "--quiet", "--threads", "1")
    child = spawn_cli(*args, "--epochs", "500", cwd=tmp_path)
    deadline = time.monotonic() + 180
    try:
        while not (tmp_path / "run" / "snn_last.pt").exists():  # after the first epoch's checkpoint
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 143, err
    assert [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".")] == []  # no temporaries
    epochs = json.loads(subprocess.run(
        [*CLI[:1], "-c", "import torch, sys; print(torch.load(sys.argv[1], weights_only=True)['epoch'])",
         str(tmp_path / "run" / "snn_last.pt")], capture_output=True, text=True, check=True).stdout)
    proc = run_cli(*args, "--epochs", str(epochs + 1), "--resume", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"resuming after epoch {epochs}" in proc.stdout


def test_file_declaring_more_events_than_memory_is_refused_before_reading(tmp_path):
    """A 6 kB HDF5 file can declare 10⁹ events (36 TiB of photons): refused from its shape, not by the allocator."""
    with h5py.File(tmp_path / "huge.h5", "w") as f:
        f.attrs["schema"], f.attrs["schema_version"], f.attrs["generator"] = "neurocal.events", 2, "{}"
        f.create_dataset("photons", shape=(10**9, 100, 100), dtype=np.uint32, chunks=(1, 100, 100))
    assert_one_line(run_cli("inspect", "huge.h5", cwd=tmp_path), "huge.h5", "memory")
