import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from neurocal.cli import main
from neurocal.sim.dataset import write_h5
from neurocal.sim.geant4 import write_dat
from tests.sim.helpers import random_events


@pytest.fixture
def runner():
    return CliRunner()


def test_inspect_json_reads_h5_and_dat_alike(runner, tmp_path):
    events = random_events(6, seed=3)
    write_h5(events, tmp_path / "d.h5")
    write_dat(events, tmp_path / "d.dat")
    out = {}
    for name in ("d.h5", "d.dat"):
        result = runner.invoke(main, ["inspect", str(tmp_path / name), "--json"])
        assert result.exit_code == 0, result.output
        out[name] = json.loads(result.output)
    for key in ("n_events", "events_per_class", "total_photons", "total_energy_mev"):
        assert out["d.h5"][key] == out["d.dat"][key], key
    summary = out["d.h5"]
    assert summary["n_events"] == 6
    assert set(summary["events_per_class"]) >= {"proton", "kaon", "pion"}
    assert sum(summary["events_per_class"].values()) == 6
    assert summary["total_photons"] == float(events.photons.sum())
    assert summary["total_energy_mev"] == pytest.approx(events.energy_mev.sum())
    assert len(summary["spikes"]["per_event_per_level"]) == 4


def test_inspect_text(runner, tmp_path):
    write_h5(random_events(3), tmp_path / "d.h5")
    result = runner.invoke(main, ["inspect", str(tmp_path / "d.h5")])
    assert result.exit_code == 0
    assert "events per class" in result.output and "spikes per event per level" in result.output


def test_plot_event_writes_pngs(runner, tmp_path):
    write_h5(random_events(4), tmp_path / "d.h5")
    result = runner.invoke(main, ["plot-event", str(tmp_path / "d.h5"), "--event", "2", "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    for name in ("event_2.png", "profiles.png"):
        assert (tmp_path / "p" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(main, ["plot-event", str(tmp_path / "d.h5"), "--event", "9", "--out", str(tmp_path / "p")])
    assert bad.exit_code == 2 and "--event 9 out of range" in bad.output


def test_bad_input_is_one_line_and_nonzero(tmp_path):
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    proc = subprocess.run(
        [sys.executable, "-m", "neurocal.cli", "inspect", str(corrupt)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "corrupt.h5" in proc.stderr and "Traceback" not in proc.stderr


def neurocal(*args: str, cwd) -> subprocess.CompletedProcess:
    """The installed entry point, run away from the repository root (as a user runs it)."""
    return subprocess.run([sys.executable, "-m", "neurocal.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_simulate_then_inspect_from_another_folder(tmp_path):
    sim = neurocal(
        "simulate",
        "--particle",
        "proton",
        "--particle",
        "kaon",
        "--particle",
        "pion",
        "--events",
        "30",
        "--seed",
        "1",
        "--out",
        "data.h5",
        "--quiet",
        cwd=tmp_path,
    )
    assert sim.returncode == 0, sim.stderr
    write_dat(random_events(2), tmp_path / "paper.dat")
    for name in ("data.h5", "paper.dat"):
        proc = neurocal("inspect", name, "--json", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        summary = json.loads(proc.stdout)
        assert summary["n_events"] == (30 if name == "data.h5" else 2)
    summary = json.loads(neurocal("inspect", "data.h5", "--json", cwd=tmp_path).stdout)
    assert summary["events_per_class"] == {"proton": 10, "kaon": 10, "pion": 10}
    assert summary["total_photons"] > 0 and summary["total_energy_mev"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--particle", "muon", "--events", "3"], "unknown particle 'muon'"),
        (["--events", "0"], "Invalid value for '--events'"),
        (["--events", "-5"], "Invalid value for '--events'"),
    ],
)
def test_simulate_bad_input_writes_nothing(tmp_path, args, message):
    proc = neurocal("simulate", *args, "--out", "x.h5", "--quiet", cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_simulate_unwritable_output(tmp_path):
    proc = neurocal("simulate", "--events", "2", "--quiet", "--out", str(tmp_path / "no" / "x.h5"), cwd=tmp_path)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
