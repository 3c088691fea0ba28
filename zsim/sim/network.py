"""Endpoints, bind and connect: inproc pipes, and tcp/ipc connections with handshakes.

libzmq rules modelled (src/socket_base.cpp connect_internal, src/session_base.cpp,
src/stream_connecter_base.cpp, src/ctx.cpp):
- connect over tcp/ipc creates the session's pipes and attaches them to the socket at once, so
  lb/dist/fq count the peer before TCP exists and messages queue up to SNDHWM (unless IMMEDIATE).
- The binding side gets its pipe only when its engine is ready after the handshake, as a
  ``bind`` command applied at the socket's next command processing.
- Handshake: TCP connect plus ZMTP greeting stages and READY, as ``connect_half_trips`` and
  ``bind_half_trips`` one-way trips, each costing link latency plus an I/O-thread wake-up.
- A refused attempt, or a broken connection, is retried after reconnect_ivl + rand() % ivl ms
  (doubling up to reconnect_ivl_max when set); the session keeps its pipes and queued messages,
  and SUB pipes are "hiccuped" (subscriptions resent).
- inproc: no engine; one pipe per direction of capacity sndhwm + rcvhwm (0 if either is 0,
  pipe.cpp set_hwms); connect before bind is parked and completed at bind (ctx_t).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from zsim.costs import LinkCosts
from zsim.scenario.model import transport_of
from zsim.scenario.pairs import compatible
from zsim.sim.engine import Engine, Wire
from zsim.sim.pipe import Pipe
from zsim.sim.routing import ACTIVATE_READ, ATTACH, HICCUP, TERM, Conn
from zsim.sim.sockets import NO_LINGER_TYPES

if TYPE_CHECKING:
    from zsim.sim.node import SimNode
    from zsim.sim.sockets import SimSocket


def inproc_hwm(send_hwm: int, recv_hwm: int) -> int:
    return 0 if send_hwm == 0 or recv_hwm == 0 else send_hwm + recv_hwm


class Connection:
    """A tcp/ipc connection: its two engines, so that one end's death reaches the other."""

    __slots__ = ("dead", "engines", "env", "hop")

    def __init__(self, env: simpy.Environment, hop: float) -> None:
        self.env = env
        self.hop = hop
        self.engines: list[Engine] = []
        self.dead = False

    def broken_by(self, engine: Engine) -> None:
        """``engine`` died; the other end notices one trip later (FIN/RST), and gives up its
        undelivered data."""
        self.dead = True
        for other in self.engines:
            if other is not engine and other.alive:
                def fail(_e: Any, other: Engine = other) -> None:
                    other.node.count_destroyed(other.kill())

                self.env.timeout(self.hop).callbacks.append(fail)


def announce(conn: Conn) -> None:
    """The peer's routing id has arrived on ``conn``: its socket learns it at its next command
    processing, as libzmq's reader finds the routing-id message in the pipe (activate_read;
    router.cpp xread_activated identifies an anonymous pipe then)."""
    if not conn.peer_known:
        conn.peer_known = True
        conn.socket.post(ACTIVATE_READ, conn, 0)


class Network:
    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.listeners: dict[str, SimSocket] = {}
        self.parked: dict[str, list[Conn]] = {}

    def bind(self, sock: SimSocket, endpoint: str) -> None:
        self.listeners[endpoint] = sock
        sock.node.record_lifecycle(sock, "bind", endpoint, "")
        if transport_of(endpoint) == "inproc":
            for conn in self.parked.pop(endpoint, []):
                if conn.alive:
                    self._join_inproc(conn, sock)

    def unbind(self, node: SimNode) -> None:
        for ep, sock in list(self.listeners.items()):
            if sock.node is node:
                del self.listeners[ep]

    def close(self, sock: SimSocket) -> None:
        """zmq_close from a behaviour (socket_base.cpp process_term, session_base.cpp
        process_term). The socket reads nothing more: its inbound messages
        are lost. inproc: what it wrote stays in the pipe for the peer, whose end of the pipe
        waits for its delimiter (pipe.cpp), whatever the linger. tcp/ipc: each session keeps
        writing its pipe's messages to the kernel for ZMQ_LINGER ms (-1: until they are all
        out; SUB and XSUB: 0), reconnecting if it must, then drops the rest and closes; what
        was written still reaches the peer (Wire.send_fin)."""
        linger = 0 if sock.spec.type in NO_LINGER_TYPES else sock.spec.linger
        linger_s = None if linger < 0 else linger / 1000.0
        node = sock.node
        node.record_lifecycle(sock, "close", "", f"linger {linger}")
        sock.closed = True
        sock.mailbox.clear()
        for ep in [ep for ep, s in self.listeners.items() if s is sock]:
            del self.listeners[ep]
        for conn in sock.conns:
            node.count_destroyed(len(conn.inp))
            conn.inp.queue.clear()
            reader = conn.out.reader
            if isinstance(reader, Engine):
                reader.close(linger_s)
            elif conn.partner is not None:
                conn.partner.socket.post(TERM, conn.partner, 0)
            elif conn in self.parked.get(conn.endpoint, []):
                # an inproc connect never bound: its messages have nowhere to go
                self.parked[conn.endpoint].remove(conn)
                node.count_destroyed(len(conn.out))
                conn.out.queue.clear()
        for session in sock.sessions:
            session.close(linger_s)

    def connect(self, sock: SimSocket, endpoint: str) -> None:
        sock.node.record_lifecycle(sock, "connect", endpoint, "")
        if transport_of(endpoint) == "inproc":
            self._connect_inproc(sock, endpoint)
        else:
            Session(self, sock, endpoint)

    # --- inproc ---------------------------------------------------------------------------
    def _connect_inproc(self, sock: SimSocket, endpoint: str) -> None:
        spec = sock.spec
        out = Pipe(spec.sndhwm, conflate=spec.conflate, label=f"{sock.label}>{endpoint}")
        inp = Pipe(spec.rcvhwm, conflate=spec.conflate, label=f"{endpoint}>{sock.label}")
        conn = Conn(sock, out, inp, endpoint, endpoint)
        conn.peer_known = False  # the binder's routing id comes with the join
        sock.attach(conn)  # connect_internal attaches the connecting side's pipe directly
        binder = self.listeners.get(endpoint)
        if binder is not None and binder.node.alive:
            self._join_inproc(conn, binder)
        else:
            self.parked.setdefault(endpoint, []).append(conn)

    def _join_inproc(self, conn: Conn, binder: SimSocket) -> None:
        a, b = conn.socket.spec, binder.spec
        conn.out.set_hwm(inproc_hwm(a.sndhwm, b.rcvhwm))
        conn.inp.set_hwm(inproc_hwm(b.sndhwm, a.rcvhwm))
        peer = Conn(binder, conn.inp, conn.out, conn.socket.label, conn.endpoint)
        peer.incoming = True
        peer.partner, conn.partner = conn, peer
        peer.routing_id = (a.routing_id or "").encode()
        conn.routing_id = (b.routing_id or "").encode()
        conn.peer = binder.label
        announce(conn)
        binder.post(ATTACH, peer, 0)
        conn.socket.note_handshake()
        binder.note_handshake()
        binder.node.record_lifecycle(binder, "accepted", conn.socket.label, conn.endpoint)
        conn.socket.node.record_lifecycle(conn.socket, "connected", binder.label, conn.endpoint)


class Session:
    """The connecting side of one tcp/ipc endpoint: keeps its pipe across reconnects."""

    def __init__(self, network: Network, sock: SimSocket, endpoint: str) -> None:
        self.network = network
        self.sock = sock
        self.node = sock.node
        self.env = network.env
        self.endpoint = endpoint
        self.transport = transport_of(endpoint)
        costs = self.node.world.costs
        self.link: LinkCosts = costs.link(self.transport)
        self.hop = self.link.latency_s + costs.io_wakeup_s
        self.current_ivl = -1  # the connecter's backoff in ms (-1: none yet)
        self.retry = True  # False once a handshake failed on a protocol error
        self.conn: Conn | None = None
        # after close: how long it may still connect and write (None: for ever); done once
        # its pipe is written out or dropped
        self.linger_until: float | None = None
        self.done = False
        sock.sessions.append(self)
        if not sock.spec.immediate:
            self.conn = self._new_conn()
            sock.attach(self.conn)
        self.env.process(self._run())

    def close(self, linger_s: float | None) -> None:
        """The socket closed. Connected: its engine writes the pipe out (Engine.close).
        Not connected: with messages queued and a linger left, it keeps reconnecting to
        write them; the linger timer drops what is still queued (session_base.cpp
        timer_event)."""
        conn = self.conn
        engine = None if conn is None else conn.out.reader
        if isinstance(engine, Engine) and engine.alive:
            engine.close(linger_s)  # and should the peer go, the session reconnects
        elif conn is None or not conn.out.queue or linger_s == 0:
            self._drop_queued()
            return
        if linger_s is not None:
            self.linger_until = self.env.now + linger_s
            self.env.timeout(linger_s).callbacks.append(lambda _e: self._drop_queued())

    def _drop_queued(self) -> None:
        if self.done:
            return
        self.done = True
        if self.conn is not None:
            self.node.count_destroyed(len(self.conn.out))
            self.conn.out.queue.clear()

    def _new_conn(self) -> Conn:
        spec, label = self.sock.spec, self.sock.label
        out = Pipe(spec.sndhwm, conflate=spec.conflate, label=f"{label}>{self.endpoint}")
        inp = Pipe(spec.rcvhwm, conflate=spec.conflate, label=f"{self.endpoint}>{label}")
        conn = Conn(self.sock, out, inp, self.endpoint, self.endpoint)
        conn.peer_known = False  # until the handshake brings the peer's routing id
        return conn

    def _alive(self) -> bool:
        """Open, or closed and lingering with messages still to write."""
        if not self.node.alive:
            return False
        if not self.sock.closed:
            return True
        return not self.done and self.conn is not None and bool(self.conn.out.queue)

    def _run(self) -> Generator[simpy.Event, Any, None]:
        retry = False
        while self._alive() and self.retry:
            if retry:
                wait = self._next_interval()
                if wait is None:
                    return
                yield self.env.timeout(wait)
                if not self._alive():
                    return
            retry = True
            yield from self._attempt()

    def _next_interval(self) -> float | None:
        """stream_connecter_base.cpp get_new_reconnect_ivl (4.3.5), in ms: with
        RECONNECT_IVL_MAX > 0, ivl, 2 ivl, 4 ivl ... capped at the max, no jitter; without,
        ivl + rand() % ivl. The doubling lives in the connecter, and session_base.cpp makes a
        fresh one for every connection cycle, so it starts over after a connection."""
        spec = self.sock.spec
        if spec.reconnect_ivl < 0:
            return None
        ivl = max(spec.reconnect_ivl, 1)
        if spec.reconnect_ivl_max > 0:
            doubled = ivl if self.current_ivl < 0 else self.current_ivl * 2
            self.current_ivl = min(doubled, spec.reconnect_ivl_max)
            return self.current_ivl / 1000.0
        jitter = int(self.node.system_rng.integers(0, ivl))
        return (ivl + jitter) / 1000.0

    def _attempt(self) -> Generator[simpy.Event, Any, None]:
        env, hop, link = self.env, self.hop, self.link
        t0 = env.now
        yield env.timeout(hop)  # the SYN (or the ipc connect) reaches the listener
        binder = self.network.listeners.get(self.endpoint)
        if binder is None or not binder.node.alive or binder.closed:
            yield env.timeout(hop)
            self.node.record_lifecycle(self.sock, "refused", self.endpoint, "")
            return
        if not compatible(self.sock.spec.type, binder.spec.type):
            yield from self._refused_by_type(binder, t0)
            return
        connection = Connection(env, hop)
        there, back = Wire(env, link), Wire(env, link)
        # a descheduled I/O thread delays every later stage of the handshake, on both sides
        late = (float(self.node.system_rng.exponential(link.handshake_jitter_s))
                if link.handshake_jitter_s > 0 else 0.0)
        bind_ready = t0 + link.bind_half_trips * hop + late
        env.process(self._bind_side(binder, connection, there, back, bind_ready))
        yield env.timeout(max(0.0, t0 + link.connect_half_trips * hop + late - env.now))
        if not self._alive() or connection.dead:
            return
        if self.conn is None:  # IMMEDIATE: the pipe exists only once the peer does
            self.conn = self._new_conn()
            self.sock.attach(self.conn)
        conn = self.conn
        conn.peer = binder.label
        conn.routing_id = (binder.spec.routing_id or "").encode()
        announce(conn)
        engine = Engine(self.node, conn.out, conn.inp, there, back, f"{self.sock.label}~")
        connection.engines.append(engine)
        self.node.engines.append((engine, connection))
        self.sock.note_handshake()
        self.current_ivl = -1  # connected: the next connecter starts from RECONNECT_IVL
        self.node.record_lifecycle(self.sock, "connected", binder.label, self.endpoint)
        if self.sock.closed:  # connected while lingering: write the pipe out, then close
            until = self.linger_until
            engine.close(None if until is None else max(0.0, until - env.now))
        yield engine.down
        if not self._alive():
            return
        self.node.record_lifecycle(self.sock, "disconnected", binder.label, self.endpoint)
        if self.sock.spec.immediate:
            self.sock.post(TERM, conn, 0)
            self.conn = None
        else:
            self.sock.post(HICCUP, conn, 0)

    def _refused_by_type(self, binder: SimSocket, t0: float) -> Generator[simpy.Event, Any, None]:
        """mechanism.cpp check_socket_type fails on READY: a protocol error. The connecting
        session does not reconnect (session_base.cpp engine_error), and its pipe stays
        attached with nothing to drain it, so sends queue up to SNDHWM and then block
        (measured with pyzmq 27 / libzmq 4.3.5: a DEALER to a PULL over tcp accepts 1000
        sends, delivers none, and retries nothing)."""
        link = self.link
        yield self.env.timeout(max(0.0, t0 + link.connect_half_trips * self.hop - self.env.now))
        self.node.record_lifecycle(self.sock, "refused", binder.label,
                                   f"handshake: {self.sock.spec.type} to {binder.spec.type}")
        self.retry = False

    def _bind_side(
        self, binder: SimSocket, connection: Connection, there: Wire, back: Wire, ready: float
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        yield env.timeout(max(0.0, ready - env.now))
        if connection.dead or not binder.node.alive or binder.closed or not self._alive():
            return
        spec = binder.spec
        out = Pipe(spec.sndhwm, conflate=spec.conflate, label=f"{binder.label}>{self.sock.label}")
        inp = Pipe(spec.rcvhwm, conflate=spec.conflate, label=f"{self.sock.label}>{binder.label}")
        conn = Conn(binder, out, inp, self.sock.label, self.endpoint)
        conn.incoming = True
        conn.routing_id = (self.sock.spec.routing_id or "").encode()
        if self.transport in ("pgm", "epgm"):
            conn.subs[""] = 1  # connect_internal subscribe_to_all: filtering at the subscriber
        engine = Engine(binder.node, out, inp, back, there, f"{binder.label}~")
        connection.engines.append(engine)
        binder.node.engines.append((engine, connection))
        binder.post(ATTACH, conn, 0)
        binder.note_handshake()
        binder.node.record_lifecycle(binder, "accepted", self.sock.label, self.endpoint)
        yield engine.down
        if binder.node.alive and not binder.closed:
            # session_base_t: the binding side does not reconnect; its pipe is terminated.
            binder.node.record_lifecycle(binder, "disconnected", self.sock.label, self.endpoint)
            binder.post(TERM, conn, 0)
