"""The interpreter lock of nodes that are threads of one process (``app_gil``)."""

from __future__ import annotations

from zsim.catalog import scenario_path
from zsim.scenario import load_scenario
from zsim.sim import simulate

BURST = {"transport": "inproc", "hwm": 10, "size": 10, "count": 2000, "service": 0.0005}


def _received(overrides: dict, gil: bool) -> float:
    sc = load_scenario(scenario_path("slow_subscriber"), overrides)
    model = sc.model.model_copy(update={"app_gil": gil, "app_send_s": 10e-6})
    return simulate(sc.model_copy(update={"model": model}), seed=0).metric(
        "subscriber", "received")


def test_a_busy_publisher_thread_keeps_the_subscriber_thread_from_running() -> None:
    # parallel threads: the subscriber works through the 20 ms burst at 0.5 ms a message, and
    # the publisher learns of its reads in lwm-sized steps (10 of the inproc pipe's 10 + 10):
    # 30 on top of the 20 queued; under the lock it runs only once the publisher waits
    assert _received(BURST, gil=False) == 50
    assert _received(BURST, gil=True) == 20


def test_the_lock_needs_threads_of_one_process() -> None:
    # over tcp every node is a process of its own: the lock changes nothing
    tcp = {**BURST, "transport": "tcp"}
    assert _received(tcp, gil=True) == _received(tcp, gil=False)
