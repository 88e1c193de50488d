import h5py
import numpy as np
import pytest

from neurocal.errors import NeurocalError
from neurocal.sim import load_events
from neurocal.sim.dataset import EventSet, read_h5, write_h5
from tests.sim.helpers import random_events


def assert_same_events(a: EventSet, b: EventSet) -> None:
    np.testing.assert_array_equal(a.photons, b.photons)
    for name in ("energy_mev", "centroid", "dispersion", "dispersion_r", "particle", "n_interactions", "cubelet"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_h5_round_trip(tmp_path):
    events = random_events(5, empty=(2,))
    path = write_h5(events, tmp_path / "d.h5")
    back = read_h5(path)
    assert_same_events(events, back)
    assert back.generator == {"seed": 0, "test": True}
    with h5py.File(path) as f:
        assert f.attrs["schema_version"] == 2
        assert f["photons"].compression == "gzip"
    assert_same_events(events, load_events(path))


def test_failed_write_leaves_old_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "d.h5"
    write_h5(random_events(2, seed=1), path)
    before = path.read_bytes()
    broken = random_events(2, seed=2)
    monkeypatch.setattr(h5py.Group, "create_group", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        write_h5(broken, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.h5"]


def test_unwritable_output_is_a_clear_error(tmp_path):
    with pytest.raises(NeurocalError, match="does not exist"):
        write_h5(random_events(1), tmp_path / "missing" / "d.h5")


def test_corrupt_and_foreign_files(tmp_path):
    good = write_h5(random_events(3), tmp_path / "good.h5")
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(NeurocalError, match=r"cut\.h5"):
        read_h5(cut)
    with pytest.raises(NeurocalError, match="signature"):
        (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
        load_events(tmp_path / "junk.h5")
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    with pytest.raises(NeurocalError, match="schema"):
        read_h5(foreign)
    missing = tmp_path / "missing.h5"
    write_h5(random_events(2), missing)
    with h5py.File(missing, "a") as f:
        del f["targets/centroid"]
    with pytest.raises(NeurocalError, match="centroid"):
        read_h5(missing)


def test_shape_mismatch_names_the_field():
    e = random_events(3)
    with pytest.raises(NeurocalError, match="'centroid'"):
        EventSet(photons=e.photons, energy_mev=e.energy_mev, centroid=e.centroid[:2], dispersion=e.dispersion,
                 particle=e.particle, n_interactions=e.n_interactions, cubelet=e.cubelet)


def test_subset_and_concatenate():
    e = random_events(6)
    both = EventSet.concatenate([e.subset(slice(0, 2)), e.subset(np.array([4, 5]))])
    assert both.n_events == 4
    np.testing.assert_array_equal(both.energy_mev, e.energy_mev[[0, 1, 4, 5]])


def test_schema_1_file_still_reads(tmp_path):
    """A schema-1 file (cell-centre centroid, σ²_xy) reads in schema-2 conventions."""
    path = tmp_path / "v1.h5"
    rng = np.random.default_rng(3)
    photons = rng.integers(0, 50, (4, 100, 100)).astype(np.uint32)
    centroid = rng.uniform(0.5, 9.5, (4, 3))
    sxy_sz = rng.uniform(0, 9, (4, 2))
    with h5py.File(path, "w") as f:
        f.attrs.update({"schema": "neurocal.events", "schema_version": 1, "tick_ns": 0.2, "generator": "{}"})
        f["photons"] = photons
        g = f.create_group("targets")
        g["energy_mev"], g["centroid"], g["dispersion"] = rng.uniform(1, 9, 4), centroid, sxy_sz
        g["particle"], g["n_interactions"], g["cubelet"] = np.array([1, 2, 3, 4]), np.arange(4), np.arange(4)
    events = read_h5(path)
    np.testing.assert_array_equal(events.photons, photons)
    np.testing.assert_allclose(events.centroid, centroid - 0.5)
    np.testing.assert_array_equal(events.dispersion_r, sxy_sz[:, 0])
    np.testing.assert_array_equal(events.dispersion[:, 2], sxy_sz[:, 1])
    assert np.isnan(events.dispersion[:, :2]).all()
    assert events.generator["converted_from_schema"] == 1
