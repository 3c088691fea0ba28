"""An I/O thread that was idle only briefly wakes faster (CostModel.io_hot_wakeup_s within
io_hot_idle_s): its core has not gone into a deep sleep yet. In a burst the publisher's I/O
thread is then running again before the next send, and writes one message at a time."""

from __future__ import annotations

from typing import Any

import pytest
import simpy

from zsim.analysis.calibrate import fit_hot_wake
from zsim.analysis.closed_forms import reqrep_rtt
from zsim.costs import CostModel
from zsim.scenario.load import load_scenario_text
from zsim.sim import engine, simulate
from zsim.sim.engine import IoThread

# a publisher sending as fast as it can (a send every 15 µs) through ipc to a subscriber
SCENARIO = """
[run]
stop_after = ["pub"]
until = 5.0
[model]
app_send_s = 15e-6
app_record_s = 0.0
io_wakeup_s = 20e-6
{hot}
[nodes.pub]
behaviour = "publisher"
start = {{ after = "sub:ready", delay = 0.01 }}
params = {{ socket = "out", count = 200, size = 10 }}
sockets = [{{ name = "out", type = "PUB", bind = ["ipc://feed"], sndhwm = 1000 }}]
[nodes.sub]
behaviour = "subscriber"
params = {{ socket = "in", count = 200 }}
sockets = [{{ name = "in", type = "SUB", connect = ["ipc://feed"], subscribe = [""] }}]
"""


_SEND = engine.Wire.send


def test_a_wake_within_the_window_is_hot() -> None:
    env = simpy.Environment()
    io = IoThread(env, None, wakeup_s=20e-6, hot_wakeup_s=3e-6, hot_idle_s=50e-6)
    io.busy(10e-6)  # works until 10 µs
    env.run(until=40e-6)
    assert io.wake_delay() == 3e-6  # idle 30 µs
    env.run(until=70e-6)
    assert io.wake_delay() == 20e-6  # idle 60 µs
    assert IoThread(env, None, 20e-6).wake_delay() == 20e-6  # no window: always the same


def test_the_shipped_model_has_no_hot_wake() -> None:
    model = CostModel()
    assert model.io_hot_wakeup_s is None and model.io_hot_idle_s == 0.0


def _messages_per_write(hot: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []

    def counting(self: engine.Wire, msgs: list[Any], nbytes: int) -> None:
        sizes.append(len(msgs))
        _SEND(self, msgs, nbytes)

    monkeypatch.setattr(engine.Wire, "send", counting)
    sc = load_scenario_text(SCENARIO.format(hot=hot), source="<test>", name="hot")
    simulate(sc, seed=1)
    return sizes


def test_a_hot_io_thread_writes_each_message_of_a_burst_on_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # cold: 20 µs to wake, a send every 15 µs: the next message is in the pipe by then
    cold = _messages_per_write("", monkeypatch)
    hot = _messages_per_write("io_hot_wakeup_s = 3e-6\nio_hot_idle_s = 50e-6", monkeypatch)
    # the first wake of each follows a long idle (cold); from the second on, a cold wake
    # finds two messages in, and a hot one a single message (the run stops with the
    # publisher's last send, before the cold side's last write)
    assert cold == [1] + [2] * 99
    assert hot == [1, 2] + [1] * 197


def test_the_fit_takes_half_the_one_way_difference_and_the_halfway_gap() -> None:
    us = 1e-6
    curve = {25 * us: 30 * us, 50 * us: 31 * us, 100 * us: 30 * us, 200 * us: 60 * us,
             400 * us: 70 * us, 800 * us: 80 * us}
    fit = fit_hot_wake({"tcp": curve}, {"tcp": 400 * us})
    # hot 30 µs (the fastest up to 100 µs), 70 µs at the round trip's gap: 20 µs a wake
    assert fit.saving_s == pytest.approx(20 * us)
    # halfway is 50 µs, first passed at 200 µs: the window is between 100 and 200 µs
    assert fit.idle_s == pytest.approx((100 * 200) ** 0.5 * us)
    assert fit_hot_wake({}, {"tcp": 400 * us}).saving_s is None


def test_the_round_trip_counts_a_hot_sending_wake_only_inside_the_window() -> None:
    base = CostModel(io_wakeup_s=20e-6, io_hot_wakeup_s=5e-6)
    turn = base.app_wakeup_s + base.app_recv_s + base.app_send_s
    outside = base.model_copy(update={"io_hot_idle_s": turn / 2})
    inside = base.model_copy(update={"io_hot_idle_s": turn * 2})
    assert reqrep_rtt(outside, "tcp") == reqrep_rtt(base, "tcp")
    assert reqrep_rtt(base, "tcp") - reqrep_rtt(inside, "tcp") == pytest.approx(2 * 15e-6)
