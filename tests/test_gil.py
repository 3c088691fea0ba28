"""The interpreter lock of nodes that are threads of one process (``app_gil_wait_s``)."""

from __future__ import annotations

import numpy as np

from zsim.catalog import scenario_path
from zsim.costs import CostModel
from zsim.scenario import load_scenario
from zsim.seeds import run_quantile
from zsim.sim import simulate
from zsim.sim.world import gil_wait

BURST = {"transport": "inproc", "hwm": 10, "size": 10, "count": 2000, "service": 0.0005}


def _received(overrides: dict, wait_s: float, seed: int = 0, sigma: float = 0.0) -> float:
    sc = load_scenario(scenario_path("slow_subscriber"), overrides)
    model = sc.model.model_copy(update={"app_gil_wait_s": wait_s, "app_send_s": 10e-6,
                                        "app_gil_wait_sigma": sigma})
    return simulate(sc.model_copy(update={"model": model}), seed=seed).metric(
        "subscriber", "received")


def test_a_busy_publisher_thread_holds_the_subscriber_thread_back() -> None:
    # parallel threads: the subscriber works through the 20 ms burst at 0.5 ms a message, and
    # the publisher learns of its reads in lwm-sized steps (10 of the inproc pipe's 10 + 10):
    # 30 on top of the 20 queued
    assert _received(BURST, wait_s=0.0) == 50
    # a lock it waits ~1 ms for each time: a third of that pace, credited in steps of 10
    assert [_received(BURST, 1e-3, seed) for seed in range(3)] == [30, 30, 30]
    # a lock it never gets while the publisher runs: only what was queued
    assert _received(BURST, wait_s=1.0) == 20


def test_the_lock_needs_threads_of_one_process() -> None:
    # over tcp every node is a process of its own: the lock changes nothing
    tcp = {**BURST, "transport": "tcp"}
    assert _received(tcp, wait_s=1e-3) == _received(tcp, wait_s=0.0)


def test_each_run_draws_its_own_mean_wait() -> None:
    model = load_scenario(scenario_path("slow_subscriber"), BURST).model.model_copy(
        update={"app_gil_wait_s": 5e-3})
    assert {gil_wait(model, run_quantile(seed, 5)) for seed in range(5)} == {5e-3}
    spread = model.model_copy(update={"app_gil_wait_sigma": 1.5})
    waits = np.array([gil_wait(spread, run_quantile(seed, 5)) for seed in range(4000)])
    # lognormal: median 5 ms, log-sd 1.5 (4000 draws: SEs ~2% and ~0.02)
    assert abs(np.median(waits) / 5e-3 - 1) < 0.06
    assert abs(np.log(waits).std() - 1.5) < 0.05


def test_a_run_whose_lock_comes_quickly_takes_a_credit() -> None:
    # the median run waits 5 ms a turn and gets only what was queued; a run that draws a
    # wait under 1 ms keeps up with the burst long enough to be credited lwm = 10 more, and
    # one that draws a quarter of that, twice as long
    got = {seed: (gil_wait(_model(1.5), run_quantile(seed, 5)),
                  _received(BURST, 5e-3, seed, sigma=1.5))
           for seed in range(12)}
    assert {r for w, r in got.values() if w > 4e-3} == {20}
    assert [r for w, r in sorted(got.values()) if w < 1e-3] == [40, 30, 30]
    assert {_received(BURST, 5e-3, seed) for seed in range(12)} == {20}


def _model(sigma: float) -> CostModel:
    return load_scenario(scenario_path("slow_subscriber"), BURST).model.model_copy(
        update={"app_gil_wait_s": 5e-3, "app_gil_wait_sigma": sigma})


def _lock_run(overrides: dict, signal_s: float, seed: int = 0) -> tuple[float, ...]:
    sc = load_scenario(scenario_path("slow_subscriber"), overrides)
    model = sc.model.model_copy(update={"app_gil_wait_s": 1e-3, "app_send_s": 10e-6,
                                        "app_gil_signal_s": signal_s, "app_cost_cv": 0.0})
    result = simulate(sc.model_copy(update={"model": model}), seed=seed)
    return (result.metric("publisher", "cpu_s"), result.metric("subscriber", "cpu_s"),
            result.metric("subscriber", "received"))


def test_each_call_made_while_another_thread_waits_for_the_lock_costs_the_signal() -> None:
    signal = 4e-6
    (pub0, sub0, got0), (pub1, sub1, got1) = _lock_run(BURST, 0.0), _lock_run(BURST, signal)
    assert got1 == got0 == 30
    # the same calls at the same prices, plus the signal for each call made while the other
    # thread waited: whole numbers of signals. Most of the publisher's 2000 sends find the
    # subscriber waiting (it sleeps through its service time without the lock, then waits
    # ~1 ms for it), and about half the subscriber's 30 recvs find the publisher waiting
    # (asked to hand over, it queues for the lock in turn)
    paid = [(pub1 - pub0) / signal, (sub1 - sub0) / signal]
    assert all(abs(k - round(k)) < 1e-6 for k in paid)
    assert [round(k) for k in paid] == [1100, 16]
    # threads of separate processes (tcp) never signal one another
    tcp = {**BURST, "transport": "tcp"}
    assert _lock_run(tcp, signal) == _lock_run(tcp, 0.0)
