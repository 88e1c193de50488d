"""The board build scripts under tclsh with the recorder: they pass for both boards and fail on a wrong port
name, a missing file, a wrong clock; settings values are escaped. This checks the script, not a build."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from neurocal.cores import get_core
from neurocal.fpga import project, tclcheck
from neurocal.fpga.deploy import check_deploy
from neurocal.profiles import profile


def _check(folder: Path, board: str, script: Path | None = None) -> list[str]:
    # a tampered folder fails its manifest: its deploy.json is read as it is
    info = check_deploy(folder) if script is None else json.loads((folder / "deploy.json").read_text())
    return tclcheck.check_script(script or folder / "tcl" / "build.tcl", folder / "tcl" / "settings.tcl", folder,
                                 profile(board), folder / info["core_top"], info["shape"]["words"])


@pytest.mark.parametrize("board", ["pynq-z2", "zcu104"])
def test_script_passes(board: str, deploy_dirs: dict[str, Path]) -> None:
    assert _check(deploy_dirs[board], board) == []


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_wrong_port_name_fails(deploy_dirs: dict[str, Path], tmp_path: Path) -> None:
    folder = _copy(deploy_dirs["pynq-z2"], tmp_path / "d")
    script = folder / "tcl" / "build.tcl"
    text = script.read_text()
    assert "nc_top_0/s_axil]" in text
    script.write_text(text.replace("nc_top_0/s_axil]", "nc_top_0/s_axi]"))
    errors = _check(folder, "pynq-z2", script)
    assert any("'nc_top_0/s_axi'" in e and "no interface pin 's_axi'" in e for e in errors), errors
    # a pin of an IP cell too
    script.write_text(text.replace("axi_dma_0/m_axi_s2mm_aclk", "axi_dma_0/m_axi_s2mm_clk"))
    assert any("no pin 'm_axi_s2mm_clk'" in e for e in _check(folder, "pynq-z2", script))


def test_core_port_list_is_parsed(deploy_dirs: dict[str, Path]) -> None:
    ports = tclcheck.core_ports(deploy_dirs["pynq-z2"] / "rtl" / "nc_top.v", words=2)
    assert ports["s_axis_tdata"].width == 64 and ports["s_axis_tkeep"].width == 8
    assert ports["m_axis_tdata"].width == 32 and ports["s_axil_awaddr"].width == 8
    assert ports["clk"].direction == "input" and ports["m_axis_tvalid"].direction == "output"


def test_missing_file_fails(deploy_dirs: dict[str, Path], tmp_path: Path) -> None:
    folder = _copy(deploy_dirs["pynq-z2"], tmp_path / "d")
    (folder / "rtl" / "mem" / "l00_p.mem").unlink()
    errors = _check(folder, "pynq-z2", folder / "tcl" / "build.tcl")
    assert any("l00_p.mem does not exist" in e for e in errors), errors


def test_wrong_clock_and_width_fail(deploy_dirs: dict[str, Path], tmp_path: Path) -> None:
    folder = _copy(deploy_dirs["zcu104"], tmp_path / "d")
    settings = folder / "tcl" / "settings.tcl"
    text = settings.read_text()
    settings.write_text(text.replace("set nc_clock_mhz 300", "set nc_clock_mhz 250")
                        .replace("set nc_s_axis_bits 128", "set nc_s_axis_bits 64"))
    errors = _check(folder, "zcu104", folder / "tcl" / "build.tcl")
    assert any("PL clock 250 MHz" in e for e in errors), errors
    assert any("c_m_axis_mm2s_tdata_width is 64, the core needs 128" in e for e in errors), errors


def test_unknown_command_stops_the_check(deploy_dirs: dict[str, Path], tmp_path: Path) -> None:
    folder = _copy(deploy_dirs["pynq-z2"], tmp_path / "d")
    script = folder / "tcl" / "build.tcl"
    script.write_text(script.read_text().replace("validate_bd_design", "validate_bd_design_typo"))
    assert any("validate_bd_design_typo" in e for e in _check(folder, "pynq-z2", script))


def test_settings_values_are_escaped(tmp_path: Path) -> None:
    nasty = ['a b', '$x', '[exit 3]', '{', '}', '"q"', 'back\\slash', 'semi;colon', '#hash', 'tab\there', 'nl\nx', '']
    values = {f"v{i}": v for i, v in enumerate(nasty)} | {"vl": nasty}
    text = project.settings_text(values, "pytest", get_core().banner)
    lengths = subprocess.run(["tclsh"], input=text + "foreach x $vl { puts -nonewline [string length $x], }",
                             capture_output=True, text=True, check=True).stdout
    assert lengths == "".join(f"{len(v)}," for v in nasty)  # the list keeps its elements whole
    for i, v in enumerate(nasty):
        got = subprocess.run(["tclsh"], input=text + f"puts -nonewline $v{i}", capture_output=True, text=True,
                             check=True).stdout
        assert got == v, (i, v, got)
