"""Where a live PUSH→PULL flow's CPU goes: each node thread's CPU and run-queue wait per message.

Runs the shipped ``throughput`` scenario on the live backend (``run_live``, one OS process per
node, record level 'lifecycle') and samples every 5 ms, from a thread of this process, the
scheduler statistics of each node process's threads (/proc/PID/task/TID/schedstat: time on a
CPU, time runnable but waiting for one, time slices) and the host's steal time (/proc/stat).
The flow's window is the span of samples over which the nodes' I/O threads gain CPU time; every
figure is that window's difference over the messages.

Processes are listed in spawn order, which is the scenario's node order (pusher, then puller).
The last line is ``ratio=`` the threads' CPU per message over what the host's cores can give
per message in the flow's wall time (cores × window / messages): near 1, the flow is bound by
CPU, not by any one thread. Linux only (schedstat).

    python bench/cpu_share.py                          # 100k messages of 100 B over tcp, ~5 s
    python bench/cpu_share.py --transport ipc --n 50000
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

Sample = tuple[float, tuple[int, int], dict[tuple[int, int, str], tuple[int, int, int]]]


def _steal() -> tuple[int, int]:
    """(steal, total) jiffies of the host (the 8th field of /proc/stat's cpu line)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return fields[7], sum(fields)


def _node_pids() -> list[int]:
    """This process's live node children (``python -m zsim.live.node``)."""
    me, out = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == me and b"zsim.live.node" in cmd:
            out.append(int(entry))
    return sorted(out)


def _threads(pids: list[int]) -> dict[tuple[int, int, str], tuple[int, int, int]]:
    out = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
                run, wait, slices = map(int, Path(f"/proc/{pid}/task/{tid}/schedstat")
                                        .read_text().split())
            except (OSError, ValueError):
                continue
            out[(pid, int(tid), comm)] = (run, wait, slices)
    return out


def _sample(stop: threading.Event, series: list[Sample]) -> None:
    while not stop.is_set():
        series.append((time.monotonic(), _steal(), _threads(_node_pids())))
        time.sleep(0.005)


def _window(series: list[Sample]) -> tuple[Sample, Sample]:
    """The samples around the flow: from the last before the I/O threads start gaining CPU
    to the last that still gained."""
    def io(s: Sample) -> int:
        return sum(v[0] for k, v in s[2].items() if k[2].startswith("ZMQbg/IO"))

    grew = [i for i in range(1, len(series)) if io(series[i]) - io(series[i - 1]) > 200_000]
    if not grew:
        raise SystemExit("cpu_share: no flow seen (the I/O threads never gained CPU time)")
    return series[grew[0] - 1], series[grew[-1]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="messages (default 100000)")
    ap.add_argument("--size", type=int, default=100, help="payload bytes (default 100)")
    ap.add_argument("--transport", choices=("tcp", "ipc"), default="tcp")
    args = ap.parse_args()

    from zsim.catalog import scenario_path
    from zsim.live import run_live
    from zsim.scenario import load_scenario

    sc = load_scenario(scenario_path("throughput"),
                       {"messages": args.n, "size": args.size, "transport": args.transport})
    series: list[Sample] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(stop, series), daemon=True)
    sampler.start()
    try:
        result = run_live(sc, seed=0, record="lifecycle", timeout=120.0)
    finally:
        stop.set()
        sampler.join(5.0)
    a, b = _window(series)
    wall = b[0] - a[0]
    steal = (b[1][0] - a[1][0]) / max(1, b[1][1] - a[1][1])
    cores = os.cpu_count() or 1
    print(f"{args.transport}, {args.n} messages of {args.size} B: window {wall * 1e3:.0f} ms, "
          f"{args.n / wall:,.0f} msg/s over it (the puller's own: "
          f"{result.metric('puller', 'throughput_msg_s'):,.0f}); host steal {steal:.1%}")
    print(f"{'process':>8} {'thread':<16} {'cpu µs/msg':>11} {'wait µs/msg':>12} "
          f"{'slices/msg':>11}")
    order = {pid: i + 1 for i, pid in enumerate(sorted({k[0] for k in b[2]}))}
    total = 0.0
    for key in sorted(b[2], key=lambda k: (k[0], k[1])):
        if key not in a[2]:
            continue
        run, wait, slices = (y - x for x, y in zip(a[2][key], b[2][key], strict=True))
        if run < 100_000:  # idle during the flow (the reaper, the monitor)
            continue
        total += run / args.n
        print(f"{order[key[0]]:>8} {key[2]:<16} {run / args.n / 1e3:>11.2f} "
              f"{wait / args.n / 1e3:>12.2f} {slices / args.n:>11.3f}")
    per_msg_ns = wall * 1e9 / args.n
    print(f"all threads: {total / 1e3:.2f} µs of CPU per message; {cores} cores give "
          f"{cores * per_msg_ns / 1e3:.2f} µs per message at the flow's rate")
    print(f"figure={float(total)!r}")
    print(f"baseline={float(cores * per_msg_ns)!r}")
    print(f"ratio={total / (cores * per_msg_ns):.4f}")


if __name__ == "__main__":
    main()
