import nir
import numpy as np
import pytest

from neurocal.errors import NeurocalError
from neurocal.nirgraph import chain_from_graph, read_chain


def lif(n, beta=0.9, thr=1.0, dt=1e-4):
    tau = dt / (1 - beta)
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.zeros(n),
                   v_threshold=np.full(n, thr), v_reset=np.zeros(n))


def graph(nodes, edges, **meta):
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"neurocal": meta} if meta else {})


def two_layer(rng):
    return graph(
        {
            "input": nir.Input(input_type=np.array([6])),
            "fc1": nir.Affine(weight=rng.normal(size=(4, 6)), bias=rng.normal(size=4)),
            "lif1": lif(4, beta=0.8),
            "fc2": nir.Linear(weight=rng.normal(size=(2, 4))),
            "lif2": lif(2, beta=0.95, thr=1e6),
            "output": nir.Output(output_type=np.array([2])),
        },
        [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")],
        dt=1e-4,
        readout="membrane",
    )


def test_snntorch_style_lif_maps_to_beta_and_unit_gain(rng, tmp_path):
    g = two_layer(rng)
    nir.write(tmp_path / "g.nir", g)
    chain = read_chain(tmp_path / "g.nir")
    assert chain.n_inputs == 6 and chain.readout == "membrane" and len(chain.layers) == 2
    first, second = chain.layers
    np.testing.assert_allclose(first.beta, 0.8)
    np.testing.assert_allclose(second.beta, 0.95)
    np.testing.assert_allclose(first.weight, g.nodes["fc1"].weight)  # r = tau/dt: unit input gain
    np.testing.assert_allclose(first.bias, g.nodes["fc1"].bias)
    np.testing.assert_array_equal(second.bias, 0)
    assert (first.synapse_name, first.neuron_name, first.kind) == ("fc1", "lif1", "LIF")


def test_cubalif_and_if_gains():
    dt = 1e-3
    g = graph(
        {
            "input": nir.Input(input_type=np.array([2])),
            "w": nir.Linear(weight=np.ones((2, 2))),
            "c": nir.CubaLIF(tau_syn=np.full(2, 4e-3), tau_mem=np.full(2, 1e-2), r=np.full(2, 2.0),
                             v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2), w_in=np.full(2, 3.0)),
            "w2": nir.Linear(weight=np.ones((1, 2))),
            "i": nir.IF(r=np.array([5.0]), v_threshold=np.array([1.0]), v_reset=np.array([0.0])),
            "output": nir.Output(output_type=np.array([1])),
        },
        [("input", "w"), ("w", "c"), ("c", "w2"), ("w2", "i"), ("i", "output")],
        dt=dt,
    )
    c, i = chain_from_graph(g).layers
    np.testing.assert_allclose(c.alpha, 1 - dt / 4e-3)
    np.testing.assert_allclose(c.beta, 1 - dt / 1e-2)
    np.testing.assert_allclose(c.weight, (dt * 3.0 / 4e-3) * (dt * 2.0 / 1e-2))
    np.testing.assert_allclose(i.beta, 1.0)
    np.testing.assert_allclose(i.weight, dt * 5.0)


def test_unsupported_node_is_named(rng):
    g = two_layer(rng)
    g.nodes["fc2"] = nir.Conv1d(input_shape=4, weight=np.ones((1, 1, 1)), stride=1, padding=0, dilation=1,
                                groups=1, bias=np.zeros(1))
    with pytest.raises(NeurocalError, match="node 'fc2' has type Conv1d"):
        chain_from_graph(g)


def test_structure_errors(rng):
    g = two_layer(rng)
    g.edges.append(("lif1", "output"))
    with pytest.raises(NeurocalError, match="'lif1' has 2 successors"):
        chain_from_graph(g)
    g = two_layer(rng)
    g.nodes["lif1"] = lif(4)
    g.nodes["lif1"].v_reset = np.ones(4)
    with pytest.raises(NeurocalError, match=r"'lif1'.*v_reset"):
        chain_from_graph(g)
    g = two_layer(rng)
    g.nodes["fc2"] = nir.Linear(weight=np.ones((2, 5)))
    with pytest.raises(NeurocalError, match=r"'fc2'.*shape"):
        chain_from_graph(g)


def test_unreadable_file(tmp_path):
    (tmp_path / "x.nir").write_bytes(b"garbage")
    with pytest.raises(NeurocalError, match=r"x\.nir: not a readable NIR file"):
        read_chain(tmp_path / "x.nir")


def test_metadata_comes_back_as_plain_json(rng, tmp_path):
    import json

    g = two_layer(rng)
    g.metadata["neurocal"].update(target="energy", target_mean=[3.5], threshold_levels=[100.0, 1000.0])
    nir.write(tmp_path / "g.nir", g)
    meta = read_chain(tmp_path / "g.nir").metadata
    assert meta["target"] == "energy" and meta["readout"] == "membrane"
    assert meta["threshold_levels"] == [100.0, 1000.0]
    json.dumps(meta)  # bytes or numpy values would raise here


@pytest.mark.parametrize("dt", [float("nan"), 0.0, -1e-4, float("inf"), "fast"])
def test_bad_time_step_is_refused(rng, dt):
    g = two_layer(rng)
    g.metadata["neurocal"]["dt"] = dt
    with pytest.raises(NeurocalError, match=r"'neurocal.dt'.*finite number > 0"):
        chain_from_graph(g)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weight_is_refused(rng, value):
    g = two_layer(rng)
    g.nodes["fc2"].weight[1, 2] = value
    with pytest.raises(NeurocalError, match=r"'fc2'.*'weight' has non-finite"):
        chain_from_graph(g)
