"""NIR export → nir.read → import reproduces the trained network; plain-nir graphs import and run."""

from __future__ import annotations

from pathlib import Path

import nir
import numpy as np
import pytest
import torch

from neurocal.errors import NeurocalError
from neurocal.models.data import load_events
from neurocal.models.networks import SNN
from neurocal.models.nir_io import export, import_nir, metadata_of, roundtrip_graph
from neurocal.models.training import load_model, load_split, prepare, read_run


def test_export_read_import_reproduces_trained_network(trained_run: Path, tmp_path: Path) -> None:
    path = export(trained_run, tmp_path / "model.nir")
    graph = nir.read(path)
    meta = metadata_of(graph)
    assert meta["readout"] == "membrane" and meta["reset"] == "zero" and meta["target"] == "all"
    assert meta["dt"] == pytest.approx(0.2e-9) and meta["n_ticks"] == 100
    assert len(meta["target_mean"]) == 7 and meta["threshold_levels"] == [1e2, 1e3, 1e4, 1e5]
    assert np.all(np.isfinite(graph.nodes["lif2"].v_threshold))

    trained, config, _ = load_model(trained_run, "snn")
    imported = import_nir(path)
    data = prepare(config, read_run(trained_run)[1]["data_path"], load_split(trained_run / "split.npz"))
    x = data.x[torch.from_numpy(data.split["test"])]
    with torch.no_grad():
        a, b = trained.record(x), imported.record(x)
    assert sum(float(s.sum()) for s in a.spikes) > 0
    for sa, sb in zip(a.spikes, b.spikes, strict=True):
        assert torch.equal(sa, sb)
    torch.testing.assert_close(b.output, a.output, atol=1e-6, rtol=0)


def test_spikes_readout_and_integrator_layers_round_trip(rng: np.random.Generator) -> None:
    torch.manual_seed(4)
    net = SNN(30, [10], 3, readout="spikes", threshold_init=0.3)
    with torch.no_grad():
        net.layers[0].neuron.beta.fill_(1.0)  # an integrator: exported as NIR IF
        net.decode_scale.copy_(torch.tensor([0.5, -1.0, 2.0]))
    x = torch.from_numpy(rng.random((5, 40, 30)) < 0.3)
    back = roundtrip_graph(net)
    with torch.no_grad():
        assert net.record(x).spikes[-1].sum() > 0
        torch.testing.assert_close(back(x), net(x), atol=1e-6, rtol=0)


def _plain_graph(neuron: str, dt: float = 1e-3) -> nir.NIRGraph:
    """A 6 → 4 → 2 graph written with nir alone; layer 1 is ``neuron``, layer 2 a Linear → LIF."""
    r = np.random.default_rng(0)
    w1, b1 = r.normal(0, 1.0, (4, 6)), r.normal(0, 0.1, 4)
    w2 = r.normal(0, 1.0, (2, 4))
    first = {
        "LIF": nir.LIF(tau=np.full(4, 5e-3), r=np.full(4, 2.0), v_leak=np.zeros(4), v_threshold=np.full(4, 0.5),
                       v_reset=np.zeros(4)),
        "IF": nir.IF(r=np.full(4, 300.0), v_threshold=np.linspace(0.4, 0.8, 4), v_reset=np.zeros(4)),
        "CubaLIF": nir.CubaLIF(tau_syn=np.full(4, 4e-3), tau_mem=np.full(4, 8e-3), r=np.full(4, 8.0),
                               v_leak=np.zeros(4), v_threshold=np.full(4, 0.3), v_reset=np.zeros(4),
                               w_in=np.full(4, 4.0)),
    }[neuron]
    return nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type={"input": np.array([6])}),
            "syn1": nir.Affine(weight=w1, bias=b1),
            "n1": first,
            "syn2": nir.Linear(weight=w2),
            "n2": nir.LIF(tau=np.array([4e-3, 6e-3]), r=np.array([4.0, 6.0]), v_leak=np.zeros(2),
                          v_threshold=np.array([0.2, 0.3]), v_reset=np.zeros(2)),
            "out": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("in", "syn1"), ("syn1", "n1"), ("n1", "syn2"), ("syn2", "n2"), ("n2", "out")],
        metadata={"neurocal": {"dt": dt}},
    )


def _reference(graph: nir.NIRGraph, x: np.ndarray) -> list[np.ndarray]:
    """Per-layer spikes of the graph, from the continuous NIR parameters discretised with dt (float64)."""
    from neurocal.nirgraph import chain_from_graph

    chain = chain_from_graph(graph)
    h, out = x, []
    for layer in chain.layers:
        i = np.zeros((x.shape[1], layer.n_out))
        v = np.zeros_like(i)
        spikes = []
        for t in range(h.shape[0]):
            i = layer.alpha * i + h[t] @ layer.weight.T + layer.bias
            v = layer.beta * v + i
            s = v > layer.threshold
            v = np.where(s, 0.0, v)
            spikes.append(s.astype(np.float64))
        h = np.stack(spikes)
        out.append(h)
    return out


@pytest.mark.parametrize("neuron", ["LIF", "IF", "CubaLIF"])
def test_graph_written_with_nir_alone_imports_and_runs(neuron: str, tmp_path: Path, rng: np.random.Generator) -> None:
    graph = _plain_graph(neuron)
    nir.write(tmp_path / "plain.nir", graph)
    net = import_nir(tmp_path / "plain.nir")
    assert net.sizes == [6, 4, 2] and net.readout == "spikes"
    x = rng.random((50, 8, 6)) < 0.5  # (T, B, n)
    with torch.no_grad():
        rec = net.record(torch.from_numpy(x.transpose(1, 0, 2)))
    ref = _reference(graph, x.astype(np.float64))
    assert ref[0].sum() > 0 and ref[1].sum() > 0
    for got, want in zip(rec.spikes, ref, strict=True):
        np.testing.assert_array_equal(got.numpy(), want)


def test_unsupported_node_is_a_clear_error(tmp_path: Path) -> None:
    graph = _plain_graph("LIF")
    graph.nodes["n1"] = nir.LI(tau=np.ones(4), r=np.ones(4), v_leak=np.zeros(4))
    nir.write(tmp_path / "li.nir", graph)
    with pytest.raises(NeurocalError, match=r"n1.*LI"):
        import_nir(tmp_path / "li.nir")
    (tmp_path / "junk.nir").write_bytes(b"not a nir file")
    with pytest.raises(NeurocalError, match=r"junk\.nir"):
        import_nir(tmp_path / "junk.nir")


def test_import_to_run_then_evaluate(trained_run: Path, tmp_path: Path) -> None:
    from neurocal.models.metrics import evaluate

    path = export(trained_run, tmp_path / "model.nir")
    run = tmp_path / "imported"
    import_nir(path, run)
    data_path = read_run(trained_run)[1]["data_path"]
    assert load_events(data_path).n_events > 0
    result = evaluate(run, data_path, plots=False)
    original = evaluate(trained_run, plots=False)
    assert set(result["models"]) == {"snn", "baseline"}
    # same network, same test split (the imported run splits with the same seed and fractions)
    assert result["models"]["snn"]["energy"]["mre_log10E"] == pytest.approx(
        original["models"]["snn"]["energy"]["mre_log10E"], rel=1e-5
    )


def test_quantize_takes_a_freshly_trained_run(trained_run: Path, synthetic_h5: Path, tmp_path: Path) -> None:
    """`neurocal quantize RUN_DIR` exports the run's network itself (no `neurocal export` first)."""
    from click.testing import CliRunner

    from neurocal.cli import main
    from neurocal.intnet import IntNetwork

    assert not list(trained_run.glob("*.nir"))
    res = CliRunner().invoke(main, ["quantize", str(trained_run), "--data", str(synthetic_h5), "--events", "40",
                                    "--out", str(tmp_path / "bundle")])
    assert res.exit_code == 0, res.output
    net = IntNetwork.load(tmp_path / "bundle" / "intnet.json")
    assert net.metadata["target"] == "all" and net.n_inputs == 400
    assert not list(trained_run.glob("*.nir"))  # the export went to a temporary folder, not into the run
