"""The interpreter lock of nodes that are threads of one process (``app_gil_wait_s``)."""

from __future__ import annotations

from zsim.catalog import scenario_path
from zsim.scenario import load_scenario
from zsim.sim import simulate

BURST = {"transport": "inproc", "hwm": 10, "size": 10, "count": 2000, "service": 0.0005}


def _received(overrides: dict, wait_s: float, seed: int = 0) -> float:
    sc = load_scenario(scenario_path("slow_subscriber"), overrides)
    model = sc.model.model_copy(update={"app_gil_wait_s": wait_s, "app_send_s": 10e-6})
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
