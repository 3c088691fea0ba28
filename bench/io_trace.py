"""Where a live publisher's I/O thread spends a burst: the kernel's trace of slow_subscriber.

Runs ``zsim run slow_subscriber --backend live`` under ``perf record`` (sched_switch,
sched_waking, sched_migrate_task and sendto entries of every thread it starts) and prints, for
each run, what the publisher's libzmq I/O thread (the thread of the process that wrote the most
bytes) did while its application thread sent:

- its writes (sendto calls) and the messages per write (bytes over the run's most common
  write size, one message);
- its CPU per wake-up around the first write: from being switched in to that sendto, and
  from the last sendto to its next sleep (medians): how zsim splits ``io_wake_cpu_s``;
- its longest stretches without a write during the burst, and where the thread was meanwhile
  (migrated onto the application thread's core, or woken there): the strands
  ``io_strand_per_msg`` and ``io_strand_s`` model.

Needs ``perf`` and the right to trace (root, or perf_event_paranoid <= 1 with tracefs).
Linux only. Usage: ``python bench/io_trace.py [--transport tcp] [--hwm 100] [--size 10]
[--reps 3]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

EVENTS = ("sched:sched_switch", "sched:sched_waking", "sched:sched_migrate_task",
          "syscalls:sys_enter_sendto")
LINE = re.compile(r"^\s*(.+?)\s+(-?\d+)/(-?\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$")


def parse(text: str) -> pd.DataFrame:
    """perf script lines → one row per event (t, pid, tid, cpu, ev and its fields)."""
    rows = []
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, tid, cpu, t, ev, rest = m.groups()
        row: dict = {"comm": comm, "pid": int(pid), "tid": int(tid), "cpu": int(cpu),
                     "t": float(t), "ev": ev.split(":")[1] if ":" in ev else ev}
        if row["ev"] == "sched_switch":
            f = re.search(r"prev_pid=(\d+) .*prev_state=(\S+) ==> next_comm=.+? next_pid=(\d+)",
                          rest)
            if f:
                row.update(prev=int(f[1]), state=f[2], next=int(f[3]))
        elif row["ev"] in ("sched_waking", "sched_migrate_task"):
            f = re.search(r"pid=(\d+)", rest)
            d = re.search(r"dest_cpu=(\d+)", rest)
            row.update(who=int(f[1]) if f else -1, dest=int(d[1]) if d else -1)
        elif row["ev"] == "sys_enter_sendto":
            f = re.search(r"len: (0x[0-9a-f]+)", rest)
            row.update(n=int(f[1], 16) if f else 0)
        rows.append(row)
    return pd.DataFrame(rows)


def report(df: pd.DataFrame) -> float:
    """Prints each run's figures; returns the share of the bursts in which the I/O thread
    wrote nothing for more than 0.5 ms at a stretch."""
    sends = df[df.ev == "sys_enter_sendto"]
    by_proc = sends.groupby("pid").n.sum().sort_values(ascending=False)
    # each run has its own publisher process: the ones whose I/O thread wrote the most
    pubs = [pid for pid in by_proc.index if (sends[sends.pid == pid].tid != pid).any()]
    pubs = sorted(pubs, key=lambda p: -by_proc[p])[: max(1, len(pubs) // 2)]
    silent = total = 0.0
    for k, pid in enumerate(sorted(pubs)):
        io_writes = sends[(sends.pid == pid) & (sends.tid != pid)]
        io = int(io_writes.tid.mode().iloc[0])
        w = io_writes[io_writes.tid == io]
        one = int(w.n.mode().iloc[0])
        burst = w[w.n % one == 0]
        t0, t1 = burst.t.min(), burst.t.max()
        msgs = (burst.n // one).to_numpy()
        ins = df[(df.ev == "sched_switch") & (df.get("next") == io)].t.to_numpy()
        outs = df[(df.ev == "sched_switch") & (df.get("prev") == io)].t.to_numpy()
        st = burst.t.to_numpy()
        pre, post = [], []
        for a in ins[(ins >= t0) & (ins <= t1)]:
            later = outs[outs > a]
            if not len(later):
                continue
            inside = st[(st > a) & (st < later[0])]
            if len(inside):
                pre.append(inside[0] - a)
                post.append(later[0] - inside[-1])
        gaps = np.diff(st)
        silent += float(gaps[gaps > 5e-4].sum())
        total += float(t1 - t0)
        order = np.argsort(gaps)[::-1][:3]
        print(f"run {k}: publisher pid {pid}, I/O thread {io}: burst {1e3 * (t1 - t0):.1f} ms, "
              f"{len(burst)} writes of {int(msgs.sum())} messages "
              f"({np.mean(msgs == 1):.0%} single, {np.mean(msgs == 2):.0%} double)")
        if pre:
            print(f"  per wake: switched in → sendto {1e6 * np.median(pre):.1f} µs, "
                  f"sendto → sleep {1e6 * np.median(post):.1f} µs (medians of {len(pre)})")
        latency = wake_latency(df, io, t0, t1)
        if len(latency):
            q = np.percentile(latency.latency, [10, 50, 90]) * 1e6
            print(f"  woken → switched in: {q[1]:.1f} µs (10-90%: {q[0]:.1f}-{q[2]:.1f}; "
                  f"{len(latency)} wakes); after an idle of under 50 µs "
                  f"{1e6 * latency[latency.idle < 50e-6].latency.median():.1f} µs, longer "
                  f"{1e6 * latency[latency.idle >= 50e-6].latency.median():.1f} µs")
        moved = df[(df.ev == "sched_migrate_task") & (df.get("who") == io)
                   & (df.t >= t0) & (df.t <= t1)]
        for i in sorted(order):
            a, b = st[i], st[i + 1]
            onto = moved[(moved.t >= a) & (moved.t <= b)]
            where = ", ".join(f"moved to cpu {int(r.dest)} at +{1e3 * (r.t - a):.2f} ms"
                              for r in onto.itertuples()) or "not moved"
            print(f"  no write for {1e3 * (b - a):.2f} ms from +{1e3 * (a - t0):.2f} ms "
                  f"({where})")
    return silent / total if total else float("nan")


def wake_latency(df: pd.DataFrame, tid: int, t0: float, t1: float) -> pd.DataFrame:
    """Each wake-up of thread ``tid`` between ``t0`` and ``t1``: from its sched_waking to its
    next switch-in (``latency``), and how long it had been switched out before (``idle``)."""
    wakes = df[(df.ev == "sched_waking") & (df.get("who") == tid)].t.to_numpy()
    ins = df[(df.ev == "sched_switch") & (df.get("next") == tid)].t.to_numpy()
    outs = df[(df.ev == "sched_switch") & (df.get("prev") == tid)].t.to_numpy()
    rows = []
    for w in wakes[(wakes >= t0) & (wakes <= t1)]:
        after, before = ins[ins >= w], outs[outs <= w]
        if len(after) and len(before):
            rows.append((after[0] - w, w - before[-1]))
    return pd.DataFrame(rows, columns=["latency", "idle"])


def trace(events: tuple[str, ...], run: list[str], tool: str,
          every_cpu: bool = False) -> tuple[str, str] | None:
    """``run`` under ``perf record`` of ``events`` (on every CPU with ``every_cpu``): its
    stdout and the trace as ``perf script`` lines; None, after saying why, if perf fails."""
    perf = shutil.which("perf")
    if perf is None:
        print(f"{tool}: perf is not installed", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory(prefix=f"zsim-{tool}-") as tmp:
        data = Path(tmp) / "perf.data"
        flags = [x for ev in events for x in ("-e", ev)] + (["-a"] if every_cpu else [])
        rec = subprocess.run([perf, "record", "-q", *flags, "-o", str(data), "--", *run],
                             capture_output=True, text=True)
        if rec.returncode != 0:
            print(f"{tool}: perf record failed: {rec.stderr.strip()[-300:]}", file=sys.stderr)
            return None
        text = subprocess.run([perf, "script", "-i", str(data), "-F",
                               "comm,pid,tid,cpu,time,event,trace"], capture_output=True,
                              text=True).stdout
    return rec.stdout, text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--transport", default="tcp", choices=("tcp", "ipc"))
    ap.add_argument("--hwm", type=int, default=100)
    ap.add_argument("--size", type=int, default=10, help="message size, bytes")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    run = [sys.executable, "-m", "zsim.cli", "run", "slow_subscriber", "--backend", "live",
           "--set", f'transport="{args.transport}"', "--set", f"hwm={args.hwm}",
           "--set", f"size={args.size}", "--set", "count=2000", "--set", "service=0.0005",
           "--reps", str(args.reps)]
    traced = trace(EVENTS, run, "io_trace")
    if traced is None:
        return 2
    out, text = traced
    print("\n".join(ln for ln in out.splitlines() if "received" in ln))
    share = report(parse(text))
    print(f"ratio={share:.3f}")  # of the bursts, stretches of > 0.5 ms without a write
    return 0


if __name__ == "__main__":
    sys.exit(main())
