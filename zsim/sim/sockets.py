"""Socket types: small classes over ``Conn`` pipes and the routing strategies.

A socket's state changes only when its owner's application thread calls it: ``send``/``recv``
(driven by ``zsim.sim.node``) and ``process_commands``, which applies the commands queued in its
mailbox (new pipes, activations, terminations) the way libzmq's socket_base_t does.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar

import zmq

from zsim.behaviours.api import Subscription
from zsim.scenario.model import SocketSpec
from zsim.sim.routing import (
    ACTIVATE_READ,
    ACTIVATE_WRITE,
    ATTACH,
    HICCUP,
    TERM,
    Conn,
    FairQueue,
    LoadBalancer,
    fan_out,
    matches,
)

if TYPE_CHECKING:
    from zsim.sim.network import Session
    from zsim.sim.node import SimNode

# push.cpp and pub.cpp xattach_pipe call set_nodelay: their pipes carry nothing to read, so a
# peer's termination does not wait for the reader (pipe.cpp process_pipe_term)
NODELAY_TYPES = frozenset({"PUSH", "PUB"})
# xsub.cpp (and so sub.cpp) forces ZMQ_LINGER to 0
NO_LINGER_TYPES = frozenset({"SUB", "XSUB"})


class SimSocket:
    type: ClassVar[str] = ""
    # a send may write nothing and still succeed (dist.cpp drops): app_drop_saving_s applies
    drops_unwritten: ClassVar[bool] = False

    def __init__(self, node: SimNode, spec: SocketSpec) -> None:
        self.node = node
        self.spec = spec
        self.label = f"{node.name}.{spec.name}"
        self.mailbox: deque[tuple[int, Conn, int]] = deque()
        self.last_commands_t = -1.0e300  # only send's throttled check moves it (_last_tsc)
        costs = node.costs
        # how much earlier than the first processing the throttle's clock starts (command_phase)
        self.throttle_phase = (float(node.system_rng.uniform(0.0, costs.command_interval_s))
                               if costs.command_phase == "random" else 0.0)
        self.ticks = 0
        self.conns: list[Conn] = []
        self.draining: list[Conn] = []  # terminating conns with messages still to read
        self.sessions: list[Session] = []  # the connecting side's sessions (zsim.sim.network)
        self.closed = False
        self.handshakes = 0
        self.handshake_waiters: list[Any] = []
        # whether the last message sent went into a pipe (False: a PUB dropped every copy)
        self.wrote = True

    def note_handshake(self) -> None:
        """A connection of this socket completed its handshake (for wait_connected)."""
        self.handshakes += 1
        waiters, self.handshake_waiters = self.handshake_waiters, []
        for event in waiters:
            if not event.triggered:
                event.succeed()

    # --- commands (socket_base_t::process_commands) -------------------------------------
    def post(self, kind: int, conn: Conn, arg: int) -> None:
        if self.closed:
            return
        self.mailbox.append((kind, conn, arg))
        self.node.app.notify(self)

    def process_commands(self) -> None:
        mailbox = self.mailbox
        while mailbox:
            kind, conn, arg = mailbox.popleft()
            if kind == ACTIVATE_READ:
                if conn.alive:
                    self.xread_activated(conn)
            elif kind == ACTIVATE_WRITE:
                conn.out.peer_read = arg
                if not conn.out_active and conn.alive and not conn.terminating:
                    conn.out_active = True
                    self.xwrite_activated(conn)
            elif kind == ATTACH:
                self.attach(conn)
            elif kind == TERM:
                self.detach(conn)
            elif kind == HICCUP:
                self.xhiccuped(conn)

    def attach(self, conn: Conn) -> None:
        if not conn.alive:
            return
        self.conns.append(conn)
        self.node.record_lifecycle(self, "attach", conn.peer, conn.endpoint)
        self.xattach(conn)

    def detach(self, conn: Conn) -> None:
        """The peer is gone: unread outbound messages are deleted (process_pipe_term_ack).
        What it sent and this socket has not read yet is read first: the pipe waits for its
        delimiter (pipe.cpp process_pipe_term with _delay, the default but for
        NODELAY_TYPES), and leaves the socket when it is read empty (``reap_drained``)."""
        if conn not in self.conns:
            return
        if conn.inp.queue and self.spec.type not in NODELAY_TYPES:
            if not conn.terminating:
                conn.terminating = True
                conn.out_active = False  # pipe_t::check_write: only an active pipe is written
                self.node.count_destroyed(len(conn.out))
                conn.out.queue.clear()
                self.draining.append(conn)
            return
        self._detached(conn)

    def reap_drained(self) -> None:
        """After a read while ``draining``: let go of the terminating pipes read empty
        (their delimiter is next)."""
        for conn in [c for c in self.draining if not c.inp.queue]:
            self.draining.remove(conn)
            self._detached(conn)

    def _detached(self, conn: Conn) -> None:
        self.conns.remove(conn)
        conn.alive = False
        self.node.count_destroyed(len(conn.out))
        conn.out.queue.clear()
        self.node.record_lifecycle(self, "detach", conn.peer, conn.endpoint)
        self.xterminated(conn)

    # --- per-type hooks ---------------------------------------------------------------------
    def xattach(self, conn: Conn) -> None:
        raise NotImplementedError

    def xterminated(self, conn: Conn) -> None:
        raise NotImplementedError

    def xread_activated(self, conn: Conn) -> None:
        pass

    def xwrite_activated(self, conn: Conn) -> None:
        pass

    def xhiccuped(self, conn: Conn) -> None:
        pass

    def xsend(self, msg: Any) -> bool:
        """Queue ``msg``; False means EAGAIN (would block). May raise zmq.ZMQError."""
        raise zmq.ZMQError(zmq.ENOTSUP)

    def xrecv(self) -> Any | None:
        """A message, or None for EAGAIN. May raise zmq.ZMQError."""
        raise zmq.ZMQError(zmq.ENOTSUP)

    def has_in(self) -> bool:
        return False

    def has_out(self) -> bool:
        return False

    def drop(self, msg: Any, reason: str, peer: str = "") -> None:
        self.node.count_drop(self, msg, reason, peer)

    def queued(self) -> int:
        """Messages sitting in this socket's pipes (for conservation checks)."""
        return sum(len(c.inp) + len(c.out) for c in self.conns)


class _LoadBalancedOut(SimSocket):
    """The sending side of PUSH, DEALER, REQ and PAIR: src/lb.cpp over the socket's pipes."""

    def __init__(self, node: SimNode, spec: SocketSpec) -> None:
        super().__init__(node, spec)
        self.lb = LoadBalancer()

    def xattach(self, conn: Conn) -> None:
        self.lb.attach(conn)

    def xterminated(self, conn: Conn) -> None:
        self.lb.terminated(conn)

    def xwrite_activated(self, conn: Conn) -> None:
        self.lb.activated(conn)

    def xsend(self, msg: Any) -> bool:
        return self.lb.send(msg) is not None

    def has_out(self) -> bool:
        return self.lb.has_out()


class PushSocket(_LoadBalancedOut):
    type = "PUSH"


class PullSocket(SimSocket):
    type = "PULL"

    def __init__(self, node: SimNode, spec: SocketSpec) -> None:
        super().__init__(node, spec)
        self.fq = FairQueue()

    def xattach(self, conn: Conn) -> None:
        self.fq.attach(conn)

    def xterminated(self, conn: Conn) -> None:
        # Inbound messages already queued stay readable (the pipe waits for its delimiter).
        if not conn.inp.queue:
            self.fq.terminated(conn)

    def xread_activated(self, conn: Conn) -> None:
        self.fq.activated(conn)

    def xrecv(self) -> Any | None:
        got = self.fq.recv()
        return None if got is None else got[1]

    def has_in(self) -> bool:
        return self.fq.has_in()


class DealerSocket(PullSocket, _LoadBalancedOut):
    """lb out, fq in, no envelope changes (src/dealer.cpp)."""

    type = "DEALER"

    def xattach(self, conn: Conn) -> None:
        PullSocket.xattach(self, conn)
        _LoadBalancedOut.xattach(self, conn)

    def xterminated(self, conn: Conn) -> None:
        PullSocket.xterminated(self, conn)
        _LoadBalancedOut.xterminated(self, conn)


class ReqSocket(DealerSocket):
    """src/req.cpp: DEALER plus strict send/recv alternation and an empty delimiter."""

    type = "REQ"

    def __init__(self, node: SimNode, spec: SocketSpec) -> None:
        super().__init__(node, spec)
        self.receiving_reply = False
        self.reply_conn: Conn | None = None
        self.request_id = 0

    def xsend(self, msg: Any) -> bool:
        if self.receiving_reply and not self.spec.req_relaxed:
            raise zmq.ZMQError(zmq.EFSM)
        envelope: tuple[bytes, ...] = (b"",)
        if self.spec.req_correlate:
            self.request_id += 1
            envelope = (struct.pack(">I", self.request_id), b"")
        conn = self.lb.send(msg.with_envelope(envelope + msg.envelope))
        if conn is None:
            return False
        self.reply_conn = conn
        self.receiving_reply = True
        # req.cpp xsend: "eat all currently available messages" once a request is sent, so
        # that a reply to an earlier request, already in, is never taken for this one's
        while (got := self.fq.recv()) is not None:
            self.drop(got[1], "stale reply", got[0].peer)
        return True

    def xrecv(self) -> Any | None:
        if not self.receiving_reply:
            raise zmq.ZMQError(zmq.EFSM)
        while True:
            got = self.fq.recv()
            if got is None:
                return None
            conn, msg = got
            expected = (struct.pack(">I", self.request_id), b"") if self.spec.req_correlate \
                else (b"",)
            # req.cpp recv_reply_pipe: only the reply pipe, only a well-formed envelope.
            if conn is not self.reply_conn or msg.envelope[: len(expected)] != expected:
                self.drop(msg, "stale reply", conn.peer)
                continue
            self.receiving_reply = False
            self.reply_conn = None
            return msg.with_envelope(msg.envelope[len(expected):])

    def has_in(self) -> bool:
        return self.receiving_reply and self.fq.has_in()

    def has_out(self) -> bool:
        return (not self.receiving_reply or self.spec.req_relaxed) and self.lb.has_out()


class RouterSocket(PullSocket):
    """src/router.cpp: prefix the peer's routing id on receive; route by it on send.

    A pipe is identified (router.cpp identify_peer) when the peer's routing-id message can be
    read from it: a pipe of a connect is anonymous until its handshake (xattach_pipe puts it
    in ``_anonymous_pipes``; xread_activated identifies it then), and is neither read nor
    routable before. The id is the one the peer announced (ZMQ_ROUTING_ID) or, if none, 0x00
    and a 32-bit counter; one already in use is refused (the newcomer stays anonymous: its
    messages are never read) unless ROUTER_HANDOVER, which hands the id to the newcomer and
    terminates the old pipe. After a reconnect the pipe keeps its id (router.cpp xrecv skips
    the new routing-id message).
    """

    type = "ROUTER"

    def __init__(self, node: SimNode, spec: SocketSpec) -> None:
        super().__init__(node, spec)
        self.by_id: dict[bytes, Conn] = {}
        self.id_of: dict[Conn, bytes] = {}  # the id each identified pipe is routed by
        self.anonymous: set[Conn] = set()
        self.next_id = int(node.system_rng.integers(0, 2**31))

    def xattach(self, conn: Conn) -> None:
        if not self._identify(conn):
            self.anonymous.add(conn)

    def xread_activated(self, conn: Conn) -> None:
        if conn in self.anonymous:
            if self._identify(conn):
                self.anonymous.discard(conn)
            return
        super().xread_activated(conn)

    def _identify(self, conn: Conn) -> bool:
        if conn in self.id_of:
            return True
        if not conn.peer_known:
            return False
        rid = conn.routing_id
        if not rid:
            rid = b"\x00" + struct.pack(">I", self.next_id & 0xFFFFFFFF)
            self.next_id += 1
        elif rid in self.by_id:
            if not self.spec.router_handover:
                return False
            self.detach(self.by_id[rid])  # the old pipe is terminated (identify_peer)
        self.by_id[rid] = conn
        self.id_of[conn] = rid
        super().xattach(conn)
        return True

    def xterminated(self, conn: Conn) -> None:
        self.anonymous.discard(conn)
        rid = self.id_of.pop(conn, None)
        if rid is not None and self.by_id.get(rid) is conn:
            del self.by_id[rid]
        super().xterminated(conn)

    def xrecv(self) -> Any | None:
        got = self.fq.recv()
        if got is None:
            return None
        conn, msg = got
        return msg.with_envelope((self.id_of[conn], *msg.envelope))

    def xsend(self, msg: Any) -> bool:
        rid = msg.envelope[0] if msg.envelope else b""
        conn = self.by_id.get(rid)
        if conn is None:
            if self.spec.router_mandatory:
                raise zmq.ZMQError(zmq.EHOSTUNREACH)
            self.drop(msg, "unroutable")
            return True
        out = msg.with_envelope(msg.envelope[1:])
        if conn.try_write(out):
            conn.out.flush()
        elif self.spec.router_mandatory:
            return False
        else:
            self.drop(out, "hwm", conn.peer)
        return True

    def has_out(self) -> bool:
        return True


class RepSocket(RouterSocket):
    """src/rep.cpp: ROUTER that keeps the envelope up to the delimiter for the reply."""

    type = "REP"

    def __init__(self, node: SimNode, spec: SocketSpec) -> None:
        super().__init__(node, spec)
        self.sending_reply = False
        self.saved: tuple[bytes, ...] = ()

    def xrecv(self) -> Any | None:
        if self.sending_reply:
            raise zmq.ZMQError(zmq.EFSM)
        while True:
            msg = super().xrecv()
            if msg is None:
                return None
            if b"" not in msg.envelope:
                self.drop(msg, "no delimiter")
                continue
            cut = msg.envelope.index(b"") + 1
            self.saved = msg.envelope[:cut]
            self.sending_reply = True
            return msg.with_envelope(msg.envelope[cut:])

    def xsend(self, msg: Any) -> bool:
        if not self.sending_reply:
            raise zmq.ZMQError(zmq.EFSM)
        super().xsend(msg.with_envelope(self.saved))
        self.sending_reply = False
        return True

    def has_in(self) -> bool:
        return not self.sending_reply and self.fq.has_in()

    def has_out(self) -> bool:
        return self.sending_reply


class PubSocket(SimSocket):
    """src/xpub.cpp + dist.cpp: fan out to pipes whose subscriptions prefix the topic."""

    type = "PUB"
    drops_unwritten = True

    def xattach(self, conn: Conn) -> None:
        self.xread_activated(conn)

    def xterminated(self, conn: Conn) -> None:
        for topic in list(conn.subs):
            self._subscription(conn, Subscription(topic, False), forget=True)

    def xread_activated(self, conn: Conn) -> None:
        pipe = conn.inp
        while pipe.check_read():
            sub = pipe.pop()
            if isinstance(sub, Subscription):
                self._subscription(conn, sub)

    def _subscription(self, conn: Conn, sub: Subscription, forget: bool = False) -> None:
        subs = conn.subs
        if sub.subscribe:
            subs[sub.topic] = subs.get(sub.topic, 0) + 1
        elif sub.topic in subs:
            subs[sub.topic] -= 1
            if subs[sub.topic] <= 0 or forget:
                del subs[sub.topic]

    def xsend(self, msg: Any) -> bool:
        conns = [c for c in self.conns if c.alive]
        if self.spec.xpub_nodrop and any(
            not c.out.check_write() for c in conns if matches(c.subs, msg.topic)
        ):
            return False
        self.wrote = fan_out(conns, msg, msg.topic, False,
                             lambda c: self.drop(msg, "hwm", c.peer)) > 0
        return True

    def has_out(self) -> bool:
        return True


class XPubSocket(PubSocket):
    """XPUB: like PUB, and recv yields subscriptions (new topics only unless verbose)."""

    type = "XPUB"

    def __init__(self, node: SimNode, spec: SocketSpec) -> None:
        super().__init__(node, spec)
        self.pending: deque[Subscription] = deque()
        self.refs: dict[str, int] = {}

    def _subscription(self, conn: Conn, sub: Subscription, forget: bool = False) -> None:
        had = sub.topic in conn.subs
        super()._subscription(conn, sub, forget)
        has = sub.topic in conn.subs
        if had == has and not self.spec.xpub_verbose:
            return
        before = self.refs.get(sub.topic, 0)
        after = before + (1 if has and not had else -1 if had and not has else 0)
        self.refs[sub.topic] = after
        if self.spec.xpub_verbose or (before == 0) != (after == 0):
            self.pending.append(sub)

    def xrecv(self) -> Any | None:
        return self.pending.popleft() if self.pending else None

    def has_in(self) -> bool:
        return bool(self.pending)


class SubSocket(PullSocket):
    """src/sub.cpp + xsub.cpp: subscriptions go upstream on every pipe; filter on receive."""

    type = "SUB"

    def __init__(self, node: SimNode, spec: SocketSpec) -> None:
        super().__init__(node, spec)
        self.subscriptions: dict[str, int] = {t: 1 for t in spec.subscribe}

    def xattach(self, conn: Conn) -> None:
        super().xattach(conn)
        self._send_all(conn)

    def _send_all(self, conn: Conn) -> None:
        # xsub.cpp xattach_pipe / send_subscription: dropped once the SUB's SNDHWM is reached.
        for topic in self.subscriptions:
            if conn.try_write(Subscription(topic)):
                conn.out.flush()

    def xhiccuped(self, conn: Conn) -> None:
        # xsub_t::xhiccuped: unsent subscriptions are discarded and all are resent.
        conn.out.queue = type(conn.out.queue)(
            m for m in conn.out.queue if not isinstance(m, Subscription)
        )
        self._send_all(conn)

    def xrecv(self) -> Any | None:
        while True:
            msg = super().xrecv()
            if msg is None or matches(self.subscriptions, msg.topic):
                return msg
            self.drop(msg, "filtered")

    def has_in(self) -> bool:
        # Filtering needs a look at the message: discard non-matching ones now.
        fq = self.fq
        while fq.has_in():
            conn = fq.pipes[fq.current]
            if matches(self.subscriptions, conn.inp.queue[0].topic):
                return True
            self.drop(conn.inp.pop(), "filtered")
        return False


class XSubSocket(PullSocket):
    """XSUB: the application sends Subscription messages; no filtering on receive."""

    type = "XSUB"

    def __init__(self, node: SimNode, spec: SocketSpec) -> None:
        super().__init__(node, spec)
        self.subscriptions: dict[str, int] = {}

    def xattach(self, conn: Conn) -> None:
        super().xattach(conn)
        for topic in self.subscriptions:
            if conn.try_write(Subscription(topic)):
                conn.out.flush()

    def xsend(self, msg: Any) -> bool:
        if isinstance(msg, Subscription):
            count = self.subscriptions.get(msg.topic, 0) + (1 if msg.subscribe else -1)
            if count > 0:
                self.subscriptions[msg.topic] = count
            else:
                self.subscriptions.pop(msg.topic, None)
            # xsub.cpp xsend: a CANCEL goes upstream only when the refcount reaches 0.
            if not msg.subscribe and count > 0:
                return True
        for conn in self.conns:
            if conn.try_write(msg):
                conn.out.flush()
        return True

    def has_out(self) -> bool:
        return True


class PairSocket(DealerSocket):
    """src/pair.cpp: one peer; later connections are refused."""

    type = "PAIR"

    def attach(self, conn: Conn) -> None:
        if any(c.alive for c in self.conns):
            conn.alive = False
            return
        super().attach(conn)


SOCKET_CLASSES: dict[str, type[SimSocket]] = {
    cls.type: cls
    for cls in (PushSocket, PullSocket, DealerSocket, ReqSocket, RouterSocket, RepSocket,
                PubSocket, XPubSocket, SubSocket, XSubSocket, PairSocket)
}

