"""Simulator memory: peak RSS of a 1,000,000-message PUSH→PULL run at record level 'lifecycle'.

The flow is bench/bench_flow.py's (minimal behaviours; ``--builtin`` for publisher/subscriber).

The issue requires the peak to stay under 300 MB. Peak RSS is ``resource.getrusage`` ru_maxrss
of this process (imports included: numpy, pandas, pyzmq, pydantic, simpy); the RSS after the
imports and before the run is printed too, so the run's own growth can be read off.
Last line: ``ratio=<peak_rss_mb / 300>`` (<= 1 passes).

    python bench/sim_memory.py               # 1M messages, ~30-60 s
    python bench/sim_memory.py --n 200000 --builtin
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_flow import flow_text

from zsim.scenario.load import load_scenario_text
from zsim.sim.run import simulate

LIMIT_MB = 300.0


def rss_now_mb() -> float:
    """Current resident set size (Linux /proc), or NaN elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return kb / 2**20 if sys.platform == "darwin" else kb / 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="messages in the flow")
    ap.add_argument("--record", choices=["lifecycle", "messages"], default="lifecycle",
                    help="event-log level: 'messages' keeps every send and recv")
    ap.add_argument("--builtin", action="store_true",
                    help="built-in publisher/subscriber behaviours instead of the minimal ones")
    args = ap.parse_args(argv)

    text = flow_text(args.n, builtin=args.builtin)
    scenario = load_scenario_text(text, source="<bench>", name="sim_memory")
    before = rss_now_mb()
    peak_before = peak_rss_mb()
    t0 = time.perf_counter()
    result = simulate(scenario, seed=1, record=args.record)
    wall = time.perf_counter() - t0
    received = result.metric("puller", "received")
    if received != args.n:
        raise SystemExit(f"flow delivered {received:.0f} of {args.n} messages")
    peak = peak_rss_mb()
    print(f"{args.n} msgs PUSH->PULL (tcp, {args.record}) in {wall:.1f} s wall "
          f"({args.n / wall:,.0f} hops/s), {len(result.events)} events recorded")
    print(f"rss after imports {before:.1f} MB (peak so far {peak_before:.1f} MB), "
          f"rss after run {rss_now_mb():.1f} MB")
    verdict = "ok" if peak < LIMIT_MB else "OVER"
    print(f"peak_rss_mb={peak:.1f} (limit {LIMIT_MB:.0f} MB: {verdict})")
    print(f"figure={peak!r}")
    print(f"baseline={LIMIT_MB!r}")
    print(f"ratio={peak / LIMIT_MB:.4f}")


if __name__ == "__main__":
    main()
