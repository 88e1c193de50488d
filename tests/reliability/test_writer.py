"""The one writer (neurocal.atomic), the deferred signals and the CLI number types, in process."""

from __future__ import annotations

import json
import math
import os
import signal
import stat
import subprocess
import sys
import textwrap

import click
import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocal.atomic import (
    MANIFEST,
    atomic_dir,
    atomic_h5,
    atomic_path,
    check_complete,
    check_interrupt,
    check_output_dir,
    check_output_file,
    deferred_signals,
    output_dir,
    write_text_atomic,
)
from neurocal.cli import _Group
from neurocal.cli.options import SEED, TIMEOUT, Finite, LayerSizes
from neurocal.errors import NeurocalError
from neurocal.sim.dataset import read_h5
from neurocal.sim.simulate import SimConfig, simulate, simulate_to_file

# ----------------------------------------------------------------------------------------------- files


def test_atomic_path_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("failed mid-way")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path):
    old = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640
    (tmp_path / "a.txt").chmod(0o604)
    write_text_atomic(tmp_path / "a.txt", "y")
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o604


def test_non_regular_targets_are_refused_and_symlinks_followed(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(NeurocalError, match="is a FIFO, which neurocal never replaces"):
        check_output_file(tmp_path / "fifo")
    (tmp_path / "d").mkdir()
    with pytest.raises(NeurocalError, match="is a directory"):
        check_output_file(tmp_path / "d")
    with pytest.raises(NeurocalError, match="does not exist"):
        check_output_file(tmp_path / "missing" / "x")
    (tmp_path / "real").write_text("old")
    (tmp_path / "link").symlink_to("real")
    assert check_output_file(tmp_path / "link") == tmp_path / "real"
    write_text_atomic(tmp_path / "link", "new")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real").read_text() == "new"


def test_h5_disk_full_is_one_error_and_no_segfault(tmp_path):
    """HDF5 2.0 segfaults closing a file after a failed write: the guarded file object prevents it."""
    script = textwrap.dedent(f"""
        import resource, signal, numpy as np
        from neurocal.atomic import atomic_h5
        from neurocal.errors import NeurocalError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        try:
            with atomic_h5({str(tmp_path / "x.h5")!r}) as f:
                d = f.create_dataset("p", (200, 100, 100), np.uint32, chunks=(1, 100, 100), compression="gzip")
                for i in range(200):
                    d[i] = np.random.default_rng(i).poisson(50, (100, 100))
        except NeurocalError as err:
            print(err)
    """)
    (tmp_path / "x.h5").write_bytes(b"old")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "x.h5: disk full" in proc.stdout
    assert (tmp_path / "x.h5").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.h5"]


def test_atomic_h5_writes_a_readable_file(tmp_path):
    with atomic_h5(tmp_path / "a.h5") as f:
        f["x"] = np.arange(5)
    with h5py.File(tmp_path / "a.h5") as f:
        assert f["x"][()].tolist() == [0, 1, 2, 3, 4]


# ----------------------------------------------------------------------------------------------- folders


def test_atomic_dir_swaps_a_folder_whole(tmp_path):
    out = tmp_path / "bundle"
    with atomic_dir(out, "bundle") as tmp:
        (tmp / "a.json").write_text("1")
        (tmp / "b.md").write_text("one")
    manifest = check_complete(out, "bundle", fix="write it again")
    assert set(manifest["files"]) == {"a.json", "b.md"}
    with pytest.raises(RuntimeError), atomic_dir(out, "bundle") as tmp:
        (tmp / "a.json").write_text("2")
        raise RuntimeError("failed before b.md")
    assert (out / "a.json").read_text() == "1" and (out / "b.md").read_text() == "one"
    with atomic_dir(out, "bundle") as tmp:
        (tmp / "a.json").write_text("3")
    assert sorted(p.name for p in out.iterdir()) == ["a.json", MANIFEST]  # b.md went with the old folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no temporary or old folder left


def test_torn_or_edited_folders_are_detected(tmp_path):
    out = tmp_path / "bundle"
    with atomic_dir(out, "bundle") as tmp:
        (tmp / "a.json").write_text("1")
        (tmp / "b.md").write_text("one")
    (out / "b.md").write_text("two")
    with pytest.raises(NeurocalError, match=r"b\.md: differs from"):
        check_complete(out, "bundle", fix="fix")
    (out / "b.md").unlink()
    with pytest.raises(NeurocalError, match=r"b\.md: missing"):
        check_complete(out, "bundle", fix="fix")
    (out / MANIFEST).unlink()
    with pytest.raises(NeurocalError, match="incomplete bundle"):
        check_complete(out, "bundle", fix="fix")


def test_atomic_dir_never_replaces_a_foreign_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(NeurocalError, match="not a neurocal bundle"):
        check_output_dir(home, kind="bundle")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NeurocalError, match="must name a directory"):
        check_output_dir(tmp_path / "file", kind="bundle")
    old = tmp_path / "old"  # a bundle written before manifests: only its known files → replaceable
    old.mkdir()
    (old / "intnet.json").write_text("{}")
    assert check_output_dir(old, kind="bundle", known_files={"intnet.json", "model.nir"}) == old
    with atomic_dir(tmp_path / "run", "run") as tmp:
        (tmp / "x").write_text("1")
    with pytest.raises(NeurocalError, match="holds a neurocal run, not a bundle"):
        check_output_dir(tmp_path / "run", kind="bundle")


def test_output_dir_removes_only_what_it_created(tmp_path):
    with pytest.raises(RuntimeError), output_dir(tmp_path / "a" / "b") as folder:
        (folder / "partial").write_text("x")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "keep").mkdir()
    with pytest.raises(RuntimeError), output_dir(tmp_path / "keep") as folder:
        raise RuntimeError
    assert (tmp_path / "keep").is_dir()
    with pytest.raises(RuntimeError), output_dir(tmp_path / "ckpt", keep=lambda f: (f / "last.pt").exists()) as f:
        (f / "last.pt").write_text("resumable")
        raise RuntimeError
    assert (tmp_path / "ckpt" / "last.pt").exists()


# ----------------------------------------------------------------------------------------------- signals


def test_signals_are_deferred_while_writing_then_raised(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        os.kill(os.getpid(), signal.SIGINT)  # arrives inside the write: recorded, not raised here
        tmp.write_text("new, complete")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_deferred_signals_outside_a_write_raise_on_exit():
    with pytest.raises(KeyboardInterrupt), deferred_signals():
        os.kill(os.getpid(), signal.SIGINT)
        reached = True
    assert reached


# ----------------------------------------------------------------------------------------------- streaming


def test_streamed_file_equals_the_in_memory_simulation(tmp_path):
    config = SimConfig(batch_size=4, points_per_shower=512)
    per_class = simulate_to_file(["proton", "pion"], 10, 3, tmp_path / "s.h5", config)
    assert per_class == {"proton": 5, "pion": 5}
    streamed = read_h5(tmp_path / "s.h5")
    memory = simulate(["proton", "pion"], 10, 3, config)
    assert np.array_equal(streamed.photons, memory.photons)
    for name in ("energy_mev", "centroid", "dispersion", "particle", "n_interactions", "cubelet"):
        assert np.array_equal(getattr(streamed, name), getattr(memory, name), equal_nan=True), name
    assert streamed.generator == json.loads(json.dumps(memory.generator))
    assert streamed.fingerprint() == memory.fingerprint()


# ----------------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(("kind", "value", "expected"), [
    (SEED, "0", 0), (SEED, "4294967295", 2**32 - 1), (TIMEOUT, "0", None), (TIMEOUT, "2.5", 2.5),
    (Finite(0.5, 10, open_lo=True), "10", 10.0), (LayerSizes(), "50, 30", [50, 30]),
])
def test_option_types_accept(kind, value, expected):
    assert kind.convert(value, None, None) == expected


@pytest.mark.parametrize(("kind", "value", "message"), [
    (SEED, "-1", "out of range"), (SEED, "1.5", "not an integer"), (TIMEOUT, "-1", "out of range"),
    (TIMEOUT, "nan", "not a finite"), (TIMEOUT, "inf", "not a finite"), (Finite(0.5, 10, open_lo=True), "0.5", "> 0.5"),
    (LayerSizes(), "50,,30", "comma-separated"), (LayerSizes(), "2000000", "out of range"),
])
def test_option_types_refuse(kind, value, message):
    with pytest.raises(click.BadParameter, match=message):
        kind.convert(value, None, None)


# ----------------------------------------------------------------------------------------------- --debug


def _buggy_cli() -> click.Group:
    @click.group(cls=_Group)
    @click.option("--debug", is_flag=True)
    def cli(debug: bool) -> None:
        pass

    @cli.command()
    def boom() -> None:
        raise ZeroDivisionError("a bug")

    return cli


def test_unexpected_errors_are_one_line_unless_debug():
    runner = CliRunner()
    plain = runner.invoke(_buggy_cli(), ["boom"])
    assert plain.exit_code == 70
    assert plain.stderr.strip() == ("neurocal: internal error: ZeroDivisionError: a bug; rerun with --debug and "
                                    "report it")
    debug = runner.invoke(_buggy_cli(), ["--debug", "boom"])
    assert isinstance(debug.exception, ZeroDivisionError)  # the traceback is there, on purpose


def test_sigterm_unwinds_the_cli_process_but_kills_forked_workers():
    """Lava's runtime forks workers: they must still die on SIGTERM, not unwind with a traceback."""
    script = textwrap.dedent("""
        import os, signal, time
        from neurocal.atomic import install_signal_handlers
        from neurocal.errors import Terminated
        install_signal_handlers()
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        time.sleep(0.2)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        print("worker", os.WTERMSIG(status) if os.WIFSIGNALED(status) else "exited")
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        except Terminated:
            print("main unwound")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split("\n")[:2] == [f"worker {int(signal.SIGTERM)}", "main unwound"], proc.stderr


@pytest.mark.parametrize("levels", [(0, 0, 0, 0), (1e2, float("nan")), (1e2, float("inf")), (-1, 2)])
def test_front_end_thresholds_must_be_finite_and_increasing(levels):
    from neurocal.config import ThresholdConfig

    with pytest.raises(ValueError, match="thresholds must be"):
        ThresholdConfig(thresholds=levels)


@pytest.mark.parametrize(("error", "expected"), [
    (OSError(28, "No space left on device", "big.bin"), "neurocal: error: big.bin: disk full"),
    (PermissionError(13, "Permission denied", "/etc/x"), "neurocal: error: /etc/x: permission denied"),
    (MemoryError(), "neurocal: error: out of memory in 'neurocal boom'"),
    (FileNotFoundError(2, "No such file or directory", "gone.h5"), "neurocal: error: gone.h5: No such file"),
])
def test_os_level_failures_outside_the_writers_are_one_line(error, expected):
    @click.group(cls=_Group)
    @click.option("--debug", is_flag=True)
    def cli(debug: bool) -> None:
        pass

    @cli.command()
    def boom() -> None:
        raise error

    result = CliRunner().invoke(cli, ["boom"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(expected), result.stderr


def test_model_bounds_are_the_configs_own():
    from neurocal.cli.options import ModelBounds, bounds_from

    lazy = ModelBounds("neurocal.sim.simulate:SimConfig", "energy_gev", "GeV")
    assert lazy.describe() == bounds_from(SimConfig, "energy_gev", "GeV").describe() == "> 0.5 and <= 10000 GeV"
    with pytest.raises(click.BadParameter, match="out of range"):
        lazy.convert("0.5", None, None)


# (command, option, parameter name): what a parsed value must satisfy
_ACCEPTED = {
    ("simulate", "--seed", "seed"): lambda v: 0 <= v <= 2**32 - 1,
    ("simulate", "--events", "n_events"): lambda v: 1 <= v <= 2**53,
    ("simulate", "--energy-gev", "energy_gev"): lambda v: math.isfinite(v) and 0.5 < v <= 10000,
    ("train", "--threads", "threads"): lambda v: 1 <= v <= (os.cpu_count() or 1),
    ("train", "--hidden", "hidden"): lambda v: len(v) >= 1 and all(1 <= n <= 10**6 for n in v),
    ("train", "--epochs", "epochs"): lambda v: v >= 1,
    ("demo", "--timeout", "timeout"): lambda v: v is None or (math.isfinite(v) and v > 0),
    ("plot-event", "--event", "index"): lambda v: v >= 0,
}
_REQUIRED = {"simulate": ["--out", "x.h5"], "train": ["--out", "r"], "plot-event": ["d.h5"], "demo": []}


@given(text=st.text(max_size=40) | st.integers(-(10**30), 10**30).map(str)
       | st.floats(allow_nan=True, allow_infinity=True).map(repr) | st.just("9" * 5000))
@settings(max_examples=150, deadline=None)
def test_any_typed_value_is_parsed_in_range_or_refused(text):
    """Whatever a user types into a number option, parsing gives a value in range or a usage error, never a crash."""
    from neurocal.cli import main

    for (command, option, name), in_range in _ACCEPTED.items():
        try:
            ctx = main.commands[command].make_context(command, [*_REQUIRED[command], option, text], parent=None)
        except click.UsageError:
            continue  # refused: the CLI prints it as one line (see test_cli_inputs)
        assert in_range(ctx.params[name]), (command, option, text, ctx.params[name])


@pytest.mark.parametrize(("files", "expected"), [
    ({"memory.max": "max\n", "memory.current": "5\n"}, None),
    ({"memory.max": "1000\n", "memory.current": "400\n"}, 600),
    ({"memory/memory.limit_in_bytes": "9223372036854771712\n", "memory/memory.usage_in_bytes": "5\n"}, None),
    ({"memory/memory.limit_in_bytes": "2048\n", "memory/memory.usage_in_bytes": "48\n"}, 2000),
    ({}, None),
])
def test_memory_headroom_of_cgroup_v2_and_v1(tmp_path, files, expected):
    from neurocal.limits import _cgroup_limit

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert _cgroup_limit(tmp_path) == expected


def _signal_after(monkeypatch, name):
    """Make ``neurocal.atomic.<name>`` (the commit step) deliver SIGINT to us right after it succeeded."""
    import neurocal.atomic as atomic

    original = getattr(atomic, name)

    def commit_then_signal(*args):
        original(*args)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(atomic, name, commit_then_signal)


def test_a_signal_just_after_the_commit_does_not_undo_success(tmp_path, monkeypatch):
    """The output is whole and in place: no KeyboardInterrupt for it (the CLI exits 0 with a note), but the
    next output is not started."""
    from neurocal.atomic import late_signal

    target = tmp_path / "x.txt"
    target.write_text("old")
    _signal_after(monkeypatch, "_commit_file")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert late_signal() == signal.SIGINT
    monkeypatch.undo()
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "y.txt") as tmp:
        raise AssertionError("the next output must not start")
    assert late_signal() is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]

    _signal_after(monkeypatch, "_swap_in")
    with atomic_dir(tmp_path / "d", "thing") as folder:
        (folder / "a.txt").write_text("a")
    check_complete(tmp_path / "d", "thing", fix="-")
    assert late_signal() == signal.SIGINT
    monkeypatch.undo()
    with pytest.raises(KeyboardInterrupt):  # a writer's next chunk check stops too
        check_interrupt()


def test_a_command_run_in_process_leaves_the_callers_signals_alone(tmp_path):
    """Only the neurocal program ignores a Ctrl-C once its command has finished; a test's CliRunner does not."""
    from neurocal.cli import main
    from neurocal.sim.dataset import write_h5
    from tests.sim.helpers import random_events

    write_h5(random_events(2), tmp_path / "d.h5")
    before = signal.getsignal(signal.SIGINT)
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "d.h5")])
    assert result.exit_code == 0, result.output
    assert signal.getsignal(signal.SIGINT) is before
