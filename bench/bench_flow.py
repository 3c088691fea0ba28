"""The flow the benchmarks run: one PUSH node sending N messages of 100 B as fast as it can to
one PULL node that receives them, as a scenario for either backend.

By default the nodes run the two minimal behaviours below (``bench_flow:pusher`` and
``bench_flow:puller``: one ``send`` or ``recv`` per message and nothing else), so that the numbers
measure the backends and not whatever per-message bookkeeping the built-in behaviours grow.
``builtin=True`` runs the built-in ``publisher`` / ``subscriber`` instead.

Both behaviours mark points the measurements read from the event log: the pusher ``started``
right before its first send, the puller ``done`` right after its last recv.

This directory must be on ``sys.path`` (it is when a bench script runs): behaviours are resolved
as ``module:function``, and the live backend hands ``sys.path`` to its node processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zsim.behaviours.api import Node, Op

SIZE = 100
HWM = 1000


def pusher(node: Node, params: dict[str, Any]) -> Iterator[Op]:
    """Send ``count`` messages of ``size`` bytes on ``socket``, back to back."""
    sock = node.socket(params.get("socket", "out"))
    count, size = int(params["count"]), int(params.get("size", SIZE))
    yield node.mark("started")
    for _ in range(count):
        yield sock.send(size=size)
    yield node.mark("done")


def puller(node: Node, params: dict[str, Any]) -> Iterator[Op]:
    """Receive ``count`` messages on ``socket``."""
    sock = node.socket(params.get("socket", "in"))
    count = int(params["count"])
    yield node.mark("ready")
    for _ in range(count):
        yield sock.recv()
    yield node.mark("done")


def flow_text(n: int, transport: str = "tcp", *, builtin: bool = False, until: float = 1.0e9,
              linger: int = -1) -> str:
    """The scenario (TOML) of one flow of ``n`` messages over ``transport``."""
    endpoint = f"{transport}://puller:5555"
    if builtin:
        push = f'behaviour = "publisher"\nparams = {{ socket = "out", count = {n}, size = {SIZE} }}'
        pull = f'behaviour = "subscriber"\nparams = {{ socket = "in", count = {n} }}'
    else:
        push = f'behaviour = "bench_flow:pusher"\nparams = {{ count = {n}, size = {SIZE} }}'
        pull = f'behaviour = "bench_flow:puller"\nparams = {{ count = {n} }}'
    return f"""
# bench: one PUSH→PULL flow, {n} messages of {SIZE} B as fast as possible
[run]
stop_after = ["puller"]
until = {until}
record = "lifecycle"

[nodes.pusher]
{push}
sockets = [ {{ name = "out", type = "PUSH", connect = ["{endpoint}"], sndhwm = {HWM}, linger = {linger} }} ]

[nodes.puller]
{pull}
sockets = [ {{ name = "in", type = "PULL", bind = ["{endpoint}"], rcvhwm = {HWM}, linger = {linger} }} ]
"""  # noqa: E501


def flow_window(events: Any) -> tuple[float, float]:
    """(t of the pusher's ``started`` mark, t of the puller's ``done`` mark) from an event log."""
    marks = events[events.event == "mark"]
    started = marks[(marks.node == "pusher") & (marks.detail == "started")].t
    done = marks[(marks.node == "puller") & (marks.detail == "done")].t
    if started.empty or done.empty:
        raise RuntimeError("the event log lacks the pusher's 'started' or the puller's 'done' mark")
    return float(started.iloc[0]), float(done.iloc[0])
