"""The timing parameters of the simulation model, kept in one place.

Defaults are representative of pyzmq 27 / libzmq 4.3.5 over Linux loopback on a small machine
(see ../shared/reference/zmq-semantics.md §10-11): a pyzmq send or recv costs ~1.5 µs, a
REQ/REP round trip over tcp ~36 µs, a PUSH→PULL flow of 100 B runs at ~0.6 M msg/s. A scenario
may override any of them in its ``[model]`` table; a later machine profile replaces the defaults.
Pure data: this module knows nothing of simpy or zmq.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# x86-64 Linux: SKB_DATA_ALIGN(sizeof(struct skb_shared_info)), SKB_DATA_ALIGN(sizeof(struct
# sk_buff)) and SKB_MAX_HEAD(0) = a page less the shared info (include/linux/skbuff.h).
SKB_SHINFO_BYTES = 320
SKB_STRUCT_BYTES = 256
SKB_MAX_HEAD_BYTES = 4096 - SKB_SHINFO_BYTES
# A unix stream socket polls writable while its queued skbs take at most a quarter of its
# sk_sndbuf: (sk_wmem_alloc << 2) <= sk_sndbuf (net/unix/af_unix.c unix_writable).
UNIX_WRITABLE_FRACTION = 0.25


def unix_skb_truesize(nbytes: int) -> int:
    """What one write of ``nbytes`` takes of a unix stream socket's send buffer: its skb's
    truesize. The head (up to SKB_MAX_HEAD) is cache-aligned, grows by the shared info and is
    rounded up to a kmalloc size (a power of two here); the rest goes to page fragments, charged
    as their length. Measured live (bare fills, one write each): 747-761 B per 10-100 B write,
    2242 B per 1 kB, 4733 B per 4 kB; this gives 768, 2304 and 4585."""
    head = min(nbytes, SKB_MAX_HEAD_BYTES)
    size = -(-head // 64) * 64 + SKB_SHINFO_BYTES
    kmalloc = 1 << max(5, (size - 1).bit_length())
    return kmalloc + SKB_STRUCT_BYTES + max(0, nbytes - SKB_MAX_HEAD_BYTES)


class LinkCosts(BaseModel):
    """One transport's wire: the kernel between two I/O threads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_s: float = Field(5e-6, ge=0, description="one-way latency of a write to its read")
    bandwidth_Bps: float = Field(4e9, gt=0, description="bytes per second through the kernel")
    kernel_buffer_bytes: int = Field(
        2_700_000,
        ge=1,
        description="bytes that can sit between the two engines (send + receive socket buffers)",
    )
    write_overhead_bytes: int = Field(
        0, ge=0, description="kernel buffer each write takes beyond its bytes: a unix socket "
        "queues one buffer (skb) per write and charges its whole size, hundreds of bytes more "
        "than a small message; tcp coalesces small writes (0)"
    )
    write_charge: Literal["overhead", "unix_skb"] = Field(
        "overhead", description="what each write takes of kernel_buffer_bytes: 'overhead', its "
        "bytes plus write_overhead_bytes; 'unix_skb', the truesize of the buffer Linux "
        "allocates for it on a unix stream socket (af_unix.c unix_stream_sendmsg, skbuff.c "
        "__alloc_skb): the head rounded up to a kmalloc size with skb_shared_info, plus the "
        "sk_buff, plus any page fragments past SKB_MAX_HEAD (zsim.costs.unix_skb_truesize)"
    )
    writable_fraction: float = Field(
        1.0, gt=0, le=1, description="a sending engine that has no room in the kernel buffers "
        "(its write returned EAGAIN), or that is above this mark with more messages waiting, "
        "resumes only once what the buffers hold falls to this fraction of "
        "kernel_buffer_bytes: the socket's POLLOUT, which libzmq's level-triggered poller "
        "waits for (stream_engine_base.cpp out_event). A unix stream socket reports it at a "
        "quarter of its sk_sndbuf (net/unix/af_unix.c unix_writable): 0.25. 1: at any room "
        "(tcp here: its buffers never fill in the shipped scenarios)"
    )
    connect_half_trips: int = Field(
        6, ge=0, description="one-way trips until the connecting engine is ready (TCP + ZMTP)"
    )
    bind_half_trips: int = Field(
        7, ge=0, description="one-way trips until the binding engine is ready (TCP + ZMTP)"
    )
    handshake_jitter_s: float = Field(
        0.0, ge=0, description="mean of an exponential extra delay of each handshake: its "
        "I/O-thread wake-ups waiting for a CPU on a loaded host (0 = none)"
    )

    @property
    def writable_bytes(self) -> float:
        """What the kernel buffers may hold for the sending socket to be writable (POLLOUT)."""
        return self.kernel_buffer_bytes * self.writable_fraction

    def write_taken(self, nbytes: int) -> int:
        """The kernel buffer one write of ``nbytes`` takes (write_charge)."""
        if self.write_charge == "unix_skb":
            return unix_skb_truesize(nbytes)
        return nbytes + self.write_overhead_bytes


# The share of io_wake_cpu_s before a wake's first batch. perf sched on a live tcp publisher's
# I/O thread: 4-5 µs from being switched in to its sendto, 3-4 µs from there to its next sleep.
IO_WAKE_CPU_BEFORE = 0.5


# The CostModel fields that are CPU work of an application or I/O thread: what a slower host
# (CostModel.host_speed_cv) makes longer.
HOST_SPEED_COSTS = ("app_send_s", "app_recv_s", "app_drop_saving_s", "app_byte_s", "app_record_s",
                    "app_gil_signal_s", "command_post_s", "io_wake_cpu_s", "engine_msg_s",
                    "engine_byte_s")


class SleepLateness(BaseModel):
    """How late a timed sleep of ``sleep_s`` ends: the mean, and the spread from one such sleep
    to the next within a run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sleep_s: float = Field(ge=0, description="the sleep's length")
    late_s: float = Field(ge=0, description="how late it ends on average")
    sd_s: float = Field(ge=0, description="the standard deviation of that lateness within a run")


class CallCost(BaseModel):
    """What one send call and one recv call of a message of ``size_bytes`` cost the application
    thread."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size_bytes: int = Field(ge=0, description="the message's payload size")
    send_s: float = Field(ge=0, description="one send call's cost at that size")
    recv_s: float = Field(ge=0, description="one recv call's cost at that size")


class CostModel(BaseModel):
    """Per-message, per-byte and wake-up costs. Times in seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app_send_s: float = Field(1.5e-6, ge=0, description="application cost of one send call")
    app_recv_s: float = Field(1.5e-6, ge=0, description="application cost of one recv call")
    app_drop_saving_s: float = Field(
        0.0, ge=0, description="how much less than app_send_s a PUB/XPUB send costs when no "
        "pipe takes its message (every matching pipe at its HWM, or none matching): libzmq's "
        "dist.cpp writes nothing, so no ypipe write and flush (what a written message's "
        "command costs is command_post_s)"
    )
    app_byte_s: float = Field(
        0.1e-9, ge=0, description="extra application cost per payload byte (copy)"
    )
    app_call_by_size: tuple[CallCost, ...] = Field(
        (), description="send and recv costs measured at given sizes, in increasing size; when "
        "given, a call's cost is interpolated in its message's size between these points "
        "(outside them, the nearest point and app_byte_s per byte of the difference) "
        "and replaces app_send_s/app_recv_s + app_byte_s × size. A call's cost is not linear "
        "in size: on a virtual machine a pyzmq send cost 12.3 µs of CPU at 10 B, 12.7 at "
        "100 B, 13.4 at 1 kB and 16.7 at 10 kB (a line through them is 0.5-0.9 µs too dear at "
        "10 B and misses most of the step to 1 kB)"
    )
    app_cost_cv: float = Field(
        0.0, ge=0, description="spread of each send/recv call's application cost: gamma "
        "distributed with the costs above as its mean and this coefficient of variation "
        "(0 = every call costs the same). Not drawn for a send right after a timed sleep: "
        "that send's variation is in the sleep's lateness, measured on such sends"
    )
    app_record_s: float = Field(
        0.0, ge=0, description="extra application cost of each send/recv when the run records "
        "messages (the live backend's per-message event log; 0 for an application that logs "
        "nothing)"
    )
    app_gil_wait_s: float = Field(
        0.0, ge=0, description="the application threads of one process (the nodes of a "
        "scenario that links nodes by inproc) take turns under one interpreter lock, as "
        "CPython's GIL: a thread that must run while another runs waits this long on average "
        "(exponential), or until that one waits. 0: they run in parallel (C, C++)"
    )
    app_gil_wait_sigma: float = Field(
        0.0, ge=0, description="spread of that wait from run to run: each run's mean wait is "
        "app_gil_wait_s times a lognormal factor with median 1 and this log-standard "
        "deviation (live, what a subscriber thread gets of a publisher's burst ranges from "
        "nothing to three quarters of what it would get alone, between runs of one "
        "scenario). 0: every run alike"
    )
    app_gil_signal_s: float = Field(
        0.0, ge=0, description="what each send or recv call of the thread holding that lock "
        "costs more while another thread waits for it: pyzmq drops the lock around every "
        "libzmq call, and CPython's drop_gil (Python/ceval_gil.h) then signals the waiter's "
        "condition variable, which wakes it to find the lock taken again (a futex wake, and "
        "on a virtual machine an interrupt to the other CPU). 0: no such cost"
    )
    command_post_s: float = Field(
        0.0, ge=0, description="an application thread's cost of sending a command to a thread "
        "that sleeps (activate_read when its reader found the pipe empty, activate_write every "
        "lwm reads): libzmq signals it with an eventfd write"
    )
    app_wakeup_s: float = Field(
        8e-6, ge=0, description="an application thread blocked in zmq wakes after this"
    )
    app_start_late_s: float = Field(
        0.0, ge=0, description="a node's process wakes this much after its start (or "
        "restart) time on average: the host's wake-up from a long idle sleep. 0: on time"
    )
    app_start_late_cv: float = Field(
        0.0, ge=0, description="spread of each node's start lateness: gamma distributed with "
        "app_start_late_s as its mean and this coefficient of variation (0 = all equally late)"
    )
    app_sleep_late_s: float = Field(
        0.0, ge=0, description="an application thread that sleeps until a time (a start "
        "delay, sleep and work) runs again this much later on average: the host's timer "
        "slack and wake-up. 0: on time"
    )
    app_sleep_late_cv: float = Field(
        0.0, ge=0, description="spread of each sleep's lateness within a run: gamma "
        "distributed with app_sleep_late_s as its mean and this coefficient of variation "
        "(0 = every sleep is equally late)"
    )
    app_sleep_late_by_length: tuple[SleepLateness, ...] = Field(
        (), description="how late sleeps of given lengths end, in increasing length; when "
        "given, a sleep's mean lateness and spread are interpolated in its length between these "
        "points (held beyond the ends) and replace app_sleep_late_s/_cv. A short sleep wakes "
        "as late as the last one to within ~2 µs, a long one varies more (on a virtual "
        "machine: 52 µs sleeps ended 31 µs late ± 1.8 µs, 1.9 ms ones 80 µs ± 14 µs); how often "
        "a paced publisher's send falls one send earlier in libzmq's command throttle follows "
        "that spread"
    )
    app_mark_s: float = Field(
        0.0, ge=0, description="time from a mark to the behaviour's next operation (the live "
        "backend reports each mark to its runner over a pipe, and a node's first steps run "
        "cold)"
    )
    io_wakeup_s: float = Field(5e-6, ge=0, description="an idle I/O thread wakes after this")
    io_hot_wakeup_s: float | None = Field(
        None, ge=0, description="an I/O thread idle for less than io_hot_idle_s wakes after "
        "this instead: its core has not gone into a deep sleep yet (the guest's vCPU is still "
        "halt-polling, or the idle governor chose a shallow state). None: io_wakeup_s"
    )
    io_hot_idle_s: float = Field(
        0.0, ge=0, description="how long an I/O thread may have been idle (since its last "
        "work) and still wake in io_hot_wakeup_s. 0: every wake-up takes io_wakeup_s"
    )
    io_wake_cpu_s: float = Field(
        0.0, ge=0, description="CPU an I/O thread spends each time it wakes (epoll_wait, its "
        "mailbox, the socket calls' fixed cost): half before the wake's first batch of "
        "messages, half after it"
    )
    cpu_cores: int = Field(
        0, ge=0, description="cores that every node's application and I/O threads share: while "
        "more of them have work than there are cores, each runs that much slower (processor "
        "sharing). 0: every thread has a core of its own"
    )
    io_strand_per_msg: float = Field(
        0.0, ge=0, description="how often, per message its application thread writes into a "
        "pipe, the I/O thread that the thread's flush wakes is stranded behind it: queued on "
        "the waker's core while that thread keeps running, as Linux places a woken thread when "
        "no core is idle (drawn at each wake, over the messages written since the last). "
        "0: never; needs cpu_cores"
    )
    io_strand_s: float = Field(
        0.0, ge=0, description="mean length of a strand (exponential): the I/O thread waits "
        "this long for a core unless its application thread stops running first (sleeps or "
        "blocks in zmq)"
    )
    host_speed_cv: float = Field(
        0.0, ge=0, description="spread of the host's speed from run to run: each run draws one "
        "factor (lognormal, mean 1, this coefficient of variation) that multiplies every CPU cost "
        "of its application and I/O threads (HOST_SPEED_COSTS), as a live host's frequency, "
        "caches and neighbours make one run's sends slower than the next's. 0: every run "
        "equally fast"
    )
    engine_msg_s: float = Field(0.4e-6, ge=0, description="I/O thread cost per message")
    engine_byte_s: float = Field(0.05e-9, ge=0, description="I/O thread cost per byte")
    command_interval_s: float = Field(
        1e-3,
        ge=0,
        description="send processes commands at most this often (libzmq max_command_delay)",
    )
    command_phase: Literal["first_send", "random"] = Field(
        "first_send",
        description="send's command throttle: 'first_send' fires at a socket's first send and "
        "then at the first send an interval after the last (libzmq's _last_tsc = 0), so that "
        "the sends' own timing sets its phase, as measured live; 'random' draws where in its "
        "interval the throttle's clock starts (a cruder stand-in for send-time jitter)",
    )
    inbound_poll_rate: int = Field(
        100, ge=1, description="recv processes commands every this many messages"
    )
    batch_bytes: int = Field(8192, ge=1, description="engine read/write batch (in/out_batch_size)")
    tcp: LinkCosts = LinkCosts()
    ipc: LinkCosts = LinkCosts(
        latency_s=4e-6, kernel_buffer_bytes=400_000, writable_fraction=UNIX_WRITABLE_FRACTION,
        connect_half_trips=4, bind_half_trips=5
    )

    def recording(self, messages: bool) -> CostModel:
        """The costs an application that records every message pays: ``app_record_s`` folded
        into each send and recv (no change when it records only lifecycle events)."""
        if not messages or self.app_record_s == 0:
            return self
        extra = self.app_record_s
        return self.model_copy(update={
            "app_send_s": self.app_send_s + extra, "app_recv_s": self.app_recv_s + extra,
            "app_call_by_size": tuple(p.model_copy(update={"send_s": p.send_s + extra,
                                                           "recv_s": p.recv_s + extra})
                                      for p in self.app_call_by_size),
            "app_record_s": 0.0})

    def slowed(self, factor: float) -> CostModel:
        """These costs on a host ``factor`` times slower: the HOST_SPEED_COSTS scaled. Wake-up
        latencies, lateness, strands and the command interval (TSC ticks) are waits, not work,
        and stay."""
        if factor == 1.0:
            return self
        scaled: dict[str, object] = {k: getattr(self, k) * factor for k in HOST_SPEED_COSTS}
        scaled["app_call_by_size"] = tuple(
            p.model_copy(update={"send_s": p.send_s * factor, "recv_s": p.recv_s * factor})
            for p in self.app_call_by_size)
        return self.model_copy(update=scaled)

    @field_validator("app_sleep_late_by_length", "app_call_by_size")
    @classmethod
    def _points_increase(cls, points: tuple[BaseModel, ...]) -> tuple[BaseModel, ...]:
        """A table's points go in increasing sleep length or message size."""
        if not points:
            return points
        key = "sleep_s" if isinstance(points[0], SleepLateness) else "size_bytes"
        at = [getattr(p, key) for p in points]
        if any(b <= a for a, b in pairwise(at)):
            raise ValueError(f"{key} must increase from point to point, got {at}")
        return points

    def call_cost(self, size: int) -> tuple[float, float]:
        """What a send and a recv of a ``size``-byte message cost the application thread:
        app_call_by_size interpolated (numpy.interp's arithmetic; outside its sizes, the nearest
        point and app_byte_s per byte), else the intercepts plus app_byte_s per byte."""
        points = self.app_call_by_size
        if not points:
            return (self.app_send_s + self.app_byte_s * size,
                    self.app_recv_s + self.app_byte_s * size)
        i = next((k for k, p in enumerate(points) if p.size_bytes > size), len(points))
        if i == 0 or i == len(points):  # outside the measured sizes: the copy's per-byte rule
            end = points[0] if i == 0 else points[-1]
            more = self.app_byte_s * (size - end.size_bytes)
            return max(0.0, end.send_s + more), max(0.0, end.recv_s + more)
        a, b = points[i - 1], points[i]
        x = size - a.size_bytes
        span = b.size_bytes - a.size_bytes
        return ((b.send_s - a.send_s) / span * x + a.send_s,
                (b.recv_s - a.recv_s) / span * x + a.recv_s)

    def sleep_lateness(self, seconds: float) -> tuple[float, float]:
        """How late a sleep of ``seconds`` ends: (mean, standard deviation within a run),
        linear between the points (numpy.interp's arithmetic) and held beyond the ends. Called
        on every paced send's sleep: a scan of the few points, no arrays built."""
        points = self.app_sleep_late_by_length
        if not points:
            return self.app_sleep_late_s, self.app_sleep_late_s * self.app_sleep_late_cv
        i = next((k for k, p in enumerate(points) if p.sleep_s > seconds), len(points))
        if i == 0 or i == len(points):
            end = points[0] if i == 0 else points[-1]
            return end.late_s, end.sd_s
        a, b = points[i - 1], points[i]
        x = seconds - a.sleep_s
        span = b.sleep_s - a.sleep_s
        return ((b.late_s - a.late_s) / span * x + a.late_s,
                (b.sd_s - a.sd_s) / span * x + a.sd_s)

    def link(self, transport: str) -> LinkCosts:
        """The wire costs of ``transport`` (pgm/epgm are modelled as tcp)."""
        return self.ipc if transport == "ipc" else self.tcp

    @classmethod
    def zero(cls) -> CostModel:
        """Every cost zero: the model reduces to pure ordering (for closed-form checks)."""
        free = LinkCosts(latency_s=0, bandwidth_Bps=1e30)
        return cls(
            app_send_s=0, app_recv_s=0, app_byte_s=0, app_wakeup_s=0, io_wakeup_s=0,
            engine_msg_s=0, engine_byte_s=0, tcp=free, ipc=free,
        )
