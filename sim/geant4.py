"""Reader (and writer) of the SNN-Cal Geant4 ``.dat`` files (``enlupi/SNN-Cal``, docs/design.md §4).

A file is a little-endian stream of records, one per (event, cubelet)::

    int32 (tick, sensor, photons) × k      non-zero entries of the (ticks, sensors) photon frame
    int32 2147483647                       closes the entries
    int32 cubelet index                    iz·100 + iy·10 + ix
    float64 deposited energy (MeV)         deposits before the end of the 20 ns window
    ...                                    the layout's targets, below
    int32 number of interactions
    int32 class                            0 unclassified, 1 proton, 2 kaon, 3 pion, 4 other
    int32 primary-vertex flag              only in the per-event variant (all cubelets of one event)

========== =====================================================================================
layout     targets after the energy
========== =====================================================================================
current    float64 centroid x, y, z (cell-index units 0–9), float64 σ²x, σ²y, σ²z
older      float64 centroid x, y, z, float64 σ²R (= σ²x + σ²y), σ²Z — an older writer that
           (in one version) did not divide the centroid by the energy, see below
oldest     float64 one dispersion (read as σ²R), no centroid
========== =====================================================================================

Each layout has a per-event variant (name + ``-event``) with the primary-vertex flag appended.
Merged files (SNN-Cal's ``merge_by_events.py``) put the 4 bytes ``"EOE "`` and an int32 event
number between events, at a record boundary; the marker may precede an event's records (DESIGN
§4) or follow them (what ``merge_by_events.py`` writes); both are read.

The layout is detected by parsing the file under each candidate and keeping the first that
consumes it exactly with plausible values; ``layout=`` forces one. A file that fits none is
reported with every layout tried and where each failed; a bad value is reported with its record,
field, value and byte offset.

Older-writer centroids: one version of ``genPhotons.cpp`` skipped the division by the energy, so
its "centroid" is Σ idx·E. A file whose centroids leave the cubelet (> 9.5 cells) is taken as
such: its centroids are divided by the energy, and its dispersions — computed around that
un-normalised centroid — are unusable and read as NaN.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from neurocal.atomic import atomic_path
from neurocal.errors import NeurocalError
from neurocal.sim.dataset import PARTICLE_CODES, EventSet

END_OF_ENTRIES = 2147483647
EOE_MARKER = int.from_bytes(b"EOE ", "little")  # 541413189
N_SENSORS = 100
N_CUBELETS = 1000

Layout = Literal["current", "current-event", "older", "older-event", "oldest", "oldest-event"]
ENTRY_FIELDS = ("tick", "sensor", "photons")


@dataclass(frozen=True)
class _Trailer:
    dtype: np.dtype
    targets: str  # "current" | "older" | "oldest"
    has_flag: bool


def _trailer_dtype(targets: str, has_flag: bool) -> np.dtype:
    fields: list[tuple[str, str]] = [("cubelet", "<i4"), ("energy", "<f8")]
    if targets == "current":
        fields += [("cx", "<f8"), ("cy", "<f8"), ("cz", "<f8"), ("sx", "<f8"), ("sy", "<f8"), ("sz", "<f8")]
    elif targets == "older":
        fields += [("cx", "<f8"), ("cy", "<f8"), ("cz", "<f8"), ("sr", "<f8"), ("sz", "<f8")]
    else:
        fields += [("sr", "<f8")]
    fields += [("n_int", "<i4"), ("cls", "<i4")]
    if has_flag:
        fields += [("pv", "<i4")]
    return np.dtype(fields)


LAYOUTS: dict[str, _Trailer] = {
    (t if not flag else f"{t}-event"): _Trailer(_trailer_dtype(t, flag), t, flag)
    for t in ("current", "older", "oldest")
    for flag in (False, True)
}
FLOAT_FIELDS = ("cx", "cy", "cz", "sx", "sy", "sz", "sr")


@dataclass
class DatRecords:
    """Everything in one ``.dat`` file, one row per (event, cubelet) record."""

    layout: str
    entry_start: np.ndarray  # (R+1,) offsets into ``entries``
    entries: np.ndarray  # (E, 3) int32 tick, sensor, photons
    trailers: np.ndarray  # structured, (R,)
    offsets: np.ndarray  # (R,) byte offset of each record
    event_number: np.ndarray  # (R,) int: from the "EOE " markers of a merged file, else -1
    merged: bool = False


class _ParseError(Exception):
    def __init__(self, offset: int, what: str) -> None:
        super().__init__(what)
        self.offset = offset
        self.what = what


def _check_trailers(trailers: np.ndarray, trailer_at: np.ndarray, trailer: _Trailer) -> None:
    """Plausibility of every trailer value, so that a wrong layout guess fails rather than reads garbage."""

    def fail(name: str, bad: np.ndarray, rule: str) -> None:
        i = int(np.flatnonzero(bad)[0])
        offset = int(trailer_at[i]) + trailer.dtype.fields[name][1]
        value = trailers[name][i]
        raise _ParseError(offset, f"record {i}: field '{name}' = {value!r} at byte offset {offset} {rule}")

    names = trailer.dtype.names or ()
    checks = [
        ("cubelet", (trailers["cubelet"] < 0) | (trailers["cubelet"] >= N_CUBELETS), "is not a cubelet index 0..999"),
        ("energy", ~(np.isfinite(trailers["energy"]) & (trailers["energy"] >= 0)), "is not a finite energy >= 0"),
    ]
    for name in FLOAT_FIELDS:
        if name in names:
            values = trailers[name]
            if name.startswith("s"):
                checks.append((name, ~(np.isfinite(values) & (values >= 0)), "is not a finite dispersion >= 0"))
            else:
                checks.append((name, ~np.isfinite(values) | (values < 0), "is not a finite centroid >= 0"))
    checks += [
        ("n_int", trailers["n_int"] < 0, "is not a number of interactions >= 0"),
        ("cls", ~np.isin(trailers["cls"], list(PARTICLE_CODES.values())), "is not a class 0..4"),
    ]
    if trailer.has_flag:
        checks.append(("pv", ~np.isin(trailers["pv"], (0, 1)), "is not a primary-vertex flag 0 or 1"))
    for name, bad, rule in checks:
        if bad.any():
            fail(name, bad, rule)


def _parse(words: np.ndarray, raw: bytes, trailer: _Trailer, n_ticks: int) -> DatRecords:
    trailer_words = trailer.dtype.itemsize // 4
    candidates = np.flatnonzero(words == END_OF_ENTRIES)
    starts: list[int] = []
    ends: list[int] = []
    marker_before: list[int] = []  # per record: event number of the last marker before it (-1: none yet)
    marker_after: dict[int, int] = {}  # record index → event number of the marker right after it
    pos, n, current, first_marker_at_start = 0, len(words), -1, False
    while pos < n:
        if words[pos] == EOE_MARKER:
            if pos + 1 >= n:
                raise _ParseError(pos * 4 + 4, "truncated: an \"EOE \" marker without its int32 event number")
            current = int(words[pos + 1])
            first_marker_at_start |= pos == 0
            if starts:
                marker_after.setdefault(len(starts) - 1, current)
            pos += 2
            continue
        k = np.searchsorted(candidates, pos)
        while k < len(candidates) and (candidates[k] - pos) % 3 != 0:
            k += 1
        if k == len(candidates):
            raise _ParseError(pos * 4, f"record {len(starts)} at byte {pos * 4}: no end-of-entries marker 2147483647")
        stop = int(candidates[k])
        if stop + 1 + trailer_words > n:
            raise _ParseError(
                stop * 4 + 4, f"record {len(starts)}: the {trailer.dtype.itemsize}-byte trailer after the entries "
                f"at byte {stop * 4 + 4} is cut short ({(n - stop - 1) * 4} bytes left)")
        starts.append(pos)
        ends.append(stop)
        marker_before.append(current)
        pos = stop + 1 + trailer_words
    starts_a = np.asarray(starts, dtype=np.int64)
    ends_a = np.asarray(ends, dtype=np.int64)
    counts = (ends_a - starts_a) // 3
    entry_index = np.repeat(starts_a, counts) + 3 * (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    entries = np.stack([words[entry_index], words[entry_index + 1], words[entry_index + 2]], axis=1)
    trailer_at = (ends_a + 1) * 4
    trailers = np.empty(len(starts), dtype=trailer.dtype)
    for i, begin in enumerate(trailer_at):
        trailers[i] = np.frombuffer(raw, dtype=trailer.dtype, count=1, offset=int(begin))[0]
    entry_start = np.concatenate([[0], np.cumsum(counts)])
    if len(entries):
        limits = (n_ticks, N_SENSORS, None)
        for col, (name, hi) in enumerate(zip(ENTRY_FIELDS, limits, strict=True)):
            values = entries[:, col]
            bad = (values < 0) if hi is None else (values < 0) | (values >= hi)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                rec = int(np.searchsorted(entry_start, i, side="right") - 1)
                offset = int(entry_index[i]) * 4 + 4 * col
                rule = "is negative" if hi is None else f"is outside 0..{hi - 1}"
                raise _ParseError(offset, f"record {rec} entry {i - int(entry_start[rec])}: field '{name}' = "
                                  f"{int(values[i])} at byte offset {offset} {rule}")
    if len(trailers):
        _check_trailers(trailers, trailer_at, trailer)
    merged = current != -1
    if merged and first_marker_at_start:  # markers precede their events (docs/design.md §4)
        event_number = np.asarray(marker_before, dtype=np.int64)
    elif merged:  # markers follow their events (merge_by_events.py): a record takes the next marker's number
        event_number = np.full(len(starts), -1, dtype=np.int64)
        following = -1
        for i in range(len(starts) - 1, -1, -1):
            following = marker_after.get(i, following)
            event_number[i] = following
    else:
        event_number = np.full(len(starts), -1, dtype=np.int64)
    return DatRecords(layout="", entry_start=entry_start, entries=entries, trailers=trailers,
                      offsets=starts_a * 4, event_number=event_number, merged=merged)


def read_dat_records(path: str | os.PathLike[str], layout: Layout | None = None, n_ticks: int = 100) -> DatRecords:
    """Parse a ``.dat`` file into its records; errors name the file, the record, the field and the byte offset."""
    path = Path(path)
    if layout is not None and layout not in LAYOUTS:
        raise NeurocalError(f"{path}: unknown .dat layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise NeurocalError(f"{path}: cannot read ({err.strerror})") from err
    if len(raw) % 4:
        raise NeurocalError(
            f"{path}: size {len(raw)} bytes is not a multiple of 4 (every field is 4 or 8 bytes): "
            f"truncated or corrupt at byte offset {len(raw) - len(raw) % 4}"
        )
    words = np.frombuffer(raw, dtype="<i4")
    names = [layout] if layout else list(LAYOUTS)
    failures: dict[str, _ParseError] = {}
    for name in names:
        try:
            records = _parse(words, raw, LAYOUTS[name], n_ticks)
        except _ParseError as err:
            failures[name] = err
            continue
        records.layout = name
        return records
    raise NeurocalError(f"{path}: {_describe_failures(failures)}")


def _describe_failures(failures: dict[str, _ParseError]) -> str:
    """One line: layouts that failed the same way are grouped."""
    groups: dict[str, list[str]] = {}
    for name, err in failures.items():
        groups.setdefault(err.what, []).append(f"{name} ({LAYOUTS[name].dtype.itemsize}-byte trailer)")
    if len(failures) == 1:
        ((what, _),) = groups.items()
        return f"does not fit the {next(iter(failures))} layout: {what}"
    parts = [f"{' and '.join(names)}: {what}" for what, names in groups.items()]
    return "matches no SNN-Cal .dat layout; tried " + "; ".join(parts)


def _targets(tr: np.ndarray, layout: _Trailer) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(centroid (n, 3), dispersion (n, 3), dispersion_r (n,), note) in schema-2 conventions."""
    n = len(tr)
    nan = np.full(n, np.nan)
    note = ""
    if layout.targets == "current":
        centroid = np.stack([tr["cx"], tr["cy"], tr["cz"]], axis=1)
        dispersion = np.stack([tr["sx"], tr["sy"], tr["sz"]], axis=1)
        return centroid, dispersion, dispersion[:, 0] + dispersion[:, 1], note
    if layout.targets == "older":
        centroid = np.stack([tr["cx"], tr["cy"], tr["cz"]], axis=1)
        dispersion = np.stack([nan, nan, tr["sz"]], axis=1)
        sr = tr["sr"].astype(np.float64)
        if n and np.nanmax(centroid) > 9.5:  # Σ idx·E, not divided by the energy (module docstring)
            e = tr["energy"][:, None]
            centroid = np.where(e > 0, centroid / np.where(e > 0, e, 1.0), np.nan)
            dispersion[:, 2] = np.nan
            sr = nan
            note = "un-normalised centroids divided by the energy; dispersions unusable (NaN)"
        return centroid, dispersion, sr, note
    return np.stack([nan, nan, nan], axis=1), np.stack([nan, nan, nan], axis=1), tr["sr"].astype(np.float64), note


def read_dat(
    path: str | os.PathLike[str],
    layout: Layout | None = None,
    n_ticks: int = 100,
    tick_ns: float = 0.2,
    primary_only: bool = True,
) -> EventSet:
    """Read a ``.dat`` file as an :class:`EventSet`, one event per record.

    In the per-event variant (records carry a primary-vertex flag) only the primary-vertex cubelet
    is kept unless ``primary_only=False`` — the readout cubelet, as SNN-Cal trains on it.
    """
    rec = read_dat_records(path, layout, n_ticks)
    tr = rec.trailers
    spec = LAYOUTS[rec.layout]
    keep = tr["pv"] == 1 if spec.has_flag and primary_only else np.ones(len(tr), dtype=bool)
    n = len(tr)
    photons = np.zeros((n, n_ticks, N_SENSORS), dtype=np.uint32)
    record_of_entry = np.repeat(np.arange(n), np.diff(rec.entry_start))
    if len(rec.entries):
        np.add.at(photons, (record_of_entry, rec.entries[:, 0], rec.entries[:, 1]), rec.entries[:, 2].astype(np.uint32))
    centroid, dispersion, dispersion_r, note = _targets(tr, spec)
    generator = {"format": "geant4-dat", "layout": rec.layout, "file": str(path), "primary_only": primary_only,
                 "merged": rec.merged, "energy_definition": "deposits before the end of the 20 ns window"}
    if note:
        generator["note"] = note
    events = EventSet(
        photons=photons,
        energy_mev=tr["energy"],
        centroid=centroid,
        dispersion=dispersion,
        dispersion_r=dispersion_r,
        particle=tr["cls"],
        n_interactions=tr["n_int"],
        cubelet=tr["cubelet"],
        tick_ns=tick_ns,
        generator=generator,
        source=str(path),
    )
    return events.subset(keep) if not keep.all() else events


def dat_files(folder: str | os.PathLike[str], max_files_per_folder: int | None = None) -> list[Path]:
    """Every ``.dat`` file under ``folder``, recursively (SNN-Cal's ``proton/``, ``kaon/``, ``pion/`` trees).

    Sorted by folder, then by the numbers in the name (``kaon_1_2`` before ``kaon_1_10``); with
    ``max_files_per_folder`` at most that many from each folder (SNN-Cal's ``max_files``).
    """
    import re

    folder = Path(folder)
    if max_files_per_folder is not None and max_files_per_folder < 1:
        raise NeurocalError(f"max files per folder must be >= 1, got {max_files_per_folder}")

    def key(p: Path) -> tuple:
        return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name))

    by_folder: dict[Path, list[Path]] = {}
    for p in folder.rglob("*"):
        if p.suffix.lower() == ".dat" and p.is_file():
            by_folder.setdefault(p.parent, []).append(p)
    out: list[Path] = []
    for parent in sorted(by_folder):
        files = sorted(by_folder[parent], key=key)
        out += files[:max_files_per_folder] if max_files_per_folder else files
    return out


def read_dat_tree(
    folder: str | os.PathLike[str], n_ticks: int = 100, max_files_per_folder: int | None = None
) -> EventSet:
    """All ``.dat`` files under ``folder`` as one EventSet; the generator records files per folder and layouts."""
    folder = Path(folder)
    files = dat_files(folder, max_files_per_folder)
    if not files:
        raise NeurocalError(f"{folder}: holds no .dat files (searched its sub-folders too, e.g. proton/, kaon/, pion/)")
    parts = [read_dat(f, n_ticks=n_ticks) for f in files]
    events = EventSet.concatenate(parts)
    per_folder: dict[str, int] = {}
    layouts: dict[str, int] = {}
    for f, part in zip(files, parts, strict=True):
        rel = str(f.parent.relative_to(folder)) if f.parent != folder else "."
        per_folder[rel] = per_folder.get(rel, 0) + 1
        layouts[part.generator["layout"]] = layouts.get(part.generator["layout"], 0) + 1
    events.generator = {"format": "geant4-dat", "folder": str(folder), "files": len(files),
                        "files_per_folder": per_folder, "layouts": layouts,
                        "max_files_per_folder": max_files_per_folder,
                        "energy_definition": "deposits before the end of the 20 ns window"}
    events.source = str(folder)
    return events


def write_dat(
    events: EventSet,
    path: str | os.PathLike[str],
    layout: Layout = "current",
    primary_vertex: np.ndarray | None = None,
    event_numbers: Iterable[int] | None = None,
) -> Path:
    """Write ``events`` in an SNN-Cal ``.dat`` layout (atomically), e.g. to hand neurocal showers to its tools.

    With ``event_numbers`` (one per event) the file is a merged file: an ``"EOE "`` marker and the
    event number before each event's record.
    """
    if layout not in LAYOUTS:
        raise NeurocalError(f"unknown .dat layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    trailer = LAYOUTS[layout]
    if events.n_sensors != N_SENSORS:
        raise NeurocalError(f"{events.source}: .dat files hold {N_SENSORS} sensors, the events have {events.n_sensors}")
    pv = np.ones(events.n_events, dtype=np.int32) if primary_vertex is None else np.asarray(primary_vertex, np.int32)
    numbers = None if event_numbers is None else list(event_numbers)
    buf = io.BytesIO()
    for i in range(events.n_events):
        if numbers is not None:
            buf.write(np.array([EOE_MARKER, numbers[i]], dtype="<i4").tobytes())
        ticks, sensors = np.nonzero(events.photons[i])
        entries = np.stack([ticks, sensors, events.photons[i][ticks, sensors]], axis=1).astype("<i4")
        buf.write(entries.tobytes())
        buf.write(np.int32(END_OF_ENTRIES).tobytes())
        row = np.zeros(1, dtype=trailer.dtype)
        row["cubelet"] = events.cubelet[i]
        row["energy"] = events.energy_mev[i]
        if trailer.targets != "oldest":
            row["cx"], row["cy"], row["cz"] = events.centroid[i]
        if trailer.targets == "current":
            row["sx"], row["sy"], row["sz"] = events.dispersion[i]
        else:
            row["sr"] = events.dispersion_r[i]
            if trailer.targets == "older":
                row["sz"] = events.dispersion[i, 2]
        row["n_int"] = events.n_interactions[i]
        row["cls"] = events.particle[i]
        if trailer.has_flag:
            row["pv"] = pv[i]
        buf.write(row.tobytes())
    path = Path(path)
    with atomic_path(path, suffix=".dat") as tmp:
        tmp.write_bytes(buf.getvalue())
    return path
