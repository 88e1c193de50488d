"""Co-design search: the front end, the network and the hardware chosen together, on Optuna.

Each trial samples a configuration (:func:`suggest`), trains it (pruned on its validation loss),
exports and quantises it, and scores the **integer** network: the golden model runs it on held-out
events (the run's validation split, never its test split, which stays for the final report). The
physics objective is the per-target error ε_i — MRE of E for energy, MAE in mm for a centroid axis,
MRE of σ² for a dispersion axis — or the readout paper's score

.. math::  P = \\frac{1}{n} \\sum_{i=1}^{n} \\frac{1}{\\varepsilon_i}

(maximised). Hardware objectives come from the installed cost models (``neurocal.costmodels``):
a trial whose network cannot be built for its hardware choice is recorded infeasible, with the
reason, before anything is trained.

Single-objective studies use Optuna's Gaussian-process sampler with Expected Improvement (the
paper's method); multi-objective studies TPE (or NSGA-II) and return the Pareto front.

A study folder holds ``search.json`` (the settings), ``study.db`` (SQLite, unless ``storage`` names
another SQLAlchemy URL), ``trials/NNNNN/`` (each trial's run folders) and ``plots/``. Workers share
the study through the storage; the study stops at ``trials`` counted trials (complete, pruned,
infeasible or failed with a reason; an interrupted trial does not count and is run again).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from neurocal.atomic import deferred_signals, write_text_atomic
from neurocal.costmodels import Hardware, get_costmodel
from neurocal.errors import NeurocalError

SEARCH_SCHEMA = "neurocal.search/1"
SETTINGS_FILE = "search.json"
DB_FILE = "study.db"
PHYSICS = ("error", "P")
SAMPLERS = ("gp", "tpe", "nsga2")
FRONT_END_LEVELS = 4  # threshold levels per sensor: the hardware contract's input layout (sensors × 4)


class Infeasible(Exception):
    """The trial's network cannot be built for its hardware choice (the message says why)."""


@dataclass(frozen=True)
class Space:
    """The search space. Sizes, depths and epochs bound the network; the rest is sampled inside fixed ranges.

    A choice of one value is fixed, not sampled. Every parameter is sampled in every trial, also where the trial
    does not use it (sizes beyond its depth, the fixed threshold of an ``auto`` trial, the population of a spike
    count readout): the search space stays the same from trial to trial, which the Gaussian-process sampler needs
    to model all of it (otherwise it samples the changing part at random)."""

    sizes: tuple[int, ...] = (16, 32, 50, 64, 100, 128, 200)
    size_range: tuple[int, int] | None = None  # hidden sizes log-uniform in this range instead of ``sizes``
    depth: tuple[int, int] = (1, 3)
    epochs: tuple[int, int] = (5, 30)
    populations: tuple[int, ...] = (1, 5, 10, 20)
    readouts: tuple[str, ...] = ("membrane", "spikes")
    batch_sizes: tuple[int, ...] = (32,)
    lr: tuple[float, float] = (1e-4, 1e-2)
    losses: tuple[str, ...] = ("mse", "l1")
    level0: tuple[float, float] = (10.0, 1e3)  # front end: lowest photon threshold t_0 ...
    ratio: tuple[float, float] = (3.0, 30.0)  # ... and the ratio of successive levels
    prune: bool = True  # prune on the validation loss (only fair when every trial trains with the same loss)
    hardware: bool = True  # sample the profile, lanes, banks and words (False: the first profile's defaults)
    profiles: tuple[str, ...] = ("pynq-z2", "zcu104")
    max_lanes_log2: int = 7  # lanes 1 … 128 per layer
    words: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    qat: bool = True  # QAT on/off is searched (a QAT trial fine-tunes its run for qat_epochs)
    qat_epochs: int = 2
    start: dict[str, Any] | None = None  # parameters of the study's first trial (enqueued when it is created)

    @classmethod
    def tiny(cls) -> Space:
        """Networks of a few neurons and one or two epochs: a study of seconds per trial (tests, smoke runs)."""
        return cls(sizes=(4, 8), depth=(1, 2), epochs=(1, 2), populations=(1, 2), qat=False)

    @classmethod
    def quick(cls) -> Space:
        """Demo-sized networks trained for 2-4 epochs, no QAT: a Pareto study of an hour on two cores."""
        return cls(sizes=(16, 32, 50, 64, 100), depth=(1, 2), epochs=(2, 4), populations=(1, 5, 10), qat=False)

    @classmethod
    def deployable(cls) -> Space:
        """A physics study around the deployable preset (``DEPLOYABLE_RECIPE``), which is its first trial:
        hidden sizes 50-300, depth 1-3, 10-30 epochs, membrane readout with 1-20 neurons per output, learning
        rate 1e-3-1e-2 with its schedule, batch size, β/threshold initialisation, the front end's levels
        around 10^2·10^k; L1 loss (the preset's; fixed, so that validation losses compare). The hardware is the
        first profile's default core, checked by the cost model; no QAT. No pruning: a trial's validation loss
        after k epochs says little about a trial with another length and schedule."""
        return cls(size_range=(50, 300), depth=(1, 3), epochs=(10, 30), populations=(1, 2, 5, 10, 20),
                   readouts=("membrane",), batch_sizes=(16, 32, 64), lr=(1e-3, 1e-2), losses=("l1",),
                   level0=(30.0, 300.0), ratio=(5.0, 20.0), prune=False, hardware=False, profiles=("pynq-z2",),
                   qat=False, start=_preset_params(3))


def _preset_params(max_depth: int) -> dict[str, Any]:
    """The deployable preset (``DEPLOYABLE_RECIPE`` on ``TrainConfig``'s defaults) as parameters of
    :func:`suggest`: sizes beyond its depth repeat its last size; the fixed threshold, unused by an ``auto``
    preset, is 1."""
    from neurocal.models.config import TrainConfig

    preset = TrainConfig.from_preset("deployable")
    levels = preset.thresholds  # t_0 · r^k (tests/models/test_search.py checks that suggest() gives them back)
    sizes = [*preset.hidden, *[preset.hidden[-1]] * max_depth][:max_depth]
    return {"depth": len(preset.hidden), **{f"n{i}": n for i, n in enumerate(sizes)}, "population": preset.population,
            "threshold_init": "auto" if preset.threshold_init == "auto" else "fixed",
            "threshold": 1.0 if preset.threshold_init == "auto" else preset.threshold_init,
            "threshold_level0": levels[0], "threshold_ratio": levels[1] / levels[0], "beta_init": preset.beta_init,
            "lr": preset.lr, "lr_schedule": preset.lr_schedule, "epochs": preset.epochs,
            "batch_size": preset.batch_size, "loss": preset.loss}


SPACES: dict[str, Callable[[], Space]] = {"full": Space, "quick": Space.quick, "tiny": Space.tiny,
                                          "deployable": Space.deployable}


@dataclass(frozen=True)
class SearchSettings:
    """What defines a study; stored in ``search.json`` and refused if a resumed study asks for different ones."""

    data: str
    target: str
    physics: Literal["error", "P"] = "P"
    objectives: tuple[str, ...] = ()  # extra objectives (cost-model names, e.g. latency_us): multi-objective
    sampler: str = "gp"
    seed: int = 0
    space: str = "full"  # a name of SPACES
    max_events: int | None = None
    eval_events: int = 1000  # validation events the integer network is scored on
    cost_events: int = 200  # of those, events the cost models run on
    costmodel: str | None = "cycles"

    @property
    def directions(self) -> list[str]:
        return ["maximize" if self.physics == "P" else "minimize"] + ["minimize"] * len(self.objectives)

    @property
    def multi(self) -> bool:
        return bool(self.objectives)

    def space_obj(self) -> Space:
        return SPACES[self.space]()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "objectives": list(self.objectives)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SearchSettings:
        return cls(**{**values, "objectives": tuple(values.get("objectives", ()))})


@dataclass
class StudyRef:
    """Where a study lives: its folder, storage URL and name."""

    folder: Path
    storage: str
    name: str
    settings: SearchSettings = field(repr=False, default=None)  # type: ignore[assignment]


# ----------------------------------------------------------------------------------------- the space


def suggest(trial: Any, space: Space, n_sensors: int, n_out: int) -> tuple[dict[str, Any], Hardware, bool]:
    """Sample one configuration: TrainConfig overrides, the hardware choice, and whether to fine-tune with QAT.

    Front end: 4 threshold levels ``t_k = t_0 · r^k`` (``t_0`` and the ratio ``r`` log-uniform). Network:
    depth and hidden sizes, readout (membrane with a population, or spike count), β and threshold
    initialisation, learning rate and schedule, epochs, batch size, loss. Hardware: the profile, lanes per layer
    (powers of two up to the layer's size), weight banks of the input layer and of the hidden layers, AER
    words per beat.
    """

    def choose(name: str, choices: tuple[Any, ...]) -> Any:
        return choices[0] if len(choices) == 1 else trial.suggest_categorical(name, list(choices))

    depth = trial.suggest_int("depth", *space.depth)
    if space.size_range is None:
        sizes = [trial.suggest_categorical(f"n{i}", space.sizes) for i in range(space.depth[1])]
    else:
        sizes = [trial.suggest_int(f"n{i}", *space.size_range, log=True) for i in range(space.depth[1])]
    hidden = sizes[:depth]
    readout = choose("readout", space.readouts)
    population = choose("population", space.populations)
    threshold_mode = trial.suggest_categorical("threshold_init", ["auto", "fixed"])
    threshold = trial.suggest_float("threshold", 0.1, 2.0, log=True)
    t0 = trial.suggest_float("threshold_level0", *space.level0, log=True)
    ratio = trial.suggest_float("threshold_ratio", *space.ratio, log=True)
    overrides: dict[str, Any] = {
        "hidden": hidden,
        "readout": readout,
        "population": population if readout == "membrane" else 1,
        "beta_init": trial.suggest_float("beta_init", 0.5, 0.99),
        "threshold_init": "auto" if threshold_mode == "auto" else threshold,
        "lr": trial.suggest_float("lr", *space.lr, log=True),
        "lr_schedule": trial.suggest_categorical("lr_schedule", ["constant", "cosine", "onecycle"]),
        "epochs": trial.suggest_int("epochs", *space.epochs),
        "batch_size": choose("batch_size", space.batch_sizes),
        "loss": choose("loss", space.losses),
        "thresholds": [float(t0 * ratio**k) for k in range(FRONT_END_LEVELS)],
    }
    qat = bool(trial.suggest_categorical("qat", [False, True])) if space.qat else False
    if not space.hardware:
        return overrides, Hardware(profile=space.profiles[0]), qat
    lanes_log2 = [trial.suggest_int(f"lanes_log2_{i}", 0, space.max_lanes_log2) for i in range(space.depth[1])]
    lanes_log2 = [*lanes_log2[:depth], trial.suggest_int("lanes_log2_out", 0, space.max_lanes_log2)]
    sizes = (n_sensors * FRONT_END_LEVELS, *hidden, n_out)
    lanes = tuple(min(n, 1 << k) for n, k in zip(sizes[1:], lanes_log2, strict=True))
    rows0 = trial.suggest_int("rows_input", 1, 31)
    rows_hidden = 1 << trial.suggest_int("rows_hidden_log2", 0, 3)
    rows = tuple(min(n, rows0 if i == 0 else rows_hidden) for i, n in enumerate(sizes[:-1]))
    hardware = Hardware(profile=choose("profile", space.profiles), lanes=lanes, rows=rows,
                        words=trial.suggest_categorical("words", space.words))
    return overrides, hardware, qat


# ----------------------------------------------------------------------------------------- objectives


def target_errors(metrics: dict[str, Any]) -> dict[str, float]:
    """The per-target errors ε_i of one model's physics metrics (lower is better).

    Energy: MRE of E; centroid: MAE per axis (mm); dispersion: MRE of σ² per axis; PID: 1 − accuracy."""
    out: dict[str, float] = {}
    if "energy" in metrics:
        out["energy"] = float(metrics["energy"]["mre_E"])
    if "centroid" in metrics:
        out |= {f"centroid_{a}": float(v) for a, v in metrics["centroid"]["mae_mm"].items()}
    if "dispersion" in metrics:
        out |= {f"dispersion_{a}": float(v) for a, v in metrics["dispersion"]["mre"].items()}
    if "pid" in metrics:
        out["pid"] = 1.0 - float(metrics["pid"]["accuracy"])
    return out


def score_p(errors: dict[str, float]) -> float:
    """P = mean of 1/ε_i (a zero error counts as 1e-12)."""
    return float(np.mean([1.0 / max(e, 1e-12) for e in errors.values()]))


def _dataset_shape(data: str) -> tuple[int, int]:
    """(sensors, ticks) of a dataset, read once per process."""
    if data not in _SHAPES:
        from neurocal.models.data import load_events

        events = load_events(data)
        _SHAPES[data] = (int(events.photons.shape[2]), int(events.photons.shape[1]))
    return _SHAPES[data]


_SHAPES: dict[str, tuple[int, int]] = {}


def run_trial(trial: Any, settings: SearchSettings, folder: Path, log: Callable[[str], None]) -> list[float]:
    """Train, quantise and score one trial; returns its objective values (in ``settings.directions`` order).

    Raises :class:`Infeasible` before training when the cost model refuses the hardware choice, and
    ``optuna.TrialPruned`` when the pruner stops a hopeless single-objective trial."""
    import optuna
    import torch

    from neurocal.backends import get_backend
    from neurocal.models.config import TrainConfig
    from neurocal.models.data import TargetSpec
    from neurocal.models.metrics import integer_outputs, physics_metrics
    from neurocal.models.nir_io import export
    from neurocal.models.qonnx_export import intnet_of_run
    from neurocal.models.training import load_split, prepare, train
    from neurocal.targets import split_outputs

    spec = TargetSpec(settings.target)
    n_sensors, _ = _dataset_shape(settings.data)
    space = settings.space_obj()
    overrides, hardware, qat = suggest(trial, space, n_sensors, spec.n_outputs)
    seed = settings.seed * 100_003 + trial.number
    config = TrainConfig(target=settings.target, seed=seed, ann_baseline=False, max_events=settings.max_events,
                         threads=max(1, torch.get_num_threads()), **overrides)
    _set_attrs(trial, seed=seed, hardware=hardware.to_dict(), config=config.model_dump())
    costmodel = get_costmodel(settings.costmodel) if settings.costmodel else None
    if costmodel is not None:
        reason = costmodel.check((n_sensors * FRONT_END_LEVELS, *config.hidden, spec.n_outputs), hardware)
        if reason is not None:
            raise Infeasible(reason)

    trial_dir = folder / "trials" / f"{trial.number:05d}"
    trial_dir.mkdir(parents=True, exist_ok=True)
    with open(trial_dir / "started", "a") as marker:  # a trial that ran twice leaves two lines
        marker.write(f"{os.getpid()}\n")

    def on_epoch(kind: str, epoch: int, val: float) -> None:
        if kind != "snn" or settings.multi or not space.prune:  # Optuna prunes single-objective studies only
            return
        with deferred_signals():  # storage writes: see _set_attrs
            trial.report(val, epoch)
            prune = trial.should_prune()
        if prune:
            raise optuna.TrialPruned(f"validation loss {val:.4g} after epoch {epoch}")

    t0 = time.perf_counter()
    run = train(config, settings.data, trial_dir / "run", progress=False, log=log, on_epoch=on_epoch)
    if qat:
        from neurocal.models.qat import finetune_qat

        run = finetune_qat(run, settings.data, trial_dir / "qat", space.qat_epochs, progress=False,
                           log=log)
    nir_path = export(run, trial_dir / "model.nir")
    net = intnet_of_run(run, nir_path)
    net.save(trial_dir / "intnet.json")
    data = prepare(config, settings.data, load_split(run / "split.npz"))
    val = data.split["val"][: settings.eval_events]
    spikes = data.x[torch.from_numpy(val)].numpy()
    mean = np.asarray(net.metadata["target_mean"], dtype=np.float64)
    std = np.asarray(net.metadata["target_std"], dtype=np.float64)
    reg, cls = split_outputs(integer_outputs(net, spikes), spec, mean, std)
    metrics = physics_metrics(spec, data.y_reg_raw[val], data.y_cls.numpy()[val], reg, cls)
    errors = target_errors(metrics)
    p = score_p(errors)
    attrs: dict[str, Any] = {"errors": errors, "P": p, "run": str(run.relative_to(folder)),
                             "content_hash": net.content_hash}
    costs: dict[str, float] = {}
    if costmodel is not None:
        sub = spikes[: settings.cost_events]
        reference = get_backend("golden").run(net, sub)
        costs = costmodel.cost(net, sub, reference, hardware).objectives
        attrs["costs"] = costs
    _set_attrs(trial, **attrs, seconds=time.perf_counter() - t0)
    physics = p if settings.physics == "P" else float(np.mean(list(errors.values())))
    values = [physics]
    for name in settings.objectives:
        if name not in costs:
            raise NeurocalError(f"objective {name!r}: the cost model {settings.costmodel!r} measures "
                                f"{', '.join(sorted(costs)) or 'nothing'}")
        values.append(float(costs[name]))
    log(f"trial {trial.number}: {settings.physics} {physics:.4g}, errors "
        + ", ".join(f"{k} {v:.4g}" for k, v in errors.items())
        + "".join(f", {k} {v:.4g}" for k, v in costs.items()))
    return values


# ----------------------------------------------------------------------------------------- study


def _set_attrs(trial: Any, **attrs: Any) -> None:
    """Record user attributes of a trial with SIGINT/SIGTERM deferred until the writes are done.

    Every storage call of the search runs so (:func:`neurocal.atomic.deferred_signals`): a signal raised inside
    one could leave a SQLAlchemy session mid-transaction, its connection kept alive by the traceback, and
    SQLite's write lock held by it; the next write (recording the trial as interrupted) would then wait out
    the busy timeout. Deferred, the signal lands between two storage calls."""
    with deferred_signals():
        for key, value in attrs.items():
            trial.set_user_attr(key, value)


def storage_url(folder: Path, storage: str | None) -> str:
    return storage or f"sqlite:///{(folder / DB_FILE).resolve()}"


def _storage(url: str) -> Any:
    import optuna

    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 120}  # workers wait for SQLite's write lock rather than fail
    else:
        kwargs["pool_pre_ping"] = True
    return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)


def _sampler(settings: SearchSettings, worker: int) -> Any:
    import optuna

    seed = settings.seed * 1009 + worker  # workers draw different random start-up points
    if settings.sampler == "gp":
        if settings.multi:
            raise NeurocalError("--sampler gp: the Gaussian-process sampler here is single-objective; use tpe or "
                                "nsga2 with --objectives")
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=5)
    if settings.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=20)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=5)


def _pruner() -> Any:
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)


def open_study(folder: str | os.PathLike[str], settings: SearchSettings | None = None, storage: str | None = None,
               name: str | None = None) -> StudyRef:
    """Create or resume the study of ``folder``: with ``settings`` they must match a stored study's
    (``search.json``); without, the stored ones are read. Returns where it lives."""
    import optuna

    folder = Path(folder)
    path = folder / SETTINGS_FILE
    stored: dict[str, Any] | None = None
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except ValueError as err:
            raise NeurocalError(f"{path}: not valid JSON ({err}); remove the folder or choose another --out") from err
    if settings is None:
        if stored is None:
            raise NeurocalError(f"{folder}: no {SETTINGS_FILE}; not a search study folder")
        settings = SearchSettings.from_dict(stored["settings"])
        storage, name = storage or _stored_storage(stored, path), name or stored["study"]
    elif stored is not None:
        old = stored["settings"]
        changed = sorted(k for k, v in settings.to_dict().items() if old.get(k) != v)
        if changed:
            raise NeurocalError(f"{path}: the study in this folder was started with different settings (changed: "
                                f"{', '.join(changed)}); resume with the same options or choose another --out")
        storage, name = storage or _stored_storage(stored, path), name or stored["study"]
    _check_objectives(settings)
    name = name or folder.resolve().name
    url = storage_url(folder, storage)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(storage=_storage(url), study_name=name, directions=settings.directions,
                                    load_if_exists=True)
        start = settings.space_obj().start
        if start is not None and not study.get_trials(deepcopy=False):  # a new study: its first trial
            with deferred_signals():
                study.enqueue_trial(start)
    except BaseException as err:
        if created:  # leave no empty study folder behind a storage that could not be opened
            shutil.rmtree(folder, ignore_errors=True)
        _storage_error(err, name, url)
        raise
    if stored is None:
        record = {"schema": SEARCH_SCHEMA, "study": name, "storage": _without_password(storage),
                  "settings": settings.to_dict()}
        write_text_atomic(path, json.dumps(record, indent=2))
    return StudyRef(folder=folder, storage=url, name=name, settings=settings)


def _without_password(url: str | None) -> str | None:
    """The URL to record in search.json: a password is masked, never written to disk."""
    if url is None:
        return None
    import sqlalchemy

    try:
        return sqlalchemy.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url


def _stored_storage(stored: dict[str, Any], path: Path) -> str | None:
    url = stored.get("storage")
    if url is not None and ":***@" in url:
        raise NeurocalError(f"{path}: the study's storage needs a password, which is not stored; pass --storage "
                            "with the full URL")
    return url


def _storage_error(err: BaseException, name: str, url: str) -> None:
    """Raise a one-line error for a storage that cannot hold the study; return for anything else."""
    import sqlalchemy.exc

    if isinstance(err, ValueError):  # e.g. the stored study has other directions
        raise NeurocalError(f"--study {name}: {err}") from err
    if isinstance(err, (sqlalchemy.exc.SQLAlchemyError, ImportError)):
        shown = url.split("@")[-1] if "@" in url else url  # never echo a password
        raise NeurocalError(f"--storage {shown}: cannot open the study storage ({type(err).__name__}: "
                            f"{' '.join(str(err).split())[:200]}); give a SQLAlchemy URL such as "
                            "postgresql://user@host/db or sqlite:///path/study.db") from err


def _check_objectives(settings: SearchSettings) -> None:
    """Refuse objectives the cost model does not measure before any trial runs."""
    if not settings.objectives:
        return
    if settings.costmodel is None:
        raise NeurocalError(f"--objectives {','.join(settings.objectives)}: hardware objectives need a cost model; "
                            "drop --cost-model none")
    known = get_costmodel(settings.costmodel).objectives
    unknown = [o for o in settings.objectives if o not in known]
    if unknown:
        raise NeurocalError(f"--objectives: {', '.join(unknown)} not measured by cost model "
                            f"{settings.costmodel!r}; choose from {', '.join(known)}")


def _counts(trial: Any) -> bool:
    """Whether a trial counts toward the budget: running, or finished for a reason of its own (not
    interrupted, not cancelled as surplus)."""
    from optuna.trial import TrialState

    if trial.state in (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and ("infeasible" in trial.user_attrs or "failed" in trial.user_attrs)


def worker(ref: StudyRef, n_trials: int, index: int = 0, threads: int | None = None, quiet: bool = False,
           deadline: float | None = None) -> int:
    """Run trials of the study until it holds ``n_trials`` counted trials, or until ``deadline``
    (``time.time()``) has passed when a trial ends; returns how many this worker ran.

    Between asking for a trial and running it the worker checks that the trials numbered before its own
    do not already fill the budget (another worker may have asked at the same moment); a surplus trial is
    closed at once as cancelled and never runs."""
    import optuna
    import torch
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if threads is not None:
        torch.set_num_threads(threads)
    settings = ref.settings
    study = optuna.load_study(study_name=ref.name, storage=_storage(ref.storage), sampler=_sampler(settings, index),
                              pruner=_pruner())

    def log(msg: str) -> None:
        if not quiet and msg.startswith("trial"):
            print(f"[worker {index}] {msg}", flush=True)

    ran = 0
    while True:
        with deferred_signals():
            if sum(_counts(t) for t in study.get_trials(deepcopy=False)) >= n_trials:
                break
            if deadline is not None and time.time() >= deadline:
                log(f"trial budget: --timeout reached after {ran} trials of this worker")
                break
            trial = study.ask()
            before = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number]
            if sum(_counts(t) for t in before) >= n_trials:
                _tell(study, trial, state=TrialState.FAIL,
                      cancelled=f"the budget of {n_trials} trials was reached by other workers")
                break
        try:
            values = run_trial(trial, settings, ref.folder, log)
        except optuna.TrialPruned as err:
            _tell(study, trial, state=TrialState.PRUNED, pruned=str(err))
            log(f"trial {trial.number}: pruned ({err})")
        except Infeasible as err:
            _tell(study, trial, state=TrialState.FAIL, infeasible=str(err))
            log(f"trial {trial.number}: infeasible ({err})")
        except Exception as err:  # a failed trial is recorded with its reason; the study goes on
            reason = f"{type(err).__name__}: {' '.join(str(err).split())}"[:500]
            _tell(study, trial, state=TrialState.FAIL, failed=reason)
            log(f"trial {trial.number}: failed ({reason})")
        except BaseException:
            _tell(study, trial, state=TrialState.FAIL, interrupted=True)
            raise
        else:
            _tell(study, trial, values if settings.multi else values[0])
        ran += 1
    return ran


def _tell(study: Any, trial: Any, values: float | list[float] | None = None, state: Any = None, **attrs: Any) -> None:
    """Close a trial, with its values or in ``state`` with the attributes that say why, signals deferred (see
    :func:`_set_attrs`)."""
    with deferred_signals():
        _set_attrs(trial, **attrs)
        study.tell(trial, values, state=state)


def _worker_process(ref: StudyRef, n_trials: int, index: int, threads: int, quiet: bool,
                    deadline: float | None) -> None:
    worker(ref, n_trials, index, threads, quiet, deadline)


def _fail_stale(ref: StudyRef) -> int:
    """Mark trials left running by a search that died (SIGKILL, power loss) as interrupted, so that they stop
    counting. Only for the study folder's own SQLite storage, and only while this process holds the folder's
    lock: then no other local search runs on it. (A shared --storage is left alone: other machines may be
    running those trials.)"""
    import optuna
    from optuna.trial import TrialState

    if ref.storage != storage_url(ref.folder, None):
        return 0
    storage = _storage(ref.storage)
    study_id = storage.get_study_id_from_name(ref.name)
    stale = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
    for t in stale:
        storage.set_trial_user_attr(t._trial_id, "interrupted", True)
        storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    if stale:
        optuna.logging.get_logger("optuna").warning(f"{len(stale)} trials left running by an earlier search marked "
                                                    "interrupted")
    return len(stale)


def run_search(ref: StudyRef, n_trials: int, workers: int = 1, quiet: bool = False,
               timeout: float | None = None) -> dict[str, Any]:
    """Run the study to ``n_trials`` counted trials with ``workers`` local processes (no new trial starts after
    ``timeout`` seconds), then write the plots and ``summary.json``; returns the summary."""
    import fcntl

    threads = max(1, (os.cpu_count() or 1) // workers)
    deadline = None if timeout is None else time.time() + timeout
    with open(ref.folder / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with deferred_signals():
                _fail_stale(ref)
        except BlockingIOError:
            pass  # another search runs on this folder: its running trials are alive; share the study with it
        if workers == 1:
            worker(ref, n_trials, 0, threads, quiet, deadline)
        else:
            _run_workers(ref, n_trials, workers, threads, quiet, deadline)
    return report(ref)


def _run_workers(ref: StudyRef, n_trials: int, workers: int, threads: int, quiet: bool,
                 deadline: float | None) -> None:
    ctx = multiprocessing.get_context("spawn")  # torch and SQLAlchemy are not fork-safe
    procs = [ctx.Process(target=_worker_process, args=(ref, n_trials, i, threads, quiet, deadline))
             for i in range(workers)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join()
    finally:
        for p in procs:  # on an interrupt the workers got the signal too: let them record their trials
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
                p.join()
    bad = [p.exitcode for p in procs if p.exitcode]
    if bad:
        raise NeurocalError(f"{len(bad)} of {workers} search workers stopped with exit codes {bad}; the study "
                            "keeps their finished trials: rerun the same command to resume")


# ----------------------------------------------------------------------------------------- results


def _load(ref: StudyRef) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=ref.name, storage=_storage(ref.storage))


def _row(t: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"number": t.number, "state": t.state.name, "values": t.values, "params": t.params}
    for key in ("errors", "P", "costs", "hardware", "run", "seed", "infeasible", "failed", "pruned", "cancelled",
                "seconds"):
        if key in t.user_attrs:
            row[key] = t.user_attrs[key]
    return row


def report(ref: StudyRef) -> dict[str, Any]:
    """Write ``summary.json`` and the plots of the study as it is now; returns the summary."""
    summary = summarize(ref)
    write_text_atomic(ref.folder / "summary.json", json.dumps(summary, indent=2))
    plot_study(ref)
    return summary


def summarize(ref: StudyRef) -> dict[str, Any]:
    """Counts by state, every trial's row, and the best trial (single objective) or the Pareto front."""
    from optuna.trial import TrialState

    study = _load(ref)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    states: dict[str, int] = {}
    for t in trials:
        kind = next((k for k in ("infeasible", "failed", "cancelled", "interrupted") if k in t.user_attrs),
                    t.state.name.lower())
        states[kind] = states.get(kind, 0) + 1
    out: dict[str, Any] = {"schema": SEARCH_SCHEMA, "study": ref.name, "directions": ref.settings.directions,
                           "objectives": [ref.settings.physics, *ref.settings.objectives], "states": states,
                           "trials": [_row(t) for t in trials]}
    if complete:
        if ref.settings.multi:
            out["pareto"] = sorted(t.number for t in study.best_trials)
        else:
            out["best"] = study.best_trial.number
    return out


def pick_trial(ref: StudyRef, number: int | None) -> Any:
    """The trial to deploy: ``number`` (a complete trial), else the best one (single objective only)."""
    from optuna.trial import TrialState

    study = _load(ref)
    done = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    if not done:
        raise NeurocalError(f"{ref.folder}: the study has no complete trial yet; run more trials")
    if number is None:
        if ref.settings.multi:
            front = sorted(t.number for t in study.best_trials)
            raise NeurocalError(f"{ref.folder}: a multi-objective study has no single best trial; choose a point of "
                                f"the Pareto front with --trial (one of {', '.join(map(str, front))})")
        return study.best_trial
    if number not in done:
        raise NeurocalError(f"--trial {number}: not a complete trial of {ref.name}; complete trials: "
                            f"{', '.join(map(str, sorted(done)))}")
    return done[number]


def pick(ref: StudyRef, number: int | None, out: str | os.PathLike[str]) -> Path:
    """Copy a trial's run folder to ``out`` as an ordinary run (``evaluate``, ``export``, ``quantize`` accept it),
    with ``search_trial.json`` naming the study, the trial, its parameters and scores; written as a whole."""
    import shutil

    from neurocal.atomic import check_output_dir

    trial = pick_trial(ref, number)
    source = ref.folder / trial.user_attrs["run"]
    if not (source / "run.json").is_file():
        raise NeurocalError(f"{source}: the run folder of trial {trial.number} is missing; was the study folder "
                            "moved or pruned by hand?")
    out = check_output_dir(out)
    if out.exists() and any(out.iterdir()):
        raise NeurocalError(f"{out}: exists and is not empty; choose a new --out for the picked run")
    tmp = out.parent / f".{out.name}.pick-{os.getpid()}"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:  # copied beside the target, then renamed: a half-copied run never appears under --out
        shutil.copytree(source, tmp, ignore=shutil.ignore_patterns("*_last.pt"))
        (tmp / "search_trial.json").write_text(json.dumps({"study": ref.name, "folder": str(ref.folder.resolve()),
                                                           **_row(trial)}, indent=2) + "\n")
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def plot_study(ref: StudyRef) -> list[Path]:
    """PNGs of the optimisation history, the parameter importances and (multi-objective) the Pareto front."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as ovm

    study = _load(ref)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    plots = ref.folder / "plots"
    plots.mkdir(exist_ok=True)
    names = [ref.settings.physics, *ref.settings.objectives]
    written = []
    jobs: list[tuple[str, Callable[[], Any]]] = []
    if ref.settings.multi:
        jobs.append(("pareto_front.png", lambda: _log_axes(ovm.plot_pareto_front(study, target_names=names),
                                                          [t.values for t in complete])))
        for i, n in enumerate(names):
            jobs.append((f"history_{n}.png",
                         lambda i=i, n=n: ovm.plot_optimization_history(study, target=lambda t: t.values[i],
                                                                        target_name=n)))
    else:
        jobs.append(("history.png", lambda: ovm.plot_optimization_history(study, target_name=names[0])))
    if len(complete) >= 2:
        jobs.append(("importances.png", lambda: ovm.plot_param_importances(
            study, target=(lambda t: t.values[0]) if ref.settings.multi else None, target_name=names[0])))
    for file, make in jobs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optuna marks its matplotlib plots experimental
            try:
                ax = make()
            except (ValueError, RuntimeError) as err:  # e.g. importances of parameters that never varied
                (plots / (file + ".txt")).write_text(f"not drawn: {err}\n")
                continue
        fig = ax.figure if hasattr(ax, "figure") else np.ravel(ax)[0].figure
        fig.set_size_inches(8, 5)
        fig.tight_layout()
        fig.savefig(plots / file, dpi=100)
        plt.close(fig)
        written.append(plots / file)
    return written


def _log_axes(ax: Any, values: list[list[float]]) -> Any:
    """Log-scale the axes of a two-objective Pareto plot whose values are all positive (errors, latencies,
    resource shares and energies span decades; a 3-D plot keeps linear axes, matplotlib has no 3-D log scale)."""
    if len(values) and len(values[0]) == 2 and not hasattr(ax, "get_zlim"):
        columns = np.asarray(values, dtype=np.float64).T
        if (columns[0] > 0).all():
            ax.set_xscale("log")
        if (columns[1] > 0).all():
            ax.set_yscale("log")
    return ax


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"study {summary['study']}: " + ", ".join(f"{n} {k}" for k, n in sorted(summary["states"].items()))]
    rows = {r["number"]: r for r in summary["trials"]}
    chosen = summary.get("pareto", [summary["best"]] if "best" in summary else [])
    label = "Pareto front" if "pareto" in summary else "best"
    for number in chosen:
        r = rows[number]
        values = ", ".join(f"{n} {v:.4g}" for n, v in zip(summary["objectives"], r["values"], strict=True))
        errors = ", ".join(f"{k} {v:.4g}" for k, v in r.get("errors", {}).items())
        lines.append(f"{label}: trial {number}: {values} (errors: {errors}; hardware {r.get('hardware')})")
    if not chosen:
        lines.append("no complete trial yet")
    return "\n".join(lines)
