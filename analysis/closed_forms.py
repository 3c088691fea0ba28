"""Closed-form predictions for the canonical scenarios, each with its assumptions stated.

These are computed from a scenario's inputs, never from a simulation's outputs, so that the
simulation can be checked against them.
"""

from __future__ import annotations

from collections.abc import Sequence


def round_robin_loads(workloads: Sequence[float], workers: int) -> list[float]:
    """Per-worker total work when task i goes to worker i mod W (PUSH round-robin over W pipes
    that all exist before the first send and never fill)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    loads = [0.0] * workers
    for i, w in enumerate(workloads):
        loads[i % workers] += w
    return loads


def pipeline_makespan(worker_loads: Sequence[float], overhead_s: float = 0.0) -> float:
    """Makespan of a batch pre-assigned to workers that each work through their own queue:
    the busiest worker's total work plus a fixed overhead (messaging and start-up)."""
    return max(worker_loads) + overhead_s
