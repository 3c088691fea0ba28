"""What takes the CPU from a live publisher while a subscriber joins: the kernel's trace of
slow_joiner.

Runs ``zsim run slow_joiner --backend live`` under ``perf record -a`` (sched_switch, and the
clock_nanosleep and connect entries) and prints, for each run, the stretches of more than
60 µs in which the publisher's application thread (the thread that sleeps most: it paces its
sends) was off its core in the 3 ms after the subscriber's I/O thread called connect(): how it
left (S: it waited, for a sleep or for the interpreter lock; R: it was preempted) and what ran
on each core meanwhile (PUB/SUB: the publisher's or the subscriber's process, ``main``, ``io``
for a libzmq I/O thread, ``t+k`` for another thread of it, such as the live backend's monitor
thread; any other thread by its command and id, the runner's among them; ``idle``).

With libzmq's command throttle (``command_interval_s``), such a stretch moves the publisher's
next command processing, and with it whether the subscription is taken one interval earlier or
later (the slow joiner's loss at 50k msg/s falls in two groups one interval apart).

Ends with ``ratio=``: the publisher's off-core time in the 3 ms after the connect over the
same in the 3 ms before it (the baseline: its pacing sleeps).

Needs ``perf`` and the right to trace every CPU (root). Linux only.
Usage: ``python bench/join_trace.py [--transport tcp] [--rate 50000] [--reps 4]``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from io_trace import parse, trace

EVENTS = ("sched:sched_switch", "syscalls:sys_enter_clock_nanosleep",
          "syscalls:sys_enter_connect")
WINDOW_S = 3e-3
MIN_OFF_S = 60e-6


def off_core(switches: pd.DataFrame, tid: int, t0: float, t1: float) -> list[tuple[float, float,
                                                                                 str, int]]:
    """(start, length, state, cpu) of each stretch in [t0, t1] that ``tid`` spent off-core."""
    out = []
    left: tuple[float, str, int] | None = None
    for r in switches[(switches.t >= t0) & (switches.t <= t1)].itertuples():
        if r.prev == tid:
            left = (r.t, r.state, r.cpu)
        elif r.next == tid and left is not None:
            out.append((left[0], r.t - left[0], left[1], left[2]))
            left = None
    return out


def report(df: pd.DataFrame) -> float:
    pid_of = df.groupby("tid").pid.first().to_dict()
    sleeps = df[df.ev == "sys_enter_clock_nanosleep"].groupby("tid").size()
    pubs = sorted(int(t) for t, n in sleeps.items() if n > 100)
    connects = df[df.ev == "sys_enter_connect"].sort_values("t")
    switches = df[df.ev == "sched_switch"].sort_values("t")
    comm_of = df.groupby("tid").comm.first().to_dict()
    after = before = 0.0
    for k, pub in enumerate(pubs):
        mine = df[df.tid == pub]
        joins = connects[(connects.t > mine.t.min() + 0.02) & (connects.t < mine.t.max())]
        if joins.empty:
            continue
        tc = float(joins.t.iloc[0])
        sub = pid_of.get(int(joins.tid.iloc[0]), -1)

        def name(tid: int, pub: int = pub, sub: int = sub) -> str:
            if tid == 0:
                return "idle"
            pid = pid_of.get(tid, tid)
            comm = comm_of.get(tid, "?")
            if pid not in (pub, sub):  # the runner, or any other process
                return f"{comm} {tid}"
            owner = "PUB" if pid == pub else "SUB"
            if tid == pid:
                return f"{owner} main"
            return f"{owner} {'io' if comm.startswith('ZMQbg/IO') else f't+{tid - pid}'}"

        print(f"run {k}: publisher {pub}, subscriber {sub}; connect() at 0")
        for start, length, state, cpu in off_core(switches, pub, tc, tc + WINDOW_S):
            after += length
            if length < MIN_OFF_S:
                continue
            during = switches[(switches.t >= start) & (switches.t <= start + length)]
            ran = {c: Counter(name(int(x)) for x in during[during.cpu == c].next)
                   for c in sorted(switches.cpu.unique())}
            held = "; ".join(f"cpu {c}: " + ", ".join(n for n, _ in counts.most_common())
                             for c, counts in ran.items() if counts)
            print(f"  off {1e6 * length:4.0f} µs from +{1e6 * (start - tc):4.0f} µs ({state}, "
                  f"cpu {cpu}): {held}")
        before += sum(x[1] for x in off_core(switches, pub, tc - WINDOW_S, tc))
    return after / before if before else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--transport", default="tcp", choices=("tcp", "ipc"))
    ap.add_argument("--rate", type=float, default=50000.0)
    ap.add_argument("--reps", type=int, default=4)
    args = ap.parse_args()
    run = [sys.executable, "-m", "zsim.cli", "run", "slow_joiner", "--backend", "live",
           "--set", f'transport="{args.transport}"', "--set", f"rate={args.rate}",
           "--set", "duration=0.1", "--set", "join_at=0.03", "--reps", str(args.reps)]
    traced = trace(EVENTS, run, "join_trace", every_cpu=True)
    if traced is None:
        return 2
    out, text = traced
    print("\n".join(ln for ln in out.splitlines() if " lost " in ln))
    ratio = report(parse(text))
    print(f"ratio={ratio:.3f}")  # off-core after the connect over before it
    return 0


if __name__ == "__main__":
    sys.exit(main())
