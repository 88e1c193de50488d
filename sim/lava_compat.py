"""Make lava-nc 0.10.0 importable on Python 3.11, without touching site-packages.

lava-nc 0.10.0 declares Python < 3.11. Its one incompatibility (measured: with this repair all
139 ``lava.*`` modules import and lava's own LIF/Dense/IO tests pass) is in
``lava.magma.compiler.var_model``: dataclass fields such as ``x: ByteEncoder = ByteEncoder()``
use a mutable default, which Python 3.11's ``dataclasses`` rejects (``ValueError: mutable
default ... use default_factory``). :func:`install` puts a meta-path finder in front of the
import system that loads that one module from its source with the defaults rewritten to
``field(default_factory=ByteEncoder)``. The finder compiles the rewritten source itself, so a
stale ``.pyc`` of the unpatched module is never used, and it writes no bytecode back.

A second rewrite concerns import order, not 3.11: ``lava.magma.runtime.message_infrastructure.
multiprocessing`` calls ``mp.set_start_method('fork')`` at import, which raises ``RuntimeError:
context has already been set`` inside any multiprocessing child (and after any other library chose
a start method). The finder makes that call idempotent: set 'fork' only if it is not already the
method, with ``force=True`` — the state Lava wants either way.

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
MP_TARGET = "lava.magma.runtime.message_infrastructure.multiprocessing"
_MP_CALL = "    mp.set_start_method('fork')\n"
_MP_FIX = "    if mp.get_start_method(allow_none=True) != 'fork':  # neurocal.sim.lava_compat\n" \
          "        mp.set_start_method('fork', force=True)\n"
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
        source = data.decode("utf-8")
        source = patch_source(source) if self.fullname == TARGET else source.replace(_MP_CALL, _MP_FIX)
        return compile(source, path, "exec", dont_inherit=True)

    def get_code(self, fullname: str):  # type: ignore[override]
        # Bypass the bytecode cache: always compile the rewritten source.
        return self.source_to_code(self.get_data(self.path), self.path)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object, target: ModuleType | None = None):  # type: ignore[override]
        if fullname not in (TARGET, MP_TARGET):
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
    for name in (TARGET, MP_TARGET):
        module = sys.modules.get(name)
        if module is not None and not isinstance(getattr(module, "__loader__", None), _PatchingLoader):
            # Imported before install(): on 3.11 that import failed, so only a broken module can be here.
            del sys.modules[name]
