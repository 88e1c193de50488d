"""The ``hls`` backend: the hls4ml C-simulation of the integer network (``neurocal run --backend hls``).

The project is generated and compiled once per network (and firmware config) into
``<build_dir>/<key>`` where ``key`` covers the network's ``content_hash``, the config and the firmware
sources; a later run (in this process or another) reuses it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from neurocal.backends import BackendResult
from neurocal.firmware.csim import CSim
from neurocal.firmware.project import FirmwareConfig, Project, generate, project_key
from neurocal.intnet import IntNetwork

DEFAULT_BUILD_DIR = Path("build") / "hls"

_loaded: dict[Path, CSim] = {}  # one loaded library per project folder in this process


def csim_for(net: IntNetwork, build_dir: str | Path = DEFAULT_BUILD_DIR,
             config: FirmwareConfig | None = None) -> tuple[CSim, float]:
    """The C-simulation of ``net`` (built if need be) and the seconds spent generating and compiling it."""
    config = config or FirmwareConfig()
    folder = (Path(build_dir) / project_key(net, config)[:16]).absolute()
    if folder in _loaded:
        return _loaded[folder], 0.0
    t0 = time.perf_counter()
    folder.parent.mkdir(parents=True, exist_ok=True)  # the cache folder is ours to create
    project: Project = generate(net, folder, config, command=f"neurocal run --backend hls (build dir {build_dir})")
    sim = CSim(project)
    _loaded[folder] = sim
    return sim, time.perf_counter() - t0


def firmware_ops(net: IntNetwork, spikes: np.ndarray, layer_spikes: list[np.ndarray | None]) -> dict[str, np.ndarray]:
    """Operation counts (events, L) from the spikes the firmware produced, as the golden model defines them.

    ``synops``: presynaptic spikes × fan-out (hls4ml's Dense is dense: every input spike reaches every
    output); ``neuron_updates``: n_out × (T + L) ticks; ``spikes``: each layer's spikes. Counts that need
    a layer the build does not probe (``probes="output"``) are left out.
    """
    n_ev, n_t = spikes.shape[:2]
    fan_out = np.array([layer.n_out for layer in net.layers], dtype=np.int64)
    ops = {"neuron_updates": np.broadcast_to(fan_out * (n_t + net.n_layers), (n_ev, net.n_layers)).copy()}
    if any(s is None for s in layer_spikes):
        return ops
    counts = np.stack([np.count_nonzero(np.asarray(s).reshape(n_ev, -1), axis=1) for s in layer_spikes],
                      axis=1).astype(np.int64)
    inputs = np.count_nonzero(np.asarray(spikes).reshape(n_ev, -1), axis=1).astype(np.int64)
    ops["synops"] = np.concatenate([inputs[:, None], counts[:, :-1]], axis=1) * fan_out
    ops["spikes"] = counts
    return ops


class HlsBackend:
    """hls4ml project of the network (hls4ml Dense + neurocal LIF), C-simulated with g++, tick by tick."""

    name = "hls"

    def __init__(
        self, build_dir: str | Path = DEFAULT_BUILD_DIR, probes: str = "all", trace: bool = False,
        progress: bool = False, strategy: str = "Latency", reuse_factor: int = 1, **_: Any
    ) -> None:
        self.build_dir = Path(build_dir)
        self.config = FirmwareConfig(probes=probes, strategy=strategy, reuse_factor=reuse_factor)
        self.trace = trace
        self.progress = progress

    def run(self, net: IntNetwork, spikes: np.ndarray) -> BackendResult:
        sim, build_seconds = csim_for(net, self.build_dir, self.config)
        t0 = time.perf_counter()
        res = sim.run(spikes, trace=self.trace, progress=self.progress)
        seconds = time.perf_counter() - t0
        output = res.spikes[-1]
        assert output is not None, "the output layer is always probed"
        return BackendResult(
            backend=self.name,
            output_spikes=output,
            v_final=list(res.v_final),
            u_final=list(res.u_final),
            layer_spikes=list(res.spikes),
            ops=firmware_ops(net, spikes, list(res.spikes)),
            seconds=seconds,
            info={"project": str(sim.project.path), "build_seconds": build_seconds},
            trace=res.trace,
        )
