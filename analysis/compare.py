"""Closed form, simulation (N seeds) and live runs (N repetitions) of one scenario, side by side.

``compare`` runs everything and returns a ``Comparison`` whose ``table`` has one row per
(node, metric): the closed form, the sim and live means with 95% CIs, the relative error of sim
against live, and a verdict against the tolerance the scenario declares in ``[compare]``.
"""

from __future__ import annotations

import fnmatch
import math
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from zsim.analysis.closed_forms import Prediction, predict
from zsim.analysis.stats import mean_ci, relative_error
from zsim.records import STANDARD_METRICS, RunResult
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum

TABLE_COLUMNS = (
    "node", "metric", "closed_form", "sim_mean", "sim_ci", "live_mean", "live_ci",
    "rel_error", "tolerance", "verdict",
)

# One run of a backend: scenario, seed, and which of its set of repetitions it is (the sim
# spreads its per-run draws evenly over the set, zsim.seeds.Stratum; live has none to spread).
Runner = Callable[[Scenario, int, Stratum], RunResult]


def rep_seeds(root: int, reps: int) -> list[int]:
    """One seed per repetition, spawned from ``root`` (numpy SeedSequence)."""
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(root).spawn(reps)]


def repetitions(root: int, reps: int) -> list[tuple[int, Stratum]]:
    """Each repetition's seed (``rep_seeds``) and its stratum in the set."""
    return [(s, Stratum(root, k, reps)) for k, s in enumerate(rep_seeds(root, reps))]


@dataclass
class Comparison:
    scenario: Scenario
    seeds: list[int]
    predictions: list[Prediction]
    sim_runs: list[RunResult]
    live_runs: list[RunResult]
    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def runs_frame(self) -> pd.DataFrame:
        """Every run's metrics, with backend and rep columns."""
        parts = [
            r.metrics.assign(backend=backend, rep=k)
            for backend, runs in (("sim", self.sim_runs), ("live", self.live_runs))
            for k, r in enumerate(runs)
        ]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def selected_rows(sc: Scenario, available: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (node, metric) rows to compare: ``[compare] metrics`` patterns, else the tolerance
    keys, else every behaviour metric."""
    spec = sc.compare
    if spec.metrics:
        patterns = spec.metrics
    elif spec.tolerance:
        patterns = [k if "." in k else f"*.{k}" for k in spec.tolerance]
    else:
        patterns = [f"*.{m}" for _, m in available if m not in STANDARD_METRICS]
    rows = []
    for pattern in patterns:
        node_pat, _, metric_pat = pattern.rpartition(".")
        rows += sorted(
            (n, m) for n, m in available
            if fnmatch.fnmatchcase(n, node_pat) and fnmatch.fnmatchcase(m, metric_pat)
            and (n, m) not in rows
        )
    return rows


def tolerance_for(sc: Scenario, node: str, metric: str) -> float:
    tol = sc.compare.tolerance
    return tol.get(f"{node}.{metric}", tol.get(metric, math.nan))


# The verdict of a row the live runs could not measure (a NaN metric there, e.g. 'dropped').
NOT_OBSERVABLE = "not observable live"


def verdict(rel_error: float, tolerance: float) -> str:
    if math.isnan(tolerance):
        return "-"
    if math.isnan(rel_error):
        return "n/a"
    return "pass" if abs(rel_error) <= tolerance + 1e-12 else "FAIL"


def _values(runs: list[RunResult], node: str, metric: str) -> list[float]:
    out = []
    for r in runs:
        try:
            out.append(r.metric(node, metric))
        except KeyError:
            out.append(math.nan)
    return out


def build_table(
    sc: Scenario, predictions: list[Prediction], sim: list[RunResult], live: list[RunResult]
) -> pd.DataFrame:
    available = {
        (r.node, r.metric) for run in sim + live for r in run.metrics.itertuples()
        if r.node != "*"
    }
    closed = {(p.node, p.metric): p.value for p in predictions}
    rows = []
    for node, metric in selected_rows(sc, available | set(closed)):
        sim_mean, sim_ci = mean_ci(_values(sim, node, metric))
        live_mean, live_ci = mean_ci(_values(live, node, metric))
        err = relative_error(sim_mean, live_mean)
        tol = tolerance_for(sc, node, metric)
        unseen = bool(live) and math.isnan(live_mean) and not math.isnan(sim_mean)
        rows.append((node, metric, closed.get((node, metric), math.nan), sim_mean, sim_ci,
                     live_mean, live_ci, err, tol,
                     NOT_OBSERVABLE if unseen else verdict(err, tol)))
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def compare(
    sc: Scenario,
    reps: int,
    seed: int,
    sim: Runner | None,
    live: Runner | None,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Run the closed form, ``reps`` sim runs and ``reps`` live runs (same seeds).

    Ctrl-C or SIGTERM stops it between or during runs: the table is built from the runs that
    finished, ``meta['complete']`` is False, ``meta['stopped']`` says where, and
    ``meta['signum']`` which signal (the caller writes what it has and exits 128 + signum)."""
    runs = repetitions(seed, reps)
    predictions = predict(sc)
    done: dict[str, list[RunResult]] = {"sim": [], "live": []}
    stopped: dict[str, Any] = {}
    for backend, runner in (("sim", sim), ("live", live)):
        if runner is None or stopped:
            continue
        for k, (s, stratum) in enumerate(runs):
            try:
                done[backend].append(runner(sc, s, stratum))
            except KeyboardInterrupt as exc:
                stopped = {"stopped": f"during {backend} run {k + 1} of {reps}",
                           "signum": getattr(exc, "signum", signal.SIGINT)}
                break
            if progress is not None:
                progress(backend)
    table = build_table(sc, predictions, done["sim"], done["live"])
    seeds = [s for s, _ in runs]
    meta = {"root_seed": seed, "reps": reps, "seeds": seeds, "complete": not stopped,
            "backends": [b for b, r in (("sim", sim), ("live", live)) if r is not None],
            **stopped}
    return Comparison(sc, seeds, predictions, done["sim"], done["live"], table, meta)


def format_table(table: pd.DataFrame) -> str:
    """The table as text: means ± CI half-widths, errors in percent."""

    def pm(mean: float, ci: float) -> str:
        if math.isnan(mean):
            return "-"
        return f"{mean:.6g}" if math.isnan(ci) else f"{mean:.6g} ± {ci:.2g}"

    shown = pd.DataFrame({
        "node": table.node,
        "metric": table.metric,
        "closed form": [("-" if math.isnan(v) else f"{v:.6g}") for v in table.closed_form],
        "sim (95% CI)": [pm(m, c) for m, c in zip(table.sim_mean, table.sim_ci, strict=True)],
        "live (95% CI)": [("not observable" if v == NOT_OBSERVABLE else pm(m, c))
                          for m, c, v in zip(table.live_mean, table.live_ci, table.verdict,
                                             strict=True)],
        "sim vs live": [("-" if math.isnan(e) else f"{100 * e:+.1f}%") for e in table.rel_error],
        "tolerance": [("-" if math.isnan(t) else f"{100 * t:.0f}%") for t in table.tolerance],
        "verdict": table.verdict,
    })
    return str(shown.to_string(index=False))
