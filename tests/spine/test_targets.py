"""Network outputs in physical units (neurocal.targets), as `deploy run` prints them."""

from __future__ import annotations

import numpy as np
import pytest

from neurocal.errors import NeurocalError
from neurocal.targets import TargetSpec, physical


def test_outputs_of_an_all_target_network_become_mev_mm_and_a_class() -> None:
    spec = TargetSpec("all")
    mean, std = np.arange(1.0, 8.0), np.full(7, 0.5)
    out = np.array([[0.0] * 7 + [0.1, 2.0, -1.0], [2.0] * 7 + [3.0, 0.0, 1.0]])
    got = physical(out, {"target": "all", "target_mean": mean.tolist(), "target_std": std.tolist()})
    assert list(got) == ["energy_mev", "centroid_x_mm", "centroid_y_mm", "centroid_z_mm", "sigma2_x_mm2",
                         "sigma2_y_mm2", "sigma2_z_mm2", "class"]
    assert np.allclose(got["energy_mev"], [10.0 ** 1.0, 10.0 ** 2.0])  # log10(E/MeV) de-standardised
    assert np.allclose(got["sigma2_z_mm2"], [7.0, 8.0])
    assert got["class"] == ["kaon", "proton"]
    assert spec.n_outputs == out.shape[1]


def test_without_a_target_the_readout_is_given_as_it_is() -> None:
    assert physical(np.array([[1.5], [2.5]]), {}) == {"readout": [[1.5], [2.5]]}


def test_an_unknown_target_is_one_clear_error() -> None:
    with pytest.raises(NeurocalError, match=r"unknown target 'mass'; choose one of energy, "):
        physical(np.zeros((1, 1)), {"target": "mass"})
