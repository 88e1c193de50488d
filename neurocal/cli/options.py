"""The one place where command-line numbers are validated, before anything runs.

Each type is a click parameter type, so a bad value stops the command at parse time with one line
naming the option (``neurocal: error: Invalid value for '--seed': …``). Ranges come from the typed
configuration where one exists (:func:`bounds_from`), so the CLI and the config files agree.

================  ===================================================================================
type              accepts
================  ===================================================================================
:data:`SEED`      integers 0 … 2³²−1 (what numpy's and torch's generators take without surprises)
:data:`COUNT`     event counts 1 … 2⁵³; the memory or disk a count needs is checked by the command,
                  which knows the event size (``neurocal.limits``)
:func:`threads`   1 … ``os.cpu_count()`` (torch segfaults on absurd thread counts)
:data:`TIMEOUT`   seconds, finite and ≥ 0; **0 means no limit** (converted to ``None``); NaN, ∞ and
                  negatives are refused
:class:`Finite`   finite floats inside a range (no NaN, no ±∞)
:data:`HIDDEN`    comma-separated layer sizes, each 1 … 10⁶ (``50,30``); the network's memory is
                  checked against the machine by ``neurocal train`` once the input size is known
================  ===================================================================================

:func:`junit_option` is the one ``--junit FILE`` of the commands that compare backends (a writable
``.xml`` file, checked at parse time, before any work).
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import annotated_types
import click
from pydantic import BaseModel

MAX_SEED = 2**32 - 1
MAX_COUNT = 2**53
MAX_LAYER = 10**6


class IntRange(click.ParamType):
    """An integer in [lo, hi], with a message that says the range and what the number is."""

    name = "integer"

    def __init__(self, lo: int, hi: int, what: str) -> None:
        self.lo, self.hi, self.what = lo, hi, what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip().replace("_", ""), 10)
            except ValueError:
                self.fail(f"{value!r} is not an integer ({self.what}: {self.lo}..{self.hi})", param, ctx)
        if not self.lo <= number <= self.hi:
            self.fail(f"{number} is out of range: {self.what} must be in {self.lo}..{self.hi}", param, ctx)
        return number

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return f"INTEGER {self.lo}..{self.hi}"


class Finite(click.ParamType):
    """A finite float with optional bounds; ``open_lo``/``open_hi`` make a bound exclusive."""

    name = "number"

    def __init__(self, lo: float | None = None, hi: float | None = None, *, open_lo: bool = False,
                 open_hi: bool = False, unit: str = "") -> None:
        self.lo, self.hi, self.open_lo, self.open_hi, self.unit = lo, hi, open_lo, open_hi, unit

    def describe(self) -> str:
        lo = "" if self.lo is None else f"{'>' if self.open_lo else '>='} {self.lo:g}"
        hi = "" if self.hi is None else f"{'<' if self.open_hi else '<='} {self.hi:g}"
        return " and ".join(s for s in (lo, hi) if s) + (f" {self.unit}" if self.unit else "")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number (expected {self.describe()})", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number (expected {self.describe()})", param, ctx)
        too_low = self.lo is not None and (number <= self.lo if self.open_lo else number < self.lo)
        too_high = self.hi is not None and (number >= self.hi if self.open_hi else number > self.hi)
        if too_low or too_high:
            self.fail(f"{number:g} is out of range (expected {self.describe()})", param, ctx)
        return number

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return f"NUMBER ({self.describe()})"


def _field_bounds(model: type[BaseModel], field: str) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    for c in model.model_fields[field].metadata:
        if isinstance(c, annotated_types.Gt):
            kw.update(lo=float(c.gt), open_lo=True)  # type: ignore[arg-type]
        elif isinstance(c, annotated_types.Ge):
            kw.update(lo=float(c.ge))  # type: ignore[arg-type]
        elif isinstance(c, annotated_types.Lt):
            kw.update(hi=float(c.lt), open_hi=True)  # type: ignore[arg-type]
        elif isinstance(c, annotated_types.Le):
            kw.update(hi=float(c.le))  # type: ignore[arg-type]
    return kw


def bounds_from(model: type[BaseModel], field: str, unit: str = "") -> Finite:
    """A :class:`Finite` with the bounds the pydantic ``model`` declares for ``field`` (gt/ge/lt/le)."""
    return Finite(**_field_bounds(model, field), unit=unit)


class ModelBounds(Finite):
    """:func:`bounds_from` for ``"module:Model"``, imported on first use so that every command starts fast."""

    def __init__(self, model: str, field: str, unit: str = "") -> None:
        super().__init__(unit=unit)
        self._source: tuple[str, str] | None = (model, field)

    def _load(self) -> None:
        if self._source is not None:
            (module, name), field = self._source[0].split(":"), self._source[1]
            for key, value in _field_bounds(getattr(importlib.import_module(module), name), field).items():
                setattr(self, key, value)
            self._source = None

    def describe(self) -> str:
        self._load()
        return super().describe()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        self._load()
        return super().convert(value, param, ctx)


class Timeout(Finite):
    """Seconds before a backend is stopped: finite, ≥ 0; 0 means no limit and converts to ``None``."""

    def __init__(self) -> None:
        super().__init__(0.0, None, unit="s (0 = no limit)")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float | None:
        if value is None:
            return None
        seconds = super().convert(value, param, ctx)
        return None if seconds == 0 else seconds


class LayerSizes(click.ParamType):
    """Comma-separated hidden layer sizes, e.g. ``50,30`` → ``[50, 30]``."""

    name = "sizes"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[int]:
        if isinstance(value, list):
            return value
        parts = [p.strip() for p in str(value).split(",")]
        try:
            sizes = [int(p, 10) for p in parts]
        except ValueError:
            self.fail(f"{value!r}: expected comma-separated integers like 50,30", param, ctx)
        bad = [n for n in sizes if not 1 <= n <= MAX_LAYER]
        if bad:
            self.fail(f"{value!r}: layer size {bad[0]} is out of range 1..{MAX_LAYER}", param, ctx)
        return sizes


SEED = IntRange(0, MAX_SEED, "a seed")
COUNT = IntRange(1, MAX_COUNT, "a count")
TIMEOUT = Timeout()


def timeout_no_limit(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """Callback of a ``--timeout`` option whose absence means the callee's default: ``--timeout 0`` (TIMEOUT gives
    None) becomes ∞, which backends and simulators take as no limit; absent stays None (their default)."""
    given = ctx.get_parameter_source(param.name or "") == click.core.ParameterSource.COMMANDLINE
    return math.inf if given and value is None else value
HIDDEN = LayerSizes()


def threads() -> IntRange:
    """1 … the number of CPUs of this machine."""
    return IntRange(1, os.cpu_count() or 1, "threads (this machine's CPUs)")


def positive(what: str, hi: int = MAX_COUNT) -> IntRange:
    """An integer 1 … ``hi`` (epochs, events to compare, …)."""
    return IntRange(1, hi, what)


def _check_junit(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    from neurocal.junit import check_junit_path

    return None if value is None else check_junit_path(value)


def junit_option(cases: str) -> Callable[[Any], Any]:
    """``--junit FILE``: the command also writes its results as JUnit XML, one test case per ``cases``."""
    return click.option("--junit", "junit", type=click.Path(path_type=Path), default=None, callback=_check_junit,
                        help=f"also write the results as JUnit XML for CI (one test case per {cases}, the first "
                             "divergence as the failure)")
