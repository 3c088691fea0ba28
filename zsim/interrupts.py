"""Ctrl-C and SIGTERM stop a run the same way: as a KeyboardInterrupt in the main thread.

Python's default SIGTERM would exit at once, leaving a live run's processes and ipc files and
a sim run's records unwritten; while a run is on, SIGTERM is raised as ``Terminated`` (a
KeyboardInterrupt), so that both signals take one way out: the backend stops, keeps what was
recorded (marked incomplete) and raises zsim.errors.RunInterrupted with it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

# what a run's meta says as its stop_reason when a signal stopped it
STOPPED_BY: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it takes Ctrl-C's way out."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``Terminated``. Signals reach the main thread
    only; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def signum_of(exc: KeyboardInterrupt) -> int:
    """The signal behind an interrupt: SIGTERM for ``Terminated``, else SIGINT."""
    return signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
