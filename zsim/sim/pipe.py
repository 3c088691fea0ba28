"""One direction of a libzmq pipe: a FIFO with a message-count high-water mark.

libzmq rules modelled (src/pipe.cpp, src/ypipe.hpp):
- The writer sees "full" when ``written - peer_read >= hwm`` (``check_hwm``); hwm 0 = unlimited.
- The writer learns of reads only through ``activate_write(msgs_read)`` commands, which the reader
  sends every ``lwm = (hwm + 1) // 2`` reads (``pipe_t::read``, ``compute_lwm``). So a writer
  resumes in chunks of about hwm/2, and when it sees "full" the true backlog is >= hwm - lwm + 1.
- A reader that finds the pipe empty goes to sleep (``_in_active = false``); the writer's next
  flush then returns false and the writer sends ``activate_read`` to wake it (``pipe_t::flush``).
- CONFLATE pipes hold only the newest message and ignore the HWM (``ypipe_conflate``).
Endpoints are told through ``PipeListener`` callbacks; whether a callback costs a command
delivery (a socket's mailbox) or an I/O-thread wake-up is the listener's business, and so is
what sending the command costs the sender's thread (``command_posted``: mailbox_t::send writes
the command and, to a sleeping thread, signals it: an eventfd write, src/signaler.cpp).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol


class PipeListener(Protocol):
    def read_activated(self, pipe: Pipe) -> None:
        """The pipe had been found empty by this reader and now has data (activate_read)."""

    def write_activated(self, pipe: Pipe, msgs_read: int) -> None:
        """The reader has read ``msgs_read`` messages in all (activate_write)."""

    def command_posted(self) -> None:
        """This end's thread has just sent the other end a command (its cost is the thread's)."""


def compute_lwm(hwm: int) -> int:
    """libzmq pipe.cpp compute_lwm: half the HWM, rounded up."""
    return (hwm + 1) // 2


class Pipe:
    __slots__ = (
        "conflate", "hwm", "label", "lwm", "peer_read", "queue", "read", "reader",
        "reader_asleep", "writer", "written",
    )

    def __init__(self, hwm: int, *, conflate: bool = False, label: str = "") -> None:
        self.queue: deque[Any] = deque()
        self.conflate = conflate
        self.hwm = 0 if conflate else hwm
        self.lwm = compute_lwm(self.hwm)
        self.written = 0  # messages written (the writer's counter)
        self.read = 0  # messages read (the reader's counter)
        self.peer_read = 0  # the writer's (delayed) view of ``read``
        self.reader_asleep = False
        self.reader: PipeListener | None = None
        self.writer: PipeListener | None = None
        self.label = label

    def set_hwm(self, hwm: int) -> None:
        self.hwm = 0 if self.conflate else hwm
        self.lwm = compute_lwm(self.hwm)

    def check_write(self) -> bool:
        """pipe_t::check_hwm: may the writer write one more message?"""
        return self.hwm == 0 or self.written - self.peer_read < self.hwm

    def write(self, msg: Any) -> None:
        """Append ``msg``; the caller has checked ``check_write``."""
        if self.conflate:
            self.queue.clear()
        self.queue.append(msg)
        self.written += 1

    def flush(self) -> None:
        """Make writes visible; wake a reader that found the pipe empty (activate_read)."""
        if self.reader_asleep and self.queue:
            self.reader_asleep = False
            if self.reader is not None:
                self.reader.read_activated(self)
                if self.writer is not None:
                    self.writer.command_posted()

    def check_read(self) -> bool:
        """Is a message ready? If not, the reader goes to sleep until the next flush."""
        if self.queue:
            return True
        self.reader_asleep = True
        return False

    def pop(self) -> Any:
        """Read one message (the caller has checked ``check_read``); maybe send activate_write."""
        msg = self.queue.popleft()
        self.read += 1
        if self.lwm > 0 and self.read % self.lwm == 0 and self.writer is not None:
            self.writer.write_activated(self, self.read)
            if self.reader is not None:
                self.reader.command_posted()
        return msg

    def __len__(self) -> int:
        return len(self.queue)

    def __repr__(self) -> str:
        return f"Pipe({self.label} {len(self.queue)}/{self.hwm or 'inf'})"
