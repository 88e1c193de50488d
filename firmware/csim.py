"""Run the compiled hls4ml C-simulation library on events, tick by tick (a thin ctypes call).

hls4ml's bridge exports ``<project>_double(spikes_in, first_tick, probe_0, …)``: float64 arrays that it
converts to and from the ``ap_*`` types (float64 holds every value of the 32-bit probes exactly). One
call is one tick; ``first_tick = 1`` starts an event from zero state; an event of T input ticks is run
for T + L ticks with silent input after the event, as the contract states.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from neurocal.errors import NeurocalError
from neurocal.firmware.project import Project


@dataclass
class CSimResult:
    """Per probed layer (None for a layer the build does not probe): spikes (events, T+L, n), final v and u."""

    spikes: list[np.ndarray | None]
    v_final: list[np.ndarray | None]
    u_final: list[np.ndarray | None]
    trace: list[dict[str, np.ndarray]] | None = None  # per layer "u", "v" (events, T+L, n) after every tick


class DamagedLibrary(NeurocalError):
    """The compiled C-simulation library exists but cannot be loaded."""


class CSim:
    """The C-simulation library of one project, loaded into this process."""

    def __init__(self, project: Project) -> None:
        if not project.library.is_file():
            raise NeurocalError(f"{project.path}: the C-simulation library is missing; rebuild the firmware project")
        self.project = project
        try:
            self._lib = ctypes.CDLL(str(project.library))
        except OSError as err:  # a truncated or foreign file (an interrupted copy, a full disk)
            raise DamagedLibrary(f"{project.library}: cannot be loaded ({err}); delete it and rerun: neurocal "
                                 "rebuilds it") from err
        self._fn = getattr(self._lib, f"{project.config.project_name}_double")
        self._fn.restype = None
        self._fn.argtypes = [ctypes.c_void_p] * (2 + len(project.probed_layers))

    def run(self, spikes: np.ndarray, *, trace: bool = False, progress: bool = False) -> CSimResult:
        """Run boolean input spikes (events, ticks, n_in); every event from zero state.

        ``trace`` also keeps u and v after every tick (needs every layer probed); ``progress`` shows a bar
        on stderr.
        """
        spikes = np.asarray(spikes)
        n_in = self.project.n_inputs
        if spikes.ndim != 3 or spikes.shape[2] != n_in:
            raise NeurocalError(f"input spikes must be (events, ticks, {n_in}), got shape {spikes.shape}")
        n_ev, n_t, _ = spikes.shape
        sizes = self.project.layer_sizes
        total = n_t + len(sizes)
        probed = self.project.probed_layers
        # float64 input of one event, padded with the L silent ticks that flush the layers
        x = np.zeros((total, n_in), dtype=np.float64)
        flag = np.zeros(1, dtype=np.float64)
        probes = [np.zeros((total, 3 * sizes[i]), dtype=np.float64) for i in probed]
        out_spikes = [np.zeros((n_ev, total, sizes[i]), dtype=bool) for i in probed]
        v_final = [np.zeros((n_ev, sizes[i]), dtype=np.int32) for i in probed]
        u_final = [np.zeros((n_ev, sizes[i]), dtype=np.int32) for i in probed]
        if trace and len(probed) != len(sizes):
            raise NeurocalError(f"{self.project.path}: a trace needs every layer probed (firmware config probes='all')")
        traces = [{q: np.zeros((n_ev, total, n), dtype=np.int32) for q in ("u", "v")} for n in sizes] if trace else None
        # the arguments of every tick's call, computed once: row t of the input and of each probe buffer
        calls = [
            (x.ctypes.data + t * x.strides[0], flag.ctypes.data, *[p.ctypes.data + t * p.strides[0] for p in probes])
            for t in range(total)
        ]
        fn = self._fn
        events = range(n_ev)
        if progress:
            from tqdm import tqdm

            events = tqdm(events, desc="hls C-sim", unit="event", leave=False)
        for e in events:
            x[:n_t] = spikes[e]
            flag[0] = 1.0  # tick 0 clears every layer's state
            fn(*calls[0])
            flag[0] = 0.0
            for args in calls[1:]:
                fn(*args)
            for k, i in enumerate(probed):
                n = sizes[i]
                p = probes[k]
                out_spikes[k][e] = p[:, :n] != 0
                v_final[k][e] = p[-1, n : 2 * n]
                u_final[k][e] = p[-1, 2 * n :]
                if traces is not None:
                    traces[i]["v"][e] = p[:, n : 2 * n]
                    traces[i]["u"][e] = p[:, 2 * n :]
        full: list[list[np.ndarray | None]] = [[None] * len(sizes) for _ in range(3)]
        for k, i in enumerate(probed):
            full[0][i], full[1][i], full[2][i] = out_spikes[k], v_final[k], u_final[k]
        return CSimResult(spikes=full[0], v_final=full[1], u_final=full[2], trace=traces)
