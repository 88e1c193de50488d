"""The unclear messages of issue 19: each names the option, what it found and the fix; a damaged cached
C-simulation library is rebuilt instead of failing with the loader's 'file too short'."""

from __future__ import annotations

import json

import pytest

from tests.reliability.conftest import assert_one_line, run_cli


@pytest.mark.parametrize(("bundle", "names"), [
    ("d.h5", ["--bundle d.h5", "HDF5", "neurocal quantize"]),
    ("run", ["--bundle run", "training run", "neurocal quantize run"]),
    ("model.nir", ["--bundle model.nir", "HDF5", "neurocal quantize"]),
    ("nowhere", ["--bundle nowhere", "no such file"]),
])
def test_a_wrong_bundle_is_named_with_what_it_is(work, bundle, names):
    assert run_cli("import-nir", "model.nir", "--out", "run", cwd=work).returncode == 0
    assert_one_line(run_cli("run", "--bundle", bundle, "--data", "d.h5", cwd=work), *names)


def test_words_help_states_the_real_limit(work):
    help_text = " ".join(run_cli("rtl", "build", "--help", cwd=work).stdout.split())
    assert "1..64" in help_text and "9007199254740992" not in help_text
    assert_one_line(run_cli("rtl", "build", "--bundle", "bundle", "--out", "p", "--words", "65", cwd=work),
                    "--words", "1..64")


def test_a_truncated_cached_library_is_rebuilt(work):
    args = ("firmware", "csim", "--bundle", "bundle", "--data", "d.h5", "--events", "3", "--build-dir", "cache",
            "--json")
    first = run_cli(*args, cwd=work)
    assert first.returncode == 0, first.stderr
    (library,) = (work / "cache").rglob("*.so")
    library.write_bytes(library.read_bytes()[:100])  # what an interrupted copy or a full disk leaves
    again = run_cli(*args, cwd=work)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["comparison"]["mismatched_events"] == 0
    assert library.stat().st_size > 1000


def test_an_adjusted_reuse_factor_is_one_note_naming_what_each_layer_uses(work):
    proc = run_cli("firmware", "build", "--bundle", "bundle", "--out", "fw", "--no-compile", "--strategy", "Resource",
                   "--reuse-factor", "3", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: Invalid ReuseFactor" not in proc.stderr + proc.stdout
    notes = [line for line in proc.stderr.splitlines() if "--reuse-factor 3" in line]
    assert len(notes) == 1 and "fc0 2" in notes[0] and "fc1 2" in notes[0], proc.stderr
    assert json.loads((work / "fw" / "neurocal_firmware.json").read_text())["reuse_factors"] == {"fc0": 2, "fc1": 2}
