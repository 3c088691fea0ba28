"""One scenario node on real sockets: runs in its own process (or a thread for inproc scenarios).

The node talks to the runner over one duplex ``multiprocessing`` connection:

node → runner: ``("loaded",)``, ``("bound", [logical endpoints])``, ``("mark", point)``,
``("finished",)``, ``("records", events, counters, metrics, stuck, error, final)``.
runner → node: ``("go", t0_ns)``, ``("bound", [endpoints])``, ``("release",)``, ``("stop",)``.

Every blocking wait also watches that connection, so a ``stop`` reaches a node blocked anywhere;
the node then hands over everything it recorded in one message and closes its sockets with
linger 0. Nodes that the runner may SIGKILL (``crash_at``) also send their records in chunks every
``FLUSH_INTERVAL_S`` so that a crash loses at most that much.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import zmq
from zmq.utils.monitor import recv_monitor_message

from zsim.behaviours.api import (
    Close,
    Mark,
    Message,
    Node,
    Now,
    Poll,
    Recv,
    Send,
    Sleep,
    WaitConnected,
    Work,
)
from zsim.behaviours.registry import resolve, validate_params
from zsim.metrics import publishing_sockets, subscribing_sockets
from zsim.scenario.model import NodeSpec, SocketSpec, transport_of
from zsim.seeds import node_seeds

from . import threadstat
from .codec import decode, decode_body, encode, encode_body

Sock = zmq.Socket[bytes]
Ctx = zmq.Context[Sock]

FLUSH_INTERVAL_S = 0.2
BOUND_WAIT_S = 1.0  # how long a connecting node waits for its peers' binds at boot
_CHECK_S = 0.02  # a running behaviour looks at the control connection at least this often
_BLOCK_SLICE_S = 0.1  # a blocked send/recv looks at the control connection this often
_WAITED_NS = 500_000  # a send call longer than this waited for room: stamp its end
_SPIN_S = 0.002  # sleeps shorter than this use time.sleep (sub-ms precision), not poll (ms)
_MONITOR_EVENTS = (
    zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECT_RETRIED
)


@dataclass
class NodeConfig:
    """Everything a node process needs; pickled to it at spawn."""

    name: str
    incarnation: int
    spec: NodeSpec
    endpoints: dict[str, str]  # logical → real
    binders: dict[str, str]  # logical endpoint → "node.socket" that binds it
    wait_bound: list[str] = field(default_factory=list)
    seed: int = 0
    messages: bool = True
    periodic_flush: bool = False
    stderr_path: str | None = None


class _Stop(Exception):
    """The runner asked this node to stop."""


def _socket_options(sock: Sock, spec: SocketSpec) -> None:
    sock.setsockopt(zmq.SNDHWM, spec.sndhwm)
    sock.setsockopt(zmq.RCVHWM, spec.rcvhwm)
    sock.setsockopt(zmq.LINGER, spec.linger)
    sock.setsockopt(zmq.RECONNECT_IVL, spec.reconnect_ivl)
    sock.setsockopt(zmq.RECONNECT_IVL_MAX, spec.reconnect_ivl_max)
    if spec.immediate:
        sock.setsockopt(zmq.IMMEDIATE, 1)
    if spec.conflate:
        sock.setsockopt(zmq.CONFLATE, 1)
    if spec.routing_id is not None:
        sock.setsockopt(zmq.ROUTING_ID, spec.routing_id.encode())
    if spec.router_mandatory:
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
    if spec.router_handover:
        sock.setsockopt(zmq.ROUTER_HANDOVER, 1)
    if spec.req_relaxed:
        sock.setsockopt(zmq.REQ_RELAXED, 1)
    if spec.req_correlate:
        sock.setsockopt(zmq.REQ_CORRELATE, 1)
    if spec.xpub_verbose:
        sock.setsockopt(zmq.XPUB_VERBOSE, 1)
    if spec.xpub_nodrop:
        sock.setsockopt(zmq.XPUB_NODROP, 1)
    for topic in spec.subscribe:
        sock.setsockopt(zmq.SUBSCRIBE, topic.encode())


class LiveNode:
    def __init__(self, cfg: NodeConfig, conn: Connection, ctx: Ctx | None) -> None:
        self.cfg = cfg
        self.spec = cfg.spec
        self.name = cfg.name
        self.conn = conn
        self.ctrl_fd = conn.fileno()
        self.own_ctx = ctx is None
        self.ctx: Ctx | None = ctx
        self.t0 = 0
        behaviour_seed, _system = node_seeds(cfg.seed, cfg.name, cfg.incarnation)
        self.api = Node(cfg.name, cfg.spec.index, np.random.default_rng(behaviour_seed),
                        cfg.incarnation)
        self.sockets: dict[str, Sock] = {}
        self.pollers: dict[tuple[tuple[int, int], ...], zmq.Poller] = {}
        self.timeouts: dict[tuple[int, int], int] = {}
        self.specs: dict[str, SocketSpec] = {s.name: s for s in cfg.spec.sockets}
        # at record = "lifecycle" the join rows that `lost` needs are logged all the same
        # (zsim.metrics); the runner leaves them out of the log it returns
        self.join_sends = frozenset() if cfg.messages else publishing_sockets(cfg.spec)
        self.join_recvs = frozenset() if cfg.messages else subscribing_sockets(cfg.spec)
        self.reverse = {real: logical for logical, real in cfg.endpoints.items()}
        self.events: list[tuple[Any, ...]] = []
        self.flushed = 0
        self.lock = threading.Lock()
        self.handshakes: dict[str, int] = {s.name: 0 for s in cfg.spec.sockets}
        self.cond = threading.Condition(self.lock)
        self.counters: dict[str, float] = {"sent": 0, "received": 0, "dropped": 0,
                                           "destroyed": 0, "cpu_s": 0.0, "io_wait_s": 0.0,
                                           "preempted": 0}
        self.released = False
        self.bound: set[str] = set()
        self.blocked_req = False
        self.last_flush = time.monotonic()
        self.last_check = time.monotonic()
        self.monitor_thread: threading.Thread | None = None
        self.monitor_stop = threading.Event()
        self.monitors: list[tuple[str, Sock]] = []
        self.params: Any = None
        self.sched0: tuple[float, float] = (math.nan, math.nan)
        self.function: Any = None
        self.sender = self.api.sender

    # --- time and records -----------------------------------------------------------------
    def now(self) -> float:
        return (time.monotonic_ns() - self.t0) / 1e9

    def record(self, sock: str, event: str, peer: str = "", detail: str = "",
               t: float | None = None) -> None:
        row = (self.now() if t is None else t, self.name, sock, event, "", -1, 0, peer, "", detail)
        with self.lock:
            self.events.append(row)

    def record_msg(self, sock: str, event: str, msg: Any, t: float | None = None) -> None:
        """A message event: every one when the run records messages, else the join rows."""
        if isinstance(msg, Message):
            row = (self.now() if t is None else t, self.name, sock, event, msg.sender, msg.seq,
                   msg.size, "", msg.topic, "")
            with self.lock:
                self.events.append(row)

    def send_records(self, final: bool, error: str | None = None) -> None:
        with self.lock:
            chunk = self.events[self.flushed:]
            self.flushed = len(self.events)
        self.conn.send(("records", chunk, dict(self.counters), dict(self.api.metrics),
                        self.blocked_req, error, final))
        self.last_flush = time.monotonic()

    def flush_pending(self) -> None:
        """Before blocking: a node that may be SIGKILLed hands over what it has so far."""
        if self.cfg.periodic_flush and len(self.events) > self.flushed:
            self.send_records(final=False)

    def maybe_flush(self) -> None:
        if self.cfg.periodic_flush and time.monotonic() - self.last_flush >= FLUSH_INTERVAL_S:
            self.send_records(final=False)

    # --- the control connection -----------------------------------------------------------
    def handle_ctrl(self) -> None:
        """Apply every pending runner message; raises _Stop on ``stop``."""
        while self.conn.poll(0):
            try:
                msg = self.conn.recv()
            except EOFError:
                raise _Stop() from None
            kind = msg[0]
            if kind == "stop":
                raise _Stop()
            if kind == "release":
                self.released = True
            elif kind == "bound":
                self.bound.update(msg[1])
            elif kind == "go":
                self.t0 = msg[1]

    def _slice(self, remaining: float | None) -> float | None:
        if self.cfg.periodic_flush:
            return FLUSH_INTERVAL_S if remaining is None else min(remaining, FLUSH_INTERVAL_S)
        return remaining

    def sleep_until(self, deadline_ns: int) -> None:
        """Sleep (precisely), still answering the runner."""
        self.flush_pending()
        while True:
            remaining = (deadline_ns - time.monotonic_ns()) / 1e9
            if remaining <= 0:
                return
            if remaining > _SPIN_S:
                wait = self._slice(remaining - _SPIN_S / 2)
                if self.conn.poll(wait):
                    self.handle_ctrl()
                self.maybe_flush()
            else:
                time.sleep(remaining)

    def wait_for(self, predicate: Any, timeout: float | None) -> bool:
        """Wait for ``predicate()`` (changed only by runner messages), up to ``timeout``."""
        self.flush_pending()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not predicate():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            if self.conn.poll(self._slice(remaining)):
                self.handle_ctrl()
            self.maybe_flush()
        return True

    def zwait(self, items: Sequence[tuple[Sock, Any]], deadline: float | None
              ) -> list[Any]:
        """zmq_poll on ``items`` plus the control connection; the sockets ready, [] at the
        deadline (time.monotonic())."""
        self.flush_pending()
        key = tuple((id(s), ev) for s, ev in items)
        poller = self.pollers.get(key)
        if poller is None:  # one poller per socket set, kept: blocking is on the hot path
            poller = zmq.Poller()
            for s, ev in items:
                poller.register(s, ev)
            poller.register(self.ctrl_fd, zmq.POLLIN)
            self.pollers[key] = poller
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return []
            wait = self._slice(remaining)
            ready = dict(poller.poll(None if wait is None else max(1, int(wait * 1000 + 0.999))))
            if self.ctrl_fd in ready:
                self.handle_ctrl()
            got = [s for s, _ in items if s in ready]
            if got:
                return got
            self.maybe_flush()

    # --- sockets ----------------------------------------------------------------------------
    def open_sockets(self) -> None:
        """Create the sockets with their options and monitors."""
        ctx = self.ctx
        assert ctx is not None
        tag = f"{os.getpid()}-{id(self)}"
        for sspec in self.spec.sockets:
            sock = ctx.socket(getattr(zmq, sspec.type))
            self.sockets[sspec.name] = sock
            _socket_options(sock, sspec)
            addr = f"inproc://zsim-monitor-{tag}-{sspec.name}"
            sock.monitor(addr, _MONITOR_EVENTS)
            mon = ctx.socket(zmq.PAIR)
            mon.setsockopt(zmq.LINGER, 0)
            mon.connect(addr)
            self.monitors.append((sspec.name, mon))
        self.monitor_thread = threading.Thread(target=self._monitor_loop, daemon=True,
                                               name=f"zsim-monitor-{self.name}")
        self.monitor_thread.start()

    def bind_all(self) -> list[tuple[str, str]]:
        """Bind every bind endpoint and tell the runner; the (socket, endpoint) pairs bound."""
        bound: list[tuple[str, str]] = []
        for sspec in self.spec.sockets:
            for ep in sspec.bind:
                self.sockets[sspec.name].bind(self.cfg.endpoints[ep])
                if transport_of(ep) == "inproc":
                    self._note_handshake(sspec.name)
                bound.append((sspec.name, ep))
        if bound:
            self.conn.send(("bound", [ep for _, ep in bound]))
            self.bound.update(ep for _, ep in bound)
        return bound

    def connect_all(self) -> None:
        """Connect every connect endpoint, once the peers bound at or before now have."""
        if self.cfg.wait_bound:
            self.wait_for(lambda: self.bound.issuperset(self.cfg.wait_bound), BOUND_WAIT_S)
        for sspec in self.spec.sockets:
            for ep in sspec.connect:
                self.record(sspec.name, "connect", ep)
                self.sockets[sspec.name].connect(self.cfg.endpoints[ep])
                if transport_of(ep) == "inproc":
                    self._note_handshake(sspec.name)
                    self.record(sspec.name, "connected", self.cfg.binders.get(ep, ""), ep)

    def _note_handshake(self, sock: str) -> None:
        with self.cond:
            self.handshakes[sock] += 1
            self.cond.notify_all()

    def _monitor_loop(self) -> None:
        poller = zmq.Poller()
        by_sock = {}
        for name, mon in self.monitors:
            poller.register(mon, zmq.POLLIN)
            by_sock[mon] = name
        binds = {s.name: set(s.bind) for s in self.spec.sockets}
        while not self.monitor_stop.is_set():
            for mon, _ in poller.poll(50):
                try:
                    ev = recv_monitor_message(mon, zmq.NOBLOCK)
                except zmq.ZMQError:
                    continue
                sname = by_sock[mon]
                real = ev.get("endpoint", b"")
                real = real.decode() if isinstance(real, bytes) else str(real)
                ep = self.reverse.get(real, real)
                kind = ev["event"]
                if kind == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    if ep in binds[sname]:
                        self.record(sname, "accepted", "", ep)
                    else:
                        self.record(sname, "connected", self.cfg.binders.get(ep, ""), ep)
                    self._note_handshake(sname)
                elif kind == zmq.EVENT_DISCONNECTED:
                    peer = "" if ep in binds[sname] else self.cfg.binders.get(ep, "")
                    self.record(sname, "disconnected", peer, ep)
                elif kind == zmq.EVENT_CONNECT_RETRIED:
                    self.record(sname, "refused", ep)

    def teardown(self) -> None:
        self.monitor_stop.set()
        if self.monitor_thread is not None:
            self.monitor_thread.join(1.0)
        for sock in self.sockets.values():
            with contextlib.suppress(zmq.ZMQError):
                sock.disable_monitor()
        for _, mon in self.monitors:
            mon.close(linger=0)
        for sock in self.sockets.values():
            sock.close(linger=0)  # a socket the behaviour closed keeps its own linger
        if self.own_ctx and self.ctx is not None and not term_within(self.ctx, TERM_WAIT_S):
            # a socket the behaviour closed with linger -1 still holds messages: the program
            # would hang here; the run is over and its records are sent, so the node says so
            # and exits
            os.write(2, f"zsim: {self.name}: context term blocked: a closed socket lingers "
                        "with unsent messages\n".encode())
            os._exit(0)

    # --- operations -------------------------------------------------------------------------
    def _socket(self, name: str) -> Sock:
        try:
            return self.sockets[name]
        except KeyError:
            raise KeyError(f"node {self.name} has no socket {name!r}") from None

    def execute(self, op: Any) -> Any:
        kind = type(op)
        if kind is Send:
            return self.op_send(op)
        if kind is Recv:
            return self.op_recv(op)
        if kind is Now:
            return self.now()
        if kind is Work or kind is Sleep:
            if op.seconds > 0:
                self.sleep_until(time.monotonic_ns() + int(op.seconds * 1e9))
            return None
        if kind is Poll:
            return self.op_poll(op)
        if kind is Mark:
            self.record("", "mark", "", op.point)
            self.conn.send(("mark", op.point))
            return None
        if kind is WaitConnected:
            return self.op_wait_connected(op)
        if kind is Close:
            sock = self._socket(op.socket)
            self.record(op.socket, "close", "", f"linger {int(sock.get(zmq.LINGER))}")
            sock.close()  # with the LINGER it was created with; later use raises ENOTSOCK
            return None
        raise TypeError(f"{self.name}: a behaviour yielded {op!r}, not an operation")

    def op_send(self, op: Send) -> bool:
        sock = self.sockets.get(op.socket) or self._socket(op.socket)
        msg = op.message
        t_ns = time.monotonic_ns()
        if type(msg) is Message:
            if msg.t_sent == 0.0 and msg.sender == self.sender:
                msg.t_sent = (t_ns - self.t0) / 1e9
            data = encode_body(msg)
            # one frame: a plain send, cheaper than send_multipart's Python loop
            send: Callable[[Any, int], Any]
            payload: Any
            send, payload = ((sock.send_multipart, [*msg.envelope, data]) if msg.envelope
                             else (sock.send, data))
        else:
            send, payload = sock.send_multipart, encode(msg)
        # the common case first: room in the pipe, one non-blocking call
        try:
            send(payload, zmq.NOBLOCK)
            t_sent = (t_ns - self.t0) / 1e9
        except zmq.Again:
            if op.timeout == 0:
                return False
            got = self._blocking(sock, zmq.SNDTIMEO, op.timeout, False, lambda: send(payload))
            if got is None:
                return False
            t_sent = got
        self.counters["sent"] += 1
        if self.cfg.messages or op.socket in self.join_sends:
            self.record_msg(op.socket, "send", msg, t_sent)
        return True

    def op_recv(self, op: Recv) -> Any:
        sock = self.sockets.get(op.socket) or self._socket(op.socket)
        first: list[bytes] = []
        try:
            first.append(sock.recv(zmq.NOBLOCK))
        except zmq.Again:
            if op.timeout == 0:
                return None
            is_req = self.specs[op.socket].type == "REQ"
            if self._blocking(sock, zmq.RCVTIMEO, op.timeout, is_req,
                              lambda: first.append(sock.recv())) is None:
                return None
        # a body frame is always a message's last (codec), so only ask RCVMORE otherwise;
        # the other frames of a multipart message are already queued (it arrives whole)
        msg: Any = decode_body(first[0])
        if msg is None:
            frames = first
            while sock.get(zmq.RCVMORE):
                frames.append(sock.recv())
            msg = decode(frames, subscriptions=self.specs[op.socket].type == "XPUB")
        self.counters["received"] += 1
        if self.cfg.messages:
            self.record_msg(op.socket, "recv", msg)
        elif op.socket in self.join_recvs:
            self.record_msg(op.socket, "recv", msg)
            self.join_recvs = frozenset()  # the first is the join row
        return msg

    def _blocking(self, sock: Sock, option: int, timeout: float | None, is_req: bool,
                  call: Callable[[], Any]) -> float | None:
        """A blocking zmq call in slices of at most _BLOCK_SLICE_S (SNDTIMEO/RCVTIMEO), so the
        runner's control connection is still heard; None at the timeout, else the time the call
        succeeded: its start when it did not wait (a receiver cannot log the message earlier),
        its end when it did."""
        self.flush_pending()
        deadline = None if timeout is None else time.monotonic() + timeout
        self.blocked_req = is_req  # left set if the runner stops us here: "stuck"
        while True:
            wait = _BLOCK_SLICE_S
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    self.blocked_req = False
                    return None
            ms = max(1, int(wait * 1000 + 0.999))
            key = (id(sock), option)
            if self.timeouts.get(key) != ms:  # setsockopt only when it changes
                sock.setsockopt(option, ms)
                self.timeouts[key] = ms
            t_before = time.monotonic_ns()
            try:
                call()
            except zmq.Again:
                if self.conn.poll(0):
                    self.handle_ctrl()
                self.maybe_flush()
                continue
            self.blocked_req = False
            t_after = time.monotonic_ns()
            t = t_before if t_after - t_before < _WAITED_NS else t_after
            return (t - self.t0) / 1e9

    def op_poll(self, op: Poll) -> tuple[str, ...]:
        socks = [(self._socket(n), zmq.POLLIN) for n in op.sockets]
        names = {id(self.sockets[n]): n for n in op.sockets}
        if op.timeout == 0:
            poller = zmq.Poller()
            for s, ev in socks:
                poller.register(s, ev)
            ready = [s for s, _ in poller.poll(0)]
        else:
            deadline = None if op.timeout is None else time.monotonic() + op.timeout
            ready = self.zwait(socks, deadline)
        return tuple(names[id(s)] for s in ready if id(s) in names)

    def op_wait_connected(self, op: WaitConnected) -> bool:
        self._socket(op.socket)
        self.flush_pending()
        deadline = None if op.timeout is None else time.monotonic() + op.timeout
        while True:
            with self.cond:
                if self.handshakes[op.socket] > 0:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self.cond.wait(0.02 if remaining is None else min(remaining, 0.02))
            if self.conn.poll(0):
                self.handle_ctrl()
            self.maybe_flush()

    # --- the node's life ----------------------------------------------------------------------
    def prepare(self) -> None:
        """Everything slow that does not touch the network: imports, parameter validation, the
        context and its I/O thread. Done before the common start instant."""
        defn = resolve(self.spec.behaviour)
        self.params = validate_params(defn, self.spec.params, [s.name for s in self.spec.sockets])
        self.function = defn.function
        if self.ctx is None:
            self.ctx = zmq.Context()
        # counted from here, before the common start: reading /proc at the behaviour's start
        # would delay it by ~0.1 ms and move, e.g., a publisher's throttle phase. The context
        # starts its I/O thread with its first socket, so its wait so far is 0 (threads mode:
        # another node's may have started it; that wait is NaN anyway).
        self.sched0 = (0.0 if self.own_ctx else math.nan,
                       threadstat.involuntary_switches(threading.get_native_id()))

    def sched_counts(self) -> tuple[float, float]:
        """(run-queue wait s of this node's I/O threads, preemptions of its application
        thread) so far. The wait is NaN when nodes share one context (threads mode): its I/O
        thread is everyone's."""
        wait = threadstat.io_threads_time()[1] if self.own_ctx else math.nan
        return wait, threadstat.involuntary_switches(threading.get_native_id())

    def run_behaviour(self) -> None:
        gen = self.function(self.api, self.params)
        result: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    op = gen.throw(error) if error is not None else gen.send(result)
                except StopIteration:
                    break
                error = None
                try:
                    kind = type(op)  # the per-message ops first, without execute()'s chain
                    if kind is Send:
                        result = self.op_send(op)
                    elif kind is Recv:
                        result = self.op_recv(op)
                    else:
                        result = self.execute(op)
                except zmq.ZMQError as exc:
                    result, error = None, exc
                now = time.monotonic()
                if now - self.last_check >= _CHECK_S:
                    # a behaviour that never blocks (a PUB in a tight loop) still hears "stop"
                    self.last_check = now
                    if self.conn.poll(0):
                        self.handle_ctrl()
                    self.maybe_flush()
        finally:
            gen.close()

    def main(self) -> None:
        cfg = self.cfg
        error: str | None = None
        try:
            self.prepare()
            at = self.spec.start.at if cfg.incarnation == 0 else (self.spec.restart_at or 0.0)
            # Every node creates its sockets (options, monitors) before the common start: a
            # socket with no bind or connect has no pipes, so no peer can see it. Then a late
            # start does only its binds and connects at its start time, as in the simulation,
            # and does not steal a millisecond of CPU from the running nodes (2-core hosts).
            # A node that starts at 0 also binds before the common start: its sockets are
            # there at t = 0, and the nodes that connect at 0 need not wait for a bind relayed
            # through the runner (milliseconds on a small host).
            self.open_sockets()
            early = at == 0.0
            bound = []
            if early:
                bound = self.bind_all()
            self.conn.send(("loaded",))
            self.wait_for(lambda: self.t0 != 0, None)
            self.sleep_until(self.t0 + int(at * 1e9))
            if cfg.incarnation:
                self.record("", "restart")
            if not early:
                bound = self.bind_all()
            for sock, ep in bound:
                self.record(sock, "bind", ep, t=at if early else None)
            self.connect_all()
            start = self.spec.start
            if cfg.incarnation == 0 and start.after:
                self.wait_for(lambda: self.released, None)
                if start.delay:
                    self.sleep_until(time.monotonic_ns() + int(start.delay * 1e9))
            self.record("", "start")
            cpu0 = time.thread_time()  # this thread's CPU clock: the behaviour's own CPU
            try:
                self.run_behaviour()
            finally:
                self.counters["cpu_s"] += time.thread_time() - cpu0
                wait, preempted = self.sched_counts()
                self.counters["io_wait_s"] += wait - self.sched0[0]
                self.counters["preempted"] += preempted - self.sched0[1]
            self.record("", "stop")
            self.conn.send(("finished",))
            self.wait_for(lambda: False, None)  # keep the sockets open until told to stop
        except _Stop:
            pass
        except BaseException:  # a behaviour or boot error: report it, the runner ends the run
            error = traceback.format_exc()
        self.monitor_stop.set()
        if self.monitor_thread is not None:
            self.monitor_thread.join(1.0)
        try:
            self.send_records(final=True, error=error)
        except (OSError, EOFError):
            pass
        finally:
            self.teardown()


TERM_WAIT_S = 2.0  # how long the end of a run waits for a context with lingering sockets


def term_within(ctx: Ctx, seconds: float) -> bool:
    """zmq_ctx_term, given up after ``seconds`` (it blocks while a closed socket lingers)."""
    worker = threading.Thread(target=ctx.term, daemon=True)
    worker.start()
    worker.join(seconds)
    return not worker.is_alive()


def child_main(cfg: NodeConfig, conn: Connection, ctx: Ctx | None = None) -> None:
    """Entry point of a node process (or thread, with the shared ``ctx``)."""
    in_process = ctx is None
    if in_process:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner handles Ctrl-C and stops us
        if cfg.stderr_path:
            fd = os.open(cfg.stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(fd, 2)
            os.close(fd)
    try:
        LiveNode(cfg, conn, ctx).main()
    finally:
        conn.close()
