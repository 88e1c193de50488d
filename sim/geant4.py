"""Reader (and writer) of the neuromorphic-readout paper's Geant4 ``.dat`` files (DESIGN §4).

A file is a little-endian stream of records, one per (event, cubelet)::

    int32 (tick, sensor, photons) × k      non-zero entries of the (ticks, sensors) photon frame
    int32 2147483647                       closes the entries
    int32 cubelet index
    float64 deposited energy (MeV)
    float64 centroid x, y, z               energy-weighted, cell units
    float64 σ²_xy, σ²_z                    dispersions
    int32 number of interactions
    int32 class                            1 proton, 2 kaon, 3 pion, 4 other
    int32 primary-vertex flag              only in the per-event variant (all cubelets of one event)

The older layout had one float64 energy and one float64 dispersion and no centroid; it is read
with the centroid and σ²_z as NaN and the one dispersion as σ²_xy. The layout is detected by
parsing the file under each candidate and keeping the one that consumes it exactly with
plausible values; ``layout=`` forces one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from neurocal.atomic import atomic_path
from neurocal.errors import NeurocalError
from neurocal.sim.dataset import PARTICLE_CODES, EventSet

END_OF_ENTRIES = 2147483647
N_SENSORS = 100

Layout = Literal["cubelet", "event", "old-cubelet", "old-event"]


@dataclass(frozen=True)
class _Trailer:
    dtype: np.dtype
    has_centroid: bool
    has_flag: bool


def _trailer_dtype(has_centroid: bool, has_flag: bool) -> np.dtype:
    fields: list[tuple[str, str]] = [("cubelet", "<i4"), ("energy", "<f8")]
    if has_centroid:
        fields += [("cx", "<f8"), ("cy", "<f8"), ("cz", "<f8"), ("sxy", "<f8"), ("sz", "<f8")]
    else:
        fields += [("sxy", "<f8")]
    fields += [("n_int", "<i4"), ("cls", "<i4")]
    if has_flag:
        fields += [("pv", "<i4")]
    return np.dtype(fields)


LAYOUTS: dict[str, _Trailer] = {
    "cubelet": _Trailer(_trailer_dtype(True, False), True, False),
    "event": _Trailer(_trailer_dtype(True, True), True, True),
    "old-cubelet": _Trailer(_trailer_dtype(False, False), False, False),
    "old-event": _Trailer(_trailer_dtype(False, True), False, True),
}


@dataclass
class DatRecords:
    """Everything in one ``.dat`` file, one row per (event, cubelet) record."""

    layout: str
    entry_start: np.ndarray  # (R+1,) offsets into ``entries``
    entries: np.ndarray  # (E, 3) int32 tick, sensor, photons
    trailers: np.ndarray  # structured, (R,)
    offsets: np.ndarray  # (R,) byte offset of each record


class _ParseError(Exception):
    def __init__(self, offset: int, what: str) -> None:
        super().__init__(what)
        self.offset = offset
        self.what = what


def _parse(words: np.ndarray, raw: bytes, trailer: _Trailer, n_ticks: int) -> DatRecords:
    trailer_words = trailer.dtype.itemsize // 4
    candidates = np.flatnonzero(words == END_OF_ENTRIES)
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    n = len(words)
    while pos < n:
        k = np.searchsorted(candidates, pos)
        while k < len(candidates) and (candidates[k] - pos) % 3 != 0:
            k += 1
        if k == len(candidates):
            raise _ParseError(pos * 4, "truncated record: no end-of-entries marker 2147483647")
        stop = int(candidates[k])
        if stop + 1 + trailer_words > n:
            raise _ParseError(stop * 4 + 4, "truncated record: the trailer after the entries is cut short")
        starts.append(pos)
        ends.append(stop)
        pos = stop + 1 + trailer_words
    starts_a = np.asarray(starts, dtype=np.int64)
    ends_a = np.asarray(ends, dtype=np.int64)
    counts = (ends_a - starts_a) // 3
    entry_index = np.repeat(starts_a, counts) + 3 * (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    entries = np.stack([words[entry_index], words[entry_index + 1], words[entry_index + 2]], axis=1)
    trailers = np.empty(len(starts), dtype=trailer.dtype)
    for i, stop in enumerate(ends_a):
        begin = (int(stop) + 1) * 4
        trailers[i] = np.frombuffer(raw, dtype=trailer.dtype, count=1, offset=begin)[0]
    entry_start = np.concatenate([[0], np.cumsum(counts)])
    # Plausibility, so that a wrong layout guess fails rather than reads garbage.
    if len(entries):
        bad = (entries[:, 0] < 0) | (entries[:, 0] >= n_ticks) | (entries[:, 1] < 0) | (entries[:, 1] >= N_SENSORS)
        bad |= entries[:, 2] < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            t, s, p = (int(v) for v in entries[i])
            raise _ParseError(
                int(entry_index[i]) * 4,
                f"entry (tick={t}, sensor={s}, photons={p}) out of range (ticks 0..{n_ticks - 1}, sensors 0..99)",
            )
    if len(trailers):
        cls_ok = np.isin(trailers["cls"], list(PARTICLE_CODES.values()))
        if not cls_ok.all():
            i = int(np.flatnonzero(~cls_ok)[0])
            raise _ParseError(int(ends_a[i] + 1) * 4, f"class {int(trailers['cls'][i])} is not 1..4")
        if not np.all(np.isfinite(trailers["energy"])) or np.any(trailers["energy"] < 0):
            i = int(np.flatnonzero(~(np.isfinite(trailers["energy"]) & (trailers["energy"] >= 0)))[0])
            raise _ParseError(int(ends_a[i] + 1) * 4 + 4, f"deposited energy {trailers['energy'][i]!r} is not >= 0")
        if np.any(trailers["n_int"] < 0):
            i = int(np.flatnonzero(trailers["n_int"] < 0)[0])
            raise _ParseError(int(ends_a[i] + 1) * 4, f"number of interactions {int(trailers['n_int'][i])} < 0")
        if trailer.has_flag and not np.isin(trailers["pv"], (0, 1)).all():
            i = int(np.flatnonzero(~np.isin(trailers["pv"], (0, 1)))[0])
            raise _ParseError(int(ends_a[i] + 1) * 4, f"primary-vertex flag {int(trailers['pv'][i])} is not 0 or 1")
    return DatRecords(
        layout="",
        entry_start=entry_start,
        entries=entries,
        trailers=trailers,
        offsets=starts_a * 4,
    )


def read_dat_records(path: str | os.PathLike[str], layout: Layout | None = None, n_ticks: int = 100) -> DatRecords:
    """Parse a ``.dat`` file into its records; errors name the file and the byte offset."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise NeurocalError(f"{path}: cannot read ({err.strerror})") from err
    if len(raw) % 4:
        raise NeurocalError(
            f"{path}: size {len(raw)} bytes is not a multiple of 4: truncated or corrupt at byte offset "
            f"{len(raw) - len(raw) % 4}"
        )
    words = np.frombuffer(raw, dtype="<i4")
    names = [layout] if layout else list(LAYOUTS)
    if layout and layout not in LAYOUTS:
        raise NeurocalError(f"{path}: unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    failures: dict[str, _ParseError] = {}
    for name in names:
        try:
            records = _parse(words, raw, LAYOUTS[name], n_ticks)
        except _ParseError as err:
            failures[name] = err
            continue
        records.layout = name
        return records
    # Report the layout that got furthest: it is most likely the real one.
    name, err = max(failures.items(), key=lambda kv: kv[1].offset)
    hint = f" (read as the '{name}' layout)" if not layout else ""
    raise NeurocalError(f"{path}: corrupt or truncated at byte offset {err.offset}: {err.what}{hint}")


def read_dat(
    path: str | os.PathLike[str],
    layout: Layout | None = None,
    n_ticks: int = 100,
    tick_ns: float = 0.2,
    primary_only: bool = True,
) -> EventSet:
    """Read a ``.dat`` file as an :class:`EventSet`, one event per record.

    In the per-event variant (records carry a primary-vertex flag) only the primary-vertex cubelet
    is kept unless ``primary_only=False`` — the readout cubelet, as in neurocal's own simulation.
    """
    rec = read_dat_records(path, layout, n_ticks)
    tr = rec.trailers
    keep = np.ones(len(tr), dtype=bool)
    if LAYOUTS[rec.layout].has_flag and primary_only:
        keep = tr["pv"] == 1
    n = len(tr)
    photons = np.zeros((n, n_ticks, N_SENSORS), dtype=np.uint32)
    record_of_entry = np.repeat(np.arange(n), np.diff(rec.entry_start))
    if len(rec.entries):
        np.add.at(photons, (record_of_entry, rec.entries[:, 0], rec.entries[:, 1]), rec.entries[:, 2].astype(np.uint32))
    if LAYOUTS[rec.layout].has_centroid:
        centroid = np.stack([tr["cx"], tr["cy"], tr["cz"]], axis=1)
        dispersion = np.stack([tr["sxy"], tr["sz"]], axis=1)
    else:
        centroid = np.full((n, 3), np.nan)
        dispersion = np.stack([tr["sxy"], np.full(n, np.nan)], axis=1)
    events = EventSet(
        photons=photons,
        energy_mev=tr["energy"],
        centroid=centroid,
        dispersion=dispersion,
        particle=tr["cls"],
        n_interactions=tr["n_int"],
        cubelet=tr["cubelet"],
        tick_ns=tick_ns,
        generator={"format": "geant4-dat", "layout": rec.layout, "file": str(path), "primary_only": primary_only},
        source=str(path),
    )
    return events.subset(keep) if not keep.all() else events


def write_dat(
    events: EventSet,
    path: str | os.PathLike[str],
    layout: Layout = "cubelet",
    primary_vertex: np.ndarray | None = None,
) -> Path:
    """Write ``events`` in the paper's ``.dat`` format (atomically), e.g. to hand neurocal showers to its tools."""
    import io

    if layout not in LAYOUTS:
        raise NeurocalError(f"unknown .dat layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    trailer = LAYOUTS[layout]
    if events.n_sensors != N_SENSORS:
        raise NeurocalError(f"{events.source}: .dat files hold {N_SENSORS} sensors, the events have {events.n_sensors}")
    pv = np.ones(events.n_events, dtype=np.int32) if primary_vertex is None else np.asarray(primary_vertex, np.int32)
    buf = io.BytesIO()
    for i in range(events.n_events):
        ticks, sensors = np.nonzero(events.photons[i])
        entries = np.stack([ticks, sensors, events.photons[i][ticks, sensors]], axis=1).astype("<i4")
        buf.write(entries.tobytes())
        buf.write(np.int32(END_OF_ENTRIES).tobytes())
        row = np.zeros(1, dtype=trailer.dtype)
        row["cubelet"] = events.cubelet[i]
        row["energy"] = events.energy_mev[i]
        if trailer.has_centroid:
            row["cx"], row["cy"], row["cz"] = events.centroid[i]
            row["sxy"], row["sz"] = events.dispersion[i]
        else:
            row["sxy"] = events.dispersion[i, 0]
        row["n_int"] = events.n_interactions[i]
        row["cls"] = events.particle[i]
        if trailer.has_flag:
            row["pv"] = pv[i]
        buf.write(row.tobytes())
    path = Path(path)
    with atomic_path(path, suffix=".dat") as tmp:
        tmp.write_bytes(buf.getvalue())
    return path
