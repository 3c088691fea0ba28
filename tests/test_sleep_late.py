"""Timed sleeps that end late, as a thread that sleeps on a real host does (timer slack and
wake-up): a node's start (``app_start_late_s``/``_cv``), a start delay and the sleep and work of
a behaviour (``app_sleep_late_s``/``_cv``); and a mark's cost (``app_mark_s``). The probes
``zsim calibrate`` fits them from give them back."""

from __future__ import annotations

import numpy as np
import pytest

from zsim.analysis.calibrate import fit_gamma
from zsim.analysis.calibrate_bench import (
    handshake_of,
    mark_lead,
    paced_lateness,
    start_lateness,
)
from zsim.analysis.closed_forms import predict_pipeline
from zsim.catalog import scenario_path
from zsim.costs import CostModel, SleepLateness
from zsim.scenario import load_scenario
from zsim.sim import simulate

LATE = 3e-4


def _paced(late: float, duration: float = 0.005, seed: int = 0, **costs: object):
    """slow_joiner's publisher at 1000 msg/s, every cost zero but the lateness (and
    ``costs``)."""
    sc = load_scenario(scenario_path("slow_joiner"),
                       {"rate": 1000.0, "duration": duration, "join_at": 0.5})
    model = CostModel.zero().model_copy(update={"app_sleep_late_s": late, **costs})
    return simulate(sc.model_copy(update={"model": model}), seed=seed)


def _sends(result) -> list[float]:
    ev = result.events
    return ev[(ev.node == "publisher") & (ev.event == "send")].t.tolist()


def test_paced_sends_are_late_by_exactly_the_lateness() -> None:
    # the node wakes at S; send 0 follows no sleep; send k sleeps until S + k ms, L late
    start = 1e-4
    assert _sends(_paced(LATE, app_start_late_s=start)) == pytest.approx(
        [start] + [start + LATE + k * 1e-3 for k in range(1, 5)], abs=1e-12)
    assert _sends(_paced(0.0)) == pytest.approx([k * 1e-3 for k in range(5)], abs=1e-12)


def test_a_late_start_shifts_the_node() -> None:
    ev = _paced(LATE, app_start_late_s=2e-4).events
    connect = ev[(ev.node == "subscriber") & (ev.event == "connect")].t.min()
    assert connect == pytest.approx(0.5 + 2e-4, abs=1e-12)
    assert start_lateness(ev, 0.5) == pytest.approx([2e-4, 2e-4], abs=1e-12)


def test_each_node_starts_late_by_a_draw_of_its_own() -> None:
    spread = {"app_start_late_s": 2e-4, "app_start_late_cv": 0.4}
    a = start_lateness(_paced(0.0, **spread).events, 0.5)
    assert a[0] != a[1] and all(x > 0 for x in a)
    assert start_lateness(_paced(0.0, **spread).events, 0.5) == a  # same seed, same draws
    assert start_lateness(_paced(0.0, seed=1, **spread).events, 0.5) != a
    # the start draws come from streams of their own: the sends' lateness draws stay put
    late = {"app_sleep_late_cv": 0.5}
    base = paced_lateness(_paced(LATE, **late).events, 1000.0)
    assert paced_lateness(_paced(LATE, **late, **spread).events, 1000.0) == pytest.approx(base)


def test_calibrate_measures_what_the_model_does() -> None:
    # the probes calibrate fits from, run on the model, give back the model's values
    assert paced_lateness(_paced(LATE).events, 1000.0) == pytest.approx([LATE] * 4, abs=1e-12)
    assert paced_lateness(_paced(0.0).events, 1000.0) == pytest.approx([0.0] * 4, abs=1e-12)
    assert mark_lead(_paced(LATE, app_mark_s=1.5e-4).events) == pytest.approx(1.5e-4, abs=1e-12)


def test_spread_lateness_has_the_model_mean_and_spread() -> None:
    # 1999 gamma draws of mean 40 µs, cv 0.7: the fit's sampling error is ~1.6% (mean) and
    # ~3% (cv) at one standard deviation
    run = _paced(40e-6, duration=2.0, app_sleep_late_cv=0.7)
    late = paced_lateness(run.events, 1000.0)
    mean, cv, _ = fit_gamma(late)
    assert mean == pytest.approx(40e-6, rel=0.05) and cv == pytest.approx(0.7, rel=0.1)
    assert min(late) > 0 and len(set(late)) == len(late)  # each sleep its own draw
    again = _paced(40e-6, duration=2.0, app_sleep_late_cv=0.7)
    assert paced_lateness(again.events, 1000.0) == late  # same seed, same draws
    other = _paced(40e-6, duration=2.0, seed=1, app_sleep_late_cv=0.7)
    assert paced_lateness(other.events, 1000.0) != late


def test_handshake_probe_gives_the_connecting_sides_trips() -> None:
    ev = _paced(0.0).events  # zero costs: the default trips at a zero hop
    assert handshake_of(ev) == pytest.approx(0.0, abs=1e-12)
    sc = load_scenario(scenario_path("slow_joiner"), {"rate": 1000.0, "duration": 0.005,
                                                       "join_at": 0.001})
    model = CostModel.zero().model_copy(update={"io_wakeup_s": 10e-6})
    run = simulate(sc.model_copy(update={"model": model}), seed=0)
    assert handshake_of(run.events) == pytest.approx(model.tcp.connect_half_trips * 10e-6)


def test_pipeline_makespan_counts_each_task_late() -> None:
    shipped = load_scenario(scenario_path("pipeline"), {"workers": 4})
    # on time against exactly LATE: the shipped profile's own lateness and its spread set aside
    sc, late = (shipped.model_copy(update={"model": shipped.model.model_copy(
        update={"app_sleep_late_s": x, "app_sleep_late_cv": 0.0})}) for x in (0.0, LATE))
    on_time = next(p.value for p in predict_pipeline(sc) if p.metric == "makespan_s")
    lagged = next(p.value for p in predict_pipeline(late) if p.metric == "makespan_s")
    assert lagged - on_time == pytest.approx(25 * LATE)
    # and the simulation: the same draws, every task ending LATE later, 25 tasks per worker
    a = simulate(sc, seed=1).metric("sink", "makespan_s")
    b = simulate(late, seed=1).metric("sink", "makespan_s")
    assert b - a == pytest.approx(25 * LATE, rel=0.05)


def _lifecycle(result, node: str, event: str) -> list[float]:
    ev = result.events
    return ev[(ev.node == node) & (ev.event == event)].t.tolist()


@pytest.mark.parametrize("seed", range(6))
def test_late_starts_never_race_a_bind_due_first(seed: int) -> None:
    # As the live backend: a node that starts at 0 binds before the common start, and a
    # connect waits for the binds due at or before its node's start, however late each wakes
    # (slow_subscriber: both nodes start at 0, the subscriber connects to the publisher).
    sc = load_scenario(scenario_path("slow_subscriber"), {"count": 50, "service": 0.0})
    model = sc.model.model_copy(update={"app_start_late_s": 2e-4, "app_start_late_cv": 1.0})
    run = simulate(sc.model_copy(update={"model": model}), seed=seed)
    assert _lifecycle(run, "publisher", "bind") == [0.0]
    assert not _lifecycle(run, "subscriber", "refused")
    assert run.metric("subscriber", "received") == 50


def test_a_connect_waits_for_a_peer_due_to_bind_at_its_start() -> None:
    # both nodes due at 10 ms: the pusher's connect waits until the puller, late, has bound
    sc = load_scenario(scenario_path("throughput"), {"messages": 10})
    nodes = {n: s.model_copy(update={"start": s.start.model_copy(update={"at": 0.01})})
             for n, s in sc.nodes.items()}
    model = sc.model.model_copy(update={"app_start_late_s": 2e-4, "app_start_late_cv": 1.0})
    waited = 0
    for seed in range(6):
        run = simulate(sc.model_copy(update={"nodes": nodes, "model": model}), seed=seed)
        bind = _lifecycle(run, "puller", "bind")[0]
        connect = _lifecycle(run, "pusher", "connect")[0]
        assert bind > 0.01 and connect >= bind and not _lifecycle(run, "pusher", "refused")
        waited += connect == bind
        assert run.metric("puller", "received") == 10
    assert waited  # in some seeds the pusher woke first and waited


def test_throttle_sends_follow_libzmq_max_command_delay() -> None:
    from zsim.analysis.calibrate_bench import throttle_sends

    grid = [k * 1e-4 for k in range(40)]  # 10k msg/s
    assert throttle_sends(grid, 1.43e-3) == [0, 15, 30]  # the 15th send after 1.43 ms
    ms = [k * 1e-3 for k in range(7)]  # 1k msg/s: every other send
    assert throttle_sends(ms, 1.43e-3) == [0, 2, 4, 6]
    late = [*ms[:3], ms[3] + 0.5e-3, *ms[4:]]  # one send late enough flips the parity
    assert throttle_sends(late, 1.43e-3) == [0, 2, 3, 5]
    assert throttle_sends([], 1e-3) == []


# --- lateness by the sleep's length (app_sleep_late_by_length) ---------------------------------
SHORT_LONG = (SleepLateness(sleep_s=0.5e-3, late_s=100e-6, sd_s=0.0),
              SleepLateness(sleep_s=1.5e-3, late_s=300e-6, sd_s=0.0))


def test_lateness_is_interpolated_in_the_sleeps_length_and_held_beyond() -> None:
    model = CostModel(app_sleep_late_s=1e-3, app_sleep_late_cv=0.5,
                      app_sleep_late_by_length=SHORT_LONG)
    assert model.sleep_lateness(0.0) == (100e-6, 0.0)
    assert model.sleep_lateness(1e-3) == pytest.approx((200e-6, 0.0))
    assert model.sleep_lateness(10.0) == (300e-6, 0.0)
    # without points, the scalar pair: the mean and cv × mean
    assert CostModel(app_sleep_late_s=40e-6, app_sleep_late_cv=0.5).sleep_lateness(1.0) == (
        40e-6, 20e-6)
    with pytest.raises(ValueError, match="sleep_s must increase"):
        CostModel(app_sleep_late_by_length=SHORT_LONG[::-1])


def test_each_sleep_is_late_by_the_lateness_of_its_length() -> None:
    # 1000 msg/s, no costs: send 0 at 0; send 1 sleeps 1 ms (200 µs late: 1.2 ms); send 2
    # sleeps the 0.8 ms left (160 µs late: 2.16 ms); send 3 0.84 ms (168 µs late). The scalar
    # pair is ignored when the points are given.
    sends = _sends(_paced(1e-3, app_sleep_late_by_length=SHORT_LONG))
    assert sends == pytest.approx([0.0, 1.2e-3, 2.16e-3, 3.168e-3, 4.1664e-3], abs=1e-12)


def test_lateness_spread_by_length_is_the_measured_spread() -> None:
    # one point: every sleep 40 µs ± 4 µs late; 1999 draws give the within-run (p90 - p10) /
    # 2.563 to ~3% at one standard deviation
    point = (SleepLateness(sleep_s=1e-3, late_s=40e-6, sd_s=4e-6),)
    late = paced_lateness(_paced(0.0, duration=2.0, app_sleep_late_by_length=point).events,
                          1000.0)
    spread = float(np.subtract(*np.percentile(late, [90, 10]))) / 2.563
    assert np.mean(late) == pytest.approx(40e-6, rel=0.01)
    assert spread == pytest.approx(4e-6, rel=0.1)
    again = _paced(0.0, duration=2.0, app_sleep_late_by_length=point)
    assert paced_lateness(again.events, 1000.0) == late  # same seed, same draws
