"""Interrupted folder writes leave the previous folder byte-identical (issue 19, interrupts).

SIGINT as a terminal sends it (to the whole process group, g++ included) in the middle of
``firmware build --force``: the previous, compiled project stays as it was, with its library, and
no staging folder is left behind.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.reliability.conftest import assert_one_line, assert_unchanged, file_limit, run_cli, snapshot, spawn_cli


def _compiling(group: int) -> bool:
    """Is a compiler process of process group ``group`` running (g++ started by the CLI)?"""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        name = fields[0].split("(", 1)[-1]
        if name in ("cc1plus", "g++", "as", "ld", "collect2") and int(fields[1].split()[2]) == group:
            return True
    return False


def _staging(folder, name):
    return [p for p in folder.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".tmp")]


def test_sigint_during_firmware_build_force_keeps_the_previous_project(work):
    done = run_cli("firmware", "build", "--bundle", "bundle", "--out", "fw", cwd=work)
    assert done.returncode == 0, done.stderr
    other = run_cli("quantize", "model.nir", "--data", "d.h5", "--out", "other", "--vth-target", "1024", cwd=work)
    assert other.returncode == 0, other.stderr  # another network: other integers
    before = snapshot(work / "fw")
    assert any(name.endswith(".so") for name in before)
    child = spawn_cli("firmware", "build", "--bundle", "other", "--out", "fw", "--force", cwd=work)
    deadline = time.monotonic() + 240
    try:
        while not _compiling(child.pid):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the compilation never started"
            time.sleep(0.05)
        time.sleep(0.5)  # inside g++
        os.killpg(child.pid, signal.SIGINT)  # as Ctrl-C does: the CLI and its g++
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert_unchanged(before, work / "fw")
    assert _staging(work, "fw") == []


def test_full_disk_during_compare_trace_keeps_the_previous_folder(work):
    args = ("compare", "--backends", "golden,golden", "--bundle", "bundle", "--data", "d.h5", "--events", "2",
            "--trace", "1", "--out", "traces")
    done = run_cli(*args, cwd=work)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (work / "traces").iterdir()} >= {"golden_event1.npz", "golden_event1.vcd"}
    before = snapshot(work)
    assert_one_line(run_cli(*args, cwd=work, preexec_fn=file_limit(512)), "disk full")
    assert_unchanged(before, work)
    assert_one_line(run_cli(*args[:-1], "new", cwd=work, preexec_fn=file_limit(512)), "disk full")
    assert_unchanged(before, work)  # no partial 'new' folder either
