"""``zsim compare``: closed form, simulation and live runs of one scenario, side by side."""

from __future__ import annotations

import click

from zsim.analysis.backends import get_backend, runner
from zsim.analysis.compare import compare as run_compare
from zsim.analysis.compare import format_table
from zsim.analysis.report import write_report
from zsim.atomic import check_result_dir
from zsim.backend import RunOptions
from zsim.cli.common import load, profile_option, sets_option, timeout_option
from zsim.errors import RunFailed, RunInterrupted
from zsim.outcome import run_failures
from zsim.progress import progress_bar


@click.command()
@click.argument("file")
@sets_option
@click.option("--reps", type=click.IntRange(1), default=5, show_default=True,
              help="Simulation seeds and live repetitions (each backend runs this many).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Root seed; each repetition's seed is spawned from it (numpy SeedSequence).")
@click.option("--backend", "backends", type=click.Choice(["sim", "live"]), multiple=True,
              help="Backends to run (repeatable; default both).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write a report directory: report.html, report.md, parquet tables, PNG plots.")
@timeout_option
@profile_option
def compare(file: str, sets: tuple[str, ...], reps: int, seed: int, backends: tuple[str, ...],
            out: str | None, timeout: float, profile: str | None) -> None:
    """Closed form vs simulation vs live runs: one table with 95% CIs and verdicts.

    Columns: the closed-form prediction (if the scenario names one in [compare] model), the
    sim and live means ± 95% CI half-widths over --reps runs, the relative error of sim against
    live, the tolerance declared in [compare] tolerance, and pass/FAIL. Exits 1 when a row
    FAILs or a run did not do what the scenario expects (one line per cause).
    """
    scenario = load(file, sets, profile)
    if out:
        check_result_dir(out, "comparison report")  # refuse a bad --out before running
    chosen = backends or ("sim", "live")
    options = RunOptions(timeout=timeout)
    runners = {name: runner(get_backend(name), options) if name in chosen else None
               for name in ("sim", "live")}
    with progress_bar(total=reps * len(chosen), desc=f"compare {scenario.name}") as bar:
        result = run_compare(scenario, reps, seed, runners["sim"], runners["live"],
                             progress=lambda _b: bar.update())
    click.echo(format_table(result.table))
    if out:
        click.echo(f"wrote {write_report(result, out)}/report.html")
    if not result.meta["complete"]:
        raise RunInterrupted(None, result.meta["signum"])  # after writing what finished
    causes = [c for r in result.sim_runs + result.live_runs for c in run_failures(scenario, r)]
    failed = result.table[result.table.verdict == "FAIL"]
    causes += [f"{row.node}.{row.metric}: sim {row.sim_mean:.6g} vs live {row.live_mean:.6g} "
               f"({row.rel_error:+.1%}) is outside the tolerance {row.tolerance:g}"
               for row in failed.itertuples()]
    if causes:
        raise RunFailed(list(dict.fromkeys(causes)))
