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
from neurocal.fpga.driver import DmaLimit, Driver, aligned_offsets, split_transfers


def _words(n_events: int, ticks: int, seed: int = 0) -> np.ndarray:
    return aer.encode_events(np.random.default_rng(seed).random((n_events, ticks, 20)) < 0.5)


def _ends(words: np.ndarray) -> np.ndarray:
    return np.flatnonzero((words >> aer.KIND_SHIFT) == aer.KIND_END_OF_EVENT) + 1


@pytest.mark.parametrize("max_bytes", [400, 4000, (1 << 26) - 1])
@pytest.mark.parametrize("max_events", [None, 1, 3])
def test_split_sends_whole_events_within_limits_and_never_truncates(max_bytes: int, max_events: int | None) -> None:
    words = _words(7, 5)
    pieces = split_transfers(words, max_bytes, max_events)
    assert [s for s, _ in pieces] == list(np.cumsum([0] + [c for _, c in pieces])[:-1])  # consecutive
    assert sum(c for _, c in pieces) == len(words)
    ends = _ends(words)
    for s, c in pieces:
        assert 0 < 4 * c <= max_bytes and s + c in ends  # whole events: MM2S raises tlast at a transfer's end
        if max_events is not None:
            assert np.sum((ends > s) & (ends <= s + c)) <= max_events
    assert len(split_transfers(words, (1 << 26) - 1)) == 1
    assert len(split_transfers(words, (1 << 26) - 1, max_events=3)) == 3


def test_split_refuses_an_event_over_the_length_limit() -> None:
    words = _words(3, 5)
    longest = 4 * int(np.diff(np.concatenate([[0], _ends(words)])).max())
    with pytest.raises(DmaLimit, match=r"event \d is \d+ bytes of AER words, over the DMA's \d+-byte length limit"):
        split_transfers(words, longest - 4)
    assert split_transfers(words, longest)


def _driver(max_bytes: int, batch_events: int | None = None) -> Driver:
    return Driver(None, None, None, allocate=np.zeros, now=lambda: 0.0, max_bytes=max_bytes, n_outputs=1,
                  batch_events=batch_events)


def test_a_batch_holds_no_more_events_than_one_receive_can_answer() -> None:
    """The receive of a batch gets the whole packet: at most max_bytes // (4 × an answer's words) events, however
    short the events' input."""
    words = _words(7, 5)
    assert len(_driver((1 << 26) - 1).batches(words, out_words=10)) == 1
    assert [len(_ends(words[s:s + c])) for s, c in _driver(4 * 100 * 3).batches(words, out_words=100)] == [3, 3, 1]
    assert [len(_ends(words[s:s + c])) for s, c in _driver((1 << 26) - 1, 2).batches(words, 10)] == [2, 2, 2, 1]
    with pytest.raises(DmaLimit, match=r"an event's answer can be 400 bytes, over the DMA's 399-byte length limit"):
        _driver(399).batches(words, out_words=100)


def test_aligned_offsets_start_each_send_on_the_memory_map_width() -> None:
    pieces = [(0, 5), (5, 3), (8, 8), (16, 1)]
    assert aligned_offsets(pieces, 16) == ([0, 8, 12, 20], 24)
    assert aligned_offsets(pieces, 4) == ([0, 5, 8, 16], 17)


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
    assert "'neurocal.fpga.driver'" in done.stdout and "'neurocal.regmap'" in done.stdout
