"""The paper's .dat files: written here per DESIGN §4 (by hand with struct, and by write_dat)."""

import struct

import numpy as np
import pytest

from neurocal.errors import NeurocalError
from neurocal.sim import load_events
from neurocal.sim.geant4 import END_OF_ENTRIES, read_dat, read_dat_records, write_dat
from tests.sim.helpers import random_events
from tests.sim.test_dataset import assert_same_events


def record(entries, cubelet, energy, centroid=None, disp=(1.5, 2.5), n_int=3, cls=1, pv=None, old=False):
    out = b"".join(struct.pack("<3i", *e) for e in entries) + struct.pack("<i", END_OF_ENTRIES)
    out += struct.pack("<id", cubelet, energy)
    if old:
        out += struct.pack("<d", disp[0])
    else:
        out += struct.pack("<3d", *(centroid or (1.0, 2.0, 3.0))) + struct.pack("<2d", *disp)
    out += struct.pack("<ii", n_int, cls)
    if pv is not None:
        out += struct.pack("<i", pv)
    return out


def test_hand_packed_cubelet_file(tmp_path):
    path = tmp_path / "a.dat"
    path.write_bytes(
        record([(0, 5, 120), (99, 99, 7), (3, 5, 1)], 455, 1234.5, (4.5, 5.5, 6.5), cls=3)
        + record([], 12, 0.0, cls=2)  # an empty event
        + record([(10, 0, 2147483646)], 1, 7.0, n_int=0)
    )
    events = read_dat(path)
    assert events.n_events == 3
    assert events.photons[0, 0, 5] == 120 and events.photons[0, 99, 99] == 7 and events.photons[0, 3, 5] == 1
    assert events.photons[0].sum() == 128
    assert events.photons[1].sum() == 0
    assert events.photons[2, 10, 0] == 2147483646
    np.testing.assert_array_equal(events.particle, [3, 2, 1])
    np.testing.assert_array_equal(events.cubelet, [455, 12, 1])
    np.testing.assert_array_equal(events.centroid[0], [4.5, 5.5, 6.5])
    np.testing.assert_array_equal(events.dispersion[0], [1.5, 2.5])
    assert events.energy_mev[0] == 1234.5
    assert read_dat_records(path).layout == "cubelet"


def test_hand_packed_event_variant_keeps_the_primary_vertex(tmp_path):
    path = tmp_path / "event_0.dat"
    path.write_bytes(record([(1, 1, 50)], 7, 10.0, pv=0) + record([(2, 2, 60)], 8, 900.0, pv=1, cls=2))
    assert read_dat_records(path).layout == "event"
    events = read_dat(path)
    assert events.n_events == 1 and events.cubelet[0] == 8 and events.photons[0, 2, 2] == 60
    assert read_dat(path, primary_only=False).n_events == 2


def test_old_layout(tmp_path):
    path = tmp_path / "old.dat"
    path.write_bytes(record([(1, 2, 3)], 4, 50.0, disp=(9.0, 0), old=True, cls=1)
                     + record([(5, 6, 7)], 4, 60.0, disp=(8.0, 0), old=True, cls=3))
    events = read_dat(path)
    assert read_dat_records(path).layout == "old-cubelet"
    assert np.isnan(events.centroid).all() and np.isnan(events.dispersion[:, 1]).all()
    np.testing.assert_array_equal(events.dispersion[:, 0], [9.0, 8.0])


@pytest.mark.parametrize("layout", ["cubelet", "event", "old-cubelet", "old-event"])
def test_write_dat_round_trip(tmp_path, layout):
    events = random_events(5, empty=(0, 3), seed=4)
    path = write_dat(events, tmp_path / f"{layout}.dat", layout=layout)
    back = read_dat(path, layout=layout)
    np.testing.assert_array_equal(back.photons, events.photons)
    if layout.startswith("old"):
        np.testing.assert_array_equal(back.dispersion[:, 0], events.dispersion[:, 0])
    else:
        assert_same_events(events, back)
    assert read_dat_records(path).layout == layout  # the detector finds it unaided


def test_folder_of_event_files(tmp_path):
    events = random_events(4, seed=7)
    for i in range(4):
        write_dat(events.subset(slice(i, i + 1)), tmp_path / f"ev{i}.dat", layout="event")
    assert_same_events(events, load_events(tmp_path))


def test_truncated_file_names_file_and_offset(tmp_path):
    path = write_dat(random_events(3, seed=1), tmp_path / "t.dat")
    data = path.read_bytes()
    cut = tmp_path / "cut.dat"
    cut.write_bytes(data[:-8])
    with pytest.raises(NeurocalError, match=r"cut\.dat.*byte offset \d+"):
        read_dat(cut)
    cut.write_bytes(data[:-3])
    with pytest.raises(NeurocalError, match=r"cut\.dat.*not a multiple of 4"):
        read_dat(cut)


def test_corrupt_entry_names_the_offset(tmp_path):
    path = tmp_path / "bad.dat"
    good = record([(0, 1, 5)], 1, 2.0)
    path.write_bytes(good + record([(0, 1, 5), (0, 150, 5)], 1, 2.0))
    with pytest.raises(NeurocalError, match=rf"byte offset {len(good) + 12}.*sensor=150"):
        read_dat(path, layout="cubelet")
