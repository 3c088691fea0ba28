"""A simulated node: its sockets, its application thread running the behaviour, its I/O thread.

The application thread follows libzmq's socket_base_t (src/socket_base.cpp):
- ``send`` processes commands at most every ``command_interval_s`` (max_command_delay); when the
  message cannot be queued it blocks, processing commands as they arrive, until it can.
- ``recv`` processes commands every ``inbound_poll_rate`` messages, or when nothing is ready;
  a blocked recv wakes when a command (activate_read, a new pipe) reaches the mailbox.
- ``poll`` processes commands and checks readiness (zmq_poll → getsockopt(ZMQ_EVENTS)).
- While the behaviour sleeps or works no command is processed.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
import zmq

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
from zsim.scenario.model import NodeSpec
from zsim.sim.cpu import Stranding
from zsim.sim.engine import Engine, IoThread
from zsim.sim.network import Connection
from zsim.sim.routing import TERM
from zsim.sim.sockets import SOCKET_CLASSES, ReqSocket, SimSocket

if TYPE_CHECKING:
    from zsim.sim.world import NodeStats, World


class AppThread:
    """Where a node's behaviour blocks inside zmq calls; mailbox posts wake it."""

    __slots__ = ("env", "event", "wakeup", "watching")

    def __init__(self, env: simpy.Environment, wakeup: float) -> None:
        self.env = env
        self.wakeup = wakeup
        self.event: simpy.Event | None = None
        self.watching: tuple[SimSocket, ...] = ()

    def notify(self, sock: SimSocket) -> None:
        event = self.event
        if event is None or sock not in self.watching:
            return
        self.event = None
        if self.wakeup > 0:
            def wake(_e: simpy.Event) -> None:
                if not event.triggered:
                    event.succeed(True)

            self.env.timeout(self.wakeup).callbacks.append(wake)
        else:
            event.succeed(True)

    def wait(self, socks: tuple[SimSocket, ...], timeout: float | None) -> simpy.Event:
        """An event that fires True on a command for one of ``socks``, False at the timeout."""
        event = self.env.event()
        self.event = event
        self.watching = socks
        if timeout is not None:
            def expire(_e: Any) -> None:
                if not event.triggered:
                    if self.event is event:
                        self.event = None
                    event.succeed(False)

            self.env.timeout(max(timeout, 0.0)).callbacks.append(expire)
        return event


class CostSpread:
    """Factors of mean 1 and coefficient of variation ``cv`` (gamma), one per call, drawn in
    blocks from a stream of their own (the node's other draws do not shift)."""

    __slots__ = ("at", "block", "rng", "shape")

    def __init__(self, rng: np.random.Generator, cv: float) -> None:
        self.rng = rng
        self.shape = 1.0 / (cv * cv)
        self.block = np.empty(0)
        self.at = 0

    def factor(self) -> float:
        if self.at == len(self.block):
            self.block = self.rng.standard_gamma(self.shape, 4096) / self.shape
            self.at = 0
        self.at += 1
        return float(self.block[self.at - 1])


@dataclass(frozen=True)
class Wait:
    """What a node's behaviour is blocked on: ``what`` ("recv on 'requests'"), since ``since``
    (sim seconds), and whether nothing in the scenario is meant to end it (``hang``: a REQ
    awaiting its reply, a blocked send, a connection or start condition never met; a recv or
    poll for more input is idle). zsim.outcome reads it when the run ends with the node there."""

    what: str
    since: float
    hang: bool

    def describe(self) -> str:
        return f"blocked in {self.what} since t={self.since:.6g} s"


class SimNode:
    """One incarnation of a scenario node."""

    def __init__(self, world: World, spec: NodeSpec, name: str, incarnation: int,
                 stats: NodeStats) -> None:
        self.world = world
        self.env = world.env
        self.spec = spec
        self.name = name
        self.incarnation = incarnation
        self.stats = stats
        self.messages = world.recorder.messages
        # at record = "lifecycle" the join rows that `lost` needs are logged all the same
        # (zsim.metrics); SimBackend leaves them out of the log it returns
        self.join_sends = frozenset() if self.messages else publishing_sockets(spec)
        self.join_recvs = frozenset() if self.messages else subscribing_sockets(spec)
        # the event log is the harness's, not the modelled program's: it costs nothing here,
        # so that the record level never changes what the model does
        costs = world.costs
        self.costs = costs
        behaviour_seed, system_seed = world.seeds_for(name, incarnation)
        self.api = Node(name, spec.index, np.random.default_rng(behaviour_seed), incarnation,
                        metrics=stats.metrics)
        self.system_rng = np.random.default_rng(system_seed)
        self.spread = (CostSpread(np.random.default_rng([system_seed, 1]), costs.app_cost_cv)
                       if costs.app_cost_cv > 0 else None)
        self.app = AppThread(self.env, costs.app_wakeup_s)
        self.gil = world.gil  # None unless app threads share an interpreter lock (zsim.sim.gil)
        # the threads' core share (zsim.sim.cpu); None: each has a core of its own
        self.cpu = world.cpu if world.cpu.cores > 0 else None
        self.io = IoThread(self.env, self.cpu, costs.io_wakeup_s, costs.io_hot_wakeup_s,
                           costs.io_hot_idle_s)
        self.app_core = self.cpu.thread() if self.cpu is not None else -1
        if self.cpu is not None and costs.io_strand_per_msg > 0 and costs.io_strand_s > 0:
            self.io.stranding = Stranding(
                self.cpu, self.app_core, costs.io_strand_per_msg, costs.io_strand_s,
                np.random.default_rng([system_seed, 3]), stats)
        self.alive = True
        self.sockets: dict[str, SimSocket] = {}
        self.engines: list[tuple[Engine, Connection]] = []
        self.blocked: tuple[SimSocket, float] | None = None
        self.waiting: Wait | None = None  # set while the behaviour is blocked (zsim.outcome)
        self.finished = False
        self.process: simpy.Process | None = None
        self.post_cost = costs.command_post_s  # per command this app thread sends (mailbox)
        self.owed_s = 0.0  # what the commands sent during the current call cost, unpaid
        self._t_send_cost = costs.app_send_s
        self._t_recv_cost = costs.app_recv_s
        self._byte_cost = costs.app_byte_s
        # measured per size when the profile has them (CostModel.call_cost), looked up once a size
        self._call_cost = costs.call_cost if costs.app_call_by_size else None
        self._call_costs: dict[int, tuple[float, float]] = {}
        self.sleep_late = costs.app_sleep_late_s  # a timed sleep ends this much late (mean)
        # by the sleep's length when measured so (each sleep its own gamma draw), else one
        # spread for every sleep; either way from the same stream of its own
        by_length = bool(costs.app_sleep_late_by_length)
        self.late_by_length = np.random.default_rng([system_seed, 2]) if by_length else None
        self.late_spread = (CostSpread(np.random.default_rng([system_seed, 2]),
                                       costs.app_sleep_late_cv)
                            if not by_length and costs.app_sleep_late_cv > 0
                            and self.sleep_late > 0 else None)
        self.mark_cost = costs.app_mark_s
        # A send right after a timed sleep pays its mean cost: app_cost_cv is the spread of the
        # gaps between back-to-back calls of a busy flow, while the live paced sends' times
        # spread by their sleep's lateness alone (app_sleep_late_by_length, measured on them)
        self.slept = False

    def _sized(self, size: int) -> tuple[float, float]:
        """(send, recv) cost of a message of ``size`` bytes from the profile's per-size table."""
        costs = self._call_costs.get(size)
        if costs is None:
            assert self._call_cost is not None
            costs = self._call_costs[size] = self._call_cost(size)
        return costs

    # --- records and counters -------------------------------------------------------------
    def record_lifecycle(self, sock: SimSocket | None, event: str, peer: str, detail: str) -> None:
        self.world.recorder.add(self.env.now, self.name, sock.spec.name if sock else "", event,
                                "", -1, 0, peer, "", detail)

    def _record_msg(self, sock: SimSocket, event: str, msg: Any, peer: str, detail: str) -> None:
        if isinstance(msg, Message):
            self.world.recorder.add(self.env.now, self.name, sock.spec.name, event, msg.sender,
                                    msg.seq, msg.size, peer, msg.topic, detail)

    def count_drop(self, sock: SimSocket, msg: Any, reason: str, peer: str) -> None:
        self.stats.dropped += 1
        if self.messages:
            self._record_msg(sock, "drop", msg, peer, reason)

    def count_destroyed(self, n: int) -> None:
        self.stats.destroyed += n

    # --- life cycle -----------------------------------------------------------------------
    def bind(self) -> None:
        """Create the sockets and bind them."""
        for sspec in self.spec.sockets:
            sock = SOCKET_CLASSES[sspec.type](self, sspec)
            self.sockets[sspec.name] = sock
        network = self.world.network
        for sock in self.sockets.values():
            for ep in sock.spec.bind:
                network.bind(sock, ep)

    def connect_and_run(self) -> None:
        """Connect the sockets, then run the behaviour."""
        network = self.world.network
        for sock in self.sockets.values():
            for ep in sock.spec.connect:
                network.connect(sock, ep)
        self.process = self.env.process(self._main())

    def unsent_at_close(self) -> str:
        """What its closed sockets still hold to write out, lingering: '' when nothing."""
        held = []
        for sock in self.sockets.values():
            if not sock.closed:
                continue
            pipes = {id(c.out): len(c.out) for c in sock.conns
                     if isinstance(c.out.reader, Engine) and c.out.reader.alive}
            pipes.update({id(s.conn.out): len(s.conn.out) for s in sock.sessions
                          if not s.done and s.conn is not None})
            if sum(pipes.values()):
                held.append(f"{sum(pipes.values())} messages unsent on {sock.spec.name!r} "
                            f"(linger {sock.spec.linger})")
        return ", ".join(held)

    def crash(self) -> None:
        """SIGKILL: sockets, pipes and engines vanish; peers notice through their connections."""
        self.alive = False
        self._release_gil()
        self.record_lifecycle(None, "crash", "", "")
        self.world.network.unbind(self)
        for engine, connection in self.engines:
            self.count_destroyed(engine.kill())
            connection.broken_by(engine)
        for sock in self.sockets.values():
            sock.closed = True
            for conn in sock.conns:
                conn.alive = False
                inproc = conn.endpoint.startswith("inproc://")
                self.count_destroyed(len(conn.inp) + (0 if inproc else len(conn.out)))
                if inproc and conn.partner is not None:
                    # the peer's end of the pipe is terminated (pipe_t::terminate)
                    conn.partner.socket.post(TERM, conn.partner, 0)
                conn.inp.queue.clear()
        if self.process is not None and self.process.is_alive:
            self.process.interrupt("crash")

    # --- the behaviour --------------------------------------------------------------------
    def _main(self) -> Generator[simpy.Event, Any, None]:
        start = self.spec.start
        if self.incarnation == 0 and start.after:
            self.waiting = Wait(f"its start condition after = {start.after!r}", self.env.now,
                                hang=True)
            yield self.world.point_reached(start.after)
            self.waiting = None
            if start.delay:
                yield self.env.timeout(start.delay + self._late(start.delay))
        self.record_lifecycle(None, "start", "", "")
        defn = resolve(self.spec.behaviour)
        params = validate_params(defn, self.spec.params, list(self.sockets))
        gen = defn.function(self.api, params)
        result: Any = None
        error: BaseException | None = None
        env, gil, spread = self.env, self.gil, self.spread  # fixed for the node's life
        on_core, stranding = self._on_core, self.io.stranding
        sized = None if self._call_cost is None else self._sized  # the per-size table, if any
        cheapest = min((p.send_s for p in self.costs.app_call_by_size), default=self._t_send_cost)
        saving = min(self.costs.app_drop_saving_s, cheapest)
        signal = self.costs.app_gil_signal_s
        try:
            while True:
                try:
                    op = gen.throw(error) if error is not None else gen.send(result)
                except StopIteration:
                    break
                error = None
                try:
                    # Send and Recv are the hot path: handled inline, a generator only to block.
                    if type(op) is Send:
                        if gil is not None and not gil.runs(self):
                            yield from self._take_gil()
                        sock = self._socket(op.socket)
                        msg = op.message
                        # every send pays this; one that writes a pipe pays the saving after
                        unwritten = saving if sock.drops_unwritten else 0.0
                        if sized is None:
                            cost = self._t_send_cost - unwritten + self._byte_cost * msg.size
                        else:
                            cost = sized(msg.size)[0] - unwritten
                        if gil is not None and gil.waiters:
                            cost += signal  # pyzmq drops the lock: the waiter is signalled
                        if spread is not None:
                            if self.slept:
                                self.slept = False
                            else:
                                cost *= spread.factor()
                        if cost > 0:
                            yield env.timeout(on_core(cost))
                        result = self._send_now(sock, msg)
                        if not result and op.timeout != 0:
                            result = yield from self._send_blocking(sock, msg, op.timeout)
                        if unwritten and result and sock.wrote:
                            self.owed_s += unwritten
                        if stranding is not None and result and sock.wrote:
                            stranding.written += 1
                        if self.owed_s:
                            owed, self.owed_s = self.owed_s, 0.0
                            yield env.timeout(on_core(owed))
                        if result:
                            self._sent(sock, msg)
                    elif type(op) is Recv:
                        if gil is not None and not gil.runs(self):
                            yield from self._take_gil()
                        sock = self._socket(op.socket)
                        self.slept = False
                        result = self._recv_now(sock)
                        if result is None:
                            result = yield from self._recv_blocking(sock, op.timeout)
                        if self.owed_s:
                            owed, self.owed_s = self.owed_s, 0.0
                            yield env.timeout(on_core(owed))
                        if result is not None:
                            if gil is not None and not gil.runs(self):
                                yield from self._take_gil()  # back from a wait
                            cost = (self._t_recv_cost + self._byte_cost * result.size
                                    if sized is None else sized(result.size)[1])
                            if gil is not None and gil.waiters:
                                cost += signal
                            if spread is not None:
                                cost *= spread.factor()
                            if cost > 0:
                                yield env.timeout(on_core(cost))
                            self._received(sock, result)
                    else:
                        result = yield from self._execute(op)
                except zmq.ZMQError as exc:
                    result, error = None, exc
        except simpy.Interrupt:
            gen.close()
            self._release_gil()
            return
        self._release_gil()
        self.finished = True
        self.record_lifecycle(None, "stop", "", "")
        self.world.node_finished(self.name)

    def _on_core(self, cost: float) -> float:
        """Charge ``cost`` s of the application thread's CPU (cpu_s); returns how long it
        takes, longer while the threads outnumber the cores."""
        self.stats.cpu_s += cost
        return cost if self.cpu is None else self.cpu.run(self.app_core, cost)

    def _execute(self, op: Any) -> Generator[simpy.Event, Any, Any]:
        kind = type(op)
        if kind is Now:
            return self.env.now
        if kind is Work or kind is Sleep:
            if op.seconds > 0:
                self._release_gil()  # the live backend sleeps through both
                yield self.env.timeout(op.seconds + self._late(op.seconds))
                self.slept = True
            return None
        if kind is Poll:
            return (yield from self._poll(op))
        if kind is Mark:
            self.record_lifecycle(None, "mark", "", op.point)
            self.world.mark(self.name, op.point)
            if self.mark_cost > 0:
                yield self.env.timeout(self.mark_cost)
            return None
        if kind is WaitConnected:
            return (yield from self._wait_connected(op))
        if kind is Close:
            self.world.network.close(self._socket(op.socket))  # with its linger
            return None
        raise TypeError(f"{self.name}: a behaviour yielded {op!r}, not an operation")

    def _late(self, seconds: float) -> float:
        """How late a sleep of ``seconds`` ends: its own draw (the spread has a stream of its
        own), of the mean and spread measured for sleeps that long when the model has them."""
        if self.late_by_length is not None:
            mean, sd = self.costs.sleep_lateness(seconds)
            if mean <= 0 or sd <= 0:
                return max(0.0, mean)
            shape = (mean / sd) ** 2
            return mean * float(self.late_by_length.standard_gamma(shape)) / shape
        if self.late_spread is None:
            return self.sleep_late
        return self.sleep_late * self.late_spread.factor()

    def _take_gil(self) -> Generator[simpy.Event, Any, None]:
        """Run: take the lock, or hand it over first when a waiter asked for it."""
        gil = self.gil
        assert gil is not None
        if gil.holder is self:  # asked to drop it (drop_request): back in the queue
            gil.release(self)
        turn = gil.acquire(self)
        if turn is not None:
            yield turn

    def _release_gil(self) -> None:
        if self.gil is not None:
            self.gil.release(self)

    def _socket(self, name: str) -> SimSocket:
        try:
            sock = self.sockets[name]
        except KeyError:
            raise KeyError(f"node {self.name} has no socket {name!r}") from None
        if sock.closed:
            raise zmq.ZMQError(zmq.ENOTSOCK)  # a closed socket's handle is no socket
        return sock

    def _send_now(self, sock: SimSocket, msg: Any) -> bool:
        """The non-blocking part of zmq_send; False is EAGAIN."""
        now = self.env.now
        if isinstance(msg, Message) and msg.sender == self.api.sender and msg.t_sent == 0.0:
            msg.t_sent = now
        # socket_base.cpp process_commands(0, throttle=true): at most every max_command_delay.
        if now - sock.last_commands_t > self.costs.command_interval_s:
            sock.last_commands_t = now - sock.throttle_phase
            sock.throttle_phase = 0.0
            sock.process_commands()
        return sock.xsend(msg)

    def _send_blocking(self, sock: SimSocket, msg: Any, timeout: float | None
                       ) -> Generator[simpy.Event, Any, bool]:
        """Wait for commands (activate_write, a new pipe) and retry, until sent or timed out."""
        deadline = None if timeout is None else self.env.now + timeout
        while True:
            if not sock.mailbox:
                remaining = None if deadline is None else deadline - self.env.now
                self._release_gil()
                self.waiting = Wait(f"send on {sock.spec.name!r}", self.env.now, hang=True)
                woke = yield self.app.wait((sock,), remaining)
                self.waiting = None
                if not woke:
                    return False
            sock.process_commands()
            if sock.xsend(msg):
                return True

    def _sent(self, sock: SimSocket, msg: Any) -> None:
        self.stats.sent += 1
        if self.messages or sock.spec.name in self.join_sends:
            self._record_msg(sock, "send", msg, "", "")

    def _recv_now(self, sock: SimSocket) -> Any:
        """The non-blocking part of zmq_recv: commands every inbound_poll_rate messages."""
        sock.ticks += 1
        if sock.ticks >= self.costs.inbound_poll_rate:
            sock.process_commands()
            sock.ticks = 0
        msg = sock.xrecv()
        if sock.draining:
            sock.reap_drained()
        return msg

    def _received(self, sock: SimSocket, msg: Any) -> None:
        self.stats.received += 1
        if self.messages:
            self._record_msg(sock, "recv", msg, "", "")
        elif sock.spec.name in self.join_recvs:
            self._record_msg(sock, "recv", msg, "", "")
            self.join_recvs = frozenset()  # the first is the join row

    def _recv_blocking(self, sock: SimSocket, timeout: float | None) -> Generator[Any, Any, Any]:
        sock.process_commands()
        sock.ticks = 0
        msg = sock.xrecv()
        if sock.draining:
            sock.reap_drained()
        if msg is not None or timeout == 0:
            return msg
        deadline = None if timeout is None else self.env.now + timeout
        while msg is None:
            if not sock.mailbox:
                remaining = None if deadline is None else deadline - self.env.now
                self.blocked = (sock, self.env.now)
                self.waiting = Wait(f"recv on {sock.spec.name!r}", self.env.now,
                                    hang=self.is_stuck())
                self._release_gil()
                woke = yield self.app.wait((sock,), remaining)
                self.blocked = self.waiting = None
                if not woke:
                    return None
            sock.process_commands()
            msg = sock.xrecv()
            if sock.draining:
                sock.reap_drained()
        return msg

    def _poll(self, op: Poll) -> Generator[simpy.Event, Any, tuple[str, ...]]:
        socks = tuple(self._socket(n) for n in op.sockets)
        deadline = None if op.timeout is None else self.env.now + op.timeout
        while True:
            ready = []
            for s in socks:
                s.process_commands()
                if s.has_in():
                    ready.append(s.spec.name)
            if ready or op.timeout == 0:
                return tuple(ready)
            if not any(s.mailbox for s in socks):
                remaining = None if deadline is None else deadline - self.env.now
                self._release_gil()
                names = ", ".join(repr(s.spec.name) for s in socks)
                self.waiting = Wait(f"poll on {names}", self.env.now, hang=False)
                woke = yield self.app.wait(socks, remaining)
                self.waiting = None
                if not woke:
                    return ()

    def _wait_connected(self, op: WaitConnected) -> Generator[simpy.Event, Any, bool]:
        sock = self._socket(op.socket)
        if sock.handshakes:
            return True
        event = self.env.event()
        sock.handshake_waiters.append(event)
        self._release_gil()
        self.waiting = Wait(f"a connection on {sock.spec.name!r}", self.env.now, hang=True)
        if op.timeout is None:
            yield event
            self.waiting = None
            return True
        result = yield event | self.env.timeout(op.timeout)
        self.waiting = None
        return event in result

    # --- end of run -----------------------------------------------------------------------
    def is_stuck(self) -> bool:
        """Blocked in recv on a REQ that awaits its reply: the classic dead-server hang."""
        if self.blocked is None or not self.alive:
            return False
        sock = self.blocked[0]
        return isinstance(sock, ReqSocket) and sock.receiving_reply

