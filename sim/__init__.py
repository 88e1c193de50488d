"""neurocal.sim — shower simulation, real-data readers, front ends and the Lava backend.

Importing this package is cheap: the Lava backend (and Lava itself) load only when asked for.
"""

from __future__ import annotations

import os
from pathlib import Path

from neurocal.errors import NeurocalError
from neurocal.sim.dataset import EventSet, read_h5, write_h5

__all__ = ["EventSet", "load_events", "read_h5", "write_h5"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def load_events(path: str | os.PathLike[str], n_ticks: int = 100, max_files_per_folder: int | None = None) -> EventSet:
    """Read events from a neurocal HDF5 file, an SNN-Cal ``.dat`` file, or a folder tree of ``.dat`` files.

    A folder is searched recursively (SNN-Cal ships ``proton/``, ``kaon/``, ``pion/``); with
    ``max_files_per_folder`` at most that many files are read from each folder.
    """
    from neurocal.sim.geant4 import read_dat, read_dat_tree

    path = Path(path)
    if path.is_dir():
        return read_dat_tree(path, n_ticks=n_ticks, max_files_per_folder=max_files_per_folder)
    if not path.is_file():
        raise NeurocalError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(8)
    if head == _HDF5_SIGNATURE:
        return read_h5(path)
    if path.suffix.lower() in (".h5", ".hdf5"):
        raise NeurocalError(f"{path}: not an HDF5 file (bad signature); the file is corrupt or truncated")
    if path.suffix.lower() != ".dat":
        raise NeurocalError(f"{path}: not an event file; accepted are a neurocal HDF5 file (.h5, from "
                            "'neurocal simulate'), a Geant4 .dat file of the neuromorphic-readout paper, "
                            "or a folder of .dat files")
    return read_dat(path, n_ticks=n_ticks)
