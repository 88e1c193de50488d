"""The photonic front end as a Lava process: photons → photonic spikes → SNN in one Lava network.

``PhotonicSuperpixel`` is a Lava process with its own ProcessModel (``fixed_pt`` and
``floating_pt``): each tick it receives the sensors' photon counts, advances the photonic
superpixels with :class:`~neurocal.sim.photonic.PhotonicCore` — the same per-tick code the numpy
front end runs, with the same per-event random generators — and sends the channels'
spikes to the network's first ``Dense``. It adds no delay: it forwards within the tick, so the
network sees its spikes exactly when it would see the numpy front end's.

It plugs into the Lava backend's session as its ``front``: the backend's ``RingBuffer`` holds the
photon frames (event e owns ticks [e·S, (e+1)·S), S = T + L) instead of spikes. Within an event's
segment the process starts from zero state at tick 0 and sends nothing after tick T − 1 (the
numpy front end's window ends there too). A ``SpikePacker`` records its spikes, and a Var counts
each event's neuron spikes (for the energy per event).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurocal.backends import BackendResult
from neurocal.errors import NeurocalError
from neurocal.intnet import IntNetwork

from . import lava_backend
from .frontend import frontend_from_dict
from .photonic import PhotonicFrontEnd

_PROCESS = "PhotonicSuperpixel"


def photonic_process() -> type:
    """The ``PhotonicSuperpixel`` process class (defined and published once, after Lava's import repair)."""
    lv = lava_backend._lava()
    if _PROCESS in lv:
        return lv[_PROCESS]
    from lava.magma.core.decorator import implements, requires, tag
    from lava.magma.core.model.py.model import PyLoihiProcessModel
    from lava.magma.core.model.py.ports import PyInPort, PyOutPort
    from lava.magma.core.model.py.type import LavaPyType
    from lava.magma.core.process.ports.ports import InPort, OutPort
    from lava.magma.core.process.process import AbstractProcess
    from lava.magma.core.process.variable import Var
    from lava.magma.core.resources import CPU
    from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

    class PhotonicSuperpixel(AbstractProcess):
        """Photon counts (sensors,) per tick in, channel spikes (sensors · levels,) out."""

        def __init__(
            self, *, n_sensors: int, frontend: dict, n_ticks: int, segment: int, n_events: int, first_event: int
        ) -> None:
            super().__init__(
                n_sensors=n_sensors, frontend=frontend, n_ticks=n_ticks, segment=segment, n_events=n_events,
                first_event=first_event,
            )  # fmt: skip
            n_levels = frontend_from_dict(frontend).n_levels
            self.photons_in = InPort(shape=(n_sensors,))
            self.s_out = OutPort(shape=(n_sensors * n_levels,))
            self.n_spikes = Var(shape=(n_events,), init=0)  # neuron spikes per event, all channels

    @implements(proc=PhotonicSuperpixel, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("fixed_pt", "floating_pt")
    class PyPhotonicSuperpixelModel(PyLoihiProcessModel):
        photons_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
        s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)
        n_spikes: np.ndarray = LavaPyType(np.ndarray, np.int64)

        def run_spk(self) -> None:
            p = self.proc_params
            if not hasattr(self, "_core"):
                self._core = frontend_from_dict(p["frontend"]).core
            photons = np.asarray(self.photons_in.recv()).astype(np.int64)
            event, tick = divmod(self.time_step - 1, p["segment"])
            out = np.zeros(self.s_out.shape, dtype=np.int32)
            if tick == 0:
                self._state = self._core.new_state(np.array([p["first_event"] + event]), p["n_sensors"])
            if tick < p["n_ticks"]:
                fired, n = self._core.step(self._state, photons[None], tick)
                out[:] = fired[0]
                self.n_spikes[event] += int(n.sum())
            self.s_out.send(out)

    lava_backend._publish(PhotonicSuperpixel, PyPhotonicSuperpixelModel)
    lv[_PROCESS] = PhotonicSuperpixel
    return PhotonicSuperpixel


@dataclass
class PhotonicLavaFront:
    """The Lava backend's ``front``: RingBuffer(photons) → PhotonicSuperpixel (→ SpikePacker).

    ``build`` and ``collect`` run inside the backend's forked Lava child.
    """

    frontend: PhotonicFrontEnd
    n_ticks: int
    first_event: int = 0
    _proc: Any = field(default=None, repr=False)
    _packer: Any = field(default=None, repr=False)

    def build(self, lv: dict[str, Any], data: np.ndarray, segment: int) -> tuple[Any, Any]:
        """Photon data (sensors, events · segment) → (the source process, the port the network reads)."""
        n_sensors, total = data.shape
        source = lv["RingBuffer"](data=data)
        self._proc = photonic_process()(
            n_sensors=n_sensors, frontend=self.frontend.to_dict(), n_ticks=self.n_ticks, segment=segment,
            n_events=total // segment, first_event=self.first_event,
        )  # fmt: skip
        source.s_out.connect(self._proc.photons_in)
        self._packer = lv["SpikePacker"](n=n_sensors * self.frontend.n_levels, ticks=total)
        self._proc.s_out.connect(self._packer.s_in)
        return source, self._proc.s_out

    def collect(self) -> dict[str, np.ndarray]:
        """The front end's spikes (events, segment, channels) and neuron spikes per event, read from Lava."""
        n_ch = self._packer.proc_params["n"]
        packed = self._packer.packed.get()
        n_spikes = np.asarray(self._proc.n_spikes.get()).astype(np.int64)
        spikes = lava_backend.unpack_words(packed, n_ch).reshape(n_spikes.size, -1, n_ch)
        return {"spikes": spikes, "n_spikes": n_spikes}


def check_photons_for(net: IntNetwork | None, photons: np.ndarray, frontend: PhotonicFrontEnd) -> np.ndarray:
    """Photon frames as int32 (events, ticks, sensors) whose channels match the network's inputs."""
    photons = np.asarray(photons)
    if photons.ndim != 3:
        raise NeurocalError(f"photon frames must be (events, ticks, sensors), got shape {photons.shape}")
    n_ch = photons.shape[2] * frontend.n_levels
    if net is not None and n_ch != net.n_inputs:
        raise NeurocalError(
            f"{photons.shape[2]} sensors × {frontend.n_levels} levels = {n_ch} channels, but the network has "
            f"{net.n_inputs} inputs"
        )
    if photons.size and (photons.min() < 0 or photons.max() > np.iinfo(np.int32).max):
        raise NeurocalError("photon counts must lie in 0..2^31-1 to travel through Lava's int32 ports")
    return photons.astype(np.int32)


@dataclass
class PhotonicLavaRun:
    """What one Lava run of photons → photonic front end (→ network) returns."""

    front_spikes: np.ndarray  # bool (events, ticks, channels): the front end's window only
    n_spikes: np.ndarray  # int (events,) photonic neuron spikes per event
    network: BackendResult | None  # the integer network's result, when a network ran


def run_photonic_lava(
    photons: np.ndarray,
    frontend: PhotonicFrontEnd,
    net: IntNetwork | None = None,
    *,
    first_event: int = 0,
    timeout: float | None = None,
    progress: bool = False,
) -> PhotonicLavaRun:
    """Photons → ``PhotonicSuperpixel`` (→ the integer network in ``fixed_pt``), all in one Lava run.

    Without ``net`` only the photonic process runs (its spikes are recorded). The network's
    layers follow the Lava backend exactly (its groups, delays and per-event resets).
    """
    photons = check_photons_for(net, photons, frontend)
    n_ev, n_t, _ = photons.shape
    specs = lava_backend._int_specs(net) if net is not None else []
    front = PhotonicLavaFront(frontend, n_ticks=n_t, first_event=first_event)
    processes = 3 + sum(2 * len(spec.groups) for spec in specs)
    timeout = timeout or lava_backend.default_timeout(n_ev, n_t, max(len(specs), 1), processes)
    t0 = time.perf_counter()
    out = lava_backend._run_guarded(specs, photons, "fixed_pt", timeout, progress, front=front)
    seconds = time.perf_counter() - t0
    front_out = out["front"]
    result = None
    if net is not None:
        layer_spikes = out["layer_spikes"]
        result = BackendResult(
            backend="lava+photonic",
            output_spikes=layer_spikes[-1],
            v_final=[np.asarray(v).astype(np.int64).astype(np.int32) for v in out["v_final"]],
            u_final=[np.asarray(u).astype(np.int64).astype(np.int32) for u in out["u_final"]],
            layer_spikes=layer_spikes,
            ops={"spikes": np.stack([s.sum(axis=(1, 2)) for s in layer_spikes], axis=1).astype(np.int64)},
            seconds=seconds,
            info={"lava_seconds": out["seconds"], "ticks": out["ticks"]},
        )
    return PhotonicLavaRun(front_spikes=front_out["spikes"][:, :n_t], n_spikes=front_out["n_spikes"], network=result)
