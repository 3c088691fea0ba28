"""A PUB send that no pipe takes costs less (``app_drop_saving_s``): libzmq's dist.cpp writes
nothing, so there is no ypipe write and flush. Live, in one burst at HWM 50, a dropped send took
~2.4 µs less than a written one (the stranded-I/O-thread probe of ``zsim calibrate``); the
drops make a burst shorter, and a shorter burst gets fewer throttle intervals of credit."""

from __future__ import annotations

import pytest

from zsim.catalog import scenario_path
from zsim.costs import CostModel
from zsim.records import RunResult
from zsim.scenario import load_scenario
from zsim.sim import simulate

BURST = {"transport": "tcp", "hwm": 10, "size": 10, "count": 2000, "service": 0.0005}


def _run(name: str, params: dict, seed: int, **costs: float) -> RunResult:
    sc = load_scenario(scenario_path(name), params)
    model = CostModel.zero().model_copy(update={"command_interval_s": 1.4291e-3, **costs})
    return simulate(sc.model_copy(update={"model": model}), seed=seed)


def test_a_dropped_send_costs_the_saving_less() -> None:
    run = _run("slow_subscriber", BURST, 0, app_send_s=10e-6, app_drop_saving_s=3e-6)
    sent, dropped = run.metric("publisher", "sent"), run.metric("publisher", "dropped")
    assert sent == 2000 and 0 < dropped < sent
    assert run.metric("publisher", "cpu_s") == pytest.approx(
        sent * 10e-6 - dropped * 3e-6, rel=1e-9)


def test_cheaper_drops_shorten_the_burst_and_its_credits() -> None:
    for seed in range(3):
        full = _run("slow_subscriber", BURST, seed, app_send_s=10e-6)
        cheap = _run("slow_subscriber", BURST, seed, app_send_s=10e-6, app_drop_saving_s=3e-6)
        # HWM 10: a credit of 10 per throttle interval, and a shorter burst has fewer
        assert cheap.metric("subscriber", "received") < full.metric("subscriber", "received")
        assert cheap.metric("subscriber", "received") % 10 == 0


def test_only_a_send_that_writes_nothing_is_cheaper() -> None:
    # PUSH always writes (or blocks): the saving changes nothing
    params = {"messages": 2000}
    a = _run("throughput", params, 0, app_send_s=10e-6)
    b = _run("throughput", params, 0, app_send_s=10e-6, app_drop_saving_s=3e-6)
    assert a.metrics.equals(b.metrics)
    # a saving above the send's cost leaves a dropped send free, not negative
    run = _run("slow_subscriber", BURST, 0, app_send_s=2e-6, app_drop_saving_s=5e-6)
    written = run.metric("publisher", "sent") - run.metric("publisher", "dropped")
    assert run.metric("publisher", "cpu_s") == pytest.approx(written * 2e-6, rel=1e-9)
