"""``neurocal firmware build|csim`` through the real ``neurocal`` command group (one-line errors, exit codes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from neurocal import aer
from neurocal.cli import main
from neurocal.firmware.cli import firmware
from neurocal.golden import simulate
from tests.firmware.conftest import extreme_network

pytestmark = [pytest.mark.hls, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cli():
    """The installed ``neurocal`` command; the firmware group comes in through the ``neurocal.commands`` entry point."""
    assert main.commands.get("firmware") is firmware
    return lambda *args: CliRunner().invoke(main, [str(a) for a in args])


def test_build_writes_the_project_and_refuses_a_stale_one(cli, tmp_path):
    net = extreme_network([10, 6, 3], seed=4)
    other = extreme_network([10, 6, 3], seed=5)
    net.save(tmp_path / "a.json")
    other.save(tmp_path / "b.json")
    out = tmp_path / "fw"
    first = cli("firmware", "build", "--bundle", tmp_path / "a.json", "--out", out)
    assert first.exit_code == 0, first.output
    assert "C-simulation library" in first.output and "Vitis HLS not found" in first.output
    assert (out / "vitis_build.sh").is_file() and any((out / "firmware").glob("*.so"))
    stale = cli("firmware", "build", "--bundle", tmp_path / "b.json", "--out", out)
    assert stale.exit_code == 2
    assert "stale firmware project" in stale.output and "--force" in stale.output
    assert len(stale.output.strip().splitlines()) == 1  # one line, no traceback
    assert cli("firmware", "build", "--bundle", tmp_path / "b.json", "--out", out, "--force",
               "--no-compile").exit_code == 0


def test_csim_checks_against_golden_and_writes_the_output_stream(cli, tmp_path, calorimeter, hls_build_dir):
    net, events, data = calorimeter
    net.save(tmp_path / "intnet.json")
    n = 25
    result = cli("firmware", "csim", "--bundle", tmp_path / "intnet.json", "--data", data, "--events", 20 + n,
                 "--build-dir", hls_build_dir, "--out", tmp_path / "out.aer", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # stdout holds the JSON alone (progress goes to stderr)
    assert summary["events"] == 20 + n and summary["comparison"]["mismatched_events"] == 0
    spikes, v, numbers = aer.decode_output(np.fromfile(tmp_path / "out.aer", dtype="<u4"), net.n_outputs)
    golden = simulate(net, events[:n])  # the events after the 20 calibration events of the file
    assert np.array_equal(v[20:], golden.v_final[-1])  # the stream carries the exact readout voltages
    assert np.array_equal(spikes[20:], golden.spikes[-1])
    assert numbers.tolist() == list(range(20 + n))


def test_vitis_script_says_clearly_it_did_not_run(tmp_path):
    import shutil
    import subprocess

    from neurocal.firmware.project import generate

    if shutil.which("vitis-run"):
        pytest.skip("Vitis is installed here: the script would really synthesise")
    project = generate(extreme_network([4, 3], seed=0), tmp_path / "p", compile=False)
    run = subprocess.run([str(project.path / "vitis_build.sh"), "csynth"], capture_output=True, text=True, check=False)
    assert run.returncode == 3
    assert "not on PATH: nothing was synthesised" in run.stderr


def test_neurocal_compare_golden_hls(cli, tmp_path, calorimeter, hls_build_dir, monkeypatch):
    """``neurocal compare --backends golden,hls`` (the spine's command, backends found by entry point)."""
    from neurocal.backends import available_backends

    assert available_backends()["hls"].value == "neurocal.firmware.backend:HlsBackend"
    net, _, data = calorimeter
    net.save(tmp_path / "intnet.json")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "hls").symlink_to(hls_build_dir)  # the backend's default build dir: reuse the session's
    monkeypatch.chdir(tmp_path)
    result = cli("compare", "--backends", "golden,hls", "--bundle", "intnet.json", "--data", data, "--events", 30,
                 "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["backends"] == ["golden", "hls"] and summary["mismatched_events"] == 0


def test_csim_exits_1_and_names_the_first_divergence(cli, tmp_path, calorimeter, monkeypatch):
    """The mismatch path of ``firmware csim`` (a result perturbed on purpose, no compile needed)."""
    from neurocal.firmware import backend as backend_mod
    from neurocal.golden import GoldenBackend

    net, _, data = calorimeter
    net.save(tmp_path / "intnet.json")

    def perturbed(self, net, spikes):
        result = GoldenBackend().run(net, spikes)
        result.backend = "hls"
        result.v_final[-1][3, 7] += 1  # event 3, readout neuron 7, one LSB off
        result.info = {"project": "(perturbed)", "build_seconds": 0.0}
        return result

    monkeypatch.setattr(backend_mod.HlsBackend, "run", perturbed)
    result = cli("firmware", "csim", "--bundle", tmp_path / "intnet.json", "--data", data, "--events", 8)
    assert result.exit_code == 1
    assert "1 events differ; first divergence at event 3, layer 1, final, neuron 7: v" in result.output


def test_build_with_data_writes_the_vitis_testbench_stimulus(cli, tmp_path, calorimeter):
    net, _, data = calorimeter
    net.save(tmp_path / "intnet.json")
    out = tmp_path / "fw"
    result = cli("firmware", "build", "--bundle", tmp_path / "intnet.json", "--data", data, "--events", 3,
                 "--no-compile", "--probes", "output", "--out", out)
    assert result.exit_code == 0, result.output
    assert "tb_data/: 3 events × 102 ticks" in result.output
    inputs = (out / "tb_data/tb_input_features.dat").read_text().splitlines()
    expected = (out / "tb_data/tb_output_predictions.dat").read_text().splitlines()
    assert len(inputs) == len(expected) == 3 * 102
    assert [len(line.split()) for line in (inputs[0], expected[0])] == [400 + 1, 3 * net.n_outputs]
    first_ticks = [int(line.split()[-1]) for line in inputs]
    assert first_ticks == ([1] + [0] * 101) * 3  # first_tick starts each event
    assert "--data" in (out / "build_tb.sh").read_text().splitlines()[1]  # the banner names the whole command
