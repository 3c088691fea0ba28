"""The node API behaviours are written against. Knows nothing of simpy or zmq.

A behaviour is ``def name(node: Node, params: P) -> Iterator[Op]``. Every call that takes time or
touches a socket returns an ``Op``; the behaviour ``yield``s it and gets the result back:

    msg = yield node.socket("tasks").recv()          # Message (or None after a timeout)
    yield node.work(msg.body["workload"])             # busy, no zmq calls meanwhile
    yield node.socket("results").send({"task": msg.body["task"]}, size=8)

Errors that libzmq would return (EFSM for a REQ sending twice, EHOSTUNREACH from a mandatory
ROUTER) are raised inside the behaviour as ``zmq.ZMQError`` by either backend.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# ZMTP frame header: 1 flag byte + 1 length byte up to 255 bytes, else 1 + 8 (v3 encoder).
_SHORT_FRAME = 255


def frame_overhead(size: int) -> int:
    return 2 if size <= _SHORT_FRAME else 9


@dataclass(slots=True)
class Message:
    """One multipart message. ``(sender, seq)`` identifies it across the whole run."""

    sender: str
    seq: int
    body: dict[str, Any]
    size: int
    topic: str = ""
    envelope: tuple[bytes, ...] = ()
    t_sent: float = 0.0

    @property
    def wire_size(self) -> int:
        """Bytes on a ZMTP connection, frame headers included."""
        n = self.size + frame_overhead(self.size)
        for frame in self.envelope:
            n += len(frame) + frame_overhead(len(frame))
        return n

    def with_envelope(self, envelope: tuple[bytes, ...]) -> Message:
        return Message(self.sender, self.seq, self.body, self.size, self.topic, envelope,
                       self.t_sent)


@dataclass(slots=True, frozen=True)
class Subscription:
    """A (un)subscription travelling upstream: what XPUB receives and XSUB sends."""

    topic: str
    subscribe: bool = True
    size: int = 0

    @property
    def wire_size(self) -> int:
        n = len(self.topic.encode()) + 1
        return n + frame_overhead(n)


Frame = Message | Subscription


@dataclass(slots=True)
class Op:
    """Base of the operations a behaviour yields. Treat them as values: backends never change an
    op, and a socket handle hands out the same blocking ``Recv`` every time. (Not ``frozen``: a
    frozen dataclass's ``__init__`` costs three times as much, on every message.)"""


@dataclass(slots=True)
class Send(Op):
    socket: str
    message: Frame
    timeout: float | None = None  # None blocks; 0 never blocks (EAGAIN → result False)


@dataclass(slots=True)
class Recv(Op):
    socket: str
    timeout: float | None = None  # None blocks; the result is None when it expires


@dataclass(slots=True)
class Poll(Op):
    sockets: tuple[str, ...]
    timeout: float | None = None  # result: the names of the sockets with a message ready


@dataclass(slots=True)
class Sleep(Op):
    seconds: float


@dataclass(slots=True)
class Work(Op):
    """Busy for ``seconds`` (CPU work): like sleep, zmq processes no commands meanwhile."""

    seconds: float


@dataclass(slots=True)
class Mark(Op):
    """Reach a named point; other nodes may start ``after`` it."""

    point: str


@dataclass(slots=True)
class Close(Op):
    """zmq_close ``socket``: it sends and receives no more; what it queued goes out for its
    ZMQ_LINGER ms (-1: until all is out; 0: dropped), while the behaviour goes on."""

    socket: str


@dataclass(slots=True)
class WaitConnected(Op):
    """Block until ``socket`` has completed a handshake with a peer (or the timeout expires)."""

    socket: str
    timeout: float | None = None


@dataclass(slots=True)
class Now(Op):
    """The current time in seconds since the scenario started."""


class SocketHandle:
    """What a behaviour holds for one of its node's sockets: it only builds operations."""

    __slots__ = ("_recv", "name", "node")

    def __init__(self, node: Node, name: str) -> None:
        self.node = node
        self.name = name
        self._recv = Recv(name, None)

    def send(
        self,
        body: dict[str, Any] | None = None,
        *,
        size: int = 0,
        topic: str = "",
        envelope: tuple[bytes, ...] = (),
        timeout: float | None = None,
    ) -> Send:
        """A new message, numbered ``(node, seq)``; ``size`` is the payload in bytes."""
        msg = Message(self.node.sender, self.node.next_seq(), body or {},
                      max(size, len(topic)), topic, envelope)
        return Send(self.name, msg, timeout)

    def forward(self, message: Frame, timeout: float | None = None) -> Send:
        """Send a received message on, unchanged (proxies)."""
        return Send(self.name, message, timeout)

    def recv(self, timeout: float | None = None) -> Recv:
        return self._recv if timeout is None else Recv(self.name, timeout)

    def wait_connected(self, timeout: float | None = None) -> WaitConnected:
        return WaitConnected(self.name, timeout)

    def close(self) -> Close:
        return Close(self.name)


@dataclass
class Node:
    """The behaviour's view of its node. Backends build it; behaviours only read and call it."""

    name: str
    index: int
    rng: np.random.Generator
    incarnation: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    _seq: int = 0

    @property
    def sender(self) -> str:
        """Message-id sender: the node name, with ``~k`` after its k-th restart."""
        return self.name if self.incarnation == 0 else f"{self.name}~{self.incarnation}"

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq - 1

    def socket(self, name: str) -> SocketHandle:
        return SocketHandle(self, name)

    def poll(self, sockets: list[str] | tuple[str, ...], timeout: float | None = None) -> Poll:
        return Poll(tuple(sockets), timeout)

    def sleep(self, seconds: float) -> Sleep:
        return Sleep(seconds)

    def work(self, seconds: float) -> Work:
        return Work(seconds)

    def mark(self, point: str) -> Mark:
        return Mark(point)

    def now(self) -> Now:
        return Now()

    def set_metric(self, metric: str, value: float) -> None:
        """Report a behaviour-level metric (tasks, makespan_s, …) in the run's metrics table."""
        self.metrics[metric] = float(value)


BehaviourRun = Generator[Op, Any, None]
"""What a behaviour function returns: a generator yielding ops and receiving their results."""

Behaviour = Callable[[Node, Any], BehaviourRun]
