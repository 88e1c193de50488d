"""Bad files end in one line and exit 2, never an internal error or a silent wrong result (issue 19).

Photonic settings that are not UTF-8 or hold values the model cannot compute with, an ``intnet.json``
whose decoding scale was edited, a ``run.json`` with a negative input count, an events file whose datasets
break the schema (dtype, value range, a group for a dataset): through the real CLI.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from tests.reliability.conftest import assert_one_line, assert_unchanged, run_cli, snapshot


@pytest.mark.parametrize(("content", "names"), [
    (b"levels: [1.0, 2.0]\nnote: caf\xe9\n", ["UTF-8"]),  # Latin-1
    (bytes(range(256)), ["UTF-8"]),  # binary
    (b"levels: [1e300]\n", ["levels"]),
    (b"tau_membrane_ps: 1e17\n", ["tau_membrane_ps"]),
    (b"latency_ps: 1e300\n", ["latency_ps"]),
    (b"dark_rate_hz: 1e300\n", ["dark_rate_hz"]),
])
def test_bad_photonic_settings_exit_2_in_one_line(work, content, names):
    (work / "s.yaml").write_bytes(content)
    before = snapshot(work)
    proc = run_cli("plot-superpixel", "d.h5", "--settings", "s.yaml", "--out", "plots", cwd=work)
    assert_one_line(proc, "s.yaml", *names)
    assert_unchanged(before, work)


@pytest.mark.parametrize(("scale", "named"), [(0, "scale"), (2.0, "content_hash")])
def test_edited_scale_is_refused_by_every_backend_command(work, scale, named):
    path = work / "bundle" / "intnet.json"
    data = json.loads(path.read_text())
    data["layers"][-1]["scale"] = scale  # the readout voltages are decoded with it
    path.write_text(json.dumps(data))
    before = snapshot(work)
    for args in (["compare", "--backends", "golden,golden", "--bundle", "bundle/intnet.json", "--data", "d.h5"],
                 ["rtl", "build", "--bundle", "bundle/intnet.json", "--out", "proj"],
                 ["firmware", "build", "--bundle", "bundle/intnet.json", "--out", "fw", "--no-compile"]):
        assert_one_line(run_cli(*args, cwd=work), "intnet.json", named)
    assert_unchanged(before, work)


def test_run_with_negative_input_count_is_refused(work):
    assert run_cli("import-nir", "model.nir", "--out", "run", cwd=work).returncode == 0
    path = work / "run" / "run.json"
    path.write_text(path.read_text().replace('"n_inputs": 400', '"n_inputs": -5'))
    before = snapshot(work)
    assert_one_line(run_cli("export", "run", "--out", "o.nir", cwd=work), "run.json", "n_inputs")
    assert_one_line(run_cli("quantize", "run", "--data", "d.h5", "--out", "b2", cwd=work), "run.json", "n_inputs")
    assert_unchanged(before, work)


def _replace(f, name, data):
    del f[name]
    f.create_dataset(name, data=data)


@pytest.mark.parametrize(("edit", "names"), [
    (lambda f: _replace(f, "photons", np.full((12, 100, 100), 2**40, dtype=np.int64)), ["'photons'", "0..4294967295"]),
    (lambda f: _replace(f, "targets/energy_mev", np.array([b"a"] * 12)), ["targets/energy_mev"]),
    (lambda f: f["targets/particle"].__setitem__(0, 99), ["targets/particle"]),
    (lambda f: f.attrs.__setitem__("tick_ns", "x"), ["tick_ns"]),
    (lambda f: (f.__delitem__("photons"), f.create_group("photons")), ["'photons' is not a dataset"]),
])
def test_events_file_datasets_are_checked_against_the_schema(work, edit, names):
    with h5py.File(work / "d.h5", "r+") as f:
        edit(f)
    before = snapshot(work)
    assert_one_line(run_cli("run", "--bundle", "bundle", "--data", "d.h5", cwd=work), "d.h5", *names)
    assert_unchanged(before, work)
