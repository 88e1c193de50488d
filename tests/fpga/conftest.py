"""Deploy folders of a small network, written once per session (one per board)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurocal.fpga.deploy import write_deploy
from neurocal.intnet import IntNetwork
from neurocal.testnets import random_network


def small_network(seed: int = 0) -> IntNetwork:
    return random_network([6, 5, 3], np.random.default_rng(seed), readout="spikes")


@pytest.fixture(scope="session")
def deploy_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("deploy")
    out = {}
    for board in ("pynq-z2", "zcu104"):
        out[board] = root / board
        write_deploy(small_network(), board, out[board], "pytest")
    return out
