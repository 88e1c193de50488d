"""The driver without a simulator: batching within the DMA's length limit, and its imports on a board's Python
(numpy and pynq; torch, Lava and h5py unimportable; the deploy folder's copy of the modules)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from neurocal import aer
from neurocal.fpga.driver import split_transfers


def _words(n_events: int, ticks: int, seed: int = 0) -> np.ndarray:
    return aer.encode_events(np.random.default_rng(seed).random((n_events, ticks, 20)) < 0.5)


@pytest.mark.parametrize("max_bytes", [16, 40, 400, 4000, (1 << 26) - 1])
@pytest.mark.parametrize("max_events", [None, 1, 3])
@pytest.mark.parametrize("align", [4, 8, 16])
def test_split_is_within_limits_aligned_and_never_truncates(max_bytes: int, max_events: int | None,
                                                             align: int) -> None:
    words = _words(7, 5)
    pieces = split_transfers(words, max_bytes, max_events, align)
    starts = [s for s, _ in pieces]
    assert starts == list(np.cumsum([0] + [c for _, c in pieces])[:-1])  # consecutive, nothing skipped
    assert sum(c for _, c in pieces) == len(words)
    ends = (words >> aer.KIND_SHIFT) == aer.KIND_END_OF_EVENT
    for s, c in pieces:
        assert 0 < 4 * c <= max_bytes and (4 * s) % align == 0
        if max_events is not None and align == 4:
            assert ends[s:s + c].sum() <= max_events  # (an aligned cut may carry a whole event's tail further)


def test_split_cuts_at_event_ends_when_they_fit() -> None:
    words = _words(6, 4)
    ends = np.flatnonzero((words >> aer.KIND_SHIFT) == aer.KIND_END_OF_EVENT) + 1
    event_bytes = 4 * int(np.diff(np.concatenate([[0], ends])).max())
    for s, c in split_transfers(words, 2 * event_bytes + 4):
        assert s + c in ends  # whole events per transfer
    assert len(split_transfers(words, (1 << 26) - 1)) == 1
    assert len(split_transfers(words, (1 << 26) - 1, max_events=2)) == 3


def test_split_refuses_a_limit_below_one_word() -> None:
    with pytest.raises(ValueError, match="cannot carry 1 aligned 32-bit words"):
        split_transfers(_words(1, 1), 3)
    with pytest.raises(ValueError, match="cannot carry 4 aligned 32-bit words"):
        split_transfers(_words(1, 1), 12, align_bytes=16)


BLOCKED = ("torch", "lava", "h5py", "snntorch", "nir", "scipy", "click", "cocotb", "hls4ml")
PROBE = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(name + " is blocked: a board's Python does not have it")
sys.meta_path.insert(0, Block())
sys.path[:0] = [{driver!r}]
sys.path.append({site!r})
import neurocal.fpga.driver, neurocal.fpga.overlay
assert neurocal.__file__.startswith({driver!r}), neurocal.__file__
assert neurocal.fpga.overlay.NeurocalCore.bindto == ["xilinx.com:module_ref:nc_top:1.0"]
print(sorted(m for m in sys.modules if m.startswith("neurocal")))
"""


def test_board_copy_imports_with_numpy_and_pynq_only(deploy_dirs: dict[str, Path]) -> None:
    """``python -S``: no .pth files, so the editable neurocal install is invisible; only the deploy folder's
    ``driver/`` copy and site-packages (numpy, pynq) are on the path."""
    driver = str(deploy_dirs["pynq-z2"] / "driver")
    site = sysconfig.get_paths()["purelib"]
    code = PROBE.format(blocked=BLOCKED, driver=driver, site=site)
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'neurocal.fpga.driver'" in done.stdout and "'neurocal.hw.regmap'" in done.stdout
