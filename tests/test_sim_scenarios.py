"""The shipped scenarios reproduce what real ZeroMQ does (issue: zsim core, "Must show")."""

from __future__ import annotations

import pytest
from scenario_kit import shipped

from zsim.analysis.closed_forms import pipeline_makespan
from zsim.sim import simulate


def test_pipeline_sync_round_robin_gives_each_worker_a_quarter_and_closed_form_makespan() -> None:
    result = simulate(shipped("pipeline", workers=4, sync=True), seed=1)
    workers = [f"worker-{i}" for i in range(1, 5)]
    assert [result.metric(w, "tasks") for w in workers] == [25, 25, 25, 25]
    loads = [result.metric(w, "busy_s") for w in workers]
    predicted = pipeline_makespan(loads)
    makespan = result.metric("sink", "makespan_s")
    assert makespan == pytest.approx(predicted, rel=0.02)
    assert makespan >= predicted  # messaging only adds time


def test_pipeline_staggered_start_gives_the_first_worker_the_whole_batch() -> None:
    result = simulate(shipped("pipeline", workers=4, sync=False, stagger=0.005), seed=1)
    assert result.metric("worker-1", "tasks") == 100
    assert [result.metric(f"worker-{i}", "tasks") for i in (2, 3, 4)] == [0, 0, 0]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_slow_joiner_loses_messages_in_proportion_to_rate(transport: str) -> None:
    rates = [5000.0, 10000.0, 20000.0, 40000.0]
    lost = [
        simulate(shipped("slow_joiner", rate=r, transport=transport), seed=3).metric(
            "subscriber", "lost")
        for r in rates
    ]
    assert all(x > 0 for x in lost)
    assert lost == sorted(lost)
    # lost = rate × window, the window being the handshake plus at most one command interval
    # (1 ms) before the publisher attaches the new pipe: so lost/rate lies in (0, 1.2 ms].
    for r, x in zip(rates, lost, strict=True):
        assert 0 < x / r <= 1.2e-3


def test_slow_joiner_synchronised_start_loses_nothing() -> None:
    result = simulate(shipped("slow_joiner", sync=True), seed=3)
    assert result.metric("subscriber", "lost") == 0
    assert result.metric("subscriber", "received") == result.metric("publisher", "sent")


@pytest.mark.parametrize("transport", ["inproc", "ipc", "tcp"])
@pytest.mark.parametrize("hwm", [10, 1000])
def test_slow_subscriber_conserves_messages(transport: str, hwm: int) -> None:
    result = simulate(shipped("slow_subscriber", transport=transport, hwm=hwm, count=3000), seed=0)
    sent = result.metric("publisher", "sent")
    received = result.metric("subscriber", "received")
    dropped = result.metric("publisher", "dropped")
    assert sent == 3000
    assert sent == received + dropped
    assert result.metric("*", "queued") == 0


@pytest.mark.parametrize("hwm", [10, 100, 1000])
def test_inproc_capacity_is_exactly_sndhwm_plus_rcvhwm(hwm: int) -> None:
    # The subscriber reads fewer than lwm messages during the burst, so the publisher never hears
    # of a read: exactly sndhwm + rcvhwm copies fit.
    result = simulate(
        shipped("slow_subscriber", transport="inproc", hwm=hwm, count=5000, service=0.01), seed=0)
    assert result.metric("subscriber", "received") == 2 * hwm
    assert result.metric("publisher", "dropped") == 5000 - 2 * hwm


def test_hello_reqrep_ten_replies_in_about_ten_seconds() -> None:
    result = simulate(shipped("hello_reqrep"), seed=0)
    assert result.metric("client", "replies") == 10
    assert result.metric("*", "sim_time_s") == pytest.approx(10.0, rel=0.01)
    assert result.metric("client", "stuck") == 0


def test_server_crash_leaves_the_req_client_stuck() -> None:
    result = simulate(shipped("server_crash"), seed=0)
    # Replies at 1, 2, 3 s; the 4th request dies with the server at 3.5 s.
    assert result.metric("client", "replies") == 3
    assert result.metric("client", "stuck") == 1
    events = result.events
    reconnected = events[(events.node == "client") & (events.event == "connected")]
    assert len(reconnected) == 2  # it did reconnect to the restarted server, and still hangs


def test_weather_client_averages_five_updates_for_its_zip() -> None:
    result = simulate(shipped("weather", zips=100, zip="00042"), seed=0)
    assert result.metric("client", "received") == 5
    assert -80 <= result.metric("client", "mean_temperature") <= 135


def test_same_seed_same_event_log_other_seed_other_draws() -> None:
    sc = shipped("pipeline", workers=3)
    a, b, c = simulate(sc, seed=7), simulate(sc, seed=7), simulate(sc, seed=8)
    assert a.events.equals(b.events)
    assert a.metrics.equals(b.metrics)
    assert a.metric("ventilator", "workload_s") != c.metric("ventilator", "workload_s")
