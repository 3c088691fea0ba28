"""``zsim sweep``: plan the tasks, run what is not done, summarise, plot."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

import click
import pandas as pd

from zsim.analysis.compare import selected_rows
from zsim.analysis.deadlines import check_known, parse_deadline
from zsim.analysis.executors import make_executor
from zsim.analysis.html_sweep import write_sweep_report
from zsim.analysis.sweep import (
    check_resume,
    closed_form_curve,
    load_results,
    parse_grid,
    plan,
    run_sweep,
    summarize,
    sweep_inputs,
    write_atomic,
    write_meta,
)
from zsim.analysis.sweep_plots import write_plots
from zsim.atomic import check_result_dir
from zsim.catalog import scenario_path
from zsim.cli.common import profile_option, sets_option
from zsim.errors import ZsimError
from zsim.progress import progress_bar
from zsim.scenario import Scenario, load_scenario, parse_overrides


@click.command()
@click.argument("file")
@click.option("--grid", "grids", multiple=True, metavar="NAME=V1,V2,...",
              help="A parameter and its values (repeatable; the grid is their product). "
                   "Default: the scenario's [sweep] grid.")
@sets_option
@click.option("--reps", type=click.IntRange(1), default=None,
              help="Replications per grid point (default: [sweep] reps, else 10).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Root seed; replication k uses the k-th spawned seed at every grid point.")
@click.option("--backend", type=click.Choice(["sim", "live", "both"]), default="sim",
              show_default=True, help="Live tasks run one at a time, never beside sim tasks.")
@click.option("--jobs", type=click.IntRange(1), default=None,
              help="Parallel sim tasks (default: CPU count; 1 runs them in this process).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run sim tasks on Dask: 'local' starts a LocalCluster, tcp://HOST:PORT joins "
                   "a running scheduler (pip install 'zsim[distributed]').")
@click.option("--deadline", "deadlines", multiple=True, metavar="METRIC<=X",
              help="Also report P(METRIC <= X) per grid point, with its Wilson 95% interval "
                   "(repeatable; >= too; NODE.METRIC for one node only).")
@click.option("--out", type=click.Path(file_okay=False), required=True,
              help="Results directory. Rerunning the same command there resumes: finished "
                   "tasks are kept, not redone.")
@profile_option
def sweep(file: str, grids: tuple[str, ...], sets: tuple[str, ...], reps: int | None, seed: int,
          backend: str, jobs: int | None, scheduler: str | None, deadlines: tuple[str, ...],
          out: str, profile: str | None) -> None:
    """Run a parameter grid × replications and summarise each metric with 95% CIs.

    Writes OUT/report.html (self-contained: plots, the summary table), OUT/tasks/ (one parquet
    per task), OUT/summary.parquet (mean, ci, n, p5, p50, p95 and the --deadline columns per
    backend, grid point, node and metric), OUT/closed_form.parquet, OUT/plots/*.png and
    OUT/meta.json.
    """
    run_sweep_command(file, grids, sets, reps, seed, backend, jobs, scheduler, Path(out), profile,
                      deadlines)


def run_sweep_command(file: str, grids: tuple[str, ...], sets: tuple[str, ...], reps: int | None,
                      seed: int, backend: str, jobs: int | None, scheduler: str | None,
                      out: Path, profile: str | None = None,
                      deadline_texts: tuple[str, ...] = ()) -> None:
    deadlines = [parse_deadline(t) for t in deadline_texts]  # bad syntax fails before running
    check_result_dir(out, "sweep")  # a sweep resumes in its own directory, never in another's
    path = str(scenario_path(file))
    overrides = parse_overrides(sets)
    base = load_scenario(path, overrides, profile)
    grid = parse_grid(grids) if grids else dict(base.sweep.grid)
    if not grid:
        raise ZsimError(f"{file}: no grid: pass --grid NAME=V1,V2 or declare [sweep] grid")
    reps = reps or base.sweep.reps or 10
    backends = ["sim", "live"] if backend == "both" else [backend]
    inputs = sweep_inputs(path, overrides, reps, seed, profile)
    check_resume(out, inputs)
    tasks = plan(path, overrides, grid, reps, seed, backends, profile)
    write_meta(out, {"scenario": base.name, "source": path, "sets": overrides, "grid": grid,
                     "reps": reps, "root_seed": seed, "backends": backends, "complete": False,
                     "profile": base.profile, "inputs": inputs})
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
    # the metrics are known once the runs reported them (the tasks stay done for a rerun)
    check_known(deadlines, zip(results.node, results.metric, strict=True))
    summary = summarize(results, params, deadlines)
    closed = closed_form_curve(path, overrides, grid, profile)
    write_atomic(summary, out / "summary.parquet")
    write_atomic(closed, out / "closed_form.parquet")
    rows = _rows(base, summary)
    plots = write_plots(summary, closed, params, rows, out / "plots", deadlines)
    write_meta(out, {"scenario": base.name, "source": path, "sets": overrides, "grid": grid,
                     "reps": reps, "root_seed": seed, "backends": backends, "complete": True,
                     "profile": base.profile, "inputs": inputs, "shown": rows,
                     "deadlines": [d.text for d in deadlines],
                     "tasks": len(tasks), "ran_now": ran})
    report = write_sweep_report(out)
    shown = summary[[(n, m) in rows for n, m in zip(summary.node, summary.metric, strict=True)]]
    click.echo(shown.to_string(index=False))
    click.echo(f"{ran} tasks run, {len(tasks) - ran} already done; wrote {out} "
               f"({len(plots)} plots, {report.name})")


def _rows(sc: Scenario, summary: pd.DataFrame) -> list[tuple[str, str]]:
    """(node, metric) rows to show: [sweep] metrics, else [compare] ones, else all non-*."""
    available = {(n, m) for n, m in zip(summary.node, summary.metric, strict=True) if n != "*"}
    patterns = sc.sweep.metrics
    if not patterns:
        return selected_rows(sc, available)
    rows = []
    for pattern in patterns:
        node_pat, _, metric_pat = pattern.rpartition(".")
        rows += sorted((n, m) for n, m in available if fnmatch.fnmatchcase(n, node_pat)
                       and fnmatch.fnmatchcase(m, metric_pat))
    return rows
