"""Calorimeter event sets and their HDF5 file format (docs/design.md §4).

An :class:`EventSet` is what every stage reads: per-event photon counts ``(ticks, sensors)``
for the readout cubelet and the targets the network regresses. On disk it is an HDF5 file:

=====================  ==========================  =============================================
path                   dtype, shape                meaning
=====================  ==========================  =============================================
``/photons``           uint32 (N, ticks, sensors)  photons per sensor per tick (gzip + shuffle,
                                                   one chunk per event)
``/targets/energy_mev`` float64 (N,)               energy deposited in the readout cubelet, MeV
``/targets/centroid``  float64 (N, 3)              energy-weighted x, y, z in cell-index units
``/targets/dispersion`` float64 (N, 3)             σ²_x, σ²_y, σ²_z about the centroid, cell units²
``/targets/dispersion_r`` float64 (N,)             σ²_R = σ²_x + σ²_y (the older SNN-Cal target)
``/targets/particle``  int32 (N,)                  0 unclassified, 1 proton, 2 kaon, 3 pion, 4 other
``/targets/n_interactions`` int32 (N,)             hadronic interactions in the shower
``/targets/cubelet``   int32 (N,)                  readout cubelet index
root attributes        schema, schema_version, tick_ns, generator (JSON: configuration and seed)
=====================  ==========================  =============================================

Sensor index = z·10 + x on the cubelet's upper face. A missing target is stored as NaN.

Target conventions (schema 2, the SNN-Cal generator's, so that ``.dat`` and simulated data agree):
a cell's index along each axis is 0..9, and the centroid is Σ idx·E / ΣE in those units (a cell's
index, not its centre: no +0.5; one unit is 3 mm in x and y, 12 mm in z); σ²_k = Σ (idx_k − c_k)²·E / ΣE.

Schema 1 files still read: their centroid used cell centres (idx + 0.5) and is shifted by −0.5;
their one transverse dispersion σ²_xy equals σ²_R = σ²_x + σ²_y, so it becomes ``dispersion_r``
and σ²_x, σ²_y are NaN (the split between x and y was not stored); their energy counted every
deposit, not only those before the end of the window (``generator['energy_definition']`` says so).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurocal.atomic import atomic_file, check_interrupt
from neurocal.errors import NeurocalError
from neurocal.limits import check_memory

SCHEMA = "neurocal.events"
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)

PARTICLE_CODES: dict[str, int] = {"unclassified": 0, "proton": 1, "kaon": 2, "pion": 3, "other": 4}
PARTICLE_NAMES: dict[int, str] = {v: k for k, v in PARTICLE_CODES.items()}

TARGET_FIELDS: dict[str, tuple[type, tuple[int, ...]]] = {
    "energy_mev": (np.float64, ()),
    "centroid": (np.float64, (3,)),
    "dispersion": (np.float64, (3,)),
    "dispersion_r": (np.float64, ()),
    "particle": (np.int32, ()),
    "n_interactions": (np.int32, ()),
    "cubelet": (np.int32, ()),
}


@dataclass
class EventSet:
    """Photon frames of the readout cubelet and the targets, for ``n_events`` events.

    ``dispersion`` is (N, 3) σ²_x, σ²_y, σ²_z. ``dispersion_r`` (σ²_x + σ²_y) is derived from it
    when not given. A legacy (N, 2) ``dispersion`` (σ²_xy, σ²_z: schema 1, the older ``.dat``
    layout) is accepted and mapped to σ²_R = σ²_xy with σ²_x, σ²_y unknown (NaN).
    """

    photons: np.ndarray
    energy_mev: np.ndarray
    centroid: np.ndarray
    dispersion: np.ndarray
    particle: np.ndarray
    n_interactions: np.ndarray
    cubelet: np.ndarray
    dispersion_r: np.ndarray | None = None
    tick_ns: float = 0.2
    generator: dict[str, Any] = field(default_factory=dict)
    source: str = "<memory>"

    def __post_init__(self) -> None:
        self.photons = np.asarray(self.photons)
        if self.photons.ndim != 3:
            raise NeurocalError(f"{self.source}: photons must be (events, ticks, sensors), got {self.photons.shape}")
        n = self.photons.shape[0]
        dispersion = np.asarray(self.dispersion, dtype=np.float64)
        if dispersion.shape == (n, 2):  # legacy σ²_xy, σ²_z
            if self.dispersion_r is None:
                self.dispersion_r = dispersion[:, 0]
            dispersion = np.stack([np.full(n, np.nan), np.full(n, np.nan), dispersion[:, 1]], axis=1)
        self.dispersion = dispersion
        if self.dispersion_r is None and dispersion.shape == (n, 3):
            self.dispersion_r = dispersion[:, 0] + dispersion[:, 1]
        for name, (dtype, tail) in TARGET_FIELDS.items():
            value = np.asarray(getattr(self, name), dtype=dtype)
            if value.shape != (n, *tail):
                raise NeurocalError(f"{self.source}: target '{name}' has shape {value.shape}, expected {(n, *tail)}")
            setattr(self, name, value)

    @property
    def n_events(self) -> int:
        return int(self.photons.shape[0])

    @property
    def n_ticks(self) -> int:
        return int(self.photons.shape[1])

    @property
    def n_sensors(self) -> int:
        return int(self.photons.shape[2])

    def __len__(self) -> int:
        return self.n_events

    def subset(self, index: np.ndarray | slice) -> EventSet:
        """The events selected by ``index`` (a slice, an index array or a boolean mask)."""
        return EventSet(
            photons=self.photons[index],
            **{name: getattr(self, name)[index] for name in TARGET_FIELDS},
            tick_ns=self.tick_ns,
            generator=self.generator,
            source=self.source,
        )

    @staticmethod
    def concatenate(parts: list[EventSet]) -> EventSet:
        if not parts:
            raise NeurocalError("cannot concatenate an empty list of event sets")
        first = parts[0]
        return EventSet(
            photons=np.concatenate([p.photons for p in parts]),
            **{name: np.concatenate([getattr(p, name) for p in parts]) for name in TARGET_FIELDS},
            tick_ns=first.tick_ns,
            generator=first.generator,
            source=first.source,
        )

    def fingerprint(self) -> str:
        """``sha256:…`` of the events' content (shape, tick length, photons, targets), not of the file.

        The same events give the same fingerprint whether read from HDF5 or ``.dat`` or moved to
        another folder; any changed count, tick or target gives another. A run stores it so that
        ``train --resume`` refuses a different dataset.
        """
        h = hashlib.sha256()
        h.update(json.dumps({"shape": list(self.photons.shape), "tick_ns": float(self.tick_ns)}).encode())
        photons = np.ascontiguousarray(self.photons, dtype="<u4")
        for start in range(0, self.n_events, 1024):  # chunked: no second full-size copy
            h.update(memoryview(photons[start : start + 1024]).cast("B"))
        for name, (dtype, _) in TARGET_FIELDS.items():
            h.update(np.ascontiguousarray(getattr(self, name), dtype=np.dtype(dtype).newbyteorder("<")).tobytes())
        return "sha256:" + h.hexdigest()

    def events_per_class(self) -> dict[str, int]:
        codes, counts = np.unique(self.particle, return_counts=True)
        out = {name: 0 for name in ("proton", "kaon", "pion")}
        for code, count in zip(codes, counts, strict=True):
            out[PARTICLE_NAMES.get(int(code), f"class{int(code)}")] = int(count)
        return out


class EventWriter:
    """Writes the event file format into an open ``h5py.File``, in slices of events (streaming).

    The datasets are created at their full size up front (chunked, so nothing is allocated before
    it is written); :meth:`write` fills events ``start … start + len(photons)``.
    """

    def __init__(self, f: Any, n_events: int, n_ticks: int, n_sensors: int, tick_ns: float,
                 generator: dict[str, Any]) -> None:
        f.attrs["schema"] = SCHEMA
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["tick_ns"] = float(tick_ns)
        f.attrs["generator"] = json.dumps(generator, sort_keys=True, default=str)
        self.photons = f.create_dataset(
            "photons",
            shape=(n_events, n_ticks, n_sensors),
            dtype=np.uint32,
            chunks=(1, n_ticks, n_sensors) if n_events and n_ticks and n_sensors else None,
            compression="gzip",
            compression_opts=4,
            shuffle=True,
        )
        group = f.create_group("targets")
        self.targets = {name: group.create_dataset(name, shape=(n_events, *tail), dtype=dtype)
                        for name, (dtype, tail) in TARGET_FIELDS.items()}

    def write(self, start: int, photons: np.ndarray, **targets: np.ndarray) -> None:
        """Events ``start …``: photons (n, ticks, sensors) and every target field (n, …)."""
        stop = start + len(photons)
        if stop > start:
            self.photons[start:stop] = np.asarray(photons).astype(np.uint32, copy=False)
            for name, dataset in self.targets.items():
                dataset[start:stop] = np.asarray(targets[name]).astype(dataset.dtype, copy=False)


def write_h5(events: EventSet, path: str | os.PathLike[str], chunk: int = 256) -> Path:
    """Write ``events`` to an HDF5 file atomically (temporary file in the same folder, then rename).

    Written ``chunk`` events at a time, so SIGINT/SIGTERM stop it between chunks with the previous
    file intact; a full disk ends in one error naming the file (see :mod:`neurocal.atomic`).
    """
    import h5py

    path = Path(path)
    with atomic_file(path, ".h5") as fh, h5py.File(fh, "w") as f:
        writer = EventWriter(f, events.n_events, events.n_ticks, events.n_sensors, events.tick_ns, events.generator)
        for start in range(0, events.n_events, chunk):
            sl = slice(start, start + chunk)
            writer.write(start, events.photons[sl], **{name: getattr(events, name)[sl] for name in TARGET_FIELDS})
            fh.check()
            check_interrupt()
    return path


def read_h5(path: str | os.PathLike[str]) -> EventSet:
    """Read a neurocal HDF5 event file; any defect is reported with the file and the field."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise NeurocalError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise NeurocalError(f"{path}: not a readable HDF5 file ({err}); re-create it with 'neurocal simulate'") from err
    with f:
        schema = f.attrs.get("schema")
        if schema != SCHEMA:
            raise NeurocalError(
                f"{path}: attribute 'schema' is {schema!r}, expected {SCHEMA!r}: not a neurocal event file"
            )
        version = int(f.attrs.get("schema_version", -1))
        if version not in READABLE_VERSIONS:
            raise NeurocalError(
                f"{path}: schema_version {version} is not supported (this neurocal reads "
                f"{', '.join(map(str, READABLE_VERSIONS))}); re-create it with 'neurocal simulate'"
            )
        names = [n for n in TARGET_FIELDS if not (version == 1 and n == "dispersion_r")]
        if "photons" in f and isinstance(f["photons"], h5py.Dataset):  # refuse before the allocator does
            shape = f["photons"].shape
            check_memory(float(np.prod(shape, dtype=np.float64)) * 4, f"{path}: {shape[0] if shape else 0} events",
                         "read a smaller file (neurocal simulate --events N) on this machine")
        try:
            photons = _dataset(f, "photons", path)[()]
            fields = {name: _dataset(f, f"targets/{name}", path)[()] for name in names}
        except OSError as err:
            raise NeurocalError(f"{path}: corrupt data ({err}); re-create the file") from err
        _check_values(photons, fields, path)
        tick_ns = f.attrs.get("tick_ns", 0.2)
        if not (isinstance(tick_ns, int | float | np.integer | np.floating) and np.isfinite(tick_ns) and tick_ns > 0):
            raise NeurocalError(f"{path}: attribute 'tick_ns' is {tick_ns!r}, not a tick length in ns > 0; "
                                "re-create the file with 'neurocal simulate'")
        try:
            generator = json.loads(f.attrs.get("generator", "{}"))
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as err:
            raise NeurocalError(f"{path}: attribute 'generator' is not valid JSON ({err})") from err
        if version == 1:
            fields, generator = _from_schema_1(fields, generator)
        return EventSet(
            photons=photons, **fields, tick_ns=float(tick_ns), generator=generator, source=str(path)
        )


def _dataset(f: Any, name: str, path: Path) -> Any:
    import h5py

    item = f.get(name)
    if item is None:
        raise NeurocalError(f"{path}: missing dataset '{name}'; the file is incomplete: re-create it")
    if not isinstance(item, h5py.Dataset):
        raise NeurocalError(f"{path}: '{name}' is not a dataset; not a neurocal event file: re-create it")
    return item


def _check_values(photons: np.ndarray, fields: dict[str, np.ndarray], path: Path) -> None:
    """The schema's dtypes and value ranges (shapes are checked by :class:`EventSet`): photon counts are
    integers in 0..2^32 − 1 (uint32 frames), float targets are finite or NaN (missing), energies and
    dispersions >= 0, particle codes known, counts >= 0."""
    fix = "re-create the file with 'neurocal simulate'"
    if photons.dtype.kind not in "iu":
        raise NeurocalError(f"{path}: dataset 'photons' holds {photons.dtype}, not integer photon counts; {fix}")
    if photons.ndim == 3 and photons.size and (photons.min() < 0 or photons.max() > np.iinfo(np.uint32).max):
        raise NeurocalError(f"{path}: dataset 'photons' holds counts outside 0..{np.iinfo(np.uint32).max} "
                            f"(min {photons.min()}, max {photons.max()}); {fix}")
    for name, value in fields.items():
        want = TARGET_FIELDS[name][0]
        kinds = "iu" if np.issubdtype(want, np.integer) else "iuf"
        where = f"{path}: dataset 'targets/{name}'"
        if value.dtype.kind not in kinds:
            raise NeurocalError(f"{where} holds {value.dtype}, not {np.dtype(want).name} values; {fix}")
        if value.dtype.kind == "f" and np.isinf(value).any():
            raise NeurocalError(f"{where} holds an infinite value (a missing target is NaN); {fix}")
        if name in ("energy_mev", "dispersion", "dispersion_r", "n_interactions", "cubelet") and (value < 0).any():
            raise NeurocalError(f"{where} holds a negative value; {fix}")
        if name == "particle" and not np.isin(value, list(PARTICLE_NAMES)).all():
            raise NeurocalError(f"{where} holds codes outside {sorted(PARTICLE_NAMES)} "
                                f"({', '.join(f'{c}={n}' for n, c in PARTICLE_CODES.items())}); {fix}")


def _from_schema_1(fields: dict[str, np.ndarray], generator: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict]:
    """Schema 1 → 2 (see the module docstring): centroid −0.5 cell, σ²_xy → σ²_R, σ²_x/σ²_y unknown."""
    fields = dict(fields)
    fields["centroid"] = np.asarray(fields["centroid"], dtype=np.float64) - 0.5
    # EventSet maps the (N, 2) legacy dispersion itself (σ²_xy → dispersion_r)
    generator = {**generator, "converted_from_schema": 1,
                 "energy_definition": generator.get("energy_definition", "all deposits of the readout cubelet")}
    return fields, generator
