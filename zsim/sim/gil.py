"""One interpreter lock shared by the application threads of one process (``app_gil``).

CPython runs one thread's Python at a time. pyzmq releases the GIL around every libzmq call, but a
thread that keeps running takes it back at once, before a waiting thread has woken: CPython's
take_gil (Python/ceval_gil.h) only forces a hand-over when a whole switch interval passes with no
switch at all, and every re-take counts as one, so the waiter never asks. In effect the lock
changes hands only when its holder waits — inside a blocking zmq call, a poll or a sleep. That is
what this models: the holder keeps the lock until ``release`` (it is about to wait); the threads
that want it queue in FIFO order.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import simpy


class Gil:
    __slots__ = ("env", "holder", "waiters")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.holder: Any = None
        self.waiters: deque[tuple[Any, simpy.Event]] = deque()

    def acquire(self, thread: Any) -> simpy.Event | None:
        """None when ``thread`` holds the lock now, else the event of its turn."""
        if self.holder is None or self.holder is thread:
            self.holder = thread
            return None
        turn = self.env.event()
        self.waiters.append((thread, turn))
        return turn

    def release(self, thread: Any) -> None:
        """``thread`` is about to wait (or is gone): the next in line runs."""
        if self.holder is not thread:
            return
        self.holder = None
        while self.waiters:
            waiter, turn = self.waiters.popleft()
            if getattr(waiter, "alive", True):  # a crashed node's thread never runs again
                self.holder = waiter
                turn.succeed()
                return
