"""An I/O thread stranded behind the application thread that woke it (``io_strand_per_msg``,
``io_strand_s``; zsim.sim.cpu.Stranding), and the live backend's scheduler metrics.

Live (perf sched, 2 cores), a publisher bursting at a slow subscriber woke its I/O thread onto
its own busy core a few times per burst of ~1000 written messages, and the I/O thread then read
nothing for ms:
its pipe sent no activate_write, and the publisher dropped whole throttle intervals."""

from __future__ import annotations

import math

import pytest

from zsim.catalog import scenario_path
from zsim.costs import CostModel
from zsim.records import RunResult
from zsim.scenario import load_scenario
from zsim.sim import simulate

BURST = {"transport": "tcp", "hwm": 100, "size": 10, "count": 2000, "service": 0.0005}
# a calibrated host's figures, roughly: ~10 µs per send on 2 cores
HOST = {"app_send_s": 8e-6, "app_record_s": 2.5e-6, "io_wake_cpu_s": 9e-6, "cpu_cores": 2,
        "command_interval_s": 1.4291e-3}
STRANDS = {"io_strand_per_msg": 2e-3, "io_strand_s": 2.5e-3}


def _run(name: str, params: dict, seed: int, **costs: float) -> RunResult:
    sc = load_scenario(scenario_path(name), params)
    return simulate(sc.model_copy(update={"model": CostModel(**{**HOST, **costs})}), seed=seed)


def test_off_by_default_and_without_cores() -> None:
    assert CostModel().io_strand_per_msg == 0.0
    plain = _run("slow_subscriber", BURST, 0)
    coreless = _run("slow_subscriber", BURST, 0, cpu_cores=0, **STRANDS)
    for run in (plain, coreless):
        assert run.metric("publisher", "io_wait_s") == 0.0
        assert run.metric("publisher", "preempted") == 0.0
    # no cores modelled: no core to be stranded on, nothing changes
    assert coreless.metric("subscriber", "received") == _run(
        "slow_subscriber", BURST, 0, cpu_cores=0).metric("subscriber", "received")


def test_strands_cost_a_bursting_publisher_its_credits() -> None:
    for seed in range(4):
        free = _run("slow_subscriber", BURST, seed)
        stranded = _run("slow_subscriber", BURST, seed, **STRANDS)
        # the same seed, the same records
        again = _run("slow_subscriber", BURST, seed, **STRANDS)
        assert stranded.events.equals(again.events)
        assert stranded.metrics.equals(again.metrics)
        # all the publisher's credits come at its throttle intervals when nothing strands
        assert free.metric("publisher", "io_wait_s") == 0.0
        waited = stranded.metric("publisher", "io_wait_s")
        strands = stranded.metric("publisher", "preempted")
        assert waited > 0 and strands >= 1
        # a strand that ran its length kept the I/O thread from reading for that long: the
        # publisher dropped more, and sent (accepted into the pipe) as many
        assert stranded.metric("subscriber", "received") < free.metric("subscriber", "received")
        assert stranded.metric("publisher", "sent") == free.metric("publisher", "sent")


def test_a_strand_ends_when_its_application_thread_sleeps() -> None:
    # a paced publisher sleeps after every send: its core is free at once, nothing strands
    params = {"transport": "tcp", "rate": 10000.0, "duration": 0.05, "join_at": 0.01}
    for seed in range(3):
        free = _run("slow_joiner", params, seed)
        stranded = _run("slow_joiner", params, seed, io_strand_per_msg=1.0, io_strand_s=1e-3)
        assert stranded.metric("publisher", "io_wait_s") == 0.0
        assert stranded.metric("publisher", "preempted") == 0.0
        assert stranded.metric("subscriber", "lost") == free.metric("subscriber", "lost")
        assert stranded.metric("subscriber", "received") == free.metric(
            "subscriber", "received")


@pytest.mark.live
def test_live_scheduler_metrics() -> None:
    # bounds, not tolerances: a run-queue wait cannot exceed the run's wall time, and counts of
    # preemptions are whole numbers; Linux only (/proc), else NaN
    from zsim.live import run_live

    sc = load_scenario(scenario_path("slow_subscriber"), {**BURST, "count": 500})
    run = run_live(sc, seed=0, timeout=60.0)
    wall = run.metric("*", "sim_time_s")
    for node in ("publisher", "subscriber"):
        wait, preempted = run.metric(node, "io_wait_s"), run.metric(node, "preempted")
        if math.isnan(wait):
            pytest.skip("no /proc schedstat on this host")
        assert 0.0 <= wait < wall
        assert preempted >= 0 and preempted == int(preempted)
    # threads of one process share one context's I/O thread: nobody's alone
    inproc = run_live(load_scenario(scenario_path("slow_subscriber"),
                                    {**BURST, "transport": "inproc", "count": 200}),
                      seed=0, timeout=60.0)
    assert math.isnan(inproc.metric("publisher", "io_wait_s"))
    assert inproc.metric("publisher", "preempted") >= 0
