"""Deadlines of a sweep (``--deadline makespan_s<=2``): which metric, which side, which bound,
and the fraction of replications that meet one, with its Wilson 95% interval."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from zsim.analysis.stats import wilson_ci
from zsim.errors import ZsimError

_SYNTAX = re.compile(r"^\s*(?:(?P<node>[^.<>=\s]+)\.)?(?P<metric>[^.<>=\s]+)\s*"
                     r"(?P<op><=|>=)\s*(?P<bound>\S+)\s*$")


@dataclass(frozen=True)
class Deadline:
    """``metric <= bound`` (or ``>=``), on every node reporting the metric, or on ``node``."""

    metric: str
    op: str  # "<=" or ">="
    bound: float
    node: str | None = None

    @property
    def text(self) -> str:
        """As given: ``metric<=bound`` (with ``node.`` before it when given)."""
        name = f"{self.node}.{self.metric}" if self.node else self.metric
        return f"{name}{self.op}{self.bound:g}"

    @property
    def column(self) -> str:
        """The summary column of P(metric op bound)."""
        return f"P({self.text})"

    def applies(self, node: str, metric: str) -> bool:
        return metric == self.metric and (self.node is None or node == self.node)

    def probability(self, values: Sequence[float]) -> tuple[float, float, float]:
        """(fraction of the non-NaN values that meet it, Wilson 95% low, high)."""
        x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
        met = x <= self.bound if self.op == "<=" else x >= self.bound
        return wilson_ci(int(met.sum()), int(x.size))


def parse_deadline(text: str) -> Deadline:
    """``"makespan_s<=2.5"`` or ``"sink.makespan_s>=1"`` → a Deadline; ZsimError otherwise."""
    m = _SYNTAX.match(text)
    if m is None:
        raise ZsimError(f"--deadline {text!r}: expected METRIC<=X or METRIC>=X "
                        "(or NODE.METRIC<=X)")
    try:
        bound = float(m["bound"])
    except ValueError:
        raise ZsimError(f"--deadline {text!r}: bound {m['bound']!r} is not a number") from None
    if math.isnan(bound):
        raise ZsimError(f"--deadline {text!r}: bound is NaN")
    return Deadline(m["metric"], m["op"], bound, m["node"])


def check_known(deadlines: Iterable[Deadline], rows: Iterable[tuple[str, str]]) -> None:
    """Raise a ZsimError naming the first deadline whose metric (on its node) no run reports."""
    known = set(rows)
    for d in deadlines:
        if not any(d.applies(n, m) for n, m in known):
            name = f"{d.node}.{d.metric}" if d.node else d.metric
            metrics = sorted({m for n, m in known if d.node is None or n == d.node})
            raise ZsimError(f"--deadline: unknown metric {name!r}; the runs report: "
                            f"{', '.join(metrics) or 'none'}")
