"""``neurocal deploy build|check|run`` and ``neurocal fpga build`` through the real CLI, on a small quantised
network (100 inputs, 6-2 LIF) and a few events; the RTL is simulated in Icarus."""

from __future__ import annotations

import json
import shutil
import subprocess

import nir
import numpy as np
import pytest
from click.testing import CliRunner

from neurocal.cli import main
from neurocal.errors import NeurocalError
from neurocal.sim.dataset import write_h5
from neurocal.testnets import lif_graph
from tests.hw.conftest import BUILD_ROOT
from tests.sim.helpers import random_events


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("deploy-cli")
    rng = np.random.default_rng(3)
    graph = lif_graph([rng.normal(0, 0.4, (6, 100)), rng.normal(0, 0.6, (2, 6))], threshold=1.0)
    graph.metadata["neurocal"]["threshold_levels"] = [1000.0]
    nir.write(root / "net.nir", graph)
    write_h5(random_events(8, seed=5), root / "d.h5")
    done = CliRunner().invoke(main, ["quantize", str(root / "net.nir"), "--data", str(root / "d.h5"),
                                     "--out", str(root / "bundle"), "--events", "8"])
    assert done.exit_code == 0, done.output
    return root


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("neurocal") or "neurocal", *args], capture_output=True, text=True,
                          check=False, timeout=900)


@pytest.mark.rtl
def test_build_check_run_and_refuse_a_tampered_folder(bundle) -> None:
    out = bundle / "deploy"
    done = _cli("deploy", "build", "--bundle", str(bundle / "bundle"), "--board", "pynq-z2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "2 AER words per beat" in done.stdout
    manifest = json.loads((out / "neurocal-manifest.json").read_text())
    assert "tcl/settings.tcl" in json.dumps(manifest) and "driver/neurocal/fpga/driver.py" in json.dumps(manifest)
    done = _cli("deploy", "check", str(out))
    assert done.returncode == 0 and "build script checked under tclsh" in done.stdout, done.stderr

    done = _cli("deploy", "run", "--target", "rtl-sim", "--deploy", str(out), "--data", str(bundle / "d.h5"),
                "--events", "3", "--batch", "2", "--sim", "icarus", "--build-root", str(BUILD_ROOT), "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["mismatched_events"] == 0 and report["first_divergence"] is None
    assert report["events"] == 3 and report["send_transfers"] == report["receive_transfers"] == 2
    assert report["events_per_second_device"] > 0 and len(report["predictions"]["readout"]) == 3
    assert report["latency_us_max"] > 0 and report["us_per_event"] > 0

    with (out / "rtl" / "mem" / "l00_p.mem").open("a") as fh:
        fh.write("0\n")
    done = _cli("deploy", "check", str(out))
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "l00_p.mem" in done.stderr, done.stderr
    done = _cli("deploy", "run", "--target", "rtl-sim", "--deploy", str(out), "--data", str(bundle / "d.h5"))
    assert done.returncode == 2 and "re-create it with 'neurocal deploy build'" in done.stderr


def test_board_and_vivado_absent_exit_3_in_one_line(bundle) -> None:
    out = bundle / "deploy-z"
    assert _cli("deploy", "build", "--bundle", str(bundle / "bundle"), "--board", "zcu104", "--out",
                str(out)).returncode == 0
    done = _cli("deploy", "run", "--target", "pynq", "--deploy", str(out), "--data", str(bundle / "d.h5"))
    assert done.returncode == 3 and "no PYNQ board here" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    done = _cli("fpga", "build", "--deploy", str(out), "--board", "zcu104")
    assert done.returncode == 3 and done.stderr.strip() == (
        "neurocal: Vivado is not on PATH; run 'neurocal fpga build' where Vivado is installed")
    done = _cli("fpga", "build", "--deploy", str(out), "--board", "pynq-z2")
    assert done.returncode == 2 and "made for zcu104, not pynq-z2" in done.stderr


def test_board_backend_joins_compare_and_says_there_is_no_board(bundle) -> None:
    done = _cli("compare", "--backends", "golden,board", "--bundle", str(bundle / "bundle"), "--data",
                str(bundle / "d.h5"), "--events", "2")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines()[-1] == ("neurocal: error: backend 'board': no PYNQ board here (pynq "
                                                    "finds no device); run it on the board")


def test_overlay_is_added_as_a_whole_with_a_new_manifest(bundle, tmp_path) -> None:
    """What `neurocal fpga build` does after Vivado: the .bit/.hwh/reports join the folder under a new manifest."""
    from neurocal.fpga.deploy import add_overlay, check_deploy

    out = bundle / "deploy-o"
    assert _cli("deploy", "build", "--bundle", str(bundle / "bundle"), "--board", "pynq-z2", "--out",
                str(out)).returncode == 0
    built = tmp_path / "overlay"
    built.mkdir()
    (built / "neurocal.bit").write_bytes(b"\x00\x09bit")
    with pytest.raises(NeurocalError, match=r"Vivado wrote no neurocal\.hwh"):
        add_overlay(out, built)
    check_deploy(out)  # unchanged
    (built / "neurocal.hwh").write_text("<hwh/>")
    (built / "neurocal_timing.rpt").write_text("timing")
    add_overlay(out, built)
    check_deploy(out)
    assert (out / "overlay" / "neurocal.bit").read_bytes() == b"\x00\x09bit"
    assert "overlay/neurocal_timing.rpt" in (out / "neurocal-manifest.json").read_text()
