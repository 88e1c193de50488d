"""Nothing a user types is executed by a generated file (issue 19, injection).

A value that reaches Tcl, a shell or make line or generated HDL/C++ is checked against its grammar
(``--part``) or kept where it cannot act (a path in a banner comment stays on the comment's line).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.reliability.conftest import assert_one_line, assert_unchanged, run_cli, snapshot

PAYLOAD = "touch PWNED"


def test_firmware_part_with_tcl_command_substitution_is_refused(work):
    before = snapshot(work)
    proc = run_cli("firmware", "build", "--bundle", "bundle", "--out", "fw", "--no-compile",
                   "--part", f"[exec {PAYLOAD}]", cwd=work)
    assert_one_line(proc, "--part")
    assert_unchanged(before, work)


def _code_lines_with_payload(folder: Path) -> list[str]:
    """Lines of generated code where the payload is not inside a comment (YAML/JSON quote it as data)."""
    found = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.suffix in (".so", ".o", ".mem", ".txt", ".yml", ".json"):
            continue
        for line in path.read_text(errors="replace").splitlines():
            if PAYLOAD in line and not line.lstrip().startswith(("//", "#")):
                found.append(f"{path.relative_to(folder)}: {line}")
    return found


def test_a_newline_in_a_path_stays_inside_the_banner_comment(work):
    bundle = f"b\n{PAYLOAD}"
    shutil.copytree(work / "bundle", work / bundle)
    proc = run_cli("firmware", "build", "--bundle", bundle, "--out", "fw", "--no-compile", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert _code_lines_with_payload(work / "fw") == []
    proc = run_cli("rtl", "build", "--bundle", bundle, "--out", "hdl", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert _code_lines_with_payload(work / "hdl") == []
    # memory paths are relative (mem/): the project folder's name reaches no Verilog string, only the banner's
    # quoted command, so a quote, a semicolon or a newline in it is written as data, never as code
    for name in (f'r"; {PAYLOAD}', f"r\n{PAYLOAD}"):
        proc = run_cli("rtl", "build", "--bundle", "bundle", "--out", name, cwd=work)
        assert proc.returncode == 0, proc.stderr
        assert _code_lines_with_payload(work / name) == []
    assert not (work / "PWNED").exists()
    proc = run_cli("firmware", "build", "--bundle", "bundle", "--out", 'f"x', "--no-compile", cwd=work)
    assert_one_line(proc, "--out", "build_lib.sh")  # the folder becomes a C string literal in the library
    assert not (work / 'f"x').exists()
