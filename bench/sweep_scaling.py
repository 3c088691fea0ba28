"""Sweep scaling: the same sim sweep with 2 jobs and with 1 job, in one run.

    python bench/sweep_scaling.py [--reps N]

Prints both wall times; the last line is ratio=<wall(2 jobs) / wall(1 job)> (aim: <= 0.6 on
2 cores; the process pool's start-up is included, as a user would see it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from zsim.analysis.executors import make_executor
from zsim.analysis.sweep import plan, run_sweep
from zsim.catalog import scenario_path


def wall_time(jobs: int, reps: int) -> float:
    tasks = plan(str(scenario_path("pipeline")), {}, {"workers": list(range(1, 9))}, reps, 0,
                 ["sim"])
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        with make_executor(jobs, None) as executor:
            run_sweep(tasks, Path(out), executor)
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=10, help="replications per grid point")
    args = ap.parse_args()
    one = wall_time(1, args.reps)
    two = wall_time(2, args.reps)
    print(f"pipeline workers=1..8 x {args.reps} reps: 1 job {one:.2f} s, 2 jobs {two:.2f} s")
    print(f"figure={two!r}")
    print(f"baseline={one!r}")
    print(f"ratio={two / one:.3f}")


if __name__ == "__main__":
    main()
