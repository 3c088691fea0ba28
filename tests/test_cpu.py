"""Shared cores (``cpu_cores``) and an I/O thread's CPU per wake-up (``io_wake_cpu_s``).

A 2-core host runs every node's application and I/O threads: a flow whose threads want more
CPU than the cores give runs slower than its slowest thread alone would let it (measured live
with ``python bench/cpu_share.py``)."""

from __future__ import annotations

import pytest
import simpy

from zsim.analysis.closed_forms import reqrep_rtt
from zsim.catalog import scenario_path
from zsim.costs import CostModel
from zsim.scenario import load_scenario
from zsim.sim import simulate
from zsim.sim.cpu import Cpu


def test_cpu_shares_cores_among_the_threads_with_work() -> None:
    env = simpy.Environment()
    cpu = Cpu(env, cores=2)
    a, b, c = cpu.thread(), cpu.thread(), cpu.thread()
    assert cpu.run(a, 1.0) == 1.0  # alone
    assert cpu.run(b, 1.0) == 1.0  # two threads on two cores
    assert cpu.run(c, 1.0) == pytest.approx(1.5)  # three on two: each at 2/3
    assert cpu.run(a, 0.0) == 0.0  # no work, no core
    env.run(until=1.2)  # a and b are done, c is not
    assert cpu.run(a, 1.0) == 1.0
    assert cpu.run(b, 2.0, start=2.0) == pytest.approx(3.0)  # a and c busy: 3 on 2 cores


def test_no_cores_means_no_sharing() -> None:
    env = simpy.Environment()
    cpu = Cpu(env, cores=0)
    ts = [cpu.thread() for _ in range(5)]
    assert [cpu.run(t, 1.0) for t in ts] == [1.0] * 5


def _flow(**costs: float) -> float:
    sc = load_scenario(scenario_path("throughput"), {"messages": 3000})
    model = sc.model.model_copy(update=costs)
    return simulate(sc.model_copy(update={"model": model}), seed=3).metric(
        "puller", "throughput_msg_s")


def test_a_flow_slows_when_its_threads_outnumber_the_cores() -> None:
    busy = {"app_send_s": 8e-6, "app_recv_s": 6e-6, "io_wake_cpu_s": 8e-6}
    alone = _flow(**busy)
    assert _flow(**busy, cpu_cores=64) == alone  # a core each: nothing changes
    two = _flow(**busy, cpu_cores=2)
    one = _flow(**busy, cpu_cores=1)
    assert one < two < alone
    # one core runs everything in turn: at best the sum of the app costs per message
    assert one < 1 / (8e-6 + 6e-6)
    assert _flow(**busy, cpu_cores=2) == two  # seeded: the same figure again


def test_each_io_wakeup_costs_its_cpu_in_the_round_trip() -> None:
    # no other cost: the RTT is the wake-ups, two I/O threads each way, with the half of their
    # CPU that comes before the message (the other half follows its write)
    base = CostModel.zero().model_copy(update={"io_wakeup_s": 5e-6, "io_wake_cpu_s": 3e-6})
    sc = load_scenario(scenario_path("hello_reqrep"), {"service": 0.0, "requests": 20})
    rtt = simulate(sc.model_copy(update={"model": base}), seed=0).metric("client", "rtt_mean_s")
    assert rtt == pytest.approx(reqrep_rtt(base, "tcp"), rel=1e-9)
    assert reqrep_rtt(base, "tcp") == pytest.approx(4 * (5e-6 + 1.5e-6))


def test_cpu_s_is_what_the_calls_cost_without_waiting_for_a_core() -> None:
    sc = load_scenario(scenario_path("throughput"), {"messages": 2000, "size": 100})
    costs = CostModel.zero().model_copy(update={"app_send_s": 8e-6, "app_recv_s": 6e-6})
    for cores in (0, 1):
        model = costs.model_copy(update={"cpu_cores": cores})
        run = simulate(sc.model_copy(update={"model": model}), seed=0)
        assert run.metric("pusher", "cpu_s") == pytest.approx(2000 * 8e-6, rel=1e-9)
        assert run.metric("puller", "cpu_s") == pytest.approx(2000 * 6e-6, rel=1e-9)


@pytest.mark.live
def test_live_cpu_s_is_the_threads_cpu_clock() -> None:
    # bounds, not a tolerance: a thread's CPU clock runs at most as fast as the wall clock, and
    # a node that sent 5000 messages through Python spent some of it
    from zsim.live import run_live

    sc = load_scenario(scenario_path("throughput"), {"messages": 5000, "size": 100})
    run = run_live(sc, seed=0, timeout=60.0)
    wall = run.metric("*", "sim_time_s")
    for node in ("pusher", "puller"):
        assert 5000 * 0.2e-6 < run.metric(node, "cpu_s") < wall
