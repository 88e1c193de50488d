"""The ``board`` backend of ``neurocal run``/``compare``: the network on a PYNQ board, through the driver.

The board runs the deploy folder named by ``$NEUROCAL_DEPLOY`` (its overlay built by ``neurocal fpga build``);
the network compared must be that folder's (same content hash) or, on a core with writable memories, is loaded
into it first. Where there is no board the backend stops with one line saying so.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from neurocal.backends import BackendResult
from neurocal.errors import NeurocalError
from neurocal.intnet import IntNetwork

DEPLOY_ENV = "NEUROCAL_DEPLOY"


class BoardBackend:
    """``neurocal compare --backends golden,board`` with ``NEUROCAL_DEPLOY=<deploy folder>`` on a PYNQ board."""

    name = "board"

    def __init__(self, **_options: Any) -> None:
        pass

    def run(self, net: IntNetwork, spikes: np.ndarray) -> BackendResult:
        from neurocal.fpga.deploy import deploy_core, expected, load_deploy

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pynq's "No devices found" warning: the error below says it
            try:
                from pynq import Device

                present = bool(Device.devices)
            except Exception:
                present = False
        if not present:
            raise NeurocalError("backend 'board': no PYNQ board here (pynq finds no device); run it on the board")
        folder = os.environ.get(DEPLOY_ENV)
        if not folder:
            raise NeurocalError(f"backend 'board': set {DEPLOY_ENV} to the deploy folder whose overlay the board runs")
        info, deployed, shape = load_deploy(Path(folder))
        core = deploy_core(info)
        from neurocal.fpga.overlay import NeurocalOverlay

        drv = NeurocalOverlay(str(Path(folder) / "overlay" / "neurocal.bit")).driver(info["n_outputs"])
        want = info["expected"]
        if net.content_hash != deployed.content_hash:
            if not shape.writable:
                raise NeurocalError(f"backend 'board': {folder} runs {deployed.content_hash[:19]}…, not this "
                                    "network, and its memories are fixed; deploy this network")
            core.check(net, shape, "board's core")
            drv.load(core.memory_writes(net, shape))
            want = expected(core, net, shape)
        drv.check(want)
        t0 = time.perf_counter()
        words = drv.run_events(spikes, net.n_layers)
        result = core.decode(net, words, spikes.shape, self.name)
        result.seconds = time.perf_counter() - t0
        return result
