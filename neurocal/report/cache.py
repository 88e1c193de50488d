"""Stage results kept between runs of ``neurocal report``, keyed by a hash of everything they depend on.

A stage (one backend run, the cycle model, a synthesis look-up) is a function of its inputs: the
bundle's content hash, the data file's sha256, the number of events, the backend, its options and its
code (:func:`code_digest`), and this neurocal's version. :meth:`StageCache.get` returns the stored JSON
result of a stage whose key matches, or computes, stores (atomically) and returns it. A damaged entry is
recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neurocal import __version__
from neurocal.atomic import write_text_atomic

CACHE_ENV = "NEUROCAL_REPORT_CACHE"
STAGE_FORMAT = "2"  # bump when a stage's stored result changes shape


def default_cache_dir() -> Path:
    """``$NEUROCAL_REPORT_CACHE``, else ``$XDG_CACHE_HOME/neurocal/report`` (``~/.cache/neurocal/report``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "neurocal" / "report"


_CODE_SUFFIXES = (".py", ".v", ".vh", ".sv", ".cpp", ".h", ".hpp", ".tcl")


@functools.cache
def code_digest(module: str) -> str:
    """sha256 of the source files of ``module``'s package (its folder, with sub-folders, for a room; the spine's
    own top-level modules for ``neurocal.*``): a cached stage of a backend is stale once its code changed."""
    package = module.rsplit(".", 1)[0] if "." in module else module
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    h = hashlib.sha256()
    for folder in map(Path, folders):
        files = folder.glob("*") if package == "neurocal" else folder.rglob("*")
        for path in sorted(p for p in files if p.suffix in _CODE_SUFFIXES and p.is_file()):
            h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def stage_key(stage: str, parts: dict[str, Any]) -> str:
    """sha256 over the stage's name, its inputs, neurocal's version and the stored format."""
    text = json.dumps({"stage": stage, "parts": parts, "version": __version__, "format": STAGE_FORMAT},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class StageCache:
    """JSON results of stages under ``root`` (None: nothing is kept); ``hits``/``misses`` count the look-ups."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits: list[str] = []  # stages read from an earlier report's results
        self.misses: list[str] = []  # stages computed by this report
        self._memory: dict[str, dict[str, Any]] = {}  # a stage asked for twice in one report runs once

    def get(self, stage: str, parts: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        key = stage_key(stage, parts)
        if key in self._memory:
            return self._memory[key]
        path = None if self.root is None else self.root / f"{stage.replace('/', '_')}-{key[:32]}.json"
        if path is not None and path.is_file():
            try:
                stored = json.loads(path.read_text())
                if stored.get("key") == key:
                    self.hits.append(stage)
                    self._memory[key] = stored["result"]
                    return stored["result"]
            except (OSError, ValueError, KeyError):
                pass  # damaged: computed again below
        result = compute()
        self.misses.append(stage)
        self._memory[key] = result
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps({"key": key, "stage": stage, "parts": parts, "result": result}),
                              option="--cache")
        return result
