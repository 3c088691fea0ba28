"""The host's cores, shared by the application and I/O threads of every node.

A real 2-core host runs each node's application thread and libzmq I/O thread (and every other
node's) on two cores: while more threads have work than there are cores, the scheduler shares
the cores out and each runs slower (processor sharing, as Linux CFS does over a few ms). The
model approximates it per work item: a thread that starts an item of ``work`` seconds of CPU
while n threads (itself included) have work takes ``work × max(1, n / cores)`` (n counted when
it starts). Between items a thread holds no core: blocked in zmq, sleeping, or waiting for a
wake-up.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

# a strand re-checks its application thread just after each of its work items ends
_AFTER = 1e-9


class Cpu:
    """``cores`` cores (0: as many as threads, nobody waits)."""

    __slots__ = ("busy_until", "cores", "env")

    def __init__(self, env: simpy.Environment, cores: int) -> None:
        self.env = env
        self.cores = cores
        self.busy_until: list[float] = []

    def thread(self) -> int:
        """A new thread's index."""
        self.busy_until.append(0.0)
        return len(self.busy_until) - 1

    def run(self, thread: int, work: float, start: float | None = None) -> float:
        """How long ``work`` seconds of CPU take ``thread`` from ``start`` (default now), and
        mark it busy until then."""
        now = self.env.now
        at = now if start is None else start
        if self.cores <= 0 or work <= 0:
            return work
        busy = 1
        for i, until in enumerate(self.busy_until):
            if until > now and i != thread:
                busy += 1
        took = work * busy / self.cores if busy > self.cores else work
        self.busy_until[thread] = at + took
        return took


class Stranding:
    """A node's I/O thread stranded behind the application thread that woke it.

    Measured live (perf sched on a publisher bursting at a slow subscriber, 2 cores): when the
    application thread's flush wakes its sleeping I/O thread while no other core is idle, Linux
    queues the woken thread on the waker's core (wake-affine placement), and the waker, still
    running, keeps that core; an idle core soon after does not pull the queued thread at once.
    The I/O thread then reads nothing for ms (0.3-5.3 ms seen), and the socket misses the
    activate_write credits it would have sent (libzmq pipe.cpp: one every lwm reads).

    The model: each wake strands the I/O thread with probability 1 - exp(-rate × n), n the
    messages the application thread wrote into pipes since the last wake (wakes come with
    writes, and the writes of a burst set how often the other core is found busy), for an
    exponential time of mean ``mean_s``, or until the application thread stops running (sleeps
    or blocks in zmq: then its core is free). A strand that runs its length ends with the
    application thread preempted. Other wakes during a strand wait for its end.
    """

    __slots__ = ("app_core", "cpu", "end", "env", "mean_s", "rate", "rng", "seen", "stats",
                 "written")

    def __init__(self, cpu: Cpu, app_core: int, rate: float, mean_s: float,
                 rng: np.random.Generator, stats: Any) -> None:
        self.env = cpu.env
        self.cpu = cpu
        self.app_core = app_core
        self.rate = rate  # per message written
        self.mean_s = mean_s
        self.rng = rng
        self.stats = stats  # the node's NodeStats: io_wait_s and preempted added
        self.written = 0  # messages the application thread wrote into pipes (the node counts)
        self.seen = 0
        self.end: simpy.Event | None = None

    def after_wake(self) -> Generator[simpy.Event, Any, None]:
        """Called by an engine that its application thread's flush has just woken."""
        if self.end is not None:
            yield self.end
            return
        n, self.seen = self.written - self.seen, self.written
        if self.rng.random() >= -math.expm1(-self.rate * n):
            return
        env, busy, core = self.env, self.cpu.busy_until, self.app_core
        self.end = env.event()
        start, left, full = env.now, float(self.rng.exponential(self.mean_s)), True
        while left > 0:
            idle_at = busy[core]
            if idle_at <= env.now:  # the application thread is not running: a core is free
                full = False
                break
            # just past the end of its current item: it has started its next one, if any
            step = min(left, idle_at - env.now) + _AFTER
            yield env.timeout(step)
            left -= step
        self.stats.io_wait_s += env.now - start
        if full:
            self.stats.preempted += 1
        end, self.end = self.end, None
        end.succeed()

