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

import simpy


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
