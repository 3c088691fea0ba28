"""The Python API: what the command line does, as functions that return data.

    import zsim
    r = zsim.run("pipeline", backend="sim", params={"workers": 8}, seed=1)
    r.metrics            # DataFrame: node, metric, value
    r.events             # DataFrame: t, node, socket, event, sender, seq, size, peer, topic, detail
    r.meta               # dict: seed, params, complete, problems, versions, ...
    zsim.failures(r)     # why the run is not what its scenario expects ([] when it is)

A scenario is a path, a shipped scenario's name, or a ``Scenario`` from ``zsim.load``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from zsim.analysis.backends import get_backend, runner
from zsim.analysis.compare import Comparison, repetitions
from zsim.analysis.compare import compare as compare_runs
from zsim.analysis.sweep import load_results, plan, run_sweep, summarize
from zsim.backend import RecordLevel, RunOptions
from zsim.catalog import scenario_path
from zsim.outcome import run_failures
from zsim.records import RunResult, combine_reps, load_result
from zsim.scenario import Scenario, load_scenario

ScenarioRef = str | Path | Scenario


def load(scenario: str | Path, params: Mapping[str, Any] | None = None,
         profile: str | None = None) -> Scenario:
    """A validated scenario: a path or a shipped name, ``params`` overriding its [params],
    on a machine ``profile`` (a path or shipped name; None: the default profile)."""
    return load_scenario(scenario_path(str(scenario)), dict(params or {}), profile)


def _scenario(ref: ScenarioRef, params: Mapping[str, Any] | None,
              profile: str | None) -> Scenario:
    if isinstance(ref, Scenario):
        if params or profile:
            raise ValueError("params and profile apply when loading; pass a path or a name")
        return ref
    return load(ref, params, profile)


def run(scenario: ScenarioRef, backend: str = "sim", *, params: Mapping[str, Any] | None = None,
        seed: int | None = None, reps: int = 1, record: RecordLevel | None = None,
        timeout: float = 120.0, profile: str | None = None) -> RunResult:
    """Run once (or ``reps`` times, seeds spawned from ``seed`` as compare and sweep do, the
    rows told apart by ``rep`` and ``seed`` columns) on ``backend`` ("sim" or "live")."""
    sc = _scenario(scenario, params, profile)
    chosen = get_backend(backend)
    options = RunOptions(seed=seed, record=record, timeout=timeout)
    if reps == 1:
        return chosen.run(sc, options)
    return combine_reps([chosen.run(sc, replace(options, seed=s, stratum=stratum))
                         for s, stratum in repetitions(options.seed_for(sc), reps)])


def failures(result: RunResult, scenario: ScenarioRef | None = None) -> list[str]:
    """One line per way ``result`` is not what its scenario expects; [] when it is (what
    decides the CLI's exit status). ``scenario`` defaults to the file the run came from."""
    sc = _scenario(scenario if scenario is not None else result.meta["source"], None, None)
    runs = result.meta.get("runs", [result.meta])
    return [c for meta in runs for c in run_failures(sc, RunResult(result.events,
                                                                   result.metrics, meta))]


def compare(scenario: ScenarioRef, *, backends: Sequence[str] = ("sim", "live"), reps: int = 5,
            seed: int = 0, params: Mapping[str, Any] | None = None,
            timeout: float = 120.0, profile: str | None = None) -> Comparison:
    """Closed form, ``reps`` runs of each backend, and the table that holds them side by
    side (``.table``: node, metric, closed_form, sim_mean, sim_ci, live_mean, live_ci,
    rel_error, tolerance, verdict)."""
    sc = _scenario(scenario, params, profile)
    options = RunOptions(timeout=timeout)
    chosen = {b: runner(get_backend(b), options) if b in backends else None
              for b in ("sim", "live")}
    return compare_runs(sc, reps, seed, chosen["sim"], chosen["live"])


def sweep(scenario: str | Path, grid: Mapping[str, Sequence[Any]], *, reps: int = 10,
          seed: int = 0, backend: str = "sim", params: Mapping[str, Any] | None = None,
          profile: str | None = None) -> pd.DataFrame:
    """Every grid point × ``reps`` replications, in this process; the summary (mean, ci, n
    per backend, grid point as ``p.NAME`` columns, node and metric). ``zsim sweep`` does the
    same in parallel, resumable, with plots."""
    path = str(scenario_path(str(scenario)))
    tasks = plan(path, dict(params or {}), grid, reps, seed, [backend], profile)
    with tempfile.TemporaryDirectory(prefix="zsim-sweep-") as tmp:
        run_sweep(tasks, Path(tmp), None)
        return summarize(load_results(Path(tmp), tasks), list(grid))


def load_run(path: str | Path) -> RunResult:
    """A result directory written by ``zsim run --out`` (or ``RunResult.save``)."""
    return load_result(path)
