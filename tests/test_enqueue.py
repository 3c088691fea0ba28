"""A send that no pipe takes costs less (``app_enqueue_s``): a PUB's dist.cpp skips a pipe at
its HWM, so the call writes nothing and sets no I/O thread working."""

from __future__ import annotations

import numpy as np
import pytest

from zsim.costs import CostModel
from zsim.scenario.load import load_scenario_text
from zsim.sim import simulate

SEND, SAVED = 10e-6, 4e-6


def _send_gaps(kind: str, peer: str, enqueue: float = SAVED) -> list[float]:
    """Gaps between a publisher's 5 back-to-back sends on a ``kind`` socket; with a peer
    socket ``peer`` connected (and never reading) unless it is empty."""
    subscribe = ', subscribe = [""]' if peer == "SUB" else ""
    peer_node = f"""
[nodes.peer]
behaviour = "subscriber"
start = {{ at = 0.01 }}
params = {{ socket = "in", idle_timeout = 0.5 }}
sockets = [{{ name = "in", type = "{peer}", connect = ["tcp://src:5000"]{subscribe} }}]
""" if peer else ""
    # with a peer, the burst starts once its connection (and subscription) is in place
    start = '{ after = "peer:ready", delay = 0.1 }' if peer else "{ at = 0.1 }"
    text = f"""
[run]
until = 1.0
[nodes.src]
behaviour = "publisher"
start = {start}
params = {{ socket = "out", count = 5, size = 10 }}
sockets = [{{ name = "out", type = "{kind}", bind = ["tcp://src:5000"] }}]
{peer_node}"""
    sc = load_scenario_text(text, source="<test>", name="enqueue")
    model = CostModel.zero().model_copy(update={"app_send_s": SEND, "app_enqueue_s": enqueue})
    ev = simulate(sc.model_copy(update={"model": model}), seed=0).events
    t = ev[(ev.node == "src") & (ev.event == "send")].t.to_numpy()
    return list(np.diff(t))


def test_a_send_no_pipe_takes_leaves_the_saving_to_the_next_call() -> None:
    # a PUB with no subscriber has no pipe: each call after a dropped one costs SEND - SAVED
    assert _send_gaps("PUB", "") == pytest.approx([SEND - SAVED] * 4, abs=1e-15)


def test_a_queued_send_costs_it_all() -> None:
    # a PUSH to a connected PULL queues every message: the full cost, as without the parameter
    assert _send_gaps("PUSH", "PULL") == pytest.approx([SEND] * 4, abs=1e-15)
    assert _send_gaps("PUSH", "PULL", enqueue=0.0) == _send_gaps("PUSH", "PULL")


def test_a_pub_with_a_subscriber_pays_for_what_it_queues() -> None:
    assert _send_gaps("PUB", "SUB") == pytest.approx([SEND] * 4, abs=1e-15)
