"""Fast calorimeter simulation: guns → parametric showers → readout cubelet → photon frames.

``simulate(["proton", "kaon", "pion"], 3000, seed=1)`` returns an :class:`EventSet` whose
photons are the counts seen by the 100 sensors of each event's readout cubelet in 100 ticks of
0.2 ns, with the targets computed from that cubelet's cells. Time origin: t = 0 when the primary
enters the front face of the block, plus ``t0_ns``. Same seed and configuration → identical EventSet.

Defaults follow SNN-Cal's generator (``genPhotons.cpp``), so that targets and spike statistics
compare with its datasets:

* readout cubelet ``primary_vertex``: the cubelet of the primary's first inelastic interaction
  (SNN-Cal: the cubelet of the step where the primary loses > 50 GeV); a primary that crosses the
  block without interacting has none, and falls back to the cubelet with the most energy;
  ``most_energy`` takes that cubelet for every event;
* energy ``window``: deposits before the end of the readout window (20 ns), as SNN-Cal's
  ``Etot``; ``all`` counts every deposit. The centroid and dispersions use the same deposits;
* targets in cell-index units (0–9, see :mod:`neurocal.sim.dataset`);
* light ``paper`` (see :mod:`neurocal.sim.light`), one order of reflections, gun ``uniform``.

Why these defaults light all four threshold levels (10²…10⁵ photons, docs/design.md §3, part of the
contract), measured on 150 events (3 particles, seed 1; level 3 = > 10⁵ photons in a sensor-tick):

==================================================  ==============================
configuration                                       events on which level 3 fires
==================================================  ==============================
physical light (Ω/4π, decay), any gun or readout    0 % (levels 1–3 dead, ~half the events silent)
paper light, corner gun, primary-vertex readout     1 %
paper light, corner gun, most-energy readout        46 %
paper light, uniform gun, primary vertex, direct    47 %
paper light, uniform gun, primary vertex, 1 order   73 %  ← default
paper light, uniform gun, primary vertex, 5 orders  80 % (8× slower)
==================================================  ==============================

The corner gun puts the shower axis exactly on the edge shared by four cubelets: the primary
vertex cubelet sees it along its bottom edge, 30 mm from its sensors, so little light reaches
them. Over the face of one cubelet the axis is as often near the sensors as not. One order of
reflections on the wrapped faces (PbWO4, n = 2.2: total internal reflection beyond 27°, so a
reflectivity near 1) adds the mirror images of the light near the sensor face.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from neurocal.atomic import atomic_file, check_interrupt, check_output_file
from neurocal.config import StreamConfig
from neurocal.errors import NeurocalError
from neurocal.limits import check_disk, check_memory, human_bytes

from .calorimeter import (
    BLOCK_MM,
    CUBELET_MM,
    N_CELLS,
    N_CUBELETS,
    N_CUBELETS_PER_AXIS,
    N_SENSORS,
    cell_centres,
    locate,
)
from .dataset import PARTICLE_CODES, PARTICLE_NAMES, TARGET_FIELDS, EventSet, EventWriter
from .light import expected_frames, optics
from .shower import generate_showers

PARTICLE_ALIASES: dict[str, str] = {
    "proton": "proton", "p": "proton",
    "kaon": "kaon", "k+": "kaon", "kaon+": "kaon",
    "pion": "pion", "pi+": "pion", "pion+": "pion", "π+": "pion",
}  # fmt: skip

CONVENTIONS = {
    "physical": "photons = E·yield·Ω/4π, light speed c/n (n = 2.2), PbWO4 scintillation decay (10 ns 67 %, 30 ns 33 %)",
    "paper": "photons = E·yield·Ω (Ω in sr, not /4π), light speed c/n² (n = 2.2), as the neuromorphic-readout "
    "paper's generator",
}


class SimConfig(BaseModel):
    """Configuration of the fast simulation; every field is stored in the output file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    energy_gev: float = Field(100.0, gt=0.5, le=10000.0, description="beam energy of every primary, GeV")
    gun: Literal["corner", "uniform"] = Field(
        "uniform",
        description="'corner': fixed at x = y = 150 mm on the front face, where four cubelets meet; "
        "'uniform': uniform over the front face of cubelet gun_cubelet",
    )
    gun_cubelet: tuple[int, int] = Field(
        (4, 4), description="(ix, iy) of the front cubelet the uniform gun covers (0..9 each)"
    )
    light: Literal["physical", "paper"] = Field(
        "paper", description="light convention, see CONVENTIONS; 'paper' lights all four threshold levels"
    )
    photon_statistics: Literal["poisson", "round"] | None = Field(
        None, description="counts per (tick, sensor): Poisson around the mean, or the mean rounded (SNN-Cal: "
        "no smearing); None = convention default (physical: poisson, paper: round)"
    )
    reflections: int = Field(
        1, ge=0, le=5, description="orders of mirror reflections on the cubelet's five non-sensor faces added to "
        "the direct light (SNN-Cal offers up to 5)"
    )
    reflectivity: float = Field(1.0, ge=0.0, le=1.0, description="share of light kept per reflection")
    readout_cubelet: Literal["primary_vertex", "most_energy"] = Field(
        "primary_vertex", description="which cubelet is read out: the primary's first interaction (SNN-Cal), or "
        "the one with the most deposited energy"
    )
    energy_window: Literal["window", "all"] = Field(
        "window", description="targets from deposits before the window end (SNN-Cal), or from all deposits"
    )
    landau: bool = Field(True, description="Landau-distributed ionisation of the primary's track (else its mean)")
    scintillation_decay: bool | None = Field(
        None, description="apply the PbWO4 decay-time spread; None = convention default (physical: yes, paper: no)"
    )
    light_yield_per_mev: float = Field(200.0, gt=0, description="scintillation photons per MeV deposited")
    t0_ns: float = Field(
        0.0, ge=0.0, le=100.0, description="ns between the window start and the primary entering the block's front face"
    )
    points_per_shower: int = Field(
        8192,
        ge=128,
        le=65536,
        description="energy-weighted deposit points drawn per shower; below ~8192 the sampling noise biases the "
        "readout-cubelet energy upwards (argmax over noisy cubelets: +5 % at 2048)",
    )
    interactions_in: Literal["readout_cubelet", "block"] = Field(
        "readout_cubelet",
        description="where n_interactions counts hadronic interaction vertices (primary + secondaries above ~1 GeV): "
        "in the readout cubelet, as the paper's per-cubelet records, or anywhere in the block",
    )
    batch_size: int = Field(64, ge=1, le=4096, description="events drawn together (changes the random sequence)")
    stream: StreamConfig = Field(default_factory=StreamConfig, description="tick length and window")

    def model_post_init(self, __context: object) -> None:
        if not all(0 <= i < N_CUBELETS_PER_AXIS for i in self.gun_cubelet):
            raise ValueError(f"gun_cubelet must be two indices in 0..9, got {self.gun_cubelet}")

    @property
    def decay(self) -> bool:
        return self.light == "physical" if self.scintillation_decay is None else self.scintillation_decay

    @property
    def poisson(self) -> bool:
        stats = self.photon_statistics or ("poisson" if self.light == "physical" else "round")
        return stats == "poisson"


@dataclass
class Batch:
    """One batch of simulated events with the diagnostics the tests look at."""

    photons: np.ndarray  # uint32 (B, ticks, sensors)
    expected: np.ndarray  # float (B, ticks, sensors), mean counts before Poisson
    expected_total: np.ndarray  # (B,) mean photons reaching the sensors at any time
    cells: np.ndarray  # (B, 1000) MeV per cell of the readout cubelet
    energy_mev: np.ndarray
    centroid: np.ndarray
    dispersion: np.ndarray
    n_interactions: np.ndarray
    cubelet: np.ndarray
    block_mev: np.ndarray  # deposited in the whole block
    visible_mev: np.ndarray  # visible energy of the shower, in the block or not
    first_z: np.ndarray
    f_em: np.ndarray


def resolve_particles(particles: Sequence[str]) -> list[str]:
    """Canonical particle names; unknown names raise NeurocalError listing the valid ones."""
    if isinstance(particles, str) or len(particles) == 0:
        raise NeurocalError(
            f"particles must be a non-empty list of names, got {particles!r}; valid: proton, kaon, pion"
        )
    out = []
    for name in particles:
        canonical = PARTICLE_ALIASES.get(str(name).strip().lower())
        if canonical is None:
            raise NeurocalError(
                f"unknown particle {name!r}; valid: proton, kaon, pion (aliases: {', '.join(sorted(PARTICLE_ALIASES))})"
            )
        out.append(canonical)
    return out


def gun_positions(config: SimConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) entry points (x, y) in mm on the front face."""
    if config.gun == "corner":
        return np.tile(BLOCK_MM[:2] / 2, (n, 1))
    lo = np.array(config.gun_cubelet) * CUBELET_MM[:2]
    return lo + rng.random((n, 2)) * CUBELET_MM[:2]


def simulate_batch(codes: np.ndarray, rng: np.random.Generator, config: SimConfig) -> Batch:
    """Simulate the events of particle ``codes`` (B,) with one generator: showers, readout, light."""
    b = len(codes)
    gun_xy = gun_positions(config, b, rng)
    sh = generate_showers(codes, config.energy_gev * 1000.0, gun_xy, rng, config.points_per_shower, config.landau)

    inside, cub, cell = locate(sh.x, sh.y, sh.z)
    rows = np.broadcast_to(np.arange(b)[:, None], sh.e.shape)
    t_all = sh.t + config.t0_ns
    counted_dep = inside if config.energy_window == "all" else inside & (t_all < config.stream.window_ns)
    e_in = np.where(counted_dep, sh.e, 0.0)
    per_cubelet = np.bincount((rows * N_CUBELETS + cub).ravel(), weights=e_in.ravel(), minlength=b * N_CUBELETS)
    per_cubelet = per_cubelet.reshape(b, N_CUBELETS)
    readout = per_cubelet.argmax(axis=1)
    if config.readout_cubelet == "primary_vertex":
        pv_in, pv_cub, _ = locate(sh.vertices[:, 0, 0], sh.vertices[:, 0, 1], sh.vertices[:, 0, 2])
        has_pv = pv_in & sh.vertex_valid[:, 0]
        readout = np.where(has_pv, pv_cub, readout)
    sel = inside & (cub == readout[:, None])

    # targets from the readout cubelet's cells (deposits of the energy definition), in cell-index units
    target_sel = sel & counted_dep
    cells = np.bincount((rows[target_sel] * N_CELLS + cell[target_sel]), weights=sh.e[target_sel],
                        minlength=b * N_CELLS).reshape(b, N_CELLS)
    energy, centroid, dispersion = cell_moments(cells)
    ev, c, t, e = rows[sel], cell[sel], t_all[sel], sh.e[sel]

    # interactions inside the readout cubelet
    v_in, v_cub, _ = locate(sh.vertices[..., 0], sh.vertices[..., 1], sh.vertices[..., 2])
    counted = sh.vertex_valid & v_in
    if config.interactions_in == "readout_cubelet":
        counted &= v_cub == readout[:, None]
    n_int = counted.sum(axis=1)

    opt = optics(config.light, config.light_yield_per_mev, config.decay, config.stream.n_ticks, config.stream.tick_ns,
                 config.reflections, config.reflectivity)
    expected, total = expected_frames(ev, c, t, e, b, opt)
    photons = (rng.poisson(expected) if config.poisson else np.rint(expected)).astype(np.uint32)
    return Batch(
        photons=photons,
        expected=expected,
        expected_total=total,
        cells=cells,
        energy_mev=energy,
        centroid=centroid,
        dispersion=dispersion,
        n_interactions=n_int.astype(np.int32),
        cubelet=readout.astype(np.int32),
        block_mev=per_cubelet.sum(axis=1),
        visible_mev=sh.visible_mev,
        first_z=sh.first_z,
        f_em=sh.f_em,
    )


def cell_moments(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(energy (B,), centroid (B, 3), dispersion (B, 3)) of energies per cell (B, 1000), SNN-Cal's definitions.

    With cell indices i = (ix, iy, iz) ∈ 0..9: E = Σ E_c, centroid c = Σ i·E_c / E, σ²_k = Σ (i_k − c_k)²·E_c / E.
    A cubelet with no energy gets zeros.
    """
    energy = cells.sum(axis=1)
    index = cell_centres() - 0.5  # cell-index units: no +0.5
    safe = np.where(energy > 0, energy, 1.0)[:, None]
    centroid = cells @ index / safe
    var = np.maximum(cells @ index**2 / safe - centroid**2, 0.0)
    return energy, centroid, var


def _codes(particles: Sequence[str], n_events: int) -> tuple[list[str], np.ndarray]:
    names = resolve_particles(particles)
    if isinstance(n_events, bool) or not isinstance(n_events, int | np.integer) or n_events <= 0:
        raise NeurocalError(f"n_events must be a positive integer, got {n_events!r}")
    return names, np.array([PARTICLE_CODES[n] for n in names], dtype=np.int32)


def iter_batches(
    particles: Sequence[str], n_events: int, seed: int, config: SimConfig | None = None
) -> Iterator[tuple[int, np.ndarray, Batch]]:
    """Yield ``(first_event, particle_codes, batch)`` for ``n_events`` events, batch by batch.

    Memory is one batch (``config.batch_size`` events) whatever ``n_events`` is; the sequence is the
    one :func:`simulate` collects, so a streamed file and an in-memory EventSet hold the same events.
    """
    config = config or SimConfig()
    _, cycle = _codes(particles, n_events)
    if not 0 <= int(seed) < 2**128:
        raise NeurocalError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    for start in range(0, n_events, config.batch_size):
        stop = min(start + config.batch_size, n_events)
        codes = cycle[np.arange(start, stop) % len(cycle)]
        yield start, codes, simulate_batch(codes, rng, config)


def generator_info(particles: Sequence[str], n_events: int, seed: int, config: SimConfig) -> dict[str, Any]:
    """The generator description stored with the events (configuration, seed, conventions)."""
    return {
        "name": "neurocal.sim.simulate",
        "seed": int(seed),
        "particles": resolve_particles(particles),
        "n_events": int(n_events),
        "config": config.model_dump(mode="json"),
        "convention": CONVENTIONS[config.light]
        + ("; scintillation decay applied" if config.decay else "; no scintillation decay (prompt light)")
        + ("; Poisson counts" if config.poisson else "; mean counts rounded, no Poisson smearing")
        + (f"; {config.reflections} orders of reflections (reflectivity {config.reflectivity:g})"
           if config.reflections else "; direct light only"),
        "energy_definition": "deposits before the end of the window" if config.energy_window == "window"
        else "all deposits of the readout cubelet",
        "readout_cubelet": "cubelet of the primary's first interaction (most energy if it does not interact)"
        if config.readout_cubelet == "primary_vertex" else "cubelet with the most deposited energy",
        "targets": "centroid in cell-index units 0..9 (no +0.5), dispersions σ²x, σ²y, σ²z in cells²",
        "time_origin": "t = 0 when the primary enters the block's front face, shifted by t0_ns",
        "cubelet_index": "iz*100 + iy*10 + ix",
        "sensor_index": "z*10 + x on the readout cubelet's upper face (y = max)",
    }


def simulate(
    particles: Sequence[str],
    n_events: int,
    seed: int,
    config: SimConfig | None = None,
    progress: bool = False,
) -> EventSet:
    """Simulate ``n_events`` events in total, event i being a ``particles[i % len(particles)]``.

    Photons are uint32 (n_events, ticks, sensors); energies in MeV; centroid and dispersion in
    cell units of the readout cubelet. Reproducible: same arguments → identical EventSet.
    Everything is held in memory (checked up front); :func:`simulate_to_file` streams to disk instead.
    """
    config = config or SimConfig()
    _codes(particles, n_events)
    n_ticks = config.stream.n_ticks
    check_memory(n_events * n_ticks * N_SENSORS * 4 * 1.1, f"{n_events} simulated events in memory",
                 "simulate fewer events or stream them to a file with 'neurocal simulate --out'")
    photons = np.empty((n_events, n_ticks, N_SENSORS), dtype=np.uint32)
    codes = np.empty(n_events, dtype=np.int32)
    out = {name: np.empty((n_events, *tail), dtype=dtype) for name, (dtype, tail) in TARGET_FIELDS.items()
           if name not in ("particle", "dispersion_r")}
    with _progress(n_events, progress) as bar:
        for start, batch_codes, batch in iter_batches(particles, n_events, seed, config):
            stop = start + len(batch_codes)
            photons[start:stop] = batch.photons
            codes[start:stop] = batch_codes
            for name, array in out.items():
                array[start:stop] = getattr(batch, name)
            bar.update(stop - start)
    return EventSet(
        photons=photons,
        particle=codes,
        **out,
        tick_ns=config.stream.tick_ns,
        generator=generator_info(particles, n_events, seed, config),
        source="<neurocal.sim.simulate>",
    )


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="event", desc="simulate", disable=not enabled)


# Smallest size of one event on disk: its targets (uncompressed) and a compressed empty frame.
MIN_BYTES_PER_EVENT = 64


def simulate_to_file(
    particles: Sequence[str],
    n_events: int,
    seed: int,
    out: str | os.PathLike[str],
    config: SimConfig | None = None,
    progress: bool = False,
    frontend: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Simulate into the HDF5 file ``out``, batch by batch; returns the events per particle class.

    ``frontend`` (``FrontEnd.to_dict()``) is recorded in the file's generator information: training
    then encodes the photons with that front end (e.g. the photonic superpixel) instead of the ideal one.

    Any count that fits on disk works: memory is one batch. Before work the output is checked
    (folder writable, target a regular file) and the disk must hold the smallest possible file;
    after the first batch the measured size per event is projected and the run stops early if the
    file cannot fit. The file is written atomically: on an error, SIGINT or SIGTERM the previous
    ``out`` is unchanged and no temporary file is left. Same arguments → same events as :func:`simulate`.
    """
    import h5py

    config = config or SimConfig()
    names, _ = _codes(particles, n_events)
    out = Path(out)
    final = check_output_file(out)
    check_disk(n_events * MIN_BYTES_PER_EVENT, final.parent, f"{out}: {n_events} events",
               "simulate fewer events or choose another --out")
    n_ticks = config.stream.n_ticks
    counts = dict.fromkeys(names, 0)
    with atomic_file(out, ".h5") as fh, h5py.File(fh, "w") as f, _progress(n_events, progress) as bar:
        info = generator_info(names, n_events, seed, config)
        if frontend is not None:
            info["frontend"] = dict(frontend)
        writer = EventWriter(f, n_events, n_ticks, N_SENSORS, config.stream.tick_ns, info)
        for start, codes, batch in iter_batches(names, n_events, seed, config):
            stop = start + len(codes)
            values = {name: getattr(batch, name) for name in TARGET_FIELDS if name not in ("particle", "dispersion_r")}
            values["dispersion_r"] = batch.dispersion[:, 0] + batch.dispersion[:, 1]
            writer.write(start, batch.photons, particle=codes, **values)
            for code in codes:
                counts[PARTICLE_NAMES[int(code)]] += 1
            bar.update(stop - start)
            first = start == 0 and stop < n_events
            if first:
                f.flush()  # HDF5 holds chunks in its cache: write them so the size per event is real
            fh.check()  # a full disk stops the run now, not after the last batch
            check_interrupt()
            if first:
                _check_projected_size(fh.size(), stop, n_events, out, final.parent)
    return counts


def _check_projected_size(written: int, done: int, total: int, out: Path, folder: Path) -> None:
    """After the first batch: will the whole file fit? (20 % margin for the HDF5 index)."""
    projected = written / done * total * 1.2
    check_disk(projected, folder, f"{out}: {total} events at {human_bytes(written / done)} per event",
               "simulate fewer events or choose another --out", written=written)
