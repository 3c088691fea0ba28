"""The validation matrix: canonical scenarios on both backends, judged against stated tolerances.

Each ``Check`` runs a shipped scenario over a small grid; at every grid point the simulation runs
``sim_reps`` stratified seeds under each profile (the shipped default and, when given, a
calibrated one) and the live backend from ``reps`` up to ``max_reps`` repetitions with the same
seeds: it stops repeating a point once the live statistic of each criterion is known to within
half its tolerance (95% CI), so that the verdict is not the luck of a few noisy runs. A
``Criterion`` compares one statistic (mean, median, or exact per-seed equality) of one metric,
and passes when the relative error of sim against live is within its tolerance. Tolerances are
those the project commits to.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from zsim.analysis.compare import Runner, repetitions
from zsim.analysis.stats import mean_ci, median_ci, relative_error
from zsim.analysis.sweep import grid_points
from zsim.catalog import scenario_path
from zsim.records import RunResult
from zsim.scenario import load_scenario


@dataclass(frozen=True)
class Criterion:
    node: str  # fnmatch pattern
    metric: str
    statistic: str  # "mean", "median" or "exact"
    tolerance: float
    # Compare the matching nodes by their rank in this metric (per run), not by name: live
    # workers started together race to connect, so which *name* the ventilator serves first
    # varies from run to run; what ZeroMQ fixes is how many tasks the k-th served worker gets.
    rank_by: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    scenario: str
    grid: dict[str, list[Any]]
    fixed: dict[str, Any]
    criteria: tuple[Criterion, ...]
    reps: int  # live repetitions per point: all of them, or the least when max_reps is more
    max_reps: int | None = None  # live: repeat up to this until each criterion is settled
    sim_reps: int | None = None  # per point and profile (default: reps); the model is cheap

    @property
    def live_max(self) -> int:
        return max(self.reps, self.max_reps or 0)

    @property
    def sim_count(self) -> int:
        return self.sim_reps or self.reps

    def quick(self) -> Check:
        """One grid point per parameter and 2 repetitions: for tests and a first look."""
        small = {k: v[:1] for k, v in self.grid.items()}
        return Check(self.name, self.scenario, small, self.fixed, self.criteria, 2)


MATRIX: tuple[Check, ...] = (
    # In the order their live runs go, the nearest to the calibration first: the checks
    # whose figures follow the host's wake-up latency and speed most directly (a round
    # trip is a chain of wake-ups; throughput, of per-message CPU) before the long burst
    # check, and the pipeline, whose makespan is mostly its workers' sleeps, last.

    # a live run's mean RTT and throughput differ from the next run's by a CV of 0.25 and 0.17
    # (pooled over the points of seven checks), which leaves the mean of 8 within ±18% and
    # ±12% (95% CI): up to 24 runs bring that under 10%
    Check("reqrep", "hello_reqrep", {"transport": ["tcp", "ipc"]},
          {"service": 0.0, "requests": 300},
          (Criterion("client", "rtt_mean_s", "mean", 0.20),), reps=8, max_reps=24,
          sim_reps=32),
    Check("throughput", "throughput", {"transport": ["tcp", "ipc"]}, {"size": 100},
          (Criterion("puller", "throughput_msg_s", "mean", 0.20),), reps=8, max_reps=24,
          sim_reps=16),
    Check("slow_subscriber", "slow_subscriber",
          {"transport": ["inproc", "ipc", "tcp"], "hwm": [10, 100, 1000], "size": [10, 1000]},
          {"count": 2000, "service": 0.0005},
          # a live burst's `received` swings with the host's speed (the publisher's CPU per
          # send, which sets how many throttle intervals its burst spans) and its I/O thread's
          # strands: its coefficient of variation was 0.19 at the median point of six checks
          # (0.10-0.34), so 8 runs leave a 95% CI of ±15%, the whole tolerance. Noisy points
          # repeat up to 24 times (±8% at that CV); points where every run gets the same
          # count stop at 8. The model's runs vary too (strands; CV up to 0.37): 40 of them
          (Criterion("subscriber", "received", "mean", 0.15),), reps=8, max_reps=24,
          sim_reps=40),
    Check("slow_joiner", "slow_joiner",
          {"transport": ["tcp", "ipc"], "rate": [1000.0, 10000.0, 50000.0]},
          {"duration": 0.1, "join_at": 0.03},
          # at 50k msg/s a run loses 0-40 or 80-120 (whether the subscription reaches the
          # publisher before or after one of its command-throttle passes) and the low mode
          # took 10-45% of the runs of each of four checks: a median of 20 can fall into the
          # gap between (s48's ipc: 55, where the others gave 87-101). Points whose median is
          # not settled repeat up to 60 times; the 1k and 10k points settle at 20
          (Criterion("subscriber", "lost", "median", 0.30),), reps=20, max_reps=60),
    Check("pipeline", "pipeline", {"transport": ["tcp", "ipc"], "workers": list(range(1, 9))},
          {"sync": True},
          (Criterion("worker-*", "tasks", "exact", 0.0, rank_by="first_task"),
           Criterion("sink", "makespan_s", "mean", 0.05)), reps=3),
)


@dataclass
class MatrixResult:
    values: pd.DataFrame  # check, point, backend, rep, node, metric, value
    table: pd.DataFrame  # one row per criterion, point and node
    profiles: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # more to write: relative path -> text


def _point_label(point: Sequence[tuple[str, Any]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point)


def run_matrix(
    checks: Sequence[Check],
    profiles: Sequence[str | None],
    sim: Runner,
    live: Runner | None,
    seed: int = 0,
    progress: Callable[[], None] = lambda: None,
    live_phase: Callable[[Check], AbstractContextManager[object]] = lambda _: nullcontext(),
    before_round: Callable[[Check, int], None] = lambda _c, _k: None,
    more_profiles: Callable[[Check], Sequence[str]] = lambda _: (),
) -> pd.DataFrame:
    """Every run's metrics as one long frame. Every check's live runs come first, in matrix
    order, and then the simulations: a profile describes the host as it was when it was
    calibrated, and the host drifts over minutes, so the live runs go as near the calibration
    as they can (the model's runs do not depend on when they run). ``live_phase(check)``
    wraps each check's live runs (to time them); ``before_round(check, k)`` runs before
    round k of them (to probe the host: ``host_tracking``), and ``more_profiles(check)``, asked
    once every live run is done, names profiles to simulate that check under besides
    ``profiles``."""
    rows: list[tuple[Any, ...]] = []

    def add(check: Check, label: str, backend: str, rep: int, result: RunResult) -> None:
        rows.extend((check.name, label, backend, rep, r.node, r.metric, r.value)
                    for r in result.metrics.itertuples())
        progress()

    if live is not None:
        for check in checks:
            with live_phase(check):
                _live_runs(check, profiles[0], live, seed, add, before_round)
    for check in checks:
        _sim_runs(check, [*profiles, *more_profiles(check)], sim, seed, add)
    return pd.DataFrame(rows, columns=["check", "point", "backend", "rep", "node", "metric",
                                       "value"])


_Add = Callable[[Check, str, str, int, RunResult], None]


def _points(check: Check) -> list[tuple[str, dict[str, Any]]]:
    return [(_point_label(point), {**check.fixed, **dict(point)})
            for point in grid_points(check.grid)]


def _sim_runs(check: Check, profiles: Sequence[str | None], sim: Runner, seed: int,
              add: _Add) -> None:
    path = scenario_path(check.scenario)
    models = [(label, load_scenario(path, overrides, p))
              for label, overrides in _points(check) for p in profiles]
    for rep, (s, stratum) in enumerate(repetitions(seed, check.sim_count)):
        for label, sc in models:
            add(check, label, f"sim:{sc.profile}", rep, sim(sc, s, stratum))


def _live_runs(check: Check, profile: str | None, live: Runner, seed: int, add: _Add,
               before_round: Callable[[Check, int], None]) -> None:
    """Live repetitions go round the grid (repetition 0 of every point, then 1, ...): the
    host's speed drifts over minutes, and back-to-back repetitions of one point would all see
    one stretch of it, so that its mean would carry the drift as an error. A point leaves the
    round once its live statistics are settled. The seeds are the sim's: the k-th child of the
    root seed is the same however many are spawned."""
    path = scenario_path(check.scenario)
    scenarios = {label: load_scenario(path, overrides, profile)
                 for label, overrides in _points(check)}
    open_points = list(scenarios)
    done: dict[str, list[RunResult]] = {label: [] for label in scenarios}
    for rep, (s, stratum) in enumerate(repetitions(seed, check.live_max)):
        before_round(check, rep)
        for label in open_points:
            result = live(scenarios[label], s, stratum)
            done[label].append(result)
            add(check, label, "live", rep, result)
        if rep + 1 >= check.reps:
            open_points = [label for label in open_points if not settled(check, done[label])]
        if not open_points:
            break


def settled(check: Check, runs: Sequence[RunResult]) -> bool:
    """Whether a point's live runs pin down every criterion's statistic: its 95% CI within
    half the criterion's tolerance, for every node it judges (exact criteria need nothing
    more than the set repetitions)."""
    for crit in check.criteria:
        if crit.statistic == "exact":
            continue
        by_node: dict[str, list[float]] = {}
        for run in runs:
            m = run.metrics
            for r in m[m.metric == crit.metric].itertuples():
                if fnmatch.fnmatchcase(str(r.node), crit.node):
                    by_node.setdefault(str(r.node), []).append(float(r.value))
        for values in by_node.values():
            half = _live_ci(pd.Series(values), crit.statistic)
            varies = any(v != values[0] for v in values)
            if varies and not half <= crit.tolerance / 2:  # NaN: too few, a zero statistic
                return False
    return True


def run_count(checks: Sequence[Check], n_profiles: int, live: bool) -> int:
    """The most runs the checks can take (a settled point stops its live runs early)."""
    return sum(len(grid_points(c.grid)) * (c.sim_count * n_profiles + c.live_max * int(live))
               for c in checks)


def _statistic(values: pd.Series, statistic: str) -> float:
    v = values.dropna().to_numpy(dtype=float)
    if v.size == 0:
        return math.nan
    return float(np.median(v) if statistic == "median" else v.mean())


def judge(values: pd.DataFrame, checks: Sequence[Check]) -> pd.DataFrame:
    """One row per (check, point, criterion, node): the statistic per backend, the relative
    error of each sim profile against live, and pass/FAIL."""
    out = []
    sims = sorted(b for b in values.backend.unique() if b.startswith("sim:"))
    for check in checks:
        mine = values[values.check == check.name]
        for point, at_point in mine.groupby("point", sort=False):
            for crit in check.criteria:
                rows = (at_point[at_point.metric == crit.metric] if crit.rank_by is None
                        else _ranked(at_point, crit))
                nodes = sorted((n for n in rows.node.unique()
                                if crit.rank_by or fnmatch.fnmatchcase(n, crit.node)),
                               key=lambda n: (len(n), n))  # worker-2 before worker-10
                for node in nodes:
                    out.append(_judge_row(check.name, str(point), crit, node,
                                          rows[rows.node == node], sims))
    return pd.DataFrame(out)


def _ranked(rows: pd.DataFrame, crit: Criterion) -> pd.DataFrame:
    """``crit.metric`` of the nodes matching ``crit.node``, renamed ``<prefix> served #k`` by
    their order in ``crit.rank_by`` within each run (nodes without it last, by name)."""
    assert crit.rank_by is not None
    prefix = crit.node.rstrip("*?-_ ")
    out = []
    for _, run in rows.groupby(["backend", "rep"], sort=False):
        mine = run[run.node.map(lambda n: fnmatch.fnmatchcase(n, crit.node))]
        key = mine[mine.metric == crit.rank_by].set_index("node").value.to_dict()
        order = sorted(mine.node.unique(), key=lambda n: (key.get(n, math.inf), n))
        names = {n: f"{prefix} served #{k}" for k, n in enumerate(order, 1)}
        values = mine[mine.metric == crit.metric]
        out.append(values.assign(node=values.node.map(names)))
    return pd.concat(out) if out else rows.iloc[:0]


def _judge_row(check: str, point: str, crit: Criterion, node: str, rows: pd.DataFrame,
               sims: list[str]) -> dict[str, Any]:
    live = rows[rows.backend == "live"].sort_values("rep").value
    row: dict[str, Any] = {"check": check, "point": point, "node": node, "metric": crit.metric,
                           "statistic": crit.statistic, "tolerance": crit.tolerance,
                           "live_n": int(live.notna().sum()),
                           "live": _statistic(live, "median" if crit.statistic == "median"
                                              else "mean"),
                           "live_ci": _live_ci(live, crit.statistic)}
    for sim in sims:
        values = rows[rows.backend == sim].sort_values("rep").value
        name = sim.removeprefix("sim:")
        if crit.statistic == "exact":
            stat = _statistic(values, "mean")
            same = len(live) > 0 and list(values) == list(live)
            err = 0.0 if same else (math.nan if len(live) == 0 else
                                    relative_error(stat, row["live"]) or math.inf)
        else:
            stat = _statistic(values, crit.statistic)
            err = relative_error(stat, row["live"])
        row[f"sim[{name}]"] = stat
        row[f"error[{name}]"] = err
        row[f"verdict[{name}]"] = ("n/a" if math.isnan(err) else
                                   "pass" if abs(err) <= crit.tolerance + 1e-12 else "FAIL")
    return row


def _live_ci(values: pd.Series, statistic: str) -> float:
    """Half-width of the live statistic's 95% CI over its repetitions, relative to the
    statistic (t interval of the mean; order-statistic interval of the median); NaN for
    "exact" and when there are too few repetitions."""
    v = values.dropna().to_numpy(dtype=float)
    if statistic == "exact" or v.size < 2:
        return math.nan
    if statistic == "median":
        med, lo, hi = median_ci(v)
        return (hi - lo) / 2 / abs(med) if med else math.nan
    mean, half = mean_ci(v)
    return half / abs(mean) if mean else math.nan


def beyond_live_noise(table: pd.DataFrame, profile: str) -> pd.Series:
    """FAIL rows whose error exceeds the tolerance by more than the live statistic's own 95%
    CI: the rows where live's run-to-run spread cannot account for the miss."""
    err = table[f"error[{profile}]"].abs()
    return (table[f"verdict[{profile}]"] == "FAIL") & (
        err > table.tolerance + table.live_ci.fillna(0.0))


def summary_lines(table: pd.DataFrame) -> list[str]:
    lines = []
    for col in [c for c in table.columns if c.startswith("verdict[")]:
        counts = table[col].value_counts().to_dict()
        beyond = int(beyond_live_noise(table, col[8:-1]).sum())
        lines.append(f"{col[8:-1]}: {counts.get('pass', 0)} pass, {counts.get('FAIL', 0)} FAIL "
                     f"({beyond} beyond the live 95% CI), {counts.get('n/a', 0)} n/a of "
                     f"{len(table)}")
    return lines


def phase_lines(phases: dict[str, dict[str, Any]]) -> list[str]:
    """One line per check's live runs: when they began (after the calibration that wrote the
    first profile checked, if known), how long they took, the host's steal meanwhile and,
    when it was probed, its speed against the profile's calibration (``host_speed``)."""
    lines = []
    for name, p in phases.items():
        age = p.get("profile_age_s")
        steal = p.get("host_steal")
        speed = p.get("host_speed")
        lines.append(f"live {name}: {p['wall_s'] / 60:.1f} min"
                     + ("" if age is None else f", from {age / 60:.1f} min after the profile")
                     + ("" if steal is None else f", host steal {steal:.2%}")
                     + ("" if not speed else f", the probe's send {speed['ratio']:.3f}x the "
                        f"profile's ({speed['probes']} probes)"))
    return lines


def matrix_meta(checks: Sequence[Check], profiles: Sequence[str], seed: int) -> dict[str, Any]:
    return {"checks": [{"name": c.name, "scenario": c.scenario, "grid": c.grid, "fixed": c.fixed,
                        "reps": c.reps, "max_reps": c.live_max, "sim_reps": c.sim_count,
                        "criteria": [vars(k) for k in c.criteria]} for c in checks],
            "profiles": list(profiles), "root_seed": seed}

