"""A socket's attachment to a peer (``Conn``) and libzmq's routing strategies over them.

``LoadBalancer`` and ``FairQueue`` reproduce libzmq's array-with-active-prefix algorithms step by
step (src/lb.cpp, src/fq.cpp), swaps included, because the swaps decide the round-robin order
that users observe. ``fan_out`` is src/dist.cpp with xpub's prefix matching.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zsim.sim.pipe import Pipe

if TYPE_CHECKING:
    from zsim.sim.sockets import SimSocket

# Command kinds a socket's mailbox carries (libzmq command_t types this model needs).
ATTACH, ACTIVATE_READ, ACTIVATE_WRITE, TERM, HICCUP = range(5)


class Conn:
    """One peer of a socket: ``out`` carries socket → peer, ``inp`` peer → socket."""

    __slots__ = (
        "alive",
        "endpoint",
        "incoming",
        "inp",
        "out",
        "out_active",
        "partner",
        "peer",
        "peer_known",
        "routing_id",
        "socket",
        "subs",
        "terminating",
    )

    def __init__(self, socket: SimSocket, out: Pipe, inp: Pipe, peer: str, endpoint: str) -> None:
        self.socket = socket
        self.out = out
        self.inp = inp
        out.writer = self
        inp.reader = self
        self.out_active = True
        self.peer = peer  # "node.socket" of the peer, for the records
        self.endpoint = endpoint
        self.routing_id = b""  # the ZMQ_ROUTING_ID the peer announced in its handshake
        # whether that announcement has arrived: a connecting tcp/ipc pipe exists before its
        # handshake (socket_base.cpp connect_internal), and an inproc one before its bind
        self.peer_known = True
        self.subs: dict[str, int] = {}  # XPUB side: the peer's subscriptions (prefix → count)
        self.alive = True
        self.incoming = False  # True where this socket bound and the peer connected
        self.partner: Conn | None = None  # inproc: the peer socket's Conn over the same pipes
        # the peer is gone and this socket still reads what it sent (pipe.cpp
        # waiting_for_delimiter); it writes nothing more to it
        self.terminating = False

    # PipeListener: for a socket, both activations are commands in its mailbox (pipe.cpp
    # send_activate_read / send_activate_write), applied when the socket processes commands.
    def read_activated(self, pipe: Pipe) -> None:
        self.socket.post(ACTIVATE_READ, self, 0)

    def write_activated(self, pipe: Pipe, msgs_read: int) -> None:
        self.socket.post(ACTIVATE_WRITE, self, msgs_read)

    def command_posted(self) -> None:
        # mailbox_t::send and its signal (src/mailbox.cpp), paid by the application thread at
        # the end of its send/recv call (zsim.sim.node)
        node = self.socket.node
        node.owed_s += node.post_cost

    def try_write(self, msg: Any) -> bool:
        """pipe_t::check_write + write: False (and inactive until activate_write) when full."""
        if not self.out_active or not self.alive:
            return False
        if not self.out.check_write():
            self.out_active = False
            return False
        self.out.write(msg)
        return True

    def __repr__(self) -> str:
        return f"Conn({self.socket.label}<->{self.peer})"


class _ActivePrefix:
    """libzmq array_t with an active prefix ``[0, active)`` and a rotating ``current``."""

    def __init__(self) -> None:
        self.pipes: list[Conn] = []
        self.active = 0
        self.current = 0

    def _swap(self, i: int, j: int) -> None:
        p = self.pipes
        p[i], p[j] = p[j], p[i]

    def attach(self, conn: Conn) -> None:
        self.pipes.append(conn)
        self._swap(self.active, len(self.pipes) - 1)
        self.active += 1

    def activated(self, conn: Conn) -> None:
        i = self.pipes.index(conn)
        if i >= self.active:
            self._swap(i, self.active)
            self.active += 1

    def _deactivate_current(self) -> None:
        self.active -= 1
        if self.current < self.active:
            self._swap(self.current, self.active)
        else:
            self.current = 0

    def terminated(self, conn: Conn) -> None:
        if conn not in self.pipes:
            return
        i = self.pipes.index(conn)
        if i < self.active:
            self.active -= 1
            self._swap(i, self.active)
            if self.current == self.active:
                self.current = 0
        # array_t::erase: the last item takes the erased one's place.
        last = self.pipes.pop()
        if last is not conn:
            self.pipes[self.pipes.index(conn)] = last


class LoadBalancer(_ActivePrefix):
    """src/lb.cpp: write to ``pipes[current]``; a full pipe leaves the active prefix."""

    def send(self, msg: Any) -> Conn | None:
        while self.active > 0:
            conn = self.pipes[self.current]
            if conn.try_write(msg):
                conn.out.flush()
                self.current += 1
                if self.current >= self.active:
                    self.current = 0
                return conn
            self._deactivate_current()
        return None

    def has_out(self) -> bool:
        return self.active > 0


class FairQueue(_ActivePrefix):
    """src/fq.cpp: one whole message from each non-empty pipe in turn."""

    def recv(self) -> tuple[Conn, Any] | None:
        while self.active > 0:
            conn = self.pipes[self.current]
            if conn.inp.check_read():
                msg = conn.inp.pop()
                self.current = (self.current + 1) % self.active
                return conn, msg
            self._drop_current()
        return None

    def has_in(self) -> bool:
        while self.active > 0:
            if self.pipes[self.current].inp.check_read():
                return True
            self._drop_current()
        return False

    def _drop_current(self) -> None:
        # fq.cpp: an empty pipe leaves the active prefix; activate_read brings it back.
        self.active -= 1
        self._swap(self.current, self.active)
        if self.current == self.active:
            self.current = 0


def matches(subs: dict[str, int], topic: str) -> bool:
    """xpub's trie match: some subscription is a prefix of the topic ('' matches all)."""
    if "" in subs:
        return True
    return any(topic.startswith(s) for s in subs)


def fan_out(
    conns: list[Conn], msg: Any, topic: str, match_all: bool, on_drop: Callable[[Conn], None]
) -> int:
    """src/dist.cpp: a copy to every matching pipe; a full pipe's copy is dropped."""
    written = 0
    for conn in conns:
        if not (match_all or matches(conn.subs, topic)):
            continue
        if conn.try_write(msg):
            conn.out.flush()
            written += 1
        else:
            on_drop(conn)
    return written
