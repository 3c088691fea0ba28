"""The measurements behind ``zsim calibrate``: live runs where the live backend's own driver is
part of the quantity, bare pyzmq where the quantity belongs to libzmq or the kernel.

Live (``run_live`` on small scenarios, one OS process per node, as every live run):
- ``app_costs``: per-call cost of the built-in publisher's send and subscriber's recv, by size
  (scenarios/calibration/app_costs.toml);
- ``rtt``: the client's ``rtt_mean_s`` of hello_reqrep with no service time, and the spread of
  its round trips from the event log;
- ``join``: slow_joiner's window, connect() to the send of the first delivered message; in the
  same runs the subscriber's handshake (connect() to HANDSHAKE_SUCCEEDED), how late both
  nodes wake for their start, the publisher's first send after its "started" mark, and how
  late its paced sends are;
- ``gil_probe``: whether a subscriber thread runs while a publisher thread of the same process
  sends a burst (inproc: the interpreter lock the live backend's threads share).
Bare pyzmq (in this process, two contexts so that each side has its own I/O thread; loopback,
linger 0, every wait bounded, temporary ipc directories removed):
- ``capacity``: PUSH with NOBLOCK into an idle PULL until EAGAIN persists;
- ``spaced_capacity``: the same, one send every 40 µs, so that each message is a write of its
  own (what a unix socket charges per write shows); three fills per size, the median kept (a
  stall that lets writes coalesce took 425 messages of 100 B where the others took 300);
- ``engine``: I/O-thread throughput, timed with no Python in the data path;
- ``command_probe``: the send-side command throttle seen on inproc;
- ``post_probe``: what a send costs when it must wake the sleeping I/O thread (activate_read),
  against a send whose pipe nobody reads;
- ``tsc_hz``: the time-stamp counter's rate, which sets libzmq's max_command_delay.
Nothing here fits anything: ``zsim.analysis.calibrate`` does that.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import math
import mmap
import platform
import random
import shutil
import socket
import struct
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import zmq
from zmq.utils.monitor import recv_monitor_message

from zsim.behaviours.api import frame_overhead
from zsim.catalog import SHIPPED
from zsim.costs import CostModel
from zsim.errors import ZsimError
from zsim.live import threadstat
from zsim.live.runner import run_live
from zsim.scenario import load_scenario

CALIBRATION = SHIPPED / "calibration"
MAX_COMMAND_DELAY_TICKS = 3_000_000  # libzmq src/config.hpp max_command_delay
SETTLE_S = 0.2  # capacity: EAGAIN that lasts this long means the path is full
BARE_WAIT_MS = 10_000  # any bare wait that takes longer than this is a failure

T = TypeVar("T")


def wire_size(size: int) -> int:
    """Bytes of one single-frame message on a ZMTP connection."""
    return size + frame_overhead(size)


@dataclass(frozen=True)
class Plan:
    """What one calibration measures; ``quick`` trades precision for ~20 s of wall time."""

    quick: bool = False
    transports: tuple[str, ...] = ("tcp", "ipc")
    app_sizes: tuple[int, ...] = (10, 100, 1000, 10000)
    app_transports: tuple[str, ...] = ("tcp", "ipc")
    app_count: int = 20_000
    app_reps: int = 3  # per size and transport; the median of each figure counts (the host's
    # speed moves between runs by up to 2x, and recorded minus bare is a small difference)
    app_bytes: int = 20_000_000  # count × size is capped at this
    rtt_requests: int = 500
    rtt_runs: int = 16  # a run's mean RTT differs from the next's by a CV of ~0.25, one run
    # to the next (s37's check, 300 requests a run: 96-312 µs over ipc), so 8 runs left the
    # mean ±9% (one SE): s37's calibration measured tcp at 177 µs, and its check, a minute
    # later, 149 µs; 16 runs spread over the calibration bring that to ±6%
    join_rates: tuple[float, ...] = (10_000.0, 2000.0, 500.0)
    join_runs: int = 24  # per transport, cycling through the rates
    cap_sizes: tuple[int, ...] = (10, 100, 1000, 10000)
    cap_hwms: tuple[int, ...] = (10, 1000)  # the smallest is fitted, the others validate
    engine_sizes: tuple[int, ...] = (10, 100, 1000, 10000, 100000)
    engine_count: int = 200_000
    engine_bytes: int = 40_000_000
    engine_reps: int = 3  # the median counts: page faults and descheduling only slow a run
    probes: int = 40
    gil_runs: int = 24  # the lock share swings run to run (0-81% over the calibrations'
    # runs), in two clusters; the fit matches its mean (calibrate.refine_gil), whose SE over
    # 15 runs was 0.04 (bootstrap of s42-s44's 45 runs), 7% of what the subscriber gets at
    # inproc HWM 10: 24 runs bring that to 0.03. Spread over the calibration, as its median
    # moved from 0.70 (s42) to 0.52 (s43) between two 15-run blocks
    post_runs: int = 7  # the fastest counts: a woken I/O thread placed on the sender's own
    # core runs first, and the send comes out 17-20 µs instead of 4-7 (s43: 16.7 and 17.7 µs
    # in 2 runs of 3; a quick calibration: 20.4)
    strand_runs: int = 24  # tcp; 0-2 strands long enough to cost a credit per run, and
    # the runs' received spread 475-1137 (s32): 10 runs left the fitted amount ±2x between
    # calibrations (0.0024-0.0057 per message in s30-s32). The same bursts give the dropped
    # send's cost, which sets how long a burst lasts and so what a subscriber at HWM 10 gets:
    # its per-run CV of 0.18-0.28 left 16 runs' median ±6-9%; 24 runs, ±5-7%
    spaced_sizes: tuple[int, ...] = (10, 100, 1000, 4000)
    spaced_reps: int = 3  # one fill a stall disturbs (writes coalesce) is outvoted: median
    # one-way times after an idle of each gap: hot wake-ups up to ~100 µs here, slower ones
    # from 0.2 ms; 300 messages per gap on each of three connections
    wake_gaps_s: tuple[float, ...] = (25e-6, 50e-6, 100e-6, 200e-6, 400e-6, 800e-6)
    wake_msgs: int = 300
    wake_reps: int = 3
    post_sends: int = 2000
    timeout: float = 60.0

    @classmethod
    def make(cls, quick: bool, timeout: float = 60.0) -> Plan:
        if not quick:
            return cls(timeout=timeout)
        return cls(quick=True, app_sizes=(10, 10000), app_transports=("tcp",), app_count=5000,
                   app_reps=1,
                   app_bytes=10_000_000, rtt_requests=500, rtt_runs=1, join_rates=(10_000.0,),
                   join_runs=3, cap_sizes=(100, 10000), cap_hwms=(10, 1000),
                   engine_sizes=(10, 1000, 100000), engine_count=50_000,
                   engine_bytes=10_000_000, engine_reps=1, probes=15, gil_runs=1, post_runs=1,
                   spaced_sizes=(10, 1000), spaced_reps=1, wake_msgs=100, wake_reps=1,
                   post_sends=500, strand_runs=2,
                   timeout=timeout)

    def steps(self) -> int:
        n_app = len(self.app_sizes) * len(self.app_transports)  # a step per size, all reps
        per_transport = (self.rtt_runs + self.join_runs + 1
                         + len(self.cap_sizes) * len(self.cap_hwms) + len(self.engine_sizes))
        spaced = len(self.spaced_sizes) if "ipc" in self.transports else 0
        return (n_app + len(self.transports) * per_transport + spaced + self.strand_runs
                + self.gil_runs + 2)


@dataclass
class Measurements:
    """Raw results, as plain data (they go into the profile's fit section)."""

    plan: Plan
    app: list[dict[str, Any]] = field(default_factory=list)
    rtt: list[dict[str, Any]] = field(default_factory=list)
    join: list[dict[str, Any]] = field(default_factory=list)
    capacity: list[dict[str, Any]] = field(default_factory=list)
    spaced: list[dict[str, Any]] = field(default_factory=list)
    engine: list[dict[str, Any]] = field(default_factory=list)
    probes: list[float] = field(default_factory=list)
    gil: list[dict[str, float]] = field(default_factory=list)
    posts: list[dict[str, float]] = field(default_factory=list)
    strands: list[dict[str, Any]] = field(default_factory=list)
    one_way: list[dict[str, Any]] = field(default_factory=list)
    tsc: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0


# --- live runs ----------------------------------------------------------------------------------
def _live(path: Path, overrides: dict[str, Any], seed: int, timeout: float,
          record: str = "messages") -> Any:
    result = run_live(load_scenario(path, overrides), seed=seed, record=record,
                      timeout=timeout)
    if not result.meta.get("complete"):
        why = result.meta.get("problems") or result.meta.get("stop_reason")
        raise ZsimError(f"calibration run {path.stem} {overrides}: incomplete: {why}")
    return result


def _times(events: Any, node: str, event: str) -> np.ndarray:
    rows = events[(events.node == node) & (events.event == event)]
    times: np.ndarray = rows.t.to_numpy(dtype=float)
    return times


def _per_call(t: np.ndarray) -> dict[str, float]:
    """Mean seconds per call over a run of back-to-back calls, and the spread of the gaps."""
    gaps = np.diff(t)
    return {"mean_s": float((t[-1] - t[0]) / (len(t) - 1)), "p10_s": float(np.percentile(gaps, 10)),
            "p50_s": float(np.median(gaps)), "p90_s": float(np.percentile(gaps, 90))}


def app_costs(transport: str, size: int, count: int, seed: int, timeout: float) -> dict[str, Any]:
    """Per-call send and recv times, recording every message ("send"/"recv", from the event
    log) and recording none ("send_bare"/"recv_bare": the pusher's started→done marks over
    ``count``, and the puller's own throughput metric)."""
    overrides = {"transport": transport, "size": size, "count": count}
    result = _live(CALIBRATION / "app_costs.toml", overrides, seed, timeout)
    sends = _times(result.events, "pusher", "send")
    recvs = _times(result.events, "puller", "recv")
    if len(sends) < 2 or len(recvs) < count:
        raise ZsimError(f"app_costs {transport} {size} B: {len(recvs)} of {count} received")
    bare = _live(CALIBRATION / "app_costs.toml", overrides, seed, timeout, record="lifecycle")
    marks = bare.events[(bare.events.node == "pusher") & (bare.events.event == "mark")]
    span = marks[marks.detail == "done"].t.iloc[0] - marks[marks.detail == "started"].t.iloc[0]
    return {"transport": transport, "size": size, "count": count,
            "send": _per_call(sends), "recv": _per_call(recvs),
            "send_bare_s": float(span / count),
            "recv_bare_s": float(1.0 / bare.metric("puller", "throughput_msg_s")),
            # the threads' own CPU per call (cpu_s), which no other thread's share inflates
            "send_cpu_s": bare.metric("pusher", "cpu_s") / count,
            "recv_cpu_s": bare.metric("puller", "cpu_s") / count,
            "send_recorded_cpu_s": result.metric("pusher", "cpu_s") / count,
            "recv_recorded_cpu_s": result.metric("puller", "cpu_s") / count}


def median_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows' median, figure by figure (nested dicts too); other values from the first."""
    out: dict[str, Any] = {}
    for key, value in rows[0].items():
        if isinstance(value, dict):
            out[key] = median_of([r[key] for r in rows])
        elif isinstance(value, float):
            out[key] = float(np.median([r[key] for r in rows]))
        else:
            out[key] = value
    return out


def rtt(transport: str, requests: int, seed: int, timeout: float) -> dict[str, Any]:
    result = _live(SHIPPED / "hello_reqrep.toml",
                   {"transport": transport, "service": 0.0, "requests": requests}, seed, timeout)
    ev = result.events
    sends, recvs = _times(ev, "client", "send"), _times(ev, "client", "recv")
    trips = recvs - sends[: len(recvs)]
    return {"transport": transport, "requests": requests,
            "mean_s": result.metric("client", "rtt_mean_s"),
            "p10_s": float(np.percentile(trips, 10)), "p50_s": float(np.median(trips)),
            "p90_s": float(np.percentile(trips, 90)), "p99_s": float(np.percentile(trips, 99))}


def join(transport: str, rate: float, seed: int, timeout: float) -> dict[str, Any] | None:
    """One live slow_joiner run (None if the subscriber received nothing)."""
    result = _live(SHIPPED / "slow_joiner.toml", join_overrides(transport, rate), seed, timeout)
    window = join_window_of(result)
    if window is None:
        return None
    lost = result.metric("subscriber", "lost")
    return {"transport": transport, "rate": rate, "seed": seed, "window_s": window,
            "lost": lost, "lost_over_rate_s": lost / rate,
            "handshake_s": handshake_of(result.events),
            "start_late_s": start_lateness(result.events, JOIN_AT),
            "mark_lead_s": mark_lead(result.events),
            "sleep_late_s": paced_lateness(result.events, rate)}


# A publisher bursting at a subscriber that needs 0.5 ms per message, at an HWM that check-model
# does not use: the credits that reach the publisher show when its I/O thread read nothing.
STRAND_OVERRIDES = {"hwm": 50, "size": 10, "count": 3000, "service": 0.0005}


def strands(transport: str, interval: float, seed: int, timeout: float) -> dict[str, Any]:
    """One live slow_subscriber burst at STRAND_OVERRIDES: where the publisher's credits
    stopped (``missed_runs``: each run of consecutive throttle intervals, libzmq's command
    processing replayed on the send times, in which not one send got into the pipe), with the
    publisher's CPU and its I/O thread's run-queue wait (/proc schedstat); and the median time
    of a send whose message went into the pipe and of one the PUB dropped (and the latter's
    mean)."""
    result = _live(SHIPPED / "slow_subscriber.toml", {"transport": transport,
                                                     **STRAND_OVERRIDES}, seed, timeout)
    ev = result.events
    sends = ev[(ev.node == "publisher") & (ev.event == "send")].sort_values("t")
    delivered = np.isin(sends.seq.to_numpy(),
                        ev[(ev.node == "subscriber") & (ev.event == "recv")].seq.to_numpy())
    t = sends.t.to_numpy(dtype=float)
    points = throttle_sends(t, interval)
    credited = [bool(delivered[a:b].any()) for a, b in itertools.pairwise(points)]
    # each send's time is taken as its call starts: a gap is the cost of the send before it
    gaps, before = np.diff(t), delivered[:-1]
    written, dropped = gaps[before], gaps[~before]
    return {"transport": transport, "seed": seed, "intervals": len(credited),
            "written_gap_s": float(np.median(written)) if written.size else math.nan,
            "dropped_gap_s": float(np.median(dropped)) if dropped.size else math.nan,
            # what a burst of them lasts: the occasional slow send (a page fault, an interrupt,
            # the collector) counts as often as it happens
            "dropped_mean_gap_s": float(np.mean(dropped)) if dropped.size else math.nan,
            "missed_runs": missed_runs(credited[1:]),  # the first interval has the empty pipe
            "burst_s": float(np.ptp(t)) if t.size else 0.0,
            "cpu_s": result.metric("publisher", "cpu_s"),
            "io_wait_s": result.metric("publisher", "io_wait_s"),
            "received": result.metric("subscriber", "received")}


def missed_runs(credited: Sequence[bool]) -> list[int]:
    """Lengths of the runs of False in ``credited``, in order."""
    return [len(list(run)) for ok, run in itertools.groupby(credited) if not ok]


def paced_lateness(events: Any, rate: float) -> list[float]:
    """How late each of the paced publisher's sends after the first is on send 0's schedule,
    t_k - t_0 - k / rate: the lateness of the sleep before it. Send 0 follows no sleep, and
    its position is the mark's lead (``mark_lead``). Each backend stamps every send at the same
    point of its loop (live before the call, the simulation after the call's cost), so that
    offset cancels against send 0."""
    sends = np.sort(_times(events, "publisher", "send"))
    if len(sends) < 2:
        return []
    k = np.arange(1, len(sends))
    late: list[float] = (sends[1:] - sends[0] - k / rate).tolist()
    return late


def start_lateness(events: Any, join_at: float) -> list[float]:
    """How late slow_joiner's two nodes wake for their start: the publisher's "start" after 0,
    the subscriber's first connect() after ``join_at`` (the first thing each does)."""
    pub = _times(events, "publisher", "start")
    sub = _times(events, "subscriber", "connect")
    return [float(x) for x in (pub.min() if len(pub) else math.nan,
                               sub.min() - join_at if len(sub) else math.nan)
            if math.isfinite(x)]


def throttle_sends(times: Any, interval: float) -> list[int]:
    """The sends (indexes into ``times``, sorted) at which libzmq's send processes commands:
    the first, then each first one more than ``interval`` after the last that did
    (socket_base.cpp process_commands with throttle: _last_tsc starts at 0)."""
    t = np.sort(np.asarray(times, dtype=float))
    if len(t) == 0:
        return []
    out = [0]
    for k in range(1, len(t)):
        if t[k] - t[out[-1]] > interval:
            out.append(k)
    return out


def mark_lead(events: Any) -> float:
    """From the paced publisher's "started" mark to its first send."""
    sends = _times(events, "publisher", "send")
    marks = events[(events.node == "publisher") & (events.event == "mark")
                   & (events.detail == "started")]
    if len(sends) == 0 or marks.empty:
        return math.nan
    return float(sends.min() - marks.t.iloc[0])


def handshake_of(events: Any) -> float:
    """From the subscriber's connect() to its connection's handshake (the monitor's
    HANDSHAKE_SUCCEEDED live, the modelled handshake in the simulation)."""
    connect = _times(events, "subscriber", "connect")
    done = _times(events, "subscriber", "connected")
    if len(connect) == 0 or len(done) == 0:
        return math.nan
    return float(done.min() - connect.min())


JOIN_AT = 0.05  # the subscriber's start in the join runs


def join_overrides(transport: str, rate: float) -> dict[str, Any]:
    return {"transport": transport, "rate": rate, "duration": 0.1, "join_at": JOIN_AT}


def join_window_of(result: Any) -> float | None:
    """slow_joiner's window, either backend: from the SUB's connect() to the publisher's send of
    the first message the SUB received."""
    ev = result.events
    sub = ev[ev.node == "subscriber"]
    recvs = sub[sub.event == "recv"]
    if recvs.empty:
        return None
    first = recvs.iloc[0]
    sends = ev[(ev.node == "publisher") & (ev.event == "send") & (ev.seq == first.seq)]
    return float(sends.t.iloc[0]) - float(sub[sub.event == "connect"].t.min())


# --- bare pyzmq ---------------------------------------------------------------------------------
Ctx = zmq.Context[zmq.Socket[bytes]]


@contextlib.contextmanager
def _two_sides() -> Iterator[tuple[Ctx, Ctx, Path]]:
    """A sending and a receiving context (one I/O thread each) and a directory for ipc paths;
    everything closed, terminated and removed on the way out."""
    tmp = Path(tempfile.mkdtemp(prefix="zsim-calibrate-"))
    a, b = zmq.Context(io_threads=1), zmq.Context(io_threads=1)
    try:
        yield a, b, tmp
    finally:
        a.destroy(linger=0)
        b.destroy(linger=0)
        shutil.rmtree(tmp, ignore_errors=True)


def _socket(ctx: Ctx, kind: int, **options: int
            ) -> zmq.Socket[bytes]:
    sock: zmq.Socket[bytes] = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    for name, value in options.items():
        sock.setsockopt(getattr(zmq, name.upper()), value)
    return sock


def _endpoint(transport: str, tmp: Path) -> str:
    if transport == "ipc":
        return f"ipc://{tmp}/cal"
    with socket.socket() as s:  # a free loopback port that nothing listens on yet
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def capacity(transport: str, size: int, sndhwm: int, rcvhwm: int) -> dict[str, Any]:
    """Messages a PUSH accepts (NOBLOCK) into an idle PULL before EAGAIN lasts SETTLE_S."""
    accepted = _fill(transport, size, sndhwm, rcvhwm)
    if accepted is None:
        raise ZsimError(f"capacity {transport} {size} B: still accepting after "
                        f"{BARE_WAIT_MS / 1000:.0f} s")
    return {"transport": transport, "size": size, "sndhwm": sndhwm, "rcvhwm": rcvhwm,
            "accepted": accepted, "wire": wire_size(size)}


def median_run(runs: Sequence[dict[str, Any]], key: str) -> dict[str, Any]:
    """The run whose ``key`` is the median (the upper one of an even count): a measured run,
    not an average, so that one disturbed run among three cannot move it."""
    return sorted(runs, key=lambda r: r[key])[len(runs) // 2]


def spaced_capacity(transport: str, size: int, hwm: int = 10, gap_s: float = 40e-6,
                    limit: int = 20_000) -> dict[str, Any]:
    """Messages a PUSH accepts (NOBLOCK) into an idle PULL when it sends one every ``gap_s``:
    the I/O thread has drained the pipe and slept before the next, so every message is one
    write into the kernel. ``limit`` stops a path that takes everything (tcp coalesces)."""
    accepted = _fill(transport, size, hwm, hwm, gap_s, limit)
    return {"transport": transport, "size": size, "sndhwm": hwm, "rcvhwm": hwm,
            "accepted": limit if accepted is None else accepted, "wire": wire_size(size),
            "limit": limit}


def _fill(transport: str, size: int, sndhwm: int, rcvhwm: int, gap_s: float = 0.0,
          limit: int | None = None) -> int | None:
    """Sends a PUSH accepts into a PULL nobody reads, one every ``gap_s``, until EAGAIN lasts
    SETTLE_S; None when it still accepts after ``limit`` sends or BARE_WAIT_MS."""
    with _two_sides() as (cs, cr, tmp):
        pull = _socket(cr, zmq.PULL, rcvhwm=rcvhwm)
        pull.bind(_endpoint(transport, tmp))
        push = _socket(cs, zmq.PUSH, sndhwm=sndhwm)
        push.connect(pull.getsockopt_string(zmq.LAST_ENDPOINT))
        if gap_s:
            time.sleep(0.05)  # connected first: every send then goes out on its own
        clock, buf, accepted = time.perf_counter, b"x" * size, 0
        deadline = time.monotonic() + BARE_WAIT_MS / 1000
        while time.monotonic() < deadline and (limit is None or accepted < limit):
            try:
                push.send(buf, zmq.NOBLOCK)
                accepted += 1
            except zmq.Again:
                if not push.poll(int(SETTLE_S * 1000), zmq.POLLOUT):
                    return accepted
            end = clock() + gap_s
            while clock() < end:
                pass
    return None


def one_way(transport: str, gaps_s: Sequence[float], n: int) -> dict[str, Any]:
    """Times of 100 B PUSH→PULL messages over one connection, from the send call to the
    PULL's recv returning it, in a block of ``n`` per gap of ``gaps_s`` (in order), each sent
    that long after the last one arrived: the per-gap medians, less the first fifth of each
    block (the host adapting to the new gap). The application thread busy-polls the PULL
    (recv NOBLOCK) and never sleeps; what moves with the gap is the two I/O threads' wake-ups
    (the sender's to write, the receiver's to read) after that long an idle. All the gaps go
    over one connection, so that where the scheduler put its threads (which moves these times
    by ~25 µs from one connection to the next here) is the same for all of them; with the
    gaps taking turns message by message instead, the host never settled into either idle:
    the times at 25 and 200 µs differed by under 9 µs (in blocks, s43's calibration: 10-20
    µs on 4 of its 6 connections)."""
    with _two_sides() as (cs, cr, tmp):
        pull = _socket(cr, zmq.PULL)
        pull.bind(_endpoint(transport, tmp))
        push = _socket(cs, zmq.PUSH)
        push.connect(pull.getsockopt_string(zmq.LAST_ENDPOINT))
        time.sleep(0.05)
        clock, buf = time.perf_counter, b"x" * 100
        times: list[list[float]] = [[] for _ in gaps_s]
        deadline = time.monotonic() + BARE_WAIT_MS / 1000
        settle = n // 5
        for k in range(n * len(gaps_s)):
            t0 = clock()
            push.send(buf)
            while True:
                try:
                    pull.recv(zmq.NOBLOCK)
                    break
                except zmq.Again:
                    if time.monotonic() > deadline:
                        raise ZsimError(f"one-way {transport}: a message did not arrive in "
                                        f"{BARE_WAIT_MS / 1000:.0f} s") from None
            t1 = clock()
            if k % n >= settle:
                times[k // n].append(t1 - t0)
            gap = gaps_s[min(len(gaps_s) - 1, (k + 1) // n)]  # the idle before the next send
            while clock() < t1 + gap:
                pass
    return {"transport": transport, "gaps_s": list(gaps_s), "n": n,
            "median_s": [float(np.median(t)) for t in times]}


def engine(transport: str, size: int, count: int) -> dict[str, Any]:
    """I/O-thread throughput with no Python in the data path: ``count`` messages wait in a PUSH
    pipe (SNDHWM = count) connected to an endpoint nobody listens on; then a PULL (unlimited
    RCVHWM, never read) binds. From the PUSH's handshake to its POLLOUT (the engine has read
    lwm = (count + 1) // 2 messages: activate_write), the engines and the kernel move lwm
    messages. Also returns the bare send-call time of the fill."""
    with _two_sides() as (cs, cr, tmp):
        ep = _endpoint(transport, tmp)
        push = _socket(cs, zmq.PUSH, sndhwm=count, reconnect_ivl=2)
        mon = push.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        try:
            push.connect(ep)
            buf = b"x" * size
            t0 = time.perf_counter()
            for _ in range(count):
                push.send(buf, zmq.NOBLOCK)
            send_s = (time.perf_counter() - t0) / count
            pull = _socket(cr, zmq.PULL, rcvhwm=0)  # held: a dropped socket would close
            pull.bind(ep)
            if not mon.poll(BARE_WAIT_MS):
                raise ZsimError(f"engine {transport}: no handshake within {BARE_WAIT_MS} ms")
            t_ready = time.perf_counter()
            recv_monitor_message(mon)
            if not push.poll(BARE_WAIT_MS, zmq.POLLOUT):
                raise ZsimError(f"engine {transport} {size} B: the pipe did not drain")
            drained = time.perf_counter() - t_ready
        finally:
            push.disable_monitor()
            mon.close(linger=0)
    lwm = (count + 1) // 2
    return {"transport": transport, "size": size, "count": count, "wire": wire_size(size),
            "per_msg_s": drained / lwm, "bare_send_s": send_s}


def post_probe(n: int, gap_s: float = 40e-6) -> dict[str, float]:
    """Mean time of a 100 B PUSH send, one every ``gap_s`` (long enough for the I/O thread to
    drain the pipe and sleep): over tcp to a PULL, where each send finds the reader asleep and
    posts activate_read (libzmq pipe_t::flush → mailbox_t::send → signaler_t::send), and to an
    endpoint nobody listens on, where the pipe just fills. With the PULL, each send also wakes
    both I/O threads once (the sender's to write it, the receiver's to read it): their CPU per
    send is ``woken_io_cpu_s``."""
    out: dict[str, float] = {}
    for mode in ("idle", "woken"):
        with _two_sides() as (cs, cr, tmp):
            pull = _socket(cr, zmq.PULL, rcvhwm=0)
            pull.bind(_endpoint("tcp", tmp))
            real = pull.getsockopt_string(zmq.LAST_ENDPOINT)
            push = _socket(cs, zmq.PUSH, sndhwm=0)
            if mode == "woken":
                push.connect(real)
            else:  # a port nobody listens on: the connection never comes up
                pull.close(linger=0)
                push.connect(real)
            time.sleep(0.05)
            clock, buf, total = time.perf_counter, b"x" * 100, 0.0
            io0 = threadstat.io_threads_time()[0]
            for _ in range(n):
                t0 = clock()
                push.send(buf)
                t1 = clock()
                total += t1 - t0
                while clock() < t1 + gap_s:
                    pass
            time.sleep(0.01)  # the last message's reads
            out[f"{mode}_send_s"] = total / n
            out[f"{mode}_io_cpu_s"] = (threadstat.io_threads_time()[0] - io0) / n
    return out


def command_probe(n: int, seed: int = 0) -> list[float]:
    """Delays from an inproc SUB's connect() (the PUB's ``bind`` command is posted) to the send
    of the first message it gets, with the PUB sending in a tight loop in the same thread: the
    PUB applies the command at its first throttled process_commands, uniform over one
    max_command_delay."""
    rng = random.Random(seed)
    out: list[float] = []
    ctx = zmq.Context()
    try:
        for k in range(n):
            out.append(_probe_once(ctx, f"inproc://zsim-calibrate-probe-{k}", rng))
    finally:
        ctx.destroy(linger=0)
    return out


def _probe_once(ctx: Ctx, ep: str, rng: random.Random) -> float:
    pub = _socket(ctx, zmq.PUB, sndhwm=0)
    sub = _socket(ctx, zmq.SUB, rcvhwm=0)
    try:
        pub.bind(ep)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        pack, clock, send = struct.Struct("<q").pack, time.perf_counter, pub.send
        sent: list[float] = []
        t_join = clock() + rng.uniform(0.002, 0.004)
        t_connect = 0.0
        while True:
            t = clock()
            if not t_connect and t >= t_join:
                t_connect = clock()
                sub.connect(ep)
                continue
            if t_connect and t > t_connect + 0.006:
                break
            sent.append(t)
            send(pack(len(sent) - 1))
        if not sub.poll(BARE_WAIT_MS):
            raise ZsimError("command probe: the inproc SUB received nothing")
        first = int(struct.unpack("<q", sub.recv())[0])
        return float(sent[first] - t_connect)
    finally:
        sub.close(linger=0)
        pub.close(linger=0)


GIL_OVERRIDES: dict[str, Any] = {"transport": "inproc", "hwm": 50, "count": 3000, "size": 10,
                                  "service": 0.0005}


def burst_share(events: Any, service: float) -> dict[str, float]:
    """Of a slow_subscriber run's events (either backend): how long the publisher's burst
    lasted, how many messages the subscriber took while it lasted, and how many it would take
    if the two threads ran in parallel (the burst over the service time)."""
    sends = _times(events, "publisher", "send")
    recvs = _times(events, "subscriber", "recv")
    burst = float(sends[-1] - sends[0])
    during = int(np.sum((recvs > sends[0]) & (recvs < sends[-1])))
    return {"burst_s": burst, "service_s": service, "taken_during_burst": during,
            "parallel_would_take": burst / service, "sends": len(sends)}


def gil_probe(runs: int, seed: int, timeout: float) -> list[dict[str, Any]]:
    """Live slow_subscriber over inproc (its nodes are threads of one process), a burst that
    overruns the subscriber (HWM 50: the publisher drops most of it, as in any slow-consumer
    burst): per run, how many messages the subscriber took while the publisher was still
    sending, against how many it would take if the threads ran in parallel (burst length over
    its service time), and how long the burst lasted. Under CPython's GIL the busy publisher
    holds it back (``zsim.sim.gil``), and pays for each of its calls while the subscriber
    waits; how much depends on how long the publisher spends outside Python per call, which is
    why the probe's publisher drops like the bursts it stands for (with room for every
    message it spends longer in libzmq, and the subscriber gets the lock more often)."""
    out: list[dict[str, Any]] = []
    for k in range(runs):
        result = _live(SHIPPED / "slow_subscriber.toml", GIL_OVERRIDES, seed + k, timeout)
        out.append({**burst_share(result.events, float(GIL_OVERRIDES["service"])),
                    "overrides": dict(GIL_OVERRIDES)})
    return out


_RDTSC = bytes([0x0F, 0x31, 0x48, 0xC1, 0xE2, 0x20, 0x48, 0x09, 0xD0, 0xC3])
"""x86-64: rdtsc; shl rdx, 32; or rax, rdx; ret — what libzmq's clock_t::rdtsc reads."""


def tsc_hz(span_s: float = 0.05) -> dict[str, Any]:
    """The TSC rate, timed against the monotonic clock (x86-64), else /proc/cpuinfo's MHz."""
    if platform.machine() in ("x86_64", "AMD64"):
        try:
            return {"hz": _time_tsc(span_s), "source": "rdtsc timed against perf_counter"}
        except (OSError, ValueError, TypeError) as exc:
            fallback = f"rdtsc unavailable ({exc}); "
    else:
        fallback = f"{platform.machine()}: no x86 TSC; "
    mhz = _cpuinfo_mhz()
    if mhz is None:
        return {"hz": None, "source": fallback + "no cpu MHz in /proc/cpuinfo"}
    return {"hz": mhz * 1e6, "source": fallback + "/proc/cpuinfo cpu MHz"}


def _time_tsc(span_s: float) -> float:
    buf = mmap.mmap(-1, mmap.PAGESIZE,
                    prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    buf.write(_RDTSC)
    anchor = ctypes.c_char.from_buffer(buf)
    try:
        read = ctypes.CFUNCTYPE(ctypes.c_uint64)(ctypes.addressof(anchor))
        rates = []
        for _ in range(3):
            t0, c0 = time.perf_counter(), read()
            time.sleep(span_s)
            c1, t1 = read(), time.perf_counter()
            rates.append((c1 - c0) / (t1 - t0))
    finally:
        del anchor  # the mmap cannot close while ctypes holds a view of it
        buf.close()
    return float(np.median(rates))


def _cpuinfo_mhz() -> float | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("cpu mhz"):
                return float(line.split(":", 1)[1])
    except (OSError, ValueError):
        return None
    return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --- the whole plan -----------------------------------------------------------------------------
def run_benchmarks(plan: Plan, step: Callable[[str], None] = lambda _s: None) -> Measurements:
    """Every measurement of ``plan``; ``step`` is called after each.

    The repeated samples of the host's state, the slow-subscriber bursts (its sends' cost) and
    the round trips (its wake-ups), are spread evenly across the whole calibration, between
    the other measurements, instead of taken in one stretch of it: the host moves between
    states over minutes (s35's 16 back-to-back bursts: a dropped send of 5.4-6.1 µs in 4 of them
    and 7.8-9.3 µs in the others), and what the check meets is the mix over its minutes."""
    m = Measurements(plan)
    t0 = time.perf_counter()
    m.tsc = tsc_hz()
    hz = m.tsc.get("hz")
    interval = MAX_COMMAND_DELAY_TICKS / hz if hz else CostModel().command_interval_s
    blocks = _blocks(plan, m, step)
    # each kind of sample spread over the blocks on its own, from the first to the last
    spreads = [spread(kind, len(blocks)) for kind in _host_samples(plan, m, interval, step)]
    for k, block in enumerate(blocks):
        block()
        for kind in spreads:
            for sample in kind[k]:
                sample()
    step("done")
    m.wall_s = time.perf_counter() - t0
    return m


def spread(items: Sequence[T], n: int) -> list[list[T]]:
    """``items`` in order, cut into ``n`` runs whose lengths differ by at most one, the longer
    ones spaced evenly among the shorter: ``spread("abc", 6)`` is
    ``[[], [a], [], [b], [], [c]]``, ``spread(range(7), 3)`` ``[[0, 1], [2, 3], [4, 5, 6]]``."""
    cuts = [len(items) * k // n for k in range(n + 1)]
    return [list(items[a:b]) for a, b in itertools.pairwise(cuts)]


def _host_samples(plan: Plan, m: Measurements, interval: float,
                  step: Callable[[str], None]) -> list[list[Callable[[], None]]]:
    """The repeated host-state samples, by kind: the bursts, the interpreter-lock probes and
    each transport's round trips.
    The bursts run over tcp: its kernel buffers coalesce small writes and never fill here
    (ipc's can: each write costs it a whole skb), so a missed credit is the I/O thread's
    alone."""
    def burst(k: int) -> Callable[[], None]:
        def run() -> None:
            m.strands.append(strands("tcp", interval, k, plan.timeout))
            step("stranded I/O thread")
        return run

    def trip(transport: str, k: int) -> Callable[[], None]:
        def run() -> None:
            m.rtt.append(rtt(transport, plan.rtt_requests, k, plan.timeout))
            step(f"rtt {transport}")
        return run

    def lock(k: int) -> Callable[[], None]:
        def run() -> None:
            m.gil += gil_probe(1, k, plan.timeout)
            step("interpreter lock")
        return run

    return [[burst(k) for k in range(plan.strand_runs)],
            [lock(k) for k in range(plan.gil_runs)],
            *([trip(t, k) for k in range(plan.rtt_runs)] for t in plan.transports)]


def _blocks(plan: Plan, m: Measurements, step: Callable[[str], None]
            ) -> list[Callable[[], None]]:
    """The other measurements, in a fixed order, as steps to run between host samples."""
    def throttle() -> None:
        m.probes = command_probe(plan.probes)
        m.posts = [post_probe(plan.post_sends) for _ in range(plan.post_runs)]
        step("command throttle")

    def app(transport: str, size: int) -> Callable[[], None]:
        def run() -> None:
            count = max(500, min(plan.app_count, plan.app_bytes // max(size, 1)))
            runs = [app_costs(transport, size, count, len(m.app) * plan.app_reps + k,
                              plan.timeout) for k in range(plan.app_reps)]
            m.app.append({**median_of(runs), "runs": runs})
            step(f"app costs {transport} {size} B")
        return run

    blocks = [throttle, *(app(t, size) for t in plan.app_transports for size in plan.app_sizes)]
    for transport in plan.transports:
        blocks += _per_transport(plan, m, transport, step)
    return blocks


def _per_transport(plan: Plan, m: Measurements, transport: str,
                   step: Callable[[str], None]) -> list[Callable[[], None]]:
    def joins() -> None:
        for k in range(plan.join_runs):
            rate = plan.join_rates[k % len(plan.join_rates)]
            sample = join(transport, rate, k, plan.timeout)
            if sample is None:
                m.failures.append(f"join {transport} rate {rate} seed {k}: nothing received")
            else:
                m.join.append(sample)
            step(f"join window {transport}")

    def fill(hwm: int, size: int) -> Callable[[], None]:
        def run() -> None:
            m.capacity.append(capacity(transport, size, hwm, hwm))
            step(f"capacity {transport} {size} B hwm {hwm}")
        return run

    def spaced_fill(size: int) -> Callable[[], None]:
        def run() -> None:
            fills = [spaced_capacity(transport, size) for _ in range(plan.spaced_reps)]
            m.spaced.append({**median_run(fills, "accepted"),
                             "reps_accepted": [r["accepted"] for r in fills]})
            step(f"spaced capacity {transport} {size} B")
        return run

    def flow(size: int) -> Callable[[], None]:
        def run() -> None:
            count = max(200, min(plan.engine_count, plan.engine_bytes // size))
            reps = [engine(transport, size, count) for _ in range(plan.engine_reps)]
            m.engine.append({**median_run(reps, "per_msg_s"),
                             "reps_s": [r["per_msg_s"] for r in reps]})
            step(f"engine {transport} {size} B")
        return run

    def wakes() -> None:
        m.one_way += [one_way(transport, plan.wake_gaps_s, plan.wake_msgs)
                      for _ in range(plan.wake_reps)]
        step(f"wake-ups {transport}")

    blocks = [joins, wakes,
              *(fill(h, size) for h in plan.cap_hwms for size in plan.cap_sizes)]
    if transport == "ipc":
        blocks += [spaced_fill(size) for size in plan.spaced_sizes]
    return blocks + [flow(size) for size in plan.engine_sizes]
