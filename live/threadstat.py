"""What the kernel's scheduler says about this process's threads (Linux /proc; NaN elsewhere).

/proc/self/task/TID/schedstat holds a thread's time on a CPU, its time runnable but waiting for
one (run delay) and its time slices, in ns; .../status counts its involuntary context switches
(preempted while it could still run). libzmq names its I/O threads ZMQbg/IO/N.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

_TASKS = Path("/proc/self/task")


def io_threads() -> list[int]:
    """This process's libzmq I/O threads ([] where /proc has none)."""
    tids = []
    with contextlib.suppress(OSError):
        for entry in _TASKS.iterdir():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().startswith("ZMQbg/IO"):
                    tids.append(int(entry.name))
    return tids


def io_threads_time() -> tuple[float, float]:
    """(CPU s, run-queue wait s) so far, summed over this process's I/O threads; NaN, NaN
    where /proc has no schedstat."""
    if not _TASKS.is_dir():
        return math.nan, math.nan
    run = wait = 0
    try:
        for tid in io_threads():
            with contextlib.suppress(FileNotFoundError):  # a thread that just ended
                fields = (_TASKS / str(tid) / "schedstat").read_text().split()
                run += int(fields[0])
                wait += int(fields[1])
    except (OSError, ValueError, IndexError):
        return math.nan, math.nan
    return run / 1e9, wait / 1e9


def involuntary_switches(tid: int) -> float:
    """How often thread ``tid`` of this process has been preempted so far; NaN without /proc."""
    try:
        for line in (_TASKS / str(tid) / "status").read_text().splitlines():
            if line.startswith("nonvoluntary_ctxt_switches:"):
                return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return math.nan
