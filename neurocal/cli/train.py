"""`neurocal` sub-commands of the train stage: train, evaluate, export, import-nir.

torch is imported inside the commands only: the spine (``neurocal``) never imports it at module level.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from neurocal.cli.options import HIDDEN, SEED, positive, threads
from neurocal.targets import TARGETS

GRID_TASKS = ["energy", "centroid_x", "centroid_y", "centroid_z", "dispersion_x", "dispersion_y", "dispersion_z",
              "energy_centroid", "energy_dispersion"]  # models.grid.TASKS


@click.command()
@click.option("--data", "data_path", type=click.Path(path_type=Path), default=None,
              help="Dataset: neurocal HDF5, a paper .dat file or a folder of them (optional with --resume).")
@click.option("--target", type=click.Choice(TARGETS), default=None, help="What to predict [default: energy].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Run directory.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML training configuration (fields of neurocal.models.TrainConfig).")
@click.option("--epochs", type=positive("epochs", 10**6), default=None, help="Override the configured epochs.")
@click.option("--threads", type=threads(), default=None, help="torch threads, 1..CPUs [default: 2].")
@click.option("--hidden", type=HIDDEN, default=None, help="Hidden sizes, e.g. 50,30 or 120,120,20.")
@click.option("--readout", type=click.Choice(["membrane", "spikes"]), default=None)
@click.option("--seed", type=SEED, default=None, help="Seed of the split, the initial weights and the shuffles.")
@click.option("--no-ann", is_flag=True, help="Skip the ANN baseline.")
@click.option("--demo", "demo_cfg", is_flag=True, help="Start from the small demo configuration.")
@click.option("--preset", type=click.Choice(["snn-cal", "deployable"]), default=None,
              help="Start from a named recipe: deployable = the tuned hardware-faithful recipe; snn-cal = SNN-Cal's "
                   "400-120-120 float network (20 readout neurons per output, subtract reset with delay, raw targets, "
                   "its losses and optimiser; not exportable).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--qat-from", "qat_from", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Quantisation-aware fine-tuning of this trained run's best SNN into --out (same split; "
              "--data defaults to the run's dataset).")
@click.option("--qat-epochs", type=click.IntRange(1), default=3, show_default=True, help="Epochs of QAT fine-tuning.")
@click.option("--qat-every", type=click.IntRange(1), default=10, show_default=True,
              help="QAT: training steps between recomputations of the quantisation grid.")
def train(data_path: Path | None, target: str | None, out_dir: Path, config_path: Path | None, epochs: int | None,
          threads: int | None, hidden: list[int] | None, readout: str | None, seed: int | None, no_ann: bool,
          demo_cfg: bool, preset: str | None, resume: bool, quiet: bool, qat_from: Path | None, qat_epochs: int,
          qat_every: int) -> None:
    """Train the spiking readout network (and an ANN baseline) in snnTorch, or fine-tune one with --qat-from."""
    from neurocal.errors import NeurocalError

    if qat_from is not None:
        from neurocal.models.qat import finetune_qat

        ignored = [name for name, v in (("--target", target), ("--config", config_path), ("--epochs", epochs),
                                        ("--hidden", hidden), ("--readout", readout), ("--seed", seed),
                                        ("--preset", preset))
                   if v is not None]
        if ignored or resume or demo_cfg:
            raise NeurocalError(f"--qat-from fine-tunes the source run as configured; drop "
                                f"{', '.join(ignored + ['--resume'] * resume + ['--demo'] * demo_cfg)}")
        from neurocal.atomic import output_dir

        # a run folder created here is removed again if the fine-tune fails before its first checkpoint
        with output_dir(out_dir, keep=lambda d: any(d.glob("*_last.pt"))):
            run = finetune_qat(qat_from, data_path, out_dir, qat_epochs, progress=not quiet, every=qat_every,
                               threads=threads, log=click.echo)
        click.echo(f"run: {run} (QAT of {qat_from})")
        return
    starts = [name for name, given in (("--preset", preset is not None), ("--demo", demo_cfg),
                                       ("--config", config_path is not None), ("--resume", resume)) if given]
    if "--preset" in starts and len(starts) > 1:  # each names the configuration to start from: one of them
        raise NeurocalError(f"{' and '.join(starts)} each choose the starting configuration; keep only one "
                            "(--resume continues with the run's own configuration)")
    from neurocal.models.config import TrainConfig, load_config
    from neurocal.models.training import read_run
    from neurocal.models.training import train as run_train

    if resume and config_path is None and (out_dir / "config.yaml").exists():
        config, _ = read_run(out_dir)  # resume with the stored configuration unless told otherwise
    elif config_path is not None:
        config = load_config(config_path)
    elif preset is not None:
        config = TrainConfig.from_preset(preset, target=target or "energy", readout=readout or "spikes")
    else:
        config = TrainConfig.demo() if demo_cfg else TrainConfig()
    config = config.with_overrides(
        target=target, epochs=epochs, threads=threads, hidden=hidden, readout=readout, seed=seed,
        ann_baseline=False if no_ann else None,
    )
    if data_path is None and not resume:
        raise NeurocalError("--data is required (it is optional only with --resume)")
    run = run_train(config, data_path, out_dir, progress=not quiet, resume=resume, log=click.echo)
    click.echo(f"run: {run}")


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--data", "data_path", type=click.Path(path_type=Path), default=None,
              help="Evaluate on this dataset instead of the run's "
              "(imported runs: a test split made with the config's seed).")
@click.option("--no-plots", is_flag=True)
@click.option("--bundle", type=click.Path(exists=True, path_type=Path), default=None,
              help="Also run this quantised bundle (neurocal quantize --out) in the golden model on the same "
              "test events: float vs integer metrics side by side.")
def evaluate(run_dir: Path, data_path: Path | None, no_plots: bool, bundle: Path | None) -> None:
    """Physics metrics of a run on its test split: metrics.json and PNG plots in the run directory."""
    from neurocal.atomic import check_output_dir
    from neurocal.models.metrics import evaluate as run_evaluate
    from neurocal.models.metrics import format_metrics

    if run_dir.is_dir():  # metrics.json and the plots go into the run: writable before the work
        check_output_dir(run_dir, option="RUN_DIR")
    result = run_evaluate(run_dir, data_path, plots=not no_plots, bundle=bundle)
    click.echo(format_metrics(result))
    click.echo(f"wrote {run_dir / 'metrics.json'}" + (f" and {len(result['plots'])} plots" if result["plots"] else ""))


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--qonnx", "qonnx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the integer network's synaptic layers as a QONNX model for FINN/hls4ml: per layer "
                   "Quant (8 bits, power-of-two scale) + MatMul giving the Dense sum (Σ w)·2^weight_exp. The LIF "
                   "dynamics, bias and one-tick delay are not expressible in QONNX: they travel as metadata_props. "
                   "Weights: --bundle's, else the export quantised on the run's QAT calibration events (needs the "
                   "run's dataset).")
@click.option("--bundle", type=click.Path(exists=True, path_type=Path), default=None,
              help="With --qonnx: take the integer network from this bundle (neurocal quantize --out): what deploys.")
@click.option("--data", "data_path", type=click.Path(path_type=Path), default=None,
              help="With --qonnx and no --bundle: the dataset for the calibration events [default: the run's].")
def export(run_dir: Path, out_path: Path, qonnx_path: Path | None, bundle: Path | None,
           data_path: Path | None) -> None:
    """Export a run's best SNN to a self-describing NIR graph (and its integer synaptic layers to QONNX)."""
    from neurocal.atomic import check_output_file
    from neurocal.errors import NeurocalError
    from neurocal.models.nir_io import export as run_export

    if qonnx_path is None and (bundle is not None or data_path is not None):
        raise NeurocalError("--bundle and --data choose the QONNX model's weights: add --qonnx PATH")
    check_output_file(out_path)
    if qonnx_path is not None:
        check_output_file(qonnx_path, option="--qonnx")
        if qonnx_path.resolve() == out_path.resolve():
            raise NeurocalError(f"{qonnx_path}: --qonnx must differ from --out")
    if qonnx_path is None:
        path = run_export(run_dir, out_path)
        click.echo(f"wrote {path}")
        return
    import tempfile

    from neurocal.atomic import atomic_path
    from neurocal.models.qonnx_export import intnet_of_run, qonnx_model
    from neurocal.models.training import read_run

    net = None
    if bundle is not None:  # checked before any work
        from neurocal.bundle import load_bundle

        net = load_bundle(bundle)
        n_inputs = int(read_run(run_dir)[1]["n_inputs"])
        if net.n_inputs != n_inputs:
            raise NeurocalError(f"{bundle}: the bundle's network takes {net.n_inputs} inputs, the run {n_inputs}; "
                                f"pass the bundle quantised from this run's export")
    # Both files are computed before either is written: a failed quantisation leaves --out as it was.
    with tempfile.TemporaryDirectory(prefix="neurocal-export-") as workdir:
        nir_tmp = run_export(run_dir, Path(workdir) / "graph.nir")
        if bundle is not None:
            _check_bundle_of_run(bundle, nir_tmp, run_dir)
        if net is None:
            net = intnet_of_run(run_dir, nir_tmp, data_path, source=str(out_path))
        command = (f"neurocal export {run_dir} --out {out_path} --qonnx {qonnx_path}"
                   + (f" --bundle {bundle}" if bundle is not None else ""))
        onnx_bytes = qonnx_model(net, command).SerializeToString()
        # both temporaries first; the QONNX file is committed, then the graph: a failure leaves both as they were
        with atomic_path(out_path) as nir_out, atomic_path(qonnx_path, option="--qonnx") as onnx_out:
            nir_out.write_bytes(nir_tmp.read_bytes())
            onnx_out.write_bytes(onnx_bytes)
    source = f"bundle {bundle}" if bundle is not None else "the run's QAT calibration events"
    click.echo(f"wrote {out_path}")
    click.echo(f"wrote {qonnx_path} (QONNX: {net.n_layers} synaptic layers of {net.content_hash[:19]}…, weights "
               f"from {source}; the LIF dynamics travel in its metadata only)")


def _check_bundle_of_run(bundle: Path, run_nir: Path, run_dir: Path) -> None:
    """Refuse a bundle whose recorded graph (its model.nir) is not this run's export: its hash would be
    stamped beside another network."""
    from neurocal.bundle import NIR_FILE
    from neurocal.errors import NeurocalError
    from neurocal.nirgraph import first_difference, read_chain

    recorded = (bundle if bundle.is_dir() else bundle.parent) / NIR_FILE
    if not recorded.is_file():
        raise NeurocalError(f"--bundle {bundle}: no {NIR_FILE} beside it, so nothing records which network it was "
                            f"quantised from; pass the bundle folder written by 'neurocal quantize {run_dir}'")
    difference = first_difference(read_chain(recorded), read_chain(run_nir))
    if difference is not None:
        raise NeurocalError(f"--bundle {bundle}: quantised from another network than run {run_dir} (its {NIR_FILE} "
                            f"differs in {difference}); quantise this run: neurocal quantize {run_dir} --out BUNDLE")


@click.command("import-nir")
@click.argument("nir_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also save it as a run directory (then evaluate/export work on it).")
def import_nir(nir_file: Path, out_dir: Path | None) -> None:
    """Build the torch SNN of a NIR graph (Input, Affine/Linear, LIF/CubaLIF/IF, Output) and summarise it."""
    import contextlib

    from neurocal.atomic import output_dir
    from neurocal.models.nir_io import import_nir as run_import
    from neurocal.models.nir_io import metadata_of
    from neurocal.nirgraph import read_chain

    with output_dir(out_dir) if out_dir is not None else contextlib.nullcontext():  # removed again on failure
        net = run_import(nir_file, out_dir)
    click.echo(net.summary())
    meta = metadata_of(read_chain(nir_file))
    if meta:
        shown = {k: meta[k] for k in ("target", "readout", "dt", "n_ticks", "outputs") if k in meta}
        click.echo("  metadata: " + json.dumps(shown))
    if out_dir is not None:
        click.echo(f"run: {out_dir}")


@click.command("train-grid")
@click.option("--data", "data_path", type=click.Path(exists=True, path_type=Path), required=True,
              help="Dataset: neurocal HDF5, an SNN-Cal .dat file or a folder tree of them.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the 18 runs, grid.json and grid.md.")
@click.option("--task", "tasks", multiple=True, type=click.Choice(GRID_TASKS),
              help="Only these tasks [default: all 9].")
@click.option("--readout", "readouts", multiple=True, type=click.Choice(["spikes", "membrane"]),
              help="Only these readouts [default: both].")
@click.option("--epochs", type=positive("epochs", 10**6), default=None, help="Override the preset's 10 epochs.")
@click.option("--max-events", type=click.IntRange(10), default=None, help="Use only the first N events.")
@click.option("--threads", type=threads(), default=1, show_default=True, help="torch threads per run.")
def train_grid(data_path: Path, out_dir: Path, tasks: tuple[str, ...], readouts: tuple[str, ...],
               epochs: int | None, max_events: int | None, threads: int) -> None:
    """SNN-Cal's training grid: 9 tasks × spike/membrane readout with the snn-cal preset, tabulated."""
    from neurocal.models.grid import READOUTS, TASKS
    from neurocal.models.grid import train_grid as run_grid

    overrides = {k: v for k, v in (("epochs", epochs), ("max_events", max_events), ("threads", threads))
                 if v is not None}
    rows = run_grid(data_path, out_dir, tasks or TASKS, readouts or READOUTS, log=click.echo, **overrides)
    click.echo(f"wrote {out_dir / 'grid.json'} and {out_dir / 'grid.md'} ({len(rows)} runs)")


COMMANDS: list[click.Command] = [train, evaluate, export, import_nir, train_grid]
