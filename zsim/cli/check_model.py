"""``zsim check-model``: validate the model against live runs, one verdict per row."""

from __future__ import annotations

import click

from zsim.analysis.check_model import phase_lines, summary_lines
from zsim.analysis.check_report import table_text, write_check_report
from zsim.analysis.check_run import CheckRequest, failed_rows, run_check
from zsim.errors import RunFailed
from zsim.progress import progress_bar


@click.command("check-model")
@click.option("--profile", "profiles", multiple=True, metavar="PROFILE",
              help="Profile(s) to check besides the shipped default, e.g. one written by "
                   "`zsim calibrate` (repeatable).")
@click.option("--only", "only", multiple=True, metavar="CHECK",
              help="Run only these checks: pipeline, slow_joiner, slow_subscriber, reqrep, "
                   "throughput (repeatable).")
@click.option("--quick", is_flag=True,
              help="One grid point per parameter and 2 repetitions (a first look, not a verdict).")
@click.option("--no-live", is_flag=True, help="Skip the live runs (sim only: no verdicts).")
@click.option("--track-host/--no-track-host", default=True, show_default=True,
              help="Probe the host's speed before each round of live runs and also simulate "
                   "each check under every calibrated profile scaled to it (PROFILE+host).")
@click.option("--seed", type=int, default=0, show_default=True, help="Root seed.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write report.html, report.md, parquet tables and plots here.")
def check_model(profiles: tuple[str, ...], only: tuple[str, ...], quick: bool, no_live: bool,
                track_host: bool, seed: int, out: str | None) -> None:
    """Validate the model: the scenario matrix on both backends, pass/FAIL per tolerance.

    Checks (tolerance on sim vs live), in the order they run: REQ/REP round trip (8-24 live
    reps, 32 sim reps) and PUSH->PULL throughput (100 B; 8-24 live reps, 16 sim reps): 20%;
    slow_subscriber inproc/ipc/tcp, HWM 10/100/1000, 10 B and 1 kB, 8-24 live reps and 40 sim
    reps: received 15%; slow_joiner tcp/ipc at 1k/10k/50k msg/s, 20-60 live reps and 20 sim
    reps: median loss 30%;
    pipeline tcp/ipc, workers 1-8, 3 reps: tasks per worker identical, makespan 5%.

    Where a range is given, a point gets more live runs until the 95% CI of its live mean (or
    median) is within half the tolerance (a noisy point up to the most; one where every run
    agrees, the least). The sim's repetitions are stratified (zsim.seeds.Stratum). Each
    profile's sim runs are judged against the same live runs, so the gain from calibration
    shows. The live repetitions go round the grid (repetition k of every point before k+1 of
    any), so that the host's drift over the check spreads over all points. The report's live_n
    column says how many live runs each row has.

    A profile describes the host as it was when calibrated, and a host drifts (a round trip
    by -17% to +42% within 20 minutes here), so every check's live runs go first, nearest the
    calibration (the round trip and throughput, which follow the host most directly, first),
    and all simulations after them. The summary says when each check's live runs began, how
    long they took and the host's steal meanwhile (meta.json: live_phases).

    The host's speed moves too (the live publisher's CPU per send: 0.88-1.05 of the model's
    in five checks on an earlier host), and the rows of small HWMs follow it. With --track-host (the
    default), before each round of live runs one slow-subscriber burst repeats the
    calibration's own probe of the cost of a send; each check is then simulated also under
    each calibrated profile with its CPU costs scaled by the median of that check's probes
    over the calibration's (column PROFILE+host; the profiles are written to the report's
    profiles/ folder). The probes are runs of their own: nothing the check judges feeds the
    model.

    Exits 1 when a row FAILs (one line per row and profile on stderr).
    """
    request = CheckRequest(profiles, only, quick, not no_live, track_host, seed)
    with progress_bar(0, "check-model") as bar:
        result, warning = run_check(request, lambda n: setattr(bar, "total", n), bar.update)
    click.echo(table_text(result.table))
    for line in summary_lines(result.table) + phase_lines(result.meta["live_phases"]):
        click.echo(line)
    if out:
        click.echo(f"wrote {write_check_report(result, out)}/report.html")
    if warning:
        click.echo(warning, err=True)
    failures = failed_rows(result)
    if failures:
        raise RunFailed(failures)
