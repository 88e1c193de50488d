"""Shared fixtures."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def showers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """200 simulated showers (p, K, π; the demo's events), a 400-24-12-2 LIF network quantised on them through
    ``neurocal quantize`` (its bundle beside the folder: ``deploy/../bundle``), and its pynq-z2 deploy folder from
    ``neurocal deploy build``: a network Verilator builds in a minute or two (once per session, for the board
    tests and the report's)."""
    import nir

    from neurocal.sim.dataset import write_h5
    from neurocal.sim.simulate import simulate
    from neurocal.testnets import lif_graph

    root = tmp_path_factory.mktemp("showers")
    write_h5(simulate(["proton", "kaon", "pion"], 200, seed=7), root / "showers.h5")
    rng = np.random.default_rng(1)
    weights = [rng.normal(0.0, 2.0 / np.sqrt(a), size=(b, a)) for a, b in ((400, 24), (24, 12), (12, 2))]
    nir.write(root / "net.nir", lif_graph(weights, beta=0.9, threshold=1.0))
    for args in (["quantize", str(root / "net.nir"), "--data", str(root / "showers.h5"), "--out", str(root / "bundle"),
                  "--events", "40"],
                 ["deploy", "build", "--bundle", str(root / "bundle"), "--board", "pynq-z2", "--out",
                  str(root / "deploy")]):
        done = subprocess.run([shutil.which("neurocal") or "neurocal", *args], capture_output=True, text=True,
                              check=False, timeout=1800)
        assert done.returncode == 0, done.stderr[-2000:]
    return root / "deploy", root / "showers.h5"
