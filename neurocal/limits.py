"""What this machine can hold: available memory and disk, checked before work rather than discovered after.

Every estimate is compared with what is *available now* (``MemAvailable`` and the cgroup limit for
memory; free blocks and ``RLIMIT_FSIZE`` for disk), and a refusal names the quantity, the estimate,
what is available and the option that changes it.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from neurocal.errors import NeurocalError


def human_bytes(n: float) -> str:
    """1536 → '1.5 KiB'; used in every size message so that they read alike."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _cgroup_limit(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes the memory cgroup still lets this process allocate (v2, else v1), or None when unlimited."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit = (root / limit_file).read_text().strip()
            if limit == "max" or int(limit) >= 2**60:  # v1 writes "no limit" as a page-rounded 2^63
                return None
            return int(limit) - int((root / usage_file).read_text())
        except (OSError, ValueError):
            continue
    return None


def available_memory() -> int:
    """Bytes that can be allocated without swapping: min(MemAvailable, cgroup headroom, RLIMIT_AS)."""
    candidates: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    cgroup = _cgroup_limit()
    if cgroup is not None:
        candidates.append(max(cgroup, 0))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        candidates.append(soft)
    return min(candidates) if candidates else 2**63


def free_disk(folder: str | os.PathLike[str], written: int = 0) -> int:
    """Bytes one file in ``folder`` can grow to: free space for this user (plus the ``written`` bytes
    the file already holds), capped by ``ulimit -f``."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize + written
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return free if soft == resource.RLIM_INFINITY else min(free, soft)


def check_memory(needed: float, what: str, fix: str) -> None:
    """Refuse before allocating when ``needed`` bytes exceed what is available.

    ``what`` names the option or file that asks for the memory, ``fix`` says what to change.
    """
    have = available_memory()
    if needed > have:
        raise NeurocalError(f"{what}: needs about {human_bytes(needed)} of memory but {human_bytes(have)} is "
                            f"available; {fix}")


def check_disk(needed: float, folder: str | os.PathLike[str], what: str, fix: str, written: int = 0) -> None:
    """Refuse before writing when a file of ``needed`` bytes will not fit in ``folder`` (free space or
    ``ulimit -f``); ``written`` bytes of it are already on disk."""
    have = free_disk(folder, written)
    if needed > have:
        raise NeurocalError(f"{what}: needs about {human_bytes(needed)} on disk but {os.path.abspath(folder)} "
                            f"has room for {human_bytes(have)}; {fix}")
