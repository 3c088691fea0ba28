"""How much a slow joiner's loss varies on this machine, and the lateness of paced sleeps that
moves it.

1. ``--runs`` fresh live slow_joiner runs per transport (tcp, ipc) at slow_joiner's rate: each
   run's window (the SUB's connect() to the send of the first message it received), its loss
   and its handshake (connect() to HANDSHAKE_SUCCEEDED), through the live backend.
2. The mechanism in isolation, without zmq: a loop paced as slow_joiner's publisher paces its
   sends (sleep until t0 + k / rate), and how late each sleep ends against its due time. libzmq
   processes a PUB's commands (the new subscriber's pipe, its subscription) at its first send
   more than max_command_delay after the last processing (socket_base.cpp process_commands),
   so the spread of that lateness decides at which send each processing falls, and with it
   where the join lands in the throttle interval. Its mean and coefficient of variation are
   what the shipped profiles' app_sleep_late_s / app_sleep_late_cv hold.

    python bench/join_spread.py [--runs 30] [--rate 10000] [--sleeps 20000]
Last line: ratio=<sd of the live losses over tcp / their mean> (a diagnostic).
"""

from __future__ import annotations

import argparse
import statistics
import time

from zsim.analysis.calibrate_bench import join


def paced_lateness(rate: float, n: int) -> list[float]:
    """How late each of ``n`` sleeps until t0 + k / rate ends (seconds)."""
    interval = 1.0 / rate
    t0 = time.monotonic()
    late = []
    for k in range(1, n + 1):
        due = t0 + k * interval
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        late.append(time.monotonic() - due)
    return late


def describe(xs: list[float], unit: float, name: str) -> str:
    q = statistics.quantiles(xs, n=20, method="inclusive")
    return (f"{name}: mean {statistics.fmean(xs) / unit:.1f}, sd {statistics.stdev(xs) / unit:.1f}"
            f", min {min(xs) / unit:.1f}, p5 {q[0] / unit:.1f}, median "
            f"{statistics.median(xs) / unit:.1f}, p95 {q[-1] / unit:.1f}, max {max(xs) / unit:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--rate", type=float, default=10000.0)
    ap.add_argument("--sleeps", type=int, default=20000)
    args = ap.parse_args()
    late = paced_lateness(args.rate, args.sleeps)
    body = sorted(late)[: int(0.99 * len(late))]  # a rare descheduling would set the sd alone
    print(describe(late, 1e-6, f"paced sleeps at {args.rate:g}/s, lateness (us)"))
    print(f"  without the top 1%: mean {statistics.fmean(body) * 1e6:.1f} us, cv "
          f"{statistics.stdev(body) / statistics.fmean(body):.3f}")
    spread = {}
    for t in ("tcp", "ipc"):
        runs = [r for r in (join(t, args.rate, seed, 60.0) for seed in range(1, args.runs + 1))
                if r is not None]
        lost = [r["lost"] for r in runs]
        print(f"{t}: {len(runs)} runs")
        print("  " + describe([r["window_s"] for r in runs], 1e-6, "window (us)"))
        print("  " + describe([r["handshake_s"] for r in runs], 1e-6, "handshake (us)"))
        print("  " + describe(lost, 1.0, "lost"))
        print(f"  losses: {sorted(int(x) for x in lost)}")
        spread[t] = statistics.stdev(lost) / statistics.fmean(lost)
    print(f"ratio={spread['tcp']:.3f}")


if __name__ == "__main__":
    main()
