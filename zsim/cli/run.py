"""``zsim run``: one scenario, once or --reps times, on one backend; print and keep its records."""

from __future__ import annotations

import json
from dataclasses import replace

import click
import pandas as pd

from zsim.analysis.backends import get_backend
from zsim.analysis.compare import repetitions
from zsim.analysis.html_run import write_run_files
from zsim.analysis.plots import format_value
from zsim.atomic import check_result_dir
from zsim.backend import RunOptions
from zsim.cli.common import load, profile_option, sets_option, timeout_option
from zsim.errors import RunFailed, RunInterrupted
from zsim.outcome import run_failures
from zsim.progress import progress_bar
from zsim.records import RunResult, combine_reps
from zsim.scenario import Scenario
from zsim.seeds import Stratum


@click.command()
@click.argument("file")
@sets_option
@click.option("--seed", type=int, default=None,
              help="Random seed (default: the scenario's run.seed, else 0). Same seed, same run. "
                   "With --reps, the root from which each repetition's seed is spawned.")
@click.option("--backend", type=click.Choice(["sim", "live"]), default="sim", show_default=True,
              help="sim: the simpy model; live: real pyzmq sockets on this machine.")
@click.option("--reps", type=click.IntRange(1), default=1, show_default=True,
              help="Repetitions. Above 1, each gets its own seed spawned from --seed (numpy "
                   "SeedSequence, as in compare and sweep) and the table shows each metric's "
                   "mean, sd, min and max over them.")
@click.option("--record", type=click.Choice(["messages", "lifecycle"]), default=None,
              help="Event-log level (default: the scenario's run.record). 'lifecycle' keeps "
                   "only connections, crashes and marks; metrics are complete either way.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write events.parquet, metrics.parquet, meta.json, timeline.png and a "
                   "self-contained report.html to this directory "
                   "(with --reps: all repetitions, told apart by the rep and seed columns).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object {scenario, params, seed, metrics} instead of a table "
                   "(with --reps: seeds, and metrics rows that carry rep and seed).")
@timeout_option
@profile_option
def run(file: str, sets: tuple[str, ...], seed: int | None, backend: str, reps: int,
        record: str | None, out: str | None, as_json: bool, timeout: float,
        profile: str | None) -> None:
    """Run a scenario and print its metrics table (node, metric, value).

    With --reps N it runs N times and prints node, metric, mean, sd, min, max. Exits 1, with
    one line per cause, when a run did not do what the scenario expects (see `zsim --help`).
    """
    scenario = load(file, sets, profile)
    if out:
        check_result_dir(out, "run")  # refuse a bad --out before running
    options = RunOptions(seed=seed, record="messages" if record == "messages" else
                         "lifecycle" if record else None, timeout=timeout)
    # one run takes --seed as it is; repetitions spawn theirs from it, as compare and sweep do
    plan: list[tuple[int | None, Stratum | None]] = (
        [(seed, None)] if reps == 1 else list(repetitions(options.seed_for(scenario), reps)))
    runs, stopped = _run_all(scenario, backend, options, plan)
    result = runs[0] if reps == 1 else combine_reps(runs)
    seeds = result.meta["seed"] if reps == 1 else [s for s, _ in plan[:len(runs)]]
    _show(scenario, result, seeds, reps, out, as_json)
    if stopped is not None:
        raise stopped  # exits 130 (Ctrl-C) or 143 (SIGTERM), after the output
    causes = [c for r in runs for c in run_failures(scenario, r)]
    if causes:
        raise RunFailed(list(dict.fromkeys(causes)))


def _run_all(scenario: Scenario, backend_name: str, options: RunOptions,
             plan: list[tuple[int | None, Stratum | None]]
             ) -> tuple[list[RunResult], RunInterrupted | None]:
    backend = get_backend(backend_name)
    runs: list[RunResult] = []
    with progress_bar(total=len(plan), desc=f"run {scenario.name}") as bar:
        for s, stratum in plan:
            try:
                runs.append(backend.run(scenario, replace(options, seed=s, stratum=stratum)))
            except RunInterrupted as exc:  # Ctrl-C or SIGTERM: show and keep what was recorded
                runs.append(exc.result)
                return runs, exc
            bar.update()
    return runs, None


def _as_text(table: pd.DataFrame) -> str:
    """The metrics table with each value formatted for its metric (counts as integers)."""
    shown = table.copy()
    for column in ("value", "mean", "sd", "min", "max"):
        if column in shown:
            shown[column] = [format_value(m, v) for m, v in zip(shown.metric, shown[column],
                                                                strict=True)]
    return str(shown.to_string(index=False))


def _show(scenario: Scenario, result: RunResult, seeds: object, reps: int, out: str | None,
          as_json: bool) -> None:
    if out:
        # report.html and timeline.png (the first repetition's, with --reps), from the records
        # alone, so that `zsim report DIR` rebuilds the same page
        result.save(out, lambda tmp: write_run_files(result, tmp))
    if as_json:
        doc = {"scenario": scenario.name, "params": scenario.params, "seed": seeds,
               "metrics": result.metrics.to_dict(orient="records")}
        click.echo(json.dumps(doc))
        return
    table = result.metrics
    if reps > 1:
        table = (table.groupby(["node", "metric"], sort=False).value
                 .agg(["mean", "std", "min", "max"]).rename(columns={"std": "sd"})
                 .reset_index())
    if result.meta.get("backend") == "live":
        # a live run's clock is the wall clock: say so where the time is read
        table = table.assign(metric=table.metric.replace({"sim_time_s": "wall_time_s"}))
    click.echo(_as_text(table))
    if out:
        click.echo(f"wrote {out}")
