"""Values that end up inside generated files: Tcl, shell and make lines, C++ and Verilog.

A value either matches the grammar of the place it goes (:func:`check_token`), or it is shown
where it cannot act: :func:`printable` keeps it on one line and :func:`command_line` makes the
shell-quoted command that banners quote in a comment — a newline in a path would otherwise end
the comment and the next line would be code (``//`` in Verilog/C++, ``#`` in Tcl and shell).
"""

from __future__ import annotations

import re
import shlex

from neurocal.errors import NeurocalError

XILINX_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
"""An AMD/Xilinx part name (``xczu7ev-ffvc1156-2-e``, ``xcu250-figd2104-2L-e``): letters, digits, ``-_.``.

Tcl substitutes ``[...]``, ``$`` and ``\\`` even inside double quotes, so nothing else may reach
``set part "…"`` in hls4ml's ``project.tcl``."""


def check_token(value: str, grammar: re.Pattern[str], what: str, example: str) -> str:
    """Return ``value`` if the whole of it matches ``grammar``; otherwise refuse it, naming ``what``."""
    if not grammar.fullmatch(value):
        raise NeurocalError(f"{what} {value!r} is not a valid value: use letters, digits and '-', '_', '.' "
                            f"(e.g. {example})")
    return value


def printable(text: str) -> str:
    """``text`` with control characters (newline, CR, ESC…) written as Python escapes: one visible line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def command_line(*words: object) -> str:
    """``words`` as one shell-quoted line with control characters (newline, CR, ESC…) written as escapes."""
    return shlex.join(printable(str(word)) for word in words)


def check_string_path(path: object, option: str, where: str) -> None:
    """Refuse a path a generated string literal cannot hold: ``"``, ``\\`` or a control character.

    ``where`` names the literal (e.g. "the Verilog memory path in nc_params.vh"). These characters
    would end the literal (``"``), start an escape (``\\``) or break the line, so that the rest of the
    path became code.
    """
    text = str(path)
    bad = sorted({c for c in text if c in '"\\' or not c.isprintable()})
    if bad:
        shown = ", ".join(printable(repr(c)) for c in bad)
        raise NeurocalError(f"{option} {printable(text)!r}: holds {shown}, which {where} cannot hold; "
                            f"choose a path without it")
