"""One interpreter lock shared by the application threads of one process (``app_gil_wait_s``).

CPython runs one thread's Python at a time. pyzmq releases the GIL around every libzmq call, but
a thread that keeps running usually takes it back before a waiting thread has woken; CPython's
take_gil (Python/ceval_gil.h) asks the holder to drop it only after a switch interval without a
switch. Measured on the live backend, a thread that wants to run while another runs a send loop
waits a random time, of the order of a millisecond, and at once when the holder waits (inside a
blocking zmq call, a poll or a sleep). Modelled: the holder keeps the lock until ``release``
(it is about to wait) or until a waiter's exponential wait of mean ``wait_s`` ends, which sets
``drop_request``: the holder hands over at its next call. Waiters queue in FIFO order.
While anyone waits, each send or recv call of the holder costs ``app_gil_signal_s`` more
(zsim.sim.node): drop_gil signals the waiter's condition variable at every libzmq call.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import simpy


class Gil:
    __slots__ = ("drop_request", "env", "holder", "rng", "wait_s", "waiters")

    def __init__(self, env: simpy.Environment, wait_s: float, rng: np.random.Generator) -> None:
        self.env = env
        self.wait_s = wait_s
        self.rng = rng
        self.holder: Any = None
        self.drop_request = False
        self.waiters: deque[tuple[Any, simpy.Event]] = deque()

    def runs(self, thread: Any) -> bool:
        """``thread`` holds the lock and nobody has asked for it."""
        return self.holder is thread and not self.drop_request

    def acquire(self, thread: Any) -> simpy.Event | None:
        """None when ``thread`` holds the lock now, else the event of its turn."""
        if self.holder is None or self.holder is thread:
            self.holder = thread
            return None
        turn = self.env.event()
        self.waiters.append((thread, turn))
        patience = float(self.rng.exponential(self.wait_s))

        def ask(_e: simpy.Event) -> None:
            if not turn.triggered:
                self.drop_request = True

        self.env.timeout(patience).callbacks.append(ask)
        return turn

    def release(self, thread: Any) -> None:
        """``thread`` is about to wait, is asked to drop the lock, or is gone: the next in line
        runs."""
        if self.holder is not thread:
            return
        self.holder = None
        self.drop_request = False
        while self.waiters:
            waiter, turn = self.waiters.popleft()
            if waiter.alive:  # a crashed node's thread never runs again
                self.holder = waiter
                turn.succeed()
                return
