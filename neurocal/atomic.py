"""Atomic file writes: a user's file is replaced whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from neurocal.errors import NeurocalError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only if the block succeeds.

    The temporary file lives in the same directory so that the final ``os.replace`` is atomic.
    On any exception the temporary file is removed and ``target`` is left untouched.
    """
    target = ensure_writable(target)
    parent = target.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=parent)
    except OSError as err:
        raise NeurocalError(f"{target}: cannot write in {parent} ({err.strerror}); choose a writable --out") from err
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def ensure_writable(target: str | os.PathLike[str]) -> Path:
    """Fail early (before hours of work) if ``target`` cannot be written: its folder must exist and be writable."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise NeurocalError(f"{target}: directory {parent} does not exist; create it or choose another --out")
    if not os.access(parent, os.W_OK):
        raise NeurocalError(f"{target}: directory {parent} is not writable; choose another --out")
    if target.is_dir():
        raise NeurocalError(f"{target}: is a directory; --out must name a file")
    return target
