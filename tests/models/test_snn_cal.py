"""SNN-Cal's recipe (preset, subtract/delayed reset, population readout, per-target losses) and its baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import snntorch as snn
import torch

from neurocal.errors import NeurocalError
from neurocal.models.config import TrainConfig
from neurocal.models.data import TargetSpec
from neurocal.models.networks import SNN, SpikingLayer
from neurocal.models.training import loss_fn, regression_loss_kinds


@pytest.mark.parametrize(("reset", "delay"), [("subtract", True), ("subtract", False), ("zero", True)])
def test_reset_variants_match_snntorch_leaky(rng: np.random.Generator, reset: str, delay: bool) -> None:
    """Our fused loop equals snnTorch's own Leaky step by step, for SNN-Cal's reset settings."""
    torch.manual_seed(3)
    layer = SpikingLayer(12, 6, beta=0.85, threshold=0.5, reset=reset, reset_delay=delay)
    ref = snn.Leaky(beta=0.85, threshold=0.5, reset_mechanism=reset, reset_delay=delay)
    x = torch.from_numpy((rng.random((40, 4, 12)) < 0.3).astype(np.float32))
    with torch.no_grad():
        spikes, v = layer(x)
        current = layer.fc(x)
        mem = torch.zeros(4, 6)
        ref_spikes = []
        for t in range(40):
            s, mem = ref(current[t], mem)
            ref_spikes.append(s)
    assert spikes.sum() > 10
    torch.testing.assert_close(spikes, torch.stack(ref_spikes), atol=0, rtol=0)
    torch.testing.assert_close(v, mem, atol=1e-5, rtol=0)


def test_population_membrane_readout_collapses_exactly(rng: np.random.Generator) -> None:
    torch.manual_seed(4)
    net = SNN(30, [16], 3, readout="membrane", population=5, readout_beta_init=0.9)
    assert net.layers[-1].n_out == 15
    x = torch.from_numpy(rng.random((6, 20, 30)) < 0.3)
    with torch.no_grad():
        pooled = net(x)
        folded = net.collapsed()
        assert folded.layers[-1].n_out == 3 and folded.population == 1
        torch.testing.assert_close(folded(x), pooled, atol=1e-5, rtol=1e-5)
    spikes_net = SNN(30, [16], 3, readout="spikes", population=5)
    with pytest.raises(ValueError, match="does not fold"):
        spikes_net.collapsed()


def test_snn_cal_preset_and_losses() -> None:
    single = TrainConfig.from_preset("snn-cal", target="energy")
    multi = TrainConfig.from_preset("snn-cal", target="all", readout="membrane")
    assert single.hidden == [120, 120] and single.population == 20 and single.reset == "subtract"
    assert single.reset_delay and not single.standardise_targets and single.weight_decay == 1e-3
    assert single.lr == 1e-3 and multi.lr == 1e-2 and single.batch_size == 64 and single.epochs == 10
    assert (single.val_fraction, single.test_fraction) == (0.15, 0.15)
    assert not single.deployable and TrainConfig().deployable
    assert TrainConfig(population=20, readout="membrane").deployable
    with pytest.raises(NeurocalError, match="unknown preset"):
        TrainConfig.from_preset("paper")
    spec = TargetSpec("all")
    kinds = dict(zip(spec.regression_names, regression_loss_kinds(spec, "snn-cal"), strict=True))
    assert kinds["centroid_x"] == kinds["centroid_y"] == "mse"
    assert kinds["log10_energy_mev"] == kinds["centroid_z"] == kinds["sigma2_x"] == "l1"
    out, y = torch.tensor([[1.0, 3.0]]), torch.tensor([[0.0, 0.0]])
    two = TargetSpec("energy")
    assert float(loss_fn(out[:, :1], y[:, :1], torch.zeros(1), two, 1.0, "l1")) == 1.0
    assert float(loss_fn(out[:, 1:], y[:, 1:], torch.zeros(1), two, 1.0, "mse")) == 9.0


def test_preset_trains_and_refuses_export(synthetic_h5: Path, tmp_path: Path) -> None:
    from neurocal.models.metrics import evaluate
    from neurocal.models.nir_io import export
    from neurocal.models.training import train

    config = TrainConfig.from_preset("snn-cal", target="energy", hidden=[24, 16], population=4, epochs=1,
                                     batch_size=48, threads=1)
    run = train(config, synthetic_h5, tmp_path / "run", progress=False)
    result = evaluate(run, plots=False)
    assert {"snn", "ann"} <= set(result["models"]) and np.isfinite(result["models"]["ann"]["energy"]["mre_E"])
    with pytest.raises(NeurocalError, match="reset='subtract'"):
        export(run, tmp_path / "m.nir")


def test_grid_runs_one_task_and_tabulates(synthetic_h5: Path, tmp_path: Path) -> None:
    from neurocal.models.grid import train_grid

    rows = train_grid(synthetic_h5, tmp_path / "grid", tasks=["dispersion_y"], readouts=["membrane"],
                      hidden=[16, 8], population=2, epochs=1, threads=1, ann_baseline=False)
    assert [(r["task"], r["readout"]) for r in rows] == [("dispersion_y", "membrane")]
    assert list(rows[0]["models"]["snn"]) == ["dispersion: MRE sigma2_y"]
    assert (tmp_path / "grid" / "grid.md").read_text().count("sigma2_y") == 2  # snn and the trivial baseline
    with pytest.raises(NeurocalError, match="unknown grid task"):
        train_grid(synthetic_h5, tmp_path / "g2", tasks=["centroid"])


def test_linear_photon_count_baseline_recovers_a_line() -> None:
    from neurocal.models.baselines import linear_energy_baseline
    from neurocal.sim.dataset import EventSet

    energy = np.linspace(100.0, 5000.0, 40)
    photons = np.zeros((40, 5, 100), dtype=np.uint32)
    photons[:, 2, 7] = np.round(3.0 * energy + 600.0).astype(np.uint32)  # N = 3 photons/MeV · E + 600
    events = EventSet(photons=photons, energy_mev=energy, centroid=np.zeros((40, 3)), dispersion=np.zeros((40, 3)),
                      particle=np.ones(40), n_interactions=np.ones(40), cubelet=np.zeros(40))
    result = linear_energy_baseline(events, {"train": np.arange(0, 40, 2), "test": np.arange(1, 40, 2)})
    assert result["fit"]["mev_per_photon"] == pytest.approx(1 / 3, rel=1e-3)
    assert result["energy"]["mre_E"] < 1e-3


def test_input_normalisation_is_folded_into_the_first_synapse(rng: np.random.Generator) -> None:
    torch.manual_seed(5)
    net = SNN(4, [3], 1)
    rates = np.array([0.5, 0.1, 0.01, 0.002])
    x = torch.from_numpy(rng.random((64, 100, 4)) < rates)
    w0, b0 = net.layers[0].fc.weight.clone(), net.layers[0].fc.bias.clone()
    net.normalise_inputs_(x)
    p = x.float().mean(dim=(0, 1))
    sigma = torch.sqrt(p * (1 - p))
    w = net.layers[0].fc.weight
    torch.testing.assert_close(w, w0 * (sigma.mean() / sigma)[None, :])
    torch.testing.assert_close(net.layers[0].fc.bias, b0 - w @ p)
    # every channel now brings the same current variance per unit of initial weight
    torch.testing.assert_close((w / w0 * sigma)[0], torch.full((4,), float(sigma.mean())))


def test_deployable_preset_loads_folded_and_exports(synthetic_h5: Path, tmp_path: Path) -> None:
    import nir

    from neurocal.models.nir_io import export
    from neurocal.models.training import load_checkpoint, load_model, read_run, state_to_model, train

    config = TrainConfig.from_preset("deployable", target="centroid", hidden=[16, 8], population=3, epochs=1,
                                     batch_size=48, threads=1, ann_baseline=False)
    assert config.deployable and config.readout == "membrane" and config.lr_schedule == "onecycle"
    run = train(config, synthetic_h5, tmp_path / "run", progress=False)
    folded, _, _ = load_model(run, "snn")
    assert folded.population == 1 and folded.layers[-1].n_out == 3
    full = state_to_model("snn", *read_run(run), load_checkpoint(run / "snn_best.pt"))
    assert full.population == 3
    x = torch.from_numpy(np.random.default_rng(0).random((5, 100, 400)) < 0.05)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), full(x), atol=1e-4, rtol=1e-4)
    graph = nir.read(export(run, tmp_path / "m.nir"))
    assert graph.nodes["lif2"].v_threshold.shape == (3,)
    assert state_to_model("snn", *read_run(run), {"model": folded.state_dict()}).population == 1
