"""Numbers of a report: every one a ``{value, unit}``; a derived one also names its formula and its inputs.

A derived quantity is ``{"value": v, "unit": u, "formula": "a * b * 1e-12", "inputs": {"a": Q, "b": Q}}``
where the formula is a Python arithmetic expression over the input names (``+ - * / **``, parentheses,
numbers and ``min``/``max``), and each input is itself a quantity (measured, a constant with its
``source``, or derived). Anyone holding ``report.json`` can therefore recompute every derived number
from the numbers stored beside it: :func:`recompute` does, and the tests do it independently.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any

from neurocal.energy import Constant

Quantity = dict[str, Any]

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow}
_FUNCTIONS = {"min": min, "max": max}


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        value = float(value)  # numpy scalars
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a report number must be finite, got {value}")
    return value


def measured(value: Any, unit: str, how: str | None = None) -> Quantity:
    """A number read from a run (``how`` says which, e.g. "golden model, 20 events")."""
    q: Quantity = {"value": _number(value), "unit": unit}
    if how:
        q["measured"] = how
    return q


def constant(c: Constant) -> Quantity:
    """A constant with its source (:mod:`neurocal.energy`, a profile, a model)."""
    return {"value": _number(c.value), "unit": c.unit, "source": c.source}


def stated(value: Any, unit: str, source: str) -> Quantity:
    """A number with a source that is not in :mod:`neurocal.energy` (a profile's clock, a model's constant)."""
    return {"value": _number(value), "unit": unit, "source": source}


def evaluate(formula: str, values: dict[str, float]) -> float:
    """The value of ``formula`` with ``values`` for its names (arithmetic only: nothing else is evaluated)."""

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise KeyError(f"formula {formula!r}: no input named {node.id!r}")
            return values[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
            return _FUNCTIONS[node.func.id](*(walk(a) for a in node.args))
        raise ValueError(f"formula {formula!r}: {ast.dump(node)[:60]} is not arithmetic")

    return float(walk(ast.parse(formula, mode="eval")))


def derived(formula: str, unit: str, **inputs: Quantity) -> Quantity:
    """A quantity computed here from ``inputs`` by ``formula`` (see the module docstring)."""
    value = evaluate(formula, {name: q["value"] for name, q in inputs.items()})
    return {"value": _number(value), "unit": unit, "formula": formula, "inputs": inputs}


def recompute(q: Quantity) -> float:
    """``q``'s value recomputed from its inputs (recursively); a leaf's stored value."""
    if "formula" not in q:
        return float(q["value"])
    return evaluate(q["formula"], {name: recompute(sub) for name, sub in q["inputs"].items()})


def is_quantity(value: Any) -> bool:
    return isinstance(value, dict) and "value" in value and "unit" in value


def show(q: Quantity, digits: int = 4) -> str:
    """``q`` as text: ``1.23 µs``; integers as integers."""
    value, unit = q["value"], q["unit"]
    text = f"{value:d}" if isinstance(value, int) else f"{value:.{digits}g}"
    return text if unit in ("", "1") else f"{text} {unit}"
