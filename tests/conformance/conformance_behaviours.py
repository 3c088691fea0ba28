"""Behaviours for the sim-vs-live conformance suite ('conformance_behaviours:NAME').

Live node processes import this module by name: the runner hands them the test process's
``sys.path``, which pytest has given this folder. Parameters are plain dicts from the TOML, and
every blocking call carries a timeout so that a broken backend fails a test instead of hanging it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import zmq

from zsim.behaviours.api import Message, Node, Op

WAIT_S = 5.0  # default timeout of wait_connected and of a blocking send/recv


def _is_efsm(exc: zmq.ZMQError) -> bool:
    return exc.errno == zmq.EFSM


def req_client(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """REQ: recv before any send (EFSM); then `rounds` times: send, send again (EFSM), recv."""
    sock = node.socket(p.get("socket", "req"))
    rounds = int(p.get("rounds", 3))
    try:
        yield sock.recv(timeout=1.0)
        node.set_metric("efsm_recv_first", 0)
    except zmq.ZMQError as exc:
        node.set_metric("efsm_recv_first", 1 if _is_efsm(exc) else -exc.errno)
    ok = yield sock.wait_connected(timeout=WAIT_S)
    node.set_metric("connected", 1 if ok else 0)
    efsm_send = replies = matched = 0
    for r in range(rounds):
        sent = yield sock.send({"round": r}, size=8, timeout=WAIT_S)
        if not sent:
            break
        try:
            yield sock.send({"round": r, "again": True}, size=8, timeout=1.0)
        except zmq.ZMQError as exc:
            efsm_send += 1 if _is_efsm(exc) else 0
        reply: Message | None = yield sock.recv(timeout=WAIT_S)
        if reply is None:
            break
        replies += 1
        matched += 1 if reply.body.get("round") == r else 0
    node.set_metric("efsm_send", efsm_send)
    node.set_metric("replies", replies)
    node.set_metric("matched", matched)


def rep_server(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """REP: send before any recv (EFSM); then `rounds` times: recv, recv again (EFSM), reply."""
    sock = node.socket(p.get("socket", "rep"))
    rounds = int(p.get("rounds", 3))
    try:
        yield sock.send({"premature": True}, size=8, timeout=1.0)
        node.set_metric("efsm_send_first", 0)
    except zmq.ZMQError as exc:
        node.set_metric("efsm_send_first", 1 if _is_efsm(exc) else -exc.errno)
    efsm_recv = served = 0
    for _ in range(rounds):
        req: Message | None = yield sock.recv(timeout=WAIT_S)
        if req is None:
            break
        try:
            yield sock.recv(timeout=0.1)
        except zmq.ZMQError as exc:
            efsm_recv += 1 if _is_efsm(exc) else 0
        yield sock.send({"round": req.body.get("round")}, size=8, timeout=WAIT_S)
        served += 1
    node.set_metric("efsm_recv", efsm_recv)
    node.set_metric("served", served)


def sender(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """Send `n` messages on `socket`, topics cycling through `topics`, each with `timeout`.

    Optional: `wait` (wait_connected first, up to that many seconds), `stop_at_refusal` (stop at
    the first refused send), `block_timeout` (then one more send with that timeout, timed),
    `end_topic` (a final message with body {"end": true} on that topic), `signal` (a socket to
    send one "go" message on afterwards), `close` (then close the socket and try one more send).
    Marks "done" at the end.
    Metrics: accepted, refused, first_refused (-1 if none), block_ok, blocked_s,
    closed_send_errno (the error of the send after close).
    """
    sock = node.socket(p.get("socket", "out"))
    if p.get("wait"):
        ok = yield sock.wait_connected(timeout=float(p["wait"]))
        node.set_metric("connected", 1 if ok else 0)
    topics = list(p.get("topics", [""]))
    size = int(p.get("size", 10))
    timeout = float(p.get("timeout", WAIT_S))
    accepted = refused = 0
    first_refused = -1
    for k in range(int(p["n"])):
        ok = yield sock.send({"k": k}, size=size, topic=topics[k % len(topics)], timeout=timeout)
        if ok:
            accepted += 1
            continue
        refused += 1
        if first_refused < 0:
            first_refused = k
        if p.get("stop_at_refusal"):
            break
    if p.get("block_timeout"):
        t0: float = yield node.now()
        ok = yield sock.send({"k": -1}, size=size, timeout=float(p["block_timeout"]))
        t1: float = yield node.now()
        node.set_metric("block_ok", 1 if ok else 0)
        node.set_metric("blocked_s", t1 - t0)
    if "end_topic" in p:
        yield sock.send({"end": True}, size=size, topic=p["end_topic"], timeout=timeout)
    if p.get("signal"):
        yield node.socket(p["signal"]).send({"go": True}, size=1, timeout=WAIT_S)
    if p.get("close"):
        yield sock.close()
        try:
            yield sock.send({"k": -2}, size=size, timeout=0)
            node.set_metric("closed_send_errno", 0)
        except zmq.ZMQError as exc:
            node.set_metric("closed_send_errno", exc.errno)
    node.set_metric("accepted", accepted)
    node.set_metric("refused", refused)
    node.set_metric("first_refused", first_refused)
    yield node.mark("done")


def receiver(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """Mark "ready" (after wait_connected when `wait` is set), then receive.

    Before receiving, waits for one message on socket `gate` (a sender's `signal`), if set.

    Stops after `expect` messages (0 = no limit), at a message whose body has "end" (not
    counted), or when `idle` s pass without one. `read` = false never receives at all.
    Metric: got.
    """
    sock = node.socket(p.get("socket", "in"))
    if p.get("wait"):
        ok = yield sock.wait_connected(timeout=float(p["wait"]))
        node.set_metric("connected", 1 if ok else 0)
    yield node.mark("ready")
    if not p.get("read", True):
        return
    if p.get("gate"):
        go: Message | None = yield node.socket(p["gate"]).recv(timeout=WAIT_S)
        node.set_metric("gate_open", 0 if go is None else 1)
    expect = int(p.get("expect", 0))
    idle = float(p.get("idle", 1.0))
    got = 0
    while expect == 0 or got < expect:
        msg: Message | None = yield sock.recv(timeout=idle)
        if msg is None or msg.body.get("end"):
            break
        got += 1
    node.set_metric("got", got)


def relaxed_client(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """REQ_RELAXED resend: request 0, give up on it after `patience` s, (sleep `pause` s,)
    request 1, and take the reply; then request 2 and take that. Metrics: first_in_time (1 if
    request 0 was answered within `patience`), answered and last_answered (which request
    each reply answers, -1 for none)."""
    sock = node.socket(p.get("socket", "req"))
    yield sock.send({"k": 0}, size=4, timeout=WAIT_S)
    first: Message | None = yield sock.recv(timeout=float(p.get("patience", 0.05)))
    node.set_metric("first_in_time", 0 if first is None else 1)
    if p.get("pause"):  # the late reply arrives meanwhile, before the resend
        yield node.sleep(float(p["pause"]))
    yield sock.send({"k": 1}, size=4, timeout=WAIT_S)
    reply: Message | None = yield sock.recv(timeout=WAIT_S)
    node.set_metric("answered", -1 if reply is None else int(reply.body["answer"]))
    yield sock.send({"k": 2}, size=4, timeout=WAIT_S)  # and a last one, to see what comes
    last: Message | None = yield sock.recv(timeout=WAIT_S)
    node.set_metric("last_answered", -1 if last is None else int(last.body["answer"]))
    yield node.mark("done")


def slow_first_echo(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """REP: answer each request with {"answer": k}; the first one after `delay` s."""
    sock = node.socket(p.get("socket", "rep"))
    for n in range(int(p.get("rounds", 3))):
        req: Message | None = yield sock.recv(timeout=WAIT_S)
        if req is None:
            return
        if n == 0:
            yield node.sleep(float(p.get("delay", 0.3)))
        yield sock.send({"answer": req.body["k"]}, size=4, timeout=WAIT_S)
