"""Each closed form against the simulation, in cases where the model must agree with it."""

from __future__ import annotations

import numpy as np
import pytest
from scenario_kit import shipped

from zsim.analysis import closed_forms as cf
from zsim.analysis.stats import mean_ci
from zsim.costs import CostModel
from zsim.scenario.model import Scenario
from zsim.sim import simulate


def _free(sc: Scenario) -> Scenario:
    """The same scenario with every messaging cost set to zero."""
    return sc.model_copy(update={"model": CostModel.zero()})


def _prediction(sc: Scenario, node: str, metric: str) -> float:
    return next(p.value for p in cf.predict(sc) if (p.node, p.metric) == (node, metric))


def _constant_workload(sc: Scenario, seconds: float) -> Scenario:
    vent = sc.nodes["ventilator"]
    params = {**vent.params, "workload": seconds}
    nodes = {**sc.nodes, "ventilator": vent.model_copy(update={"params": params})}
    return sc.model_copy(update={"nodes": nodes})


@pytest.mark.parametrize("workers", [1, 3, 4, 7])
def test_pipeline_makespan_equals_round_robin_closed_form_without_overheads(workers: int) -> None:
    sc = _free(_constant_workload(shipped("pipeline", workers=workers), 0.05))
    result = simulate(sc, seed=0)
    counts = cf.round_robin_counts(100, workers)
    assert [result.metric(f"worker-{k + 1}", "tasks") for k in range(workers)] == counts
    expected = cf.pipeline_makespan(cf.round_robin_loads([0.05] * 100, workers))
    assert result.metric("sink", "makespan_s") == pytest.approx(expected, rel=0.01)
    assert _prediction(sc, "sink", "makespan_s") == pytest.approx(expected, rel=0.01)


def test_pipeline_first_worker_condition_matches_the_simulation() -> None:
    sc = shipped("pipeline", sync=False, stagger=0.005)
    assert cf.first_worker_takes_all(100, 0.005, sc.model, "tcp")
    assert simulate(sc, seed=0).metric("worker-1", "tasks") == 100
    # A burst longer than the stagger is shared: the condition is false and so is the outcome.
    slow = sc.model_copy(update={"model": sc.model.model_copy(update={"app_send_s": 2e-4})})
    assert not cf.first_worker_takes_all(100, 0.005, slow.model, "tcp")
    assert simulate(slow, seed=0).metric("worker-1", "tasks") < 100


def test_greedy_and_round_robin_loads() -> None:
    work = [3.0, 1.0, 1.0, 1.0, 3.0, 1.0]
    assert cf.round_robin_loads(work, 2) == [7.0, 3.0]
    assert cf.greedy_loads(work, 2) == [6.0, 4.0]
    assert cf.round_robin_loads([4.0, 1.0, 1.0, 1.0], 2) == [5.0, 2.0]
    assert cf.greedy_loads([4.0, 1.0, 1.0, 1.0], 2) == [4.0, 3.0]


@pytest.mark.parametrize("rate", [20000.0, 50000.0, 100000.0])
def test_slow_joiner_loss_is_rate_times_the_join_window(rate: float) -> None:
    # With commands processed on every send the window is the handshake (its jitter's mean
    # included) plus half a send gap: the mean loss over seeds, within the rounding of a
    # count (1.5) and three standard errors of the jitter's spread (seeded, so exact)
    base = shipped("slow_joiner", rate=rate)
    sc = base.model_copy(update={"model": base.model.model_copy(update={"command_interval_s": 0})})
    lost = np.array([simulate(sc, seed=k).metric("subscriber", "lost") for k in range(12)])
    bound = 1.5 + 3 * lost.std(ddof=1) / np.sqrt(len(lost))
    assert abs(lost.mean() - _prediction(sc, "subscriber", "lost")) <= bound


def test_hwm_burst_received_is_the_inproc_capacity() -> None:
    sc = shipped("slow_subscriber", transport="inproc", hwm=100, count=5000, service=0.01)
    received = simulate(sc, seed=0).metric("subscriber", "received")
    assert received == 200
    assert _prediction(sc, "subscriber", "received") == pytest.approx(received, rel=0.01)


def test_reqrep_round_trip_matches_the_cost_sum() -> None:
    sc = shipped("hello_reqrep", service=0.0, requests=20)
    rtt = simulate(sc, seed=0).metric("client", "rtt_mean_s")
    assert rtt == pytest.approx(_prediction(sc, "client", "rtt_mean_s"), rel=0.05)


def test_server_crash_prediction_matches() -> None:
    sc = shipped("server_crash")
    result = simulate(sc, seed=0)
    assert result.metric("client", "replies") == _prediction(sc, "client", "replies")
    assert result.metric("client", "stuck") == _prediction(sc, "client", "stuck")


@pytest.mark.parametrize(("service_dist", "formula"), [
    ("exponential", cf.mm1_wait), ("constant", cf.md1_wait)])
def test_pushpull_queue_matches_mm1_and_md1(service_dist: str, formula: object) -> None:
    sc = shipped("queue", service_dist=service_dist, messages=3000, arrival_rate=50.0,
                 service=0.01)
    waits = [simulate(sc, seed=s).metric("consumer", "latency_mean_s") for s in range(8)]
    mean, ci = mean_ci(waits)
    theory = _prediction(sc, "consumer", "latency_mean_s")
    assert theory == formula(50.0, 100.0)  # type: ignore[operator]
    # Messaging adds ~50 µs to each wait; the CI covers the sampling noise of 8 runs.
    assert abs(mean - theory) <= ci + 1e-4
