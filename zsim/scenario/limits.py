"""Bounds on scenario input, so that no file or ``--set`` value can hang zsim or exhaust memory.

Every bound is checked before the work it guards (parsing, expanding ``count``, evaluating an
expression), and a hit is one ``ScenarioError`` naming the file, the field and the limit.
The node count is the one bound a user may raise, with ``ZSIM_MAX_NODES`` or ``Limits``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zsim.errors import ScenarioError

MAX_NODES_ENV = "ZSIM_MAX_NODES"


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 4_000_000  # a scenario file's size
    depth: int = 32  # nesting of tables and arrays
    string_chars: int = 10_000  # any string, in the file or made by ${...} or an expression
    sequence_items: int = 100_000  # any array, in the file or made by an expression
    int_magnitude: int = 2**63 - 1  # any integer: TOML's own range (toml.io, "Integer")
    expression_chars: int = 1_000  # the text of one "=expr"
    expression_nodes: int = 500  # syntax-tree nodes of one "=expr"
    nodes: int = 10_000  # nodes after replication (count); ZSIM_MAX_NODES raises it


def default_limits() -> Limits:
    """The defaults, with the node count from ``ZSIM_MAX_NODES`` when it is set."""
    text = os.environ.get(MAX_NODES_ENV)
    if text is None:
        return Limits()
    try:
        nodes = int(text)
    except ValueError:
        nodes = 0
    if nodes < 1:
        raise ScenarioError(MAX_NODES_ENV, "", f"must be an integer >= 1, got {text!r}")
    return Limits(nodes=nodes)


def check_tree(value: Any, limits: Limits, source: str, where: str = "") -> None:
    """Check a parsed TOML tree (or ``--set`` values) against ``limits``, without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, Mapping):
            _check_depth(depth, limits, source, path)
            stack.extend((v, f"{path}.{k}" if path else str(k), depth + 1)
                         for k, v in item.items())
        elif isinstance(item, list):
            _check_depth(depth, limits, source, path)
            check_value(item, limits, source, path)
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item))
        else:
            check_value(item, limits, source, path)


def check_value(value: Any, limits: Limits, source: str, where: str) -> None:
    """One scalar or sequence against the size limits (its items are not visited)."""
    if isinstance(value, bool):
        return
    # TOML's range is two's-complement 64-bit: -2**63 is an integer it allows
    if isinstance(value, int) and not -limits.int_magnitude - 1 <= value <= limits.int_magnitude:
        raise ScenarioError(source, where, f"integer beyond the limit of ±{limits.int_magnitude}"
                            f" ({value.bit_length()} bits)")
    if isinstance(value, str) and len(value) > limits.string_chars:
        raise ScenarioError(source, where, f"string of {len(value):,} characters, beyond the "
                            f"limit of {limits.string_chars:,}")
    if isinstance(value, list) and len(value) > limits.sequence_items:
        raise ScenarioError(source, where, f"array of {len(value):,} items, beyond the limit "
                            f"of {limits.sequence_items:,}")


def _check_depth(depth: int, limits: Limits, source: str, where: str) -> None:
    if depth >= limits.depth:
        shown = where if len(where) <= 80 else where[:80] + "..."
        raise ScenarioError(source, shown, f"nested deeper than the limit of {limits.depth} "
                            "tables or arrays")


def deep_line(text: str, limit: int) -> tuple[int, str] | None:
    """(line number, key) where brackets in ``text`` first nest deeper than ``limit``; a rough
    scan (quotes and comments skipped) that only names the place after tomllib gave up."""
    depth, quote, key = 0, "", ""
    for number, line in enumerate(text.splitlines(), start=1):
        if depth == 0 and "=" in line:
            key = line.split("=", 1)[0].strip()
        for char in line:
            if quote:
                quote = "" if char == quote else quote
            elif char in "\"'":
                quote = char
            elif char == "#":
                break
            elif char in "[{":
                depth += 1
                if depth > limit:
                    return number, key
            elif char in "]}":
                depth -= 1
        quote = ""
    return None
