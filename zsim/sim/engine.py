"""tcp/ipc connections: an I/O-thread engine at each end and a byte stream (``Wire``) between.

Modelled after libzmq's stream_engine_base_t (src/stream_engine_base.cpp):
- The sending engine pulls whole messages from its session pipe into batches of up to
  ``batch_bytes`` (out_batch_size = 8192) and writes them into the kernel, as long as the kernel
  buffers (``kernel_buffer_bytes``, send + receive buffers together) have room. Each write takes
  its bytes plus ``write_overhead_bytes`` of that room, or its skb's truesize (``write_charge``:
  a unix socket charges every queued skb's truesize to the sender's sk_sndbuf:
  net/unix/af_unix.c, unix_stream_sendmsg).
- It writes again only on an out_event: the poller's POLLOUT (level-triggered: while the
  buffers hold at most ``writable_fraction`` of their size; a unix socket's quarter), or a new
  message in a pipe it had drained (activate_read → restart_output's speculative write). A
  write that finds no room (EAGAIN) keeps its batch for the next one; a batch cut at
  out_batch_size with more messages waiting above the mark waits for POLLOUT.
- The receiving engine reads a batch (in_batch_size), decodes it, and pushes the messages into the
  session → socket pipe. When that pipe is full it stops reading (``_input_stopped``) until the
  socket's ``activate_write`` arrives; the kernel buffers then fill and push back on the sender.
- The I/O thread is one FIFO server per node (io_threads = 1): engine costs queue on it.
- Commands to an idle I/O thread (activate_read/write) cost an I/O wake-up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from zsim.costs import IO_WAKE_CPU_BEFORE, LinkCosts
from zsim.sim.pipe import Pipe

if TYPE_CHECKING:
    from zsim.sim.cpu import Cpu, Stranding
    from zsim.sim.node import SimNode


class IoThread:
    """A node's single I/O thread as a FIFO server: ``busy(cost)`` is the delay until done (on
    a core of the shared CPU, zsim.sim.cpu, when the model has a number of cores).

    Its wake-ups take ``wakeup_s``, or ``hot_wakeup_s`` when it last worked less than
    ``hot_idle_s`` ago: a core idle for a short while wakes faster than one that has gone into
    a deep sleep (measured here: a PUSH→PULL message's one-way time, both I/O threads woken,
    26-33 µs in most runs with the sends 20-100 µs apart against 43-112 µs with them 0.2-3 ms
    apart; perf: the publisher's I/O thread in a burst woken→running in 4-5 µs)."""

    __slots__ = ("core", "cpu", "env", "free_at", "hot_idle_s", "hot_wakeup_s", "stranding",
                 "wakeup_s")

    def __init__(self, env: simpy.Environment, cpu: Cpu | None = None, wakeup_s: float = 0.0,
                 hot_wakeup_s: float | None = None, hot_idle_s: float = 0.0) -> None:
        self.env = env
        self.free_at = 0.0
        self.cpu = cpu  # None: a core of its own
        self.core = cpu.thread() if cpu is not None else -1
        self.wakeup_s = wakeup_s
        self.hot_wakeup_s = wakeup_s if hot_wakeup_s is None else hot_wakeup_s
        self.hot_idle_s = hot_idle_s
        # set by the node when the model strands woken I/O threads (zsim.sim.cpu.Stranding)
        self.stranding: Stranding | None = None

    def wake_delay(self) -> float:
        """How long a wake-up posted now takes to get this thread running."""
        if self.env.now - self.free_at < self.hot_idle_s:
            return self.hot_wakeup_s
        return self.wakeup_s

    def busy(self, cost: float) -> float:
        now = self.env.now
        start = now if now > self.free_at else self.free_at
        if self.cpu is not None:
            cost = self.cpu.run(self.core, cost, start)
        self.free_at = start + cost
        return self.free_at - now


class Sleeper:
    """A loop's idle wait: ``wake()`` ends it after ``delay``, or, for an I/O thread's loop,
    after that ``thread``'s wake-up delay at that moment (one wake per wait)."""

    __slots__ = ("delay", "env", "event", "scheduled", "thread")

    def __init__(self, env: simpy.Environment, delay: float = 0.0,
                 thread: IoThread | None = None) -> None:
        self.env = env
        self.delay = delay
        self.thread = thread
        self.event: simpy.Event | None = None
        self.scheduled = False

    def wait(self) -> simpy.Event:
        self.event = self.env.event()
        self.scheduled = False
        return self.event

    def wake(self) -> None:
        event = self.event
        if event is None or self.scheduled:
            return
        self.scheduled = True
        self.event = None
        delay = self.delay if self.thread is None else self.thread.wake_delay()
        if delay > 0:
            def fire(_e: simpy.Event) -> None:
                event.succeed()

            self.env.timeout(delay).callbacks.append(fire)
        else:
            event.succeed()


class Wire:
    """One direction of a byte stream: link latency and bandwidth, bounded kernel buffers."""

    __slots__ = ("arrived", "broken", "costs", "env", "fin", "in_flight", "link_free_at",
                 "receiver", "sender", "transit", "writable_at")

    def __init__(self, env: simpy.Environment, costs: LinkCosts) -> None:
        self.env = env
        self.costs = costs
        self.in_flight = 0  # bytes written by the sender and not yet read by the receiver
        self.link_free_at = 0.0
        self.arrived: deque[tuple[list[Any], int, int]] = deque()  # msgs, bytes, buffer taken
        self.transit = 0  # chunks on their way
        self.receiver: Engine | None = None
        self.sender: Engine | None = None
        self.broken = False
        self.fin = False  # the sender closed: arrived once everything written before it
        self.writable_at = costs.writable_bytes  # read on every take

    def has_room(self) -> bool:
        """Whether a write is accepted: the kernel allocates its buffer while what the socket
        holds is below the limit (sock_alloc_send_pskb), even if this one takes it over."""
        return self.in_flight < self.costs.kernel_buffer_bytes

    def writable(self) -> bool:
        """Whether the sender's poller reports POLLOUT (LinkCosts.writable_fraction)."""
        return self.in_flight <= self.writable_at

    def send(self, msgs: list[Any], nbytes: int) -> None:
        env = self.env
        taken = self.costs.write_taken(nbytes)
        self.in_flight += taken
        start = max(env.now, self.link_free_at)
        self.link_free_at = start + nbytes / self.costs.bandwidth_Bps
        delay = self.link_free_at + self.costs.latency_s - env.now
        self.transit += len(msgs)
        env.timeout(delay).callbacks.append(lambda _e: self._arrive(msgs, nbytes, taken))

    def send_fin(self) -> None:
        """The sender's close (close(2) without SO_LINGER: the kernel still delivers what was
        written, then the FIN): it reaches the receiver after the last byte."""
        delay = max(self.env.now, self.link_free_at) + self.costs.latency_s - self.env.now
        self.env.timeout(delay).callbacks.append(self._arrive_fin)

    def _arrive_fin(self, _e: Any) -> None:
        if self.broken:
            return
        self.fin = True
        if self.receiver is not None:
            self.receiver.rx_sleep.wake()

    def _arrive(self, msgs: list[Any], nbytes: int, taken: int) -> None:
        self.transit -= len(msgs)
        if self.broken:
            if self.receiver is not None:
                self.receiver.node.count_destroyed(len(msgs))
            return
        self.arrived.append((msgs, nbytes, taken))
        if self.receiver is not None:
            self.receiver.rx_sleep.wake()

    def take(self) -> tuple[list[Any], int]:
        msgs, nbytes, taken = self.arrived.popleft()
        self.in_flight -= taken
        if self.sender is not None and self.writable():
            self.sender.space_sleep.wake()
        return msgs, nbytes

    def queued(self) -> int:
        """Messages written into this stream and not yet read by the receiving engine."""
        return sum(len(m) for m, _, _ in self.arrived) + self.transit


class Engine:
    """One end of a tcp/ipc connection, in its node's I/O thread."""

    def __init__(
        self, node: SimNode, out_pipe: Pipe, in_pipe: Pipe, tx: Wire, rx: Wire, label: str
    ) -> None:
        self.node = node
        env = node.env
        costs = node.world.costs
        self.env = env
        self.label = label
        self.out_pipe = out_pipe
        self.in_pipe = in_pipe
        out_pipe.reader = self
        in_pipe.writer = self
        self.tx = tx
        self.rx = rx
        tx.sender = self
        rx.receiver = self
        self.alive = True
        self.pending: deque[Any] = deque()
        self.held: list[Any] = []  # the sending side's batch not yet written (_tx_loop)
        self.tx_sleep = Sleeper(env, thread=node.io)
        self.space_sleep = Sleeper(env, thread=node.io)
        self.rx_sleep = Sleeper(env, thread=node.io)
        self.resume_sleep = Sleeper(env)
        self.down = env.event()
        self.batch_bytes = costs.batch_bytes
        self.msg_cost = costs.engine_msg_s
        self.byte_cost = costs.engine_byte_s
        # an I/O thread's CPU per wake-up (io_wake_cpu_s), split at the wake's first batch
        # (IO_WAKE_CPU_BEFORE; _woke, _settle): what comes before sets how many messages a
        # wake finds, hence the writes per message
        self.wake_cpu = costs.io_wake_cpu_s * IO_WAKE_CPU_BEFORE
        self.settle_cpu = costs.io_wake_cpu_s - self.wake_cpu
        self.owes_settle = False
        self.peer: Engine | None = None
        # set by close(): drain the session pipe (linger), then FIN; the input is discarded
        self.closing = False
        env.process(self._tx_loop())
        env.process(self._rx_loop())

    # PipeListener: both are commands to the I/O thread (a wake-up when it is idle).
    def read_activated(self, pipe: Pipe) -> None:
        self.tx_sleep.wake()
        self.space_sleep.wake()  # restart_output: a speculative write of a held batch

    def command_posted(self) -> None:
        """Not charged: the I/O thread's posts cost it little next to its wake-ups."""

    def write_activated(self, pipe: Pipe, msgs_read: int) -> None:
        def apply(_e: Any) -> None:
            pipe.peer_read = max(pipe.peer_read, msgs_read)
            self.resume_sleep.wake()

        self.env.timeout(self.node.io.wake_delay()).callbacks.append(apply)

    def _tx_loop(self) -> Generator[simpy.Event, Any, None]:
        out, tx, io = self.out_pipe, self.tx, self.node.io
        held = self.held  # the encoder's batch: pulled from the pipe, not yet written
        nbytes, cut = 0, False
        while self.alive:
            if not held:
                if self.closing and not out.queue:
                    self._end_closed()
                    return
                if not out.check_read():
                    yield self.tx_sleep.wait()  # woken by the application thread's flush
                    if io.stranding is not None:
                        yield from io.stranding.after_wake()
                    yield from self._woke()
                    continue
                nbytes = 0
                while nbytes < self.batch_bytes and out.check_read():
                    msg = out.pop()
                    held.append(msg)
                    nbytes += msg.wire_size
                # a batch cut at out_batch_size leaves the pipe's reader awake: no
                # activate_read will come, only POLLOUT
                cut = nbytes >= self.batch_bytes
                delay = io.busy(self.msg_cost * len(held) + self.byte_cost * nbytes)
                if delay > 0:
                    yield self.env.timeout(delay)
                if not self.alive:
                    return  # kill() counted the batch as lost
            if not tx.has_room():
                # EAGAIN (tcp.cpp tcp_write returns 0): the batch stays in the encoder and the
                # engine waits for POLLOUT, or for a speculative write (read_activated)
                yield self.space_sleep.wait()
                yield from self._woke()
                continue
            tx.send(held, nbytes)
            held = self.held = []
            if self.owes_settle:
                yield from self._settle()
            if cut and not tx.writable():
                yield self.space_sleep.wait()  # no out_event until the buffers drain
                yield from self._woke()

    def _rx_loop(self) -> Generator[simpy.Event, Any, None]:
        rx, inp, io = self.rx, self.in_pipe, self.node.io
        pending = self.pending
        while self.alive and not self.closing:
            if not pending:
                if not rx.arrived:
                    if rx.fin:
                        # EOF after the last byte: the peer closed (stream_engine_base.cpp
                        # in_event: a read of 0 is an error, the engine goes down); whatever
                        # this side had not yet written is lost with it
                        self.node.count_destroyed(self.kill())
                        return
                    yield self.rx_sleep.wait()
                    yield from self._woke()
                    continue
                msgs, nbytes = rx.take()
                delay = io.busy(self.msg_cost * len(msgs) + self.byte_cost * nbytes)
                if delay > 0:
                    yield self.env.timeout(delay)
                if not self.alive:
                    self.node.count_destroyed(len(msgs))
                    return
                pending.extend(msgs)
            while pending and inp.check_write():
                inp.write(pending.popleft())
            inp.flush()
            if self.owes_settle:
                yield from self._settle()
            # _input_stopped: wait for the socket's activate_write, unless it came in while
            # this thread was busy settling (libzmq queues the command in the I/O thread's
            # mailbox and restart_input runs when the loop gets to it: it is never lost)
            if pending and not inp.check_write():
                yield self.resume_sleep.wait()
                yield from self._woke()

    def stranded(self) -> int:
        """Messages this engine holds for its socket although the pipe has room: a reader
        that can take them and will never be given them (a lost wake-up)."""
        if not (self.alive and self.pending and self.in_pipe.check_write()):
            return 0
        return len(self.pending) + self.rx.queued()  # and all that arrived behind them

    def _woke(self) -> Generator[simpy.Event, Any, None]:
        """The part of a wake-up's fixed CPU that comes before any message."""
        self.owes_settle = self.settle_cpu > 0
        yield from self._io_cpu(self.wake_cpu)

    def _settle(self) -> Generator[simpy.Event, Any, None]:
        """After a wake's first batch: the rest of its fixed CPU (the write's return, the
        loop's way back into epoll_wait)."""
        self.owes_settle = False
        yield from self._io_cpu(self.settle_cpu)

    def _io_cpu(self, cost: float) -> Generator[simpy.Event, Any, None]:
        """``cost`` s of the I/O thread's CPU, after what it is already doing."""
        if cost > 0 and self.alive:
            delay = self.node.io.busy(cost)
            if delay > 0:
                yield self.env.timeout(delay)

    def close(self, linger_s: float | None) -> None:
        """The socket closed (session_base.cpp process_term): stop reading input (counted
        lost); keep writing the session pipe's messages to the kernel until it is empty, then
        close the connection (FIN). ``linger_s``: 0 drops what is unwritten now, None waits
        for ever, otherwise the linger timer (timer_event) drops what is left when it fires."""
        if not self.alive or self.closing:
            return
        self.closing = True
        self.rx.broken = True  # what arrives from now on is lost at this end (Wire._arrive)
        lost = len(self.pending) + sum(len(m) for m, _, _ in self.rx.arrived)
        self.pending.clear()
        self.rx.arrived.clear()
        self.node.count_destroyed(lost)
        if linger_s == 0:
            self.drop_unwritten()
        elif linger_s is not None:
            self.env.timeout(linger_s).callbacks.append(lambda _e: self.drop_unwritten())
        for s in (self.tx_sleep, self.space_sleep, self.rx_sleep, self.resume_sleep):
            s.wake()

    def drop_unwritten(self) -> None:
        """The linger is over: the messages not yet written to the kernel are lost."""
        if not self.alive:
            return
        self.node.count_destroyed(len(self.out_pipe) + len(self.held))
        self.out_pipe.queue.clear()
        self.held.clear()
        self.tx_sleep.wake()
        self.space_sleep.wake()

    def _end_closed(self) -> None:
        """Everything is written: FIN, and this engine is gone (its input was dropped)."""
        self.alive = False
        self.tx.send_fin()
        if not self.down.triggered:
            self.down.succeed()

    def kill(self) -> int:
        """Stop; returns the messages this engine held (lost)."""
        if not self.alive:
            return 0
        self.alive = False
        lost = len(self.pending) + len(self.held)
        self.pending.clear()
        self.held.clear()
        self.tx.broken = True
        self.rx.broken = True
        lost += sum(len(m) for m, _, _ in self.rx.arrived)
        self.rx.arrived.clear()
        for s in (self.tx_sleep, self.space_sleep, self.rx_sleep, self.resume_sleep):
            s.wake()
        if not self.down.triggered:
            self.down.succeed()
        return lost

    def queued(self) -> int:
        """Messages held by this engine or on their way to it."""
        return len(self.pending) + len(self.held) + self.rx.queued()
