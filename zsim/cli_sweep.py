"""``zsim sweep``: plan the tasks, run what is not done, summarise, plot."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

import click

from zsim.catalog import scenario_path
from zsim.errors import ZsimError
from zsim.progress import progress_bar
from zsim.scenario import load_scenario, parse_overrides


def run_sweep_command(file: str, grids: tuple[str, ...], sets: tuple[str, ...], reps: int | None,
                      seed: int, backend: str, jobs: int | None, scheduler: str | None,
                      out: Path, profile: str | None = None) -> None:
    from zsim.analysis.executors import make_executor
    from zsim.analysis.sweep import (
        closed_form_curve,
        load_results,
        parse_grid,
        plan,
        run_sweep,
        summarize,
        write_atomic,
        write_meta,
    )
    from zsim.analysis.sweep_plots import write_plots

    path = str(scenario_path(file))
    overrides = parse_overrides(sets)
    base = load_scenario(path, overrides, profile)
    grid = parse_grid(grids) if grids else dict(base.sweep.grid)
    if not grid:
        raise ZsimError(f"{file}: no grid: pass --grid NAME=V1,V2 or declare [sweep] grid")
    reps = reps or base.sweep.reps or 10
    backends = ["sim", "live"] if backend == "both" else [backend]
    tasks = plan(path, overrides, grid, reps, seed, backends, profile)
    write_meta(out, {"scenario": base.name, "source": path, "sets": overrides, "grid": grid,
                     "reps": reps, "root_seed": seed, "backends": backends, "complete": False,
                     "profile": base.profile})
    with progress_bar(len(tasks), f"sweep {base.name}") as bar:
        try:
            with make_executor(jobs, scheduler) as executor:
                ran = run_sweep(tasks, out, executor, on_done=lambda _t: bar.update())
        except KeyboardInterrupt as exc:  # Ctrl-C, or a live run's RunInterrupted (SIGTERM too)
            done = sum(1 for t in tasks if (out / "tasks" / f"{t.key}.parquet").exists())
            click.echo(f"zsim: interrupted: {done} of {len(tasks)} tasks done; run the same "
                       "command again to finish", err=True)
            sys.exit(128 + getattr(exc, "signum", 2))
    results = load_results(out, tasks)
    params = list(grid)
    summary = summarize(results, params)
    closed = closed_form_curve(path, overrides, grid, profile)
    write_atomic(summary, out / "summary.parquet")
    write_atomic(closed, out / "closed_form.parquet")
    rows = _rows(base, summary)
    plots = write_plots(summary, closed, params, rows, out / "plots")
    write_meta(out, {"scenario": base.name, "source": path, "sets": overrides, "grid": grid,
                     "reps": reps, "root_seed": seed, "backends": backends, "complete": True,
                     "profile": base.profile,
                     "tasks": len(tasks), "ran_now": ran})
    shown = summary[[(n, m) in rows for n, m in zip(summary.node, summary.metric, strict=True)]]
    click.echo(shown.to_string(index=False))
    click.echo(f"{ran} tasks run, {len(tasks) - ran} already done; wrote {out} "
               f"({len(plots)} plots)")


def _rows(sc: object, summary: object) -> list[tuple[str, str]]:
    """(node, metric) rows to show: [sweep] metrics, else [compare] ones, else all non-*."""
    from zsim.analysis.compare import selected_rows

    available = {(n, m) for n, m in zip(summary.node, summary.metric, strict=True)  # type: ignore[attr-defined]
                 if n != "*"}
    patterns = sc.sweep.metrics  # type: ignore[attr-defined]
    if not patterns:
        return selected_rows(sc, available)  # type: ignore[arg-type]
    rows = []
    for pattern in patterns:
        node_pat, _, metric_pat = pattern.rpartition(".")
        rows += sorted((n, m) for n, m in available if fnmatch.fnmatchcase(n, node_pat)
                       and fnmatch.fnmatchcase(m, metric_pat))
    return rows
