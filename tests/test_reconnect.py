"""Reconnect backoff as libzmq 4.3.5 computes it (stream_connecter_base.cpp
get_new_reconnect_ivl): with RECONNECT_IVL_MAX, ivl, 2 ivl, ... capped at the max and no
jitter; without it, ivl + rand() % ivl; the doubling starts over after a connection."""

from __future__ import annotations

import textwrap

import numpy as np

from zsim.scenario.load import load_scenario_text
from zsim.sim import simulate

LATE_BIND = """
    [run]
    until = {until}

    [nodes.server]
    behaviour = "server"
    start = {{ at = {bind_at} }}
    crash_at = {crash_at}
    restart_at = {restart_at}
    params = {{ service = 0.0 }}
    sockets = [{{ name = "replies", type = "REP", bind = ["tcp://server:5555"] }}]

    [nodes.client]
    behaviour = "client"
    params = {{ requests = 1 }}
    sockets = [{{ name = "requests", type = "REQ", connect = ["tcp://server:5555"], reconnect_ivl = 100, {max_opt} }}]
"""  # noqa: E501


def attempts(max_opt: str, bind_at: float = 2.0, crash_at: float = 9.0,
             restart_at: float = 11.0, until: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    text = textwrap.dedent(LATE_BIND.format(max_opt=max_opt, bind_at=bind_at, until=until,
                                            crash_at=crash_at, restart_at=restart_at))
    ev = simulate(load_scenario_text(text, source="<t>", name="t"), seed=3).events
    client = ev[ev.node == "client"]
    refused = client[client.event == "refused"].t.to_numpy()
    connected = client[client.event == "connected"].t.to_numpy()
    return refused, connected


def test_with_a_max_the_waits_double_up_to_it_without_jitter() -> None:
    refused, connected = attempts("reconnect_ivl_max = 400")
    gaps = np.diff(refused[refused < 2.0])  # before the server binds
    # each gap is the wait plus one refused attempt's round trip (the same every time)
    trip = gaps[0] - 0.1
    assert np.allclose(gaps[:4] - trip, [0.1, 0.2, 0.4, 0.4])
    assert np.all(gaps - trip <= 0.4 + 1e-9)  # never above the max
    assert len(connected) >= 1


def test_without_a_max_each_wait_is_ivl_plus_jitter_below_ivl() -> None:
    refused, _ = attempts("reconnect_ivl_max = 0")
    waits = np.diff(refused[refused < 2.0])  # before the server binds
    assert np.all((waits >= 0.1) & (waits < 0.2 + 0.001))
    assert len(set(np.round(waits, 6))) > 1  # the jitter varies


def test_the_backoff_starts_over_after_a_connection() -> None:
    # connected at ~2 s after backing off to the max; the server dies at 9 s and is back at
    # 11 s: the waits after the loss start again at 100 ms
    refused, connected = attempts("reconnect_ivl_max = 400")
    after = refused[refused > 9.0]
    trip = np.diff(refused)[0] - 0.1
    assert len(connected) == 2
    assert np.allclose(np.diff(after)[:3] - trip, [0.2, 0.4, 0.4])
    assert after[0] - 9.0 < 0.2  # the first retry after the loss waited ivl (100 ms) + trips
