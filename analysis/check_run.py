"""``check-model`` as a library call: run the matrix, judge it, time the live phases.

The CLI (zsim.cli.check_model) only parses options and prints; this module holds the order of
work: every check's live runs first, nearest the calibration, with the host's speed probed
before each round (host_tracking), then the simulations, then the verdicts.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zsim.analysis.backends import get_backend, runner
from zsim.analysis.check_model import (
    MATRIX,
    Check,
    MatrixResult,
    judge,
    matrix_meta,
    run_count,
    run_matrix,
)
from zsim.analysis.host_tracking import HostTracking
from zsim.backend import RunOptions
from zsim.errors import ZsimError
from zsim.profile import load_profile
from zsim.steal import cpu_times, steal_share, steal_warning

LIVE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class CheckRequest:
    """What to check: extra profiles, a subset of checks, quick, live or not, host tracking."""

    profiles: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    quick: bool = False
    live: bool = True
    track_host: bool = True
    seed: int = 0


def chosen_checks(request: CheckRequest) -> list[Check]:
    names = {c.name for c in MATRIX}
    unknown = sorted(set(request.only) - names)
    if unknown:
        raise ZsimError(f"--only: unknown check {unknown[0]!r} (one of {sorted(names)})")
    return [c.quick() if request.quick else c for c in MATRIX
            if not request.only or c.name in request.only]


def run_check(request: CheckRequest, total: Callable[[int], Any],
              step: Callable[[], None]) -> tuple[MatrixResult, str | None]:
    """Run and judge the matrix; ``total(n)`` is told the run count once, ``step()`` after
    each run. Returns the result and a warning line if the host stole CPU meanwhile."""
    checks = chosen_checks(request)
    chosen: list[str | None] = [None, *request.profiles]
    sim = runner(get_backend("sim"), RunOptions())
    live = runner(get_backend("live"), RunOptions(timeout=LIVE_TIMEOUT_S)) if request.live \
        else None
    loaded = [load_profile(p) for p in request.profiles]
    created = loaded[0].meta.get("created") if loaded else None
    phases: dict[str, dict[str, Any]] = {}
    times_before = cpu_times()
    with tempfile.TemporaryDirectory(prefix="zsim-check-") as tmp:
        tracking = HostTracking(loaded, Path(tmp), live is not None and request.track_host)
        total(run_count(checks, len(chosen) + len(tracking.profiles), live is not None))
        values = run_matrix(checks, chosen, sim, live, request.seed, step,
                            _phase_timer(phases, tracking, created), tracking.before_round,
                            tracking.more_profiles)
        files = tracking.files()
    steal = steal_share(times_before, cpu_times())
    labels = [str(p or "default") for p in chosen]
    result = MatrixResult(values, judge(values, checks), labels,
                          {**matrix_meta(checks, labels, request.seed), "host_steal": steal,
                           "live_phases": phases, "tracked_profiles": sorted(files)},
                          files=files)
    return result, steal_warning("the check", steal) if live is not None else None


def _phase_timer(phases: dict[str, dict[str, Any]], tracking: HostTracking,
                 created: str | None) -> Callable[[Check], Any]:
    """When each check's live runs went, how long they took and what the host stole
    meanwhile: a profile describes its host as it was when calibrated."""
    @contextmanager
    def live_phase(check: Check) -> Iterator[None]:
        start, before, t0 = datetime.now(UTC), cpu_times(), time.monotonic()
        yield
        age = (start - datetime.fromisoformat(created)).total_seconds() if created else None
        phases[check.name] = {"started": start.isoformat(timespec="seconds"),
                              "profile_age_s": age, "wall_s": time.monotonic() - t0,
                              "host_steal": steal_share(before, cpu_times())}
        speed = tracking.phase(check.name)
        if speed:
            phases[check.name]["host_speed"] = speed
    return live_phase


def failed_rows(result: MatrixResult) -> list[str]:
    """One line per FAILed row and profile, for the exit status."""
    table = result.table
    lines = []
    for col in [c for c in table.columns if c.startswith("verdict[")]:
        for _, row in table[table[col] == "FAIL"].iterrows():
            lines.append(f"check-model: {row['check']} {row['point']} {row['node']}."
                         f"{row['metric']} FAILed under {col[8:-1]}")
    return lines
