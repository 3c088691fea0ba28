"""Means and 95% confidence intervals over replications."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
)


def t975(dof: int) -> float:
    if dof < 1:
        return math.nan
    return _T975[dof - 1] if dof <= len(_T975) else 1.96


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """(mean, half-width of the 95% CI); the half-width is NaN for fewer than 2 values."""
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan
    return float(x.mean()), float(t975(x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))


def median_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, low, high): the distribution-free 95% CI of the median between two order
    statistics, x(j) and x(n+1-j) with the largest j whose binomial(n, 1/2) coverage is >= 95%.
    The bounds are NaN for fewer than 6 values (no pair covers 95%)."""
    x = np.sort(np.asarray([v for v in values if not math.isnan(v)], dtype=float))
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    med = float(np.median(x))
    # P(x(j) <= median < x(n+1-j)) = 1 - 2 P(Binomial(n, 1/2) <= j - 1)
    tail, j = 0.0, 0
    while True:
        nxt = tail + math.comb(n, j) / 2**n  # P(B <= j)
        if 1 - 2 * nxt < 0.95:
            break
        tail, j = nxt, j + 1
    if j == 0:
        return med, math.nan, math.nan
    return med, float(x[j - 1]), float(x[n - j])


def relative_error(estimate: float, reference: float) -> float:
    """(estimate - reference) / |reference|; the plain difference when the reference is 0."""
    if math.isnan(estimate) or math.isnan(reference):
        return math.nan
    if reference == 0:
        return estimate - reference
    return (estimate - reference) / abs(reference)


def wilson_ci(successes: int, n: int, z: float = 1.96) -> tuple[float, float, float]:
    """(proportion, low, high): the Wilson score 95% interval of a binomial proportion, which
    stays inside [0, 1] and keeps its coverage at 0 or n successes (unlike p ± z·se). NaN for
    n = 0."""
    if n == 0:
        return math.nan, math.nan, math.nan
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # the interval holds p; min/max keep rounding at p = 0 or 1 from putting it outside
    return p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))
