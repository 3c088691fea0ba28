"""A tiny, safe expression language for scenario values.

A string value that starts with ``=`` is an expression, evaluated once per node replica with the
scenario's params, ``i`` (the replica's 1-based index) and ``count`` in scope, e.g.
``start = { at = "=(i - 1) * stagger" }``. Only arithmetic, comparisons, ``and``/``or``/``not``,
``x if c else y``, list and table literals and a few pure functions are allowed: no attribute
access, no imports.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "float": float,
    "str": str,
    "round": round,
}


class ExpressionError(ValueError):
    """An expression that cannot be evaluated; the message says why."""


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate ``text`` (without its leading ``=``) with ``names`` in scope."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {text!r}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"expression too deeply nested: {text[:60]!r}...") from None
    try:
        return _eval(tree.body, names, text)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ExpressionError(f"cannot evaluate {text!r}: {exc}") from None
    except RecursionError:
        raise ExpressionError(f"expression too deeply nested: {text[:60]!r}...") from None


def _eval(node: ast.AST, names: Mapping[str, Any], text: str) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            if name not in names:
                known = ", ".join(sorted(names))
                raise ExpressionError(f"unknown name {name!r} in {text!r} (known: {known})")
            return names[name]
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINOPS:
            return _BINOPS[type(op)](_eval(left, names, text), _eval(right, names, text))
        case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
            return _UNARY[type(op)](_eval(operand, names, text))
        case ast.BoolOp(op=ast.And(), values=values):
            return all(_eval(v, names, text) for v in values)
        case ast.BoolOp(op=ast.Or(), values=values):
            return any(_eval(v, names, text) for v in values)
        case ast.Compare(left=left, ops=[op], comparators=[right]) if type(op) in _COMPARE:
            return _COMPARE[type(op)](_eval(left, names, text), _eval(right, names, text))
        case ast.IfExp(test=test, body=body, orelse=orelse):
            chosen = body if _eval(test, names, text) else orelse
            return _eval(chosen, names, text)
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return [_eval(e, names, text) for e in elts]
        case ast.Dict(keys=keys, values=values) if None not in keys:
            return {_eval(k, names, text): _eval(v, names, text)  # type: ignore[arg-type]
                    for k, v in zip(keys, values, strict=True)}
        case ast.Call(func=ast.Name(id=fname), args=args, keywords=[]) if fname in FUNCTIONS:
            return FUNCTIONS[fname](*(_eval(a, names, text) for a in args))
    raise ExpressionError(f"unsupported syntax in expression {text!r}")
