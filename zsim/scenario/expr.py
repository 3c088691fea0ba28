"""A tiny, safe expression language for scenario values.

A string value that starts with ``=`` is an expression, evaluated once per node replica with the
scenario's params, ``i`` (the replica's 1-based index) and ``count`` in scope, e.g.
``start = { at = "=(i - 1) * stagger" }``. Only arithmetic, comparisons, ``and``/``or``/``not``,
``x if c else y``, list and table literals and a few pure functions are allowed: no attribute
access, no imports.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from zsim.scenario.limits import Limits

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


def evaluate(text: str, names: Mapping[str, Any], limits: Limits | None = None) -> Any:
    """Evaluate ``text`` (without its leading ``=``) with ``names`` in scope, within ``limits``:
    no expression can run long or build a huge value (every result is bounded before it is
    made, where it could be large: ``**`` and ``*`` of a string or list)."""
    limits = limits or Limits()
    if len(text) > limits.expression_chars:
        raise ExpressionError(f"expression of {len(text):,} characters, beyond the limit of "
                              f"{limits.expression_chars:,}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {text!r}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"expression too deeply nested: {text[:60]!r}...") from None
    size = sum(1 for _ in ast.walk(tree))
    if size > limits.expression_nodes:
        raise ExpressionError(f"expression of {size:,} terms, beyond the limit of "
                              f"{limits.expression_nodes:,}: {text[:60]!r}...")
    try:
        return _Evaluator(names, text, limits).eval(tree.body)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ExpressionError(f"cannot evaluate {text!r}: {exc}") from None
    except RecursionError:
        raise ExpressionError(f"expression too deeply nested: {text[:60]!r}...") from None


class _Evaluator:
    def __init__(self, names: Mapping[str, Any], text: str, limits: Limits) -> None:
        self.names = names
        self.text = text
        self.limits = limits

    def eval(self, node: ast.AST) -> Any:
        return self.bounded(self._eval(node))

    def _eval(self, node: ast.AST) -> Any:
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name(id=name):
                if name not in self.names:
                    known = ", ".join(sorted(self.names))
                    raise ExpressionError(f"unknown name {name!r} in {self.text!r} "
                                          f"(known: {known})")
                return self.names[name]
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINOPS:
                a, b = self.eval(left), self.eval(right)
                self.check_operands(op, a, b)
                return _BINOPS[type(op)](a, b)
            case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
                return _UNARY[type(op)](self.eval(operand))
            case ast.BoolOp(op=ast.And(), values=values):
                return all(self.eval(v) for v in values)
            case ast.BoolOp(op=ast.Or(), values=values):
                return any(self.eval(v) for v in values)
            case ast.Compare(left=left, ops=[op], comparators=[right]) if type(op) in _COMPARE:
                return _COMPARE[type(op)](self.eval(left), self.eval(right))
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return self.eval(body if self.eval(test) else orelse)
            case ast.List(elts=elts) | ast.Tuple(elts=elts):
                return [self.eval(e) for e in elts]
            case ast.Dict(keys=keys, values=values) if None not in keys:
                return {self.eval(k): self.eval(v)  # type: ignore[arg-type]
                        for k, v in zip(keys, values, strict=True)}
            case ast.Call(func=ast.Name(id=fname), args=args, keywords=[]) if fname in FUNCTIONS:
                return FUNCTIONS[fname](*(self.eval(a) for a in args))
        raise ExpressionError(f"unsupported syntax in expression {self.text!r}")

    def check_operands(self, op: ast.operator, a: Any, b: Any) -> None:
        """Refuse, before computing it, a power or a repetition whose result would pass a limit."""
        if isinstance(op, ast.Pow) and _is_int(a) and _is_int(b) and abs(a) > 1 and b > 0:
            bits = b * math.log2(abs(a))
            if bits > self.limits.int_magnitude.bit_length():
                raise self.too_big(f"a power of about {bits:,.0f} bits")
        if isinstance(op, ast.Mult):
            seq, times = (a, b) if _is_int(b) else (b, a)
            if isinstance(seq, str | list) and _is_int(times):
                self.bounded_size(seq, len(seq) * max(times, 0))

    def bounded(self, value: Any) -> Any:
        if _is_int(value) and abs(value) > self.limits.int_magnitude:
            raise self.too_big(f"an integer of {value.bit_length()} bits")
        if isinstance(value, str | list):
            self.bounded_size(value, len(value))
        return value

    def bounded_size(self, value: str | list[Any], size: int) -> None:
        limit = (self.limits.string_chars if isinstance(value, str)
                 else self.limits.sequence_items)
        if size > limit:
            kind = "a string of" if isinstance(value, str) else "an array of"
            unit = "characters" if isinstance(value, str) else "items"
            raise self.too_big(f"{kind} {size:,} {unit} (limit {limit:,})")

    def too_big(self, what: str) -> ExpressionError:
        return ExpressionError(f"{self.text[:60]!r} would make {what}, beyond the limit")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
