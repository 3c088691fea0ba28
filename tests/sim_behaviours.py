"""Tiny behaviours for socket-level tests (referenced as 'sim_behaviours:NAME')."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import zmq

from zsim.behaviours.api import Node, Op


def burst(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """Send p['n'] messages on p['socket'] without blocking; count what was refused."""
    sock = node.socket(p.get("socket", "out"))
    refused = 0
    for k in range(int(p["n"])):
        ok = yield sock.send({"k": k}, size=int(p.get("size", 10)), topic=p.get("topic", ""),
                             timeout=p.get("timeout"))
        refused += 0 if ok else 1
    node.set_metric("refused", refused)
    yield node.mark("done")


def drain(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """Receive until p['idle'] s pass without a message."""
    sock = node.socket(p.get("socket", "in"))
    yield node.mark("ready")
    while True:
        msg = yield sock.recv(timeout=float(p.get("idle", 0.5)))
        if msg is None:
            break
        if p.get("service"):
            yield node.work(float(p["service"]))
    yield node.mark("done")


def idle(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """Mark ready and do nothing (a receiver that never reads)."""
    yield node.mark("ready")


def req_twice(node: Node, p: dict[str, Any]) -> Iterator[Op]:
    """Send twice on a REQ without receiving: the second raises EFSM."""
    sock = node.socket("req")
    yield sock.send({"n": 1}, size=1)
    try:
        yield sock.send({"n": 2}, size=1)
    except zmq.ZMQError as exc:
        node.set_metric("efsm", 1.0 if exc.errno == zmq.EFSM else 0.0)
