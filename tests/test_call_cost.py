"""A send's and a recv's cost by message size (``app_call_by_size``): measured live at a few
sizes, interpolated between them. A line through the sizes misses the step from 10 B to 1 kB
(live, a pyzmq send's CPU: 12.3 µs at 10 B, 13.4 at 1 kB, 16.7 at 10 kB), and a PUB burst at
its HWM passes about HWM messages per command-throttle interval, so what a subscriber gets
follows what each send costs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from zsim.analysis.closed_forms import predict_slow_subscriber
from zsim.catalog import scenario_path
from zsim.costs import CallCost, CostModel, LinkCosts
from zsim.records import RunResult
from zsim.scenario import load_scenario
from zsim.sim import simulate

TABLE = (CallCost(size_bytes=10, send_s=12e-6, recv_s=9e-6),
         CallCost(size_bytes=1000, send_s=15e-6, recv_s=10e-6))


def _model(**update: object) -> CostModel:
    return CostModel(app_byte_s=1e-9, app_call_by_size=TABLE).model_copy(update=update)


def test_the_cost_is_interpolated_in_size() -> None:
    m = _model()
    assert m.call_cost(10) == (12e-6, 9e-6)
    assert m.call_cost(1000) == (15e-6, 10e-6)
    assert m.call_cost(505) == pytest.approx((13.5e-6, 9.5e-6), rel=1e-12)


def test_outside_the_sizes_the_copy_rule_goes_on() -> None:
    m = _model()
    assert m.call_cost(2000) == pytest.approx((16e-6, 11e-6), rel=1e-12)
    assert m.call_cost(0) == pytest.approx((12e-6 - 10e-9, 9e-6 - 10e-9), rel=1e-12)


def test_without_a_table_the_line_stays() -> None:
    m = CostModel(app_send_s=5e-6, app_recv_s=4e-6, app_byte_s=2e-9)
    assert m.call_cost(100) == pytest.approx((5.2e-6, 4.2e-6), rel=1e-12)


def test_recording_and_a_slower_host_apply_to_the_table() -> None:
    m = _model(app_record_s=3e-6)
    assert m.recording(True).call_cost(10) == pytest.approx((15e-6, 12e-6), rel=1e-12)
    assert m.recording(False).call_cost(10) == (12e-6, 9e-6)
    assert m.slowed(2.0).call_cost(505) == pytest.approx((27e-6, 19e-6), rel=1e-12)


def test_sizes_must_increase() -> None:
    with pytest.raises(ValidationError, match="size_bytes must increase"):
        CostModel(app_call_by_size=(TABLE[1], TABLE[0]))


BURST = {"transport": "tcp", "hwm": 10, "size": 1000, "count": 2000, "service": 0.0005}


def _burst(seed: int, **costs: object) -> RunResult:
    sc = load_scenario(scenario_path("slow_subscriber"), BURST)
    model = CostModel.zero().model_copy(update={"command_interval_s": 1.5e-3, **costs})
    return simulate(sc.model_copy(update={"model": model}), seed=seed)


def test_each_send_pays_its_size_and_a_dearer_size_lengthens_the_burst() -> None:
    line = _burst(0, app_send_s=12e-6, app_recv_s=9e-6)
    table = _burst(0, app_call_by_size=TABLE)
    again = _burst(0, app_call_by_size=TABLE)
    assert table.events.equals(again.events)  # same seed, same records
    sent = table.metric("publisher", "sent")
    assert table.metric("publisher", "cpu_s") == pytest.approx(sent * 15e-6, rel=1e-9)
    assert line.metric("publisher", "cpu_s") == pytest.approx(sent * 12e-6, rel=1e-9)
    # 2000 sends of 12 µs span 16 throttle intervals of 1.5 ms, of 15 µs 20: HWM 10 a piece
    assert (line.metric("subscriber", "received"),
            table.metric("subscriber", "received")) == (160.0, 200.0)


def test_the_closed_form_burst_uses_the_table() -> None:
    # capacity (pipes and 20 kB of kernel buffers: 40 messages) + 2000/s × the burst's length
    sc = load_scenario(scenario_path("slow_subscriber"), BURST)
    base = CostModel(tcp=LinkCosts(kernel_buffer_bytes=20_000), app_byte_s=0.0)
    received = []
    for table in (TABLE[:1], TABLE):  # 12 µs a send at 1 kB (held), then 15 µs
        model = base.model_copy(update={"app_call_by_size": table})
        received.append(next(p.value for p in predict_slow_subscriber(
            sc.model_copy(update={"model": model})) if p.metric == "received"))
    assert received[1] - received[0] == pytest.approx(2000 * 3e-6 * 2000, rel=1e-9)
