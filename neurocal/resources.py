"""The one way to find hand-written sources shipped as package data (HLS C++, Verilog): importlib.resources.

Never an environment variable or a path relative to the working directory (docs/design.md §1). Tools such as
hls4ml's ``register_source`` and the simulators need real absolute paths, so the installed package
must be a folder on disk (an ordinary or editable install is).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from neurocal.errors import NeurocalError


def package_path(package: str, *parts: str, kind: str = "file") -> Path:
    """Absolute path of ``parts`` inside the installed ``package``; ``kind`` is "file" or "dir".

    Raises a :class:`NeurocalError` naming the package and the path when it is missing.
    """
    path = Path(str(resources.files(package).joinpath(*parts)))
    ok = path.is_file() if kind == "file" else path.is_dir()
    if not path.is_absolute() or not ok:
        what = "/".join(parts)
        raise NeurocalError(f"{what!r} not found in the installed {package} package ({path}); reinstall neurocal")
    return path
