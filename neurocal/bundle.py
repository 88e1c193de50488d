"""Bundles: the folder ``neurocal quantize --out`` writes (``intnet.json``, ``model.nir``, the headroom
report, a manifest), and the one loader every command and room reads them with.

:func:`load_bundle` gives the integer network of a bundle folder (checked whole against its manifest) or
of an ``intnet.json`` file; :func:`load_network_and_spikes` adds the input spikes the network's own front end
(its settings travel inside ``intnet.json``) makes of an events file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from neurocal.errors import NeurocalError

if TYPE_CHECKING:
    import numpy as np

    from neurocal.intnet import IntNetwork

INTNET_FILE = "intnet.json"
NIR_FILE = "model.nir"
BUNDLE_KIND = "bundle"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
BUNDLE_FILES = (INTNET_FILE, NIR_FILE, "headroom.json", "headroom.md")  # what bundles held before manifests


def load_events(data: Path) -> Any:
    """The events of ``data`` (.h5/.dat), refused if it holds none."""
    from neurocal.sim import load_events as read_events

    events = read_events(data)
    if events.n_events == 0:
        raise NeurocalError(f"{data}: holds no events")
    return events


def encode(data: Path, events: Any, n_events: int | None, frontend: Any) -> np.ndarray:
    """Input spikes (events, ticks, channels) of the first ``n_events`` events of ``data``, made by the network's
    own front end (its settings travel with the network), after checking that the data has the time base the
    front end was built for."""
    from neurocal.sim.frontend import check_stream

    check_stream(frontend, events.n_ticks, events.tick_ns, str(data))
    photons = events.photons if n_events is None else events.photons[:n_events]
    return frontend.encode(photons)


def load_bundle(bundle: Path) -> IntNetwork:
    """The network of a bundle folder (checked whole against its manifest) or of an intnet.json file."""
    from neurocal.atomic import check_complete
    from neurocal.intnet import IntNetwork

    fix = "pass the folder written by 'neurocal quantize --out' (or its intnet.json)"
    if not bundle.exists():
        raise NeurocalError(f"--bundle {bundle}: no such file or folder; {fix}")
    if bundle.is_dir():
        if (bundle / "run.json").is_file() and not (bundle / INTNET_FILE).exists():
            raise NeurocalError(f"--bundle {bundle}: is a training run, not a bundle; quantise it first: "
                                f"neurocal quantize {bundle} --data EVENTS --out BUNDLE")
        if not (bundle / INTNET_FILE).exists():
            raise NeurocalError(f"--bundle {bundle}: holds no {INTNET_FILE}, so it is not a bundle; {fix}")
        check_complete(bundle, BUNDLE_KIND, fix="re-create it with 'neurocal quantize'")
        return IntNetwork.load(bundle / INTNET_FILE)
    if bundle.is_file():
        with bundle.open("rb") as f:
            head = f.read(8)
        if head == HDF5_SIGNATURE:
            raise NeurocalError(f"--bundle {bundle}: is an HDF5 file (events or a NIR graph), not an integer network; "
                                f"{fix}")
        if head.lstrip()[:1] not in (b"{", b""):
            raise NeurocalError(f"--bundle {bundle}: is not a JSON integer network (it does not start with '{{'); "
                                f"{fix}")
    return IntNetwork.load(bundle)


def load_network_and_spikes(bundle: Path, data: Path, n_events: int | None) -> tuple[IntNetwork, np.ndarray]:
    """The bundle's network and the input spikes its front end makes of ``data`` (refused if the time base or
    the channel count differs from the network's)."""
    from neurocal.sim.frontend import frontend_from_dict

    net = load_bundle(bundle)
    frontend = frontend_from_dict(net.frontend, source=f"{bundle}: field 'frontend'")
    spikes = encode(data, load_events(data), n_events, frontend)
    if spikes.shape[2] != net.n_inputs:
        raise NeurocalError(
            f"{data}: the front end makes {spikes.shape[2]} input channels but the network takes {net.n_inputs}"
        )
    return net, spikes
