"""SNN-Cal .dat files: every layout of docs/design.md §4 written here by an independent writer (struct), read back.

The writer below follows genPhotons.cpp's ``saveEvent`` field by field (and merge_by_events.py for
merged files); it shares no code with neurocal.sim.geant4.
"""

import struct

import numpy as np
import pytest

from neurocal.errors import NeurocalError
from neurocal.sim import load_events
from neurocal.sim.geant4 import read_dat, read_dat_records, write_dat
from neurocal.sim.summary import summarize
from tests.sim.helpers import random_events
from tests.sim.test_dataset import assert_same_events

STOP = 2147483647


def record(entries, cubelet, energy, layout="current", centroid=(1.0, 2.0, 3.0), disp=(1.5, 2.5, 3.5),
           n_int=3, cls=1, pv=None):
    """One (event, cubelet) record as genPhotons.cpp writes it; ``disp`` has 3, 2 or 1 values by layout."""
    out = b"".join(struct.pack("<iii", *e) for e in entries) + struct.pack("<i", STOP)
    out += struct.pack("<i", cubelet) + struct.pack("<d", energy)
    if layout == "current":
        out += struct.pack("<ddd", *centroid) + struct.pack("<ddd", *disp)
    elif layout == "older":
        out += struct.pack("<ddd", *centroid) + struct.pack("<dd", *disp[:2])
    else:
        out += struct.pack("<d", disp[0])
    out += struct.pack("<i", n_int) + struct.pack("<i", cls)
    if pv is not None:
        out += struct.pack("<i", pv)
    return out


def eoe(number):
    return b"EOE " + struct.pack("<i", number)


def test_current_layout_field_by_field(tmp_path):
    path = tmp_path / "pion_1.dat"
    path.write_bytes(
        record([(0, 5, 120), (99, 99, 7), (3, 5, 1)], 455, 1234.5, centroid=(4.5, 5.5, 6.5),
               disp=(0.25, 0.5, 4.0), n_int=17, cls=3)
        + record([], 12, 0.5, cls=0)  # an empty, unclassified cubelet: valid
        + record([(10, 0, 2147483646)], 1, 7.0, n_int=0, cls=4)
    )
    assert read_dat_records(path).layout == "current"
    events = read_dat(path)
    assert events.n_events == 3
    assert events.photons[0, 0, 5] == 120 and events.photons[0, 99, 99] == 7 and events.photons[0, 3, 5] == 1
    assert events.photons[0].sum() == 128 and events.photons[1].sum() == 0
    assert events.photons[2, 10, 0] == 2147483646
    np.testing.assert_array_equal(events.particle, [3, 0, 4])
    np.testing.assert_array_equal(events.cubelet, [455, 12, 1])
    np.testing.assert_array_equal(events.n_interactions, [17, 3, 0])
    np.testing.assert_array_equal(events.energy_mev, [1234.5, 0.5, 7.0])
    np.testing.assert_array_equal(events.centroid[0], [4.5, 5.5, 6.5])
    np.testing.assert_array_equal(events.dispersion[0], [0.25, 0.5, 4.0])
    assert events.dispersion_r[0] == 0.75
    assert events.events_per_class()["unclassified"] == 1


def test_current_event_variant_keeps_the_primary_vertex(tmp_path):
    path = tmp_path / "proton_3_0.dat"
    path.write_bytes(record([(1, 1, 50)], 7, 10.0, pv=0) + record([(2, 2, 60)], 8, 900.0, pv=1, cls=2))
    assert read_dat_records(path).layout == "current-event"
    events = read_dat(path)
    assert events.n_events == 1 and events.cubelet[0] == 8 and events.photons[0, 2, 2] == 60
    assert read_dat(path, primary_only=False).n_events == 2


@pytest.mark.parametrize("flag", [None, 1])
def test_older_layout_two_dispersions(tmp_path, flag):
    path = tmp_path / "older.dat"
    path.write_bytes(record([(1, 2, 3)], 4, 50.0, "older", centroid=(1.0, 8.5, 2.0), disp=(9.0, 2.0), pv=flag)
                     + record([(5, 6, 7)], 4, 60.0, "older", centroid=(3.0, 4.0, 5.0), disp=(8.0, 1.0), pv=flag))
    assert read_dat_records(path).layout == ("older" if flag is None else "older-event")
    events = read_dat(path)
    np.testing.assert_array_equal(events.centroid, [[1.0, 8.5, 2.0], [3.0, 4.0, 5.0]])
    np.testing.assert_array_equal(events.dispersion_r, [9.0, 8.0])
    np.testing.assert_array_equal(events.dispersion[:, 2], [2.0, 1.0])
    assert np.isnan(events.dispersion[:, :2]).all()  # σ²R does not split into x and y


def test_older_layout_unnormalised_centroid(tmp_path):
    """The older writer's centroid Σ idx·E is divided by E; its dispersions are unusable."""
    path = tmp_path / "older.dat"
    path.write_bytes(record([(1, 2, 3)], 4, 100.0, "older", centroid=(450.0, 20.0, 900.0), disp=(9.0, 2.0))
                     + record([], 5, 10.0, "older", centroid=(10.0, 0.0, 90.0), disp=(1.0, 1.0)))
    events = read_dat(path)
    np.testing.assert_allclose(events.centroid, [[4.5, 0.2, 9.0], [1.0, 0.0, 9.0]])
    assert np.isnan(events.dispersion).all() and np.isnan(events.dispersion_r).all()
    assert "un-normalised" in events.generator["note"]


@pytest.mark.parametrize("flag", [None, 0])
def test_oldest_layout_one_dispersion(tmp_path, flag):
    path = tmp_path / "oldest.dat"
    path.write_bytes(record([(1, 2, 3)], 4, 50.0, "oldest", disp=(9.0,), cls=1, pv=None if flag is None else 1)
                     + record([(5, 6, 7)], 4, 60.0, "oldest", disp=(8.0,), cls=3, pv=flag))
    assert read_dat_records(path).layout == ("oldest" if flag is None else "oldest-event")
    events = read_dat(path, primary_only=False)
    assert np.isnan(events.centroid).all() and np.isnan(events.dispersion).all()
    np.testing.assert_array_equal(events.dispersion_r, [9.0, 8.0])
    np.testing.assert_array_equal(events.energy_mev, [50.0, 60.0])


@pytest.mark.parametrize("where", ["before", "after"])
def test_merged_file(tmp_path, where):
    """EOE markers before each event (docs/design.md §4) or after it (SNN-Cal's merge_by_events.py)."""
    events = [record([(1, 1, 5)], 7, 10.0, pv=0) + record([(2, 2, 6)], 8, 90.0, pv=1),
              record([(3, 3, 7)], 9, 80.0, pv=1, cls=0),
              record([(4, 4, 8)], 1, 1.0, pv=0) + record([(5, 5, 9)], 2, 70.0, pv=1, cls=2)]
    data = b"".join(eoe(i + 1) + ev if where == "before" else ev + eoe(i + 1) for i, ev in enumerate(events))
    path = tmp_path / "merged_kaon_1.dat"
    path.write_bytes(data)
    rec = read_dat_records(path)
    assert rec.layout == "current-event" and rec.merged
    np.testing.assert_array_equal(rec.event_number, [1, 1, 2, 3, 3])
    back = read_dat(path)
    np.testing.assert_array_equal(back.cubelet, [8, 9, 2])
    np.testing.assert_array_equal(back.particle, [1, 0, 2])
    assert back.photons[2, 5, 5] == 9 and back.photons.sum() == 6 + 7 + 9


@pytest.mark.parametrize("layout", ["current", "current-event", "older", "older-event", "oldest", "oldest-event"])
def test_write_dat_round_trip(tmp_path, layout):
    events = random_events(5, empty=(0, 3), seed=4)
    path = write_dat(events, tmp_path / f"{layout}.dat", layout=layout)
    assert read_dat_records(path).layout == layout  # the detector finds it unaided
    back = read_dat(path)
    np.testing.assert_array_equal(back.photons, events.photons)
    if layout.startswith("current"):
        assert_same_events(events, back)
    else:
        np.testing.assert_array_equal(back.dispersion_r, events.dispersion_r)
        np.testing.assert_array_equal(back.particle, events.particle)


def test_write_dat_merged_round_trip(tmp_path):
    events = random_events(4, seed=9)
    path = write_dat(events, tmp_path / "m.dat", event_numbers=[10, 11, 12, 13])
    np.testing.assert_array_equal(read_dat_records(path).event_number, [10, 11, 12, 13])
    assert_same_events(events, read_dat(path))


def test_particle_folder_tree(tmp_path):
    """proton/, kaon/, pion/ (nested), every file counted; a cap per folder as SNN-Cal's max_files."""
    events = random_events(9, seed=7)
    for i, particle in enumerate(["kaon", "pion", "proton"]):  # the order folders are read in
        folder = tmp_path / "All" / particle
        folder.mkdir(parents=True)
        for j in range(3):
            k = 3 * i + j
            write_dat(events.subset(slice(k, k + 1)), folder / f"{particle}_1_{j}.dat", layout="current-event")
    loaded = load_events(tmp_path)
    assert_same_events(events, loaded)
    assert loaded.generator["files"] == 9
    assert loaded.generator["files_per_folder"] == {"All/kaon": 3, "All/pion": 3, "All/proton": 3}
    assert summarize(loaded)["files"] == 9
    capped = load_events(tmp_path, max_files_per_folder=2)
    assert capped.n_events == 6 and capped.generator["files"] == 6


def test_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "proton").mkdir()
    with pytest.raises(NeurocalError, match=r"holds no \.dat files"):
        load_events(tmp_path)


def test_bad_first_entry_names_record_field_value_and_offset(tmp_path):
    """Issue 8 item 10: a first entry with sensor 100 is at byte 4, not at the end of the file."""
    path = tmp_path / "bad.dat"
    path.write_bytes(record([(0, 100, 5)], 1, 2.0) + record([(0, 1, 5)], 1, 2.0))
    with pytest.raises(NeurocalError, match=r"record 0 entry 0: field 'sensor' = 100 at byte offset 4 "):
        read_dat(path)
    good = record([(0, 1, 5)], 1, 2.0)
    path.write_bytes(good + record([(0, 1, 5), (0, 1, -3)], 1, 2.0))
    with pytest.raises(NeurocalError, match=rf"record 1 entry 1: field 'photons' = -3 at byte offset {len(good) + 20}"):
        read_dat(path, layout="current")


def test_bad_class_names_its_offset(tmp_path):
    path = tmp_path / "cls.dat"
    path.write_bytes(record([(0, 1, 5)], 1, 2.0, cls=7))
    offset = 12 + 4 + 4 + 8 + 48 + 4  # entry, stop, cubelet, energy, centroid + dispersions, n_int
    with pytest.raises(NeurocalError, match=rf"field 'cls' = 7 at byte offset {offset} is not a class 0..4"):
        read_dat(path, layout="current")


def test_no_layout_fits_lists_every_layout_tried(tmp_path):
    path = tmp_path / "junk.dat"
    path.write_bytes(struct.pack("<6i", 1, 2, 3, STOP, 5, 6))
    with pytest.raises(NeurocalError) as err:
        read_dat(path)
    message = str(err.value)
    assert "matches no SNN-Cal .dat layout" in message and "corrupt" not in message
    for layout in ("current", "current-event", "older", "older-event", "oldest", "oldest-event"):
        assert layout in message


def test_truncated_file_names_file_and_offset(tmp_path):
    path = write_dat(random_events(3, seed=1), tmp_path / "t.dat")
    data = path.read_bytes()
    cut = tmp_path / "cut.dat"
    cut.write_bytes(data[:-8])
    with pytest.raises(NeurocalError, match=r"cut\.dat.*byte"):
        read_dat(cut, layout="current")
    cut.write_bytes(data[:-3])
    with pytest.raises(NeurocalError, match=r"cut\.dat.*not a multiple of 4"):
        read_dat(cut)


def test_inspect_counts_every_file_of_a_particle_tree(tmp_path):
    from click.testing import CliRunner

    from neurocal.cli import main

    events = random_events(6, seed=3)
    for i, particle in enumerate(["proton", "kaon", "pion"]):
        (tmp_path / particle / "run1").mkdir(parents=True)
        for j in range(2):
            write_dat(events.subset(slice(2 * i + j, 2 * i + j + 1)), tmp_path / particle / "run1" / f"{j}.dat")
    result = CliRunner().invoke(main, ["inspect", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "6 events" in result.output and "from 6 files" in result.output
