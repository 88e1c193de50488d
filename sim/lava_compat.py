"""Make lava-nc 0.10.0 importable on Python 3.11, without touching site-packages.

lava-nc 0.10.0 declares Python < 3.11. Its one incompatibility (measured: with this repair all
139 ``lava.*`` modules import and lava's own LIF/Dense/IO tests pass) is in
``lava.magma.compiler.var_model``: dataclass fields such as ``x: ByteEncoder = ByteEncoder()``
use a mutable default, which Python 3.11's ``dataclasses`` rejects (``ValueError: mutable
default ... use default_factory``). :func:`install` puts a meta-path finder in front of the
import system that loads that one module from its source with the defaults rewritten to
``field(default_factory=ByteEncoder)``. The finder compiles the rewritten source itself, so a
stale ``.pyc`` of the unpatched module is never used, and it writes no bytecode back.

Call :func:`install` before the first ``import lava...``; :mod:`neurocal.sim.lava_backend` does.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
from types import ModuleType

TARGET = "lava.magma.compiler.var_model"
_DEFAULT = re.compile(r"^(\s+\w+\s*:\s*ByteEncoder\s*=\s*)ByteEncoder\(\)\s*$", re.MULTILINE)


def patch_source(source: str) -> str:
    """The var_model source with every ``= ByteEncoder()`` field default made a default factory."""
    patched, n = _DEFAULT.subn(r"\1field(default_factory=ByteEncoder)", source)
    if n == 0:
        return source  # a future lava that fixed it: nothing to do
    # ``field`` must be importable at class-definition time; add it after the future import.
    header = "from dataclasses import field as field  # neurocal.sim.lava_compat\n"
    lines = patched.splitlines(keepends=True)
    insert_at = next((i + 1 for i, line in enumerate(lines) if line.startswith("from __future__")), 0)
    return "".join([*lines[:insert_at], header, *lines[insert_at:]])


class _PatchingLoader(importlib.abc.SourceLoader):
    def __init__(self, fullname: str, path: str) -> None:
        self.fullname = fullname
        self.path = path

    def get_filename(self, fullname: str) -> str:
        return self.path

    def get_data(self, path: str) -> bytes:
        with open(path, "rb") as fh:
            return fh.read()

    def source_to_code(self, data: bytes, path: str, *, _optimize: int = -1):  # type: ignore[override]
        return compile(patch_source(data.decode("utf-8")), path, "exec", dont_inherit=True)

    def get_code(self, fullname: str):  # type: ignore[override]
        # Bypass the bytecode cache: always compile the rewritten source.
        return self.source_to_code(self.get_data(self.path), self.path)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object, target: ModuleType | None = None):  # type: ignore[override]
        if fullname != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)  # type: ignore[arg-type]
        if spec is None or spec.origin is None:
            return None
        loader = _PatchingLoader(fullname, spec.origin)
        return importlib.util.spec_from_file_location(fullname, spec.origin, loader=loader)


_FINDER = _Finder()


def install() -> None:
    """Install the repair (idempotent). Raises if var_model was already imported unpatched."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _FINDER)
    module = sys.modules.get(TARGET)
    if module is not None and not isinstance(getattr(module, "__loader__", None), _PatchingLoader):
        # Imported before install(): on 3.11 that import failed, so only a broken module can be here.
        del sys.modules[TARGET]
