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
from neurocal.firmware.csim import CSim, DamagedLibrary
from neurocal.firmware.project import FirmwareConfig, Project, generate, project_key
from neurocal.golden import operation_counts
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
    command = f"neurocal run --backend hls (build dir {build_dir})"
    project: Project = generate(net, folder, config, command=command)
    try:
        sim = CSim(project)
    except DamagedLibrary:  # a cache entry is ours to repair: compile it again (as a whole, see generate)
        project.library.unlink()
        sim = CSim(generate(net, folder, config, command=command))
    _loaded[folder] = sim
    return sim, time.perf_counter() - t0


def firmware_ops(net: IntNetwork, spikes: np.ndarray, layer_spikes: list[np.ndarray | None]) -> dict[str, np.ndarray]:
    """Operation counts (events, L) from the spikes the firmware produced (:func:`neurocal.golden.operation_counts`);
    the counts that need a layer the build does not probe (``probes="output"``) are left out."""
    n_ev, n_t = spikes.shape[:2]
    inputs = np.count_nonzero(np.asarray(spikes).reshape(n_ev, -1), axis=1)
    counts = None
    if not any(s is None for s in layer_spikes):
        counts = np.stack([np.count_nonzero(np.asarray(s).reshape(n_ev, -1), axis=1) for s in layer_spikes], axis=1)
    return operation_counts(net, n_t + net.n_layers, inputs, counts)


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
