"""Helpers of the bad-input suite: run the real CLI in a subprocess and check how it ended.

Every test drives ``python -m neurocal.cli`` as a user would and asserts the four promises of
issue 8: a non-zero exit, one line on stderr naming the file or option, no traceback, and every
file that existed before byte-identical afterwards (no temporary file left either).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from neurocal.sim.dataset import write_h5
from tests.sim.helpers import random_events

CLI = [sys.executable, "-m", "neurocal.cli"]
IS_ROOT = os.geteuid() == 0
SETPRIV = shutil.which("setpriv")


def default_signals(then: Callable[[], None] | None = None) -> Callable[[], None]:
    """preexec_fn: the child starts with SIGINT/SIGTERM at their defaults, however pytest was started.

    A background job of a non-interactive shell inherits SIGINT ignored, and so would every child:
    its Ctrl-C would do nothing, and a signal test would hang instead of testing the CLI.
    """

    def apply() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        if then is not None:
            then()

    return apply


def run_cli(*args: str, cwd: Path, preexec_fn: Callable[[], None] | None = None, drop_caps: bool = False,
            timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``neurocal ARGS`` in ``cwd``; with ``drop_caps`` as root, without CAP_DAC_OVERRIDE and friends."""
    prefix: list[str] = []
    if drop_caps and IS_ROOT:
        if SETPRIV is None:
            pytest.skip("running as root without setpriv: cannot drop the capability that bypasses file modes")
        prefix = [SETPRIV, "--inh-caps=-all", "--bounding-set=-all", "--"]
    return subprocess.run([*prefix, *CLI, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=default_signals(preexec_fn), env=env)


def spawn_cli(*args: object, cwd: Path) -> subprocess.Popen[str]:
    """Start ``neurocal ARGS`` (to signal it), in its own process group, signals at their defaults."""
    return subprocess.Popen([*CLI, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=default_signals(), start_new_session=True)


@pytest.fixture(autouse=True)
def _sigint_raises() -> Iterator[None]:
    """In-process signal tests need Python's KeyboardInterrupt handler, also when pytest inherited SIGINT ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.getsignal(signal.SIGINT)
    if old == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def file_limit(nbytes: int) -> Callable[[], None]:
    """preexec_fn: ``ulimit -f`` in the child, the way a full disk looks to a writer (EFBIG)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return apply


def assert_one_line(proc: subprocess.CompletedProcess[str], *names: str, code: int | None = 2) -> str:
    """A clean failure: exit code, one stderr line starting 'neurocal:', naming each of ``names``."""
    assert proc.returncode != 0, f"exit 0 for bad input; stdout={proc.stdout!r}"
    if code is not None:
        assert proc.returncode == code, f"exit {proc.returncode}, stderr={proc.stderr!r}"
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"stderr is not one line: {proc.stderr!r}"
    line = lines[0]
    assert line.startswith("neurocal: "), line
    for name in names:
        assert name in line, f"{name!r} not named in {line!r}"
    return line


def snapshot(folder: Path) -> dict[str, tuple[bytes | str, int]]:
    """Every entry under ``folder``: file bytes (or link target / kind) and mode, to compare before/after."""
    out: dict[str, tuple[bytes | str, int]] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        st = path.lstat()
        if path.is_symlink():
            out[rel] = (os.readlink(path), st.st_mode)
        elif path.is_file():
            out[rel] = (path.read_bytes(), st.st_mode)
        else:
            out[rel] = ("<dir>" if path.is_dir() else "<special>", st.st_mode)
    return out


def assert_unchanged(before: dict[str, tuple[bytes | str, int]], folder: Path) -> None:
    after = snapshot(folder)
    assert sorted(after) == sorted(before), f"entries changed: +{sorted(set(after) - set(before))} " \
                                            f"-{sorted(set(before) - set(after))}"
    for name, value in before.items():
        assert after[name] == value, f"{name} changed"


@pytest.fixture(scope="session")
def small_h5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 random events (all targets, 100 ticks): enough to train one tiny epoch."""
    path = tmp_path_factory.mktemp("data") / "small.h5"
    write_h5(random_events(30, seed=7), path)
    return path


@pytest.fixture
def old_file(tmp_path: Path) -> Callable[[str], Path]:
    """Make a pre-existing output with recognisable bytes (what the user had)."""

    def make(name: str) -> Path:
        path = tmp_path / name
        path.write_bytes(b"what the user had\n" + np.arange(100, dtype=np.uint8).tobytes())
        return path

    return make


STOP_SIGNALS = {"SIGINT": (signal.SIGINT, 130), "SIGTERM": (signal.SIGTERM, 143)}


@pytest.fixture(scope="session")
def deployed_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """model.nir (400-8-1 LIF, energy), d.h5 (12 events) and bundle/ quantised from them, made once per session."""
    import nir

    from neurocal.testnets import lif_graph

    folder = tmp_path_factory.mktemp("deployed")
    rng = np.random.default_rng(0)
    graph = lif_graph([rng.normal(0, 0.3, (8, 400)), rng.normal(0, 0.3, (1, 8))], threshold=1.0, dt=1e-4)
    graph.metadata["neurocal"]["target"] = "energy"  # one output: import-nir --out makes it a run
    nir.write(folder / "model.nir", graph)
    write_h5(random_events(12, seed=5), folder / "d.h5")
    proc = run_cli("quantize", "model.nir", "--data", "d.h5", "--out", "bundle", "--events", "12", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder


@pytest.fixture
def work(deployed_once: Path, tmp_path: Path) -> Path:
    """A private copy of :func:`deployed_once` to break."""
    shutil.copytree(deployed_once, tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture(scope="session")
def snn_cal_once(tmp_path_factory: pytest.TempPathFactory, small_h5: Path) -> Path:
    """A one-epoch run of the snn-cal preset (float recipe: trains, cannot be exported) on :func:`small_h5`."""
    folder = tmp_path_factory.mktemp("snn_cal")
    shutil.copy(small_h5, folder / "small.h5")
    proc = run_cli("train", "--preset", "snn-cal", "--epochs", "1", "--data", "small.h5", "--out", "run", "--no-ann",
                   "--quiet", "--threads", "1", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder
