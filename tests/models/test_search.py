"""`neurocal search`: a short study whose best trial deploys bit-exact, the cost model's verdicts, and workers
sharing one study on SQLite and on a real PostgreSQL server that the test starts in a temporary folder."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neurocal.costmodels import Hardware, get_costmodel
from neurocal.sim.dataset import write_h5

from .synthetic import synthetic_events

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SMALL = {"space": "tiny", "eval_events": 40, "cost_events": 8}


@pytest.fixture(scope="module")
def tiny_h5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search") / "tiny.h5"
    write_h5(synthetic_events(160, seed=7, n_ticks=20), path)
    return path


def _settings(data: Path, **overrides):
    from neurocal.models.search import SearchSettings

    return SearchSettings(data=str(data), target="energy", **{**SMALL, **overrides})


def _counted_trials(ref) -> list:
    import optuna

    from neurocal.models.search import _counts

    study = optuna.load_study(study_name=ref.name, storage=ref.storage)
    return [t for t in study.get_trials(deepcopy=False) if _counts(t)]


def _assert_each_ran_once(ref, n_trials: int) -> None:
    """The study holds exactly ``n_trials`` counted trials, none running, and every trial that trained did so in
    one process, once (its ``started`` file has one line)."""
    from optuna.trial import TrialState

    counted = _counted_trials(ref)
    assert len(counted) == n_trials
    assert not [t for t in counted if t.state == TrialState.RUNNING]
    pids = []
    for marker in (ref.folder / "trials").glob("*/started"):
        lines = marker.read_text().splitlines()
        assert len(lines) == 1, marker
        pids.append(int(lines[0]))
    assert pids and os.getpid() not in pids  # trained in the worker processes


# ----------------------------------------------------------------------------------------- one study, end to end


@pytest.fixture(scope="module")
def study(tiny_h5: Path, tmp_path_factory: pytest.TempPathFactory):
    from neurocal.models.search import open_study, run_search

    ref = open_study(tmp_path_factory.mktemp("study") / "energy", _settings(tiny_h5))
    summary = run_search(ref, 3, quiet=True)
    return ref, summary


def test_short_study_best_run_is_bit_exact_on_golden_and_lava(study, tiny_h5: Path, tmp_path: Path) -> None:
    from neurocal.backends import compare_results, get_backend
    from neurocal.bundle import load_network_and_spikes
    from neurocal.cli import main
    from neurocal.models.search import pick

    ref, summary = study
    assert sum(summary["states"].values()) == 3
    best = summary["best"]
    row = next(r for r in summary["trials"] if r["number"] == best)
    assert row["values"][0] == pytest.approx(np.mean([1 / e for e in row["errors"].values()]))
    assert row["costs"]["cycles_per_event"] > 0 and row["costs"]["synops_per_event"] > 0
    for png in ("history.png", "importances.png"):
        assert (ref.folder / "plots" / png).stat().st_size > 1000

    run = pick(ref, None, tmp_path / "best")
    runner = CliRunner()
    res = runner.invoke(main, ["quantize", str(run), "--data", str(tiny_h5), "--out", str(tmp_path / "bundle"),
                               "--events", "50"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["evaluate", str(run), "--bundle", str(tmp_path / "bundle"), "--no-plots"])
    assert res.exit_code == 0, res.output
    net, spikes = load_network_and_spikes(tmp_path / "bundle", tiny_h5, 6)
    golden = get_backend("golden").run(net, spikes)
    lava = get_backend("lava", timeout=120).run(net, spikes)
    cmp = compare_results(golden, lava)
    assert cmp.n_mismatched == 0, cmp.to_dict()
    assert golden.ops["spikes"][:, 0].sum() > 0  # the hidden layer is active: the comparison is not vacuous


def test_trial_seed_reproduces_its_integer_network(study, tiny_h5: Path, tmp_path: Path) -> None:
    from optuna.trial import TrialState

    from neurocal.intnet import IntNetwork
    from neurocal.models.config import TrainConfig
    from neurocal.models.nir_io import export
    from neurocal.models.qonnx_export import intnet_of_run
    from neurocal.models.search import _load
    from neurocal.models.training import train

    ref, _ = study
    trial = _load(ref).get_trials(deepcopy=False, states=(TrialState.COMPLETE,))[0]
    config = TrainConfig(**trial.user_attrs["config"])
    assert config.seed == trial.user_attrs["seed"]
    run = train(config, tiny_h5, tmp_path / "again", progress=False)
    net = intnet_of_run(run, export(run, tmp_path / "again.nir"))
    stored = IntNetwork.load(ref.folder / "trials" / f"{trial.number:05d}" / "intnet.json")
    assert net.content_hash == stored.content_hash


def test_resume_changed_settings_and_pick_errors(study, tiny_h5: Path, tmp_path: Path) -> None:
    from neurocal.cli import main
    from neurocal.models.search import open_study, run_search

    ref, _ = study
    resumed = open_study(ref.folder, _settings(tiny_h5))
    run_search(resumed, 4, quiet=True)  # one more trial, the three before kept
    assert len(_counted_trials(resumed)) == 4
    runner = CliRunner()
    res = runner.invoke(main, ["search", "--data", str(tiny_h5), "--out", str(ref.folder), "--space", "tiny",
                               "--eval-events", "40", "--cost-events", "8", "--seed", "5", "--trials", "4"])
    assert res.exit_code == 2 and "changed: seed" in res.output, res.output
    res = runner.invoke(main, ["search", "pick", str(ref.folder), "--trial", "999", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--trial 999: not a complete trial" in res.output, res.output
    assert not (tmp_path / "x").exists()


def test_interrupted_study_resumes(tiny_h5: Path, tmp_path: Path) -> None:
    """SIGTERM in the middle of a trial: that trial is recorded as interrupted and does not count; the same
    command then completes the requested trials."""
    from optuna.trial import TrialState

    from neurocal.models.search import _load, open_study

    args = [sys.executable, "-X", "faulthandler", "-m", "neurocal.cli", "search", "--data", str(tiny_h5),
            "--out", str(tmp_path / "s"), "--space", "tiny", "--eval-events", "40", "--cost-model", "none",
            "--trials", "2", "--quiet"]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    try:
        while not (tmp_path / "s" / "trials" / "00000" / "run" / "snn_last.pt").exists():  # inside training
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the first trial never started training"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        try:
            _, err = child.communicate(timeout=120)
        except subprocess.TimeoutExpired:  # hung: SIGABRT makes faulthandler print every thread's stack
            child.send_signal(signal.SIGABRT)
            _, err = child.communicate(timeout=60)
            pytest.fail(f"the search did not stop within 120 s of SIGTERM; its stderr:\n{err}")
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 143 and "Traceback" not in err, err
    first = _load(open_study(tmp_path / "s")).trials[0]
    assert first.state == TrialState.FAIL and first.user_attrs.get("interrupted") is True
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    ref = open_study(tmp_path / "s")
    assert len(_counted_trials(ref)) == 2 and len(_load(ref).trials) == 3


def test_cycle_cost_model_marks_what_does_not_fit() -> None:
    model = get_costmodel("cycles")
    assert model.check((400, 50, 30, 1), Hardware(profile="pynq-z2")) is None
    too_big = model.check((400, 2000, 1), Hardware(profile="pynq-z2", lanes=(128, 1)))
    assert too_big is not None and "BRAM36" in too_big
    assert model.check((400, 2000, 1), Hardware(profile="zcu104", lanes=(128, 1))) is None  # 2.2× the block RAM
    assert "words per input beat" in model.check((400, 50, 1), Hardware(profile="pynq-z2", words=65))


def test_deployable_space_starts_at_the_preset_and_samples_the_same_parameters_every_trial() -> None:
    """The physics study's first trial is the deployable preset (its baseline, scored like every trial); every
    trial of every space samples the same parameters, whatever its depth or readout (the GP sampler models only
    the parameters all trials share)."""
    import optuna

    from neurocal.models.config import TrainConfig
    from neurocal.models.search import SPACES, Space, suggest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = Space.deployable()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    study.enqueue_trial(space.start)
    trial = study.ask()
    overrides, hardware, qat = suggest(trial, space, 100, 1)
    study.tell(trial, 1.0)
    preset = TrainConfig.from_preset("deployable")
    config = TrainConfig(**{**overrides, "thresholds": preset.thresholds})
    assert config.model_dump() == preset.model_copy(update={"preset": None}).model_dump()
    assert overrides["thresholds"] == pytest.approx(preset.thresholds, rel=1e-12)
    assert hardware.profile == "pynq-z2" and hardware.lanes is None and not qat
    for name, make in SPACES.items():
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=2))
        names = set()
        for _ in range(12):
            trial = study.ask()
            overrides, _, _ = suggest(trial, make(), 100, 1)
            study.tell(trial, 1.0)
            names.add(tuple(sorted(trial.params)))
        assert len(names) == 1, (name, names)


# ----------------------------------------------------------------------------------------- scale-out


def test_two_workers_share_a_sqlite_study_with_a_pareto_front(tiny_h5: Path, tmp_path: Path) -> None:
    from neurocal.models.search import open_study, run_search

    ref = open_study(tmp_path / "sqlite", _settings(tiny_h5, sampler="tpe", objectives=("latency_us",)))
    summary = run_search(ref, 3, workers=2, quiet=True)
    _assert_each_ran_once(ref, 3)
    front = [r for r in summary["trials"] if r["number"] in summary["pareto"]]
    assert front and all(len(r["values"]) == 2 and r["values"][1] == r["costs"]["latency_us"] for r in front)
    assert (ref.folder / "plots" / "pareto_front.png").stat().st_size > 1000


def test_pareto_axes_are_log_scaled_where_every_value_is_positive() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurocal.models.search import _log_axes

    fig, ax = plt.subplots()
    assert _log_axes(ax, [[0.2, 3.5], [0.9, 1.6]]) is ax
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    fig, ax = plt.subplots()
    _log_axes(ax, [[12.0, -1.0], [30.0, 2.0]])  # e.g. P (positive) against a signed objective
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "linear")
    fig = plt.figure()
    ax3 = fig.add_subplot(projection="3d")
    _log_axes(ax3, [[0.2, 3.5, 1.0]])
    assert ax3.get_xscale() == "linear"
    plt.close("all")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster in a temporary folder, reachable on a Unix socket there; its URL.

    The server refuses to run as root: as root the cluster belongs to ``nobody`` and its commands run
    through ``runuser``."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL is not installed (make test installs it: apt-get install postgresql)"
    bindir = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="neurocal-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "nobody")
        as_user = ["runuser", "-u", "nobody", "--"]
    data, port = folder / "data", _free_port()

    def pg(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    try:
        pg(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "neurocal", "--no-sync")
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60", "-o",
           f"-k {folder} -p {port} -c listen_addresses='' -c fsync=off", "start")
        try:
            yield f"postgresql://neurocal@/postgres?host={folder}&port={port}"
        finally:
            pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_two_workers_share_a_postgresql_study(tiny_h5: Path, tmp_path: Path, postgres: str) -> None:
    import sqlalchemy

    from neurocal.models.search import open_study, run_search

    ref = open_study(tmp_path / "pg", _settings(tiny_h5, sampler="tpe", costmodel=None), storage=postgres,
                     name="shared")
    assert not (tmp_path / "pg" / "study.db").exists()  # the study is in the server, not in the folder
    run_search(ref, 3, workers=2, quiet=True)
    _assert_each_ran_once(ref, 3)
    with sqlalchemy.create_engine(postgres).connect() as conn:  # the trials really are rows of the server
        assert conn.execute(sqlalchemy.text("select count(*) from trials")).scalar() >= 3
