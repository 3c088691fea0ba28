"""Timed sleeps that end late (``app_sleep_late_s``): a node's start, a start delay, and the
sleep and work of a behaviour all run again this much after their due time, as a thread that
sleeps on a real host does (timer slack and wake-up)."""

from __future__ import annotations

import pytest

from zsim.analysis.calibrate_bench import send_lateness
from zsim.analysis.closed_forms import predict_pipeline
from zsim.catalog import scenario_path
from zsim.costs import CostModel
from zsim.scenario import load_scenario
from zsim.sim import simulate

LATE = 3e-4


def _paced(late: float):
    """slow_joiner's publisher at 1000 msg/s, every cost zero but the lateness."""
    sc = load_scenario(scenario_path("slow_joiner"),
                       {"rate": 1000.0, "duration": 0.005, "join_at": 0.5})
    model = CostModel.zero().model_copy(update={"app_sleep_late_s": late})
    return simulate(sc.model_copy(update={"model": model}), seed=0)


def _sends(result) -> list[float]:
    ev = result.events
    return ev[(ev.node == "publisher") & (ev.event == "send")].t.tolist()


def test_paced_sends_are_late_by_exactly_the_lateness() -> None:
    # the node wakes at 0 + L; send 0 follows no sleep; send k sleeps until L + k ms and wakes
    # L later
    assert _sends(_paced(LATE)) == pytest.approx([LATE] + [2 * LATE + k * 1e-3
                                                           for k in range(1, 5)], abs=1e-12)
    assert _sends(_paced(0.0)) == pytest.approx([k * 1e-3 for k in range(5)], abs=1e-12)


def test_a_late_start_shifts_the_node() -> None:
    ev = _paced(LATE).events
    connect = ev[(ev.node == "subscriber") & (ev.event == "connect")].t.min()
    assert connect == pytest.approx(0.5 + LATE, abs=1e-12)


def test_calibrate_measures_what_the_model_does() -> None:
    # the probe calibrate fits from, run on the model, gives back the model's value
    assert send_lateness(_paced(LATE).events, 1000.0) == pytest.approx(LATE, abs=1e-12)
    assert send_lateness(_paced(0.0).events, 1000.0) == pytest.approx(0.0, abs=1e-12)


def test_pipeline_makespan_counts_each_task_late() -> None:
    sc = load_scenario(scenario_path("pipeline"), {"workers": 4})
    late = sc.model_copy(update={"model": sc.model.model_copy(
        update={"app_sleep_late_s": LATE})})
    on_time = next(p.value for p in predict_pipeline(sc) if p.metric == "makespan_s")
    lagged = next(p.value for p in predict_pipeline(late) if p.metric == "makespan_s")
    assert lagged - on_time == pytest.approx(25 * LATE)
    # and the simulation: the same draws, every task ending LATE later, 25 tasks per worker
    a = simulate(sc, seed=1).metric("sink", "makespan_s")
    b = simulate(late, seed=1).metric("sink", "makespan_s")
    assert b - a == pytest.approx(25 * LATE, rel=0.05)
