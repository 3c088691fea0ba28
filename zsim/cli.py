"""The ``zsim`` command: thin subcommands over library functions."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zsim.errors import RunInterrupted, ZsimError

if TYPE_CHECKING:
    from zsim.seeds import Stratum


def _one_line(text: str) -> str:
    """``text`` with line breaks and other unprintable characters escaped."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"zsim: error: {_one_line(message)}", err=True)
    sys.exit(code)


def _load(ref: str, sets: tuple[str, ...], profile: str | None = None) -> Any:
    from zsim.catalog import scenario_path
    from zsim.scenario import load_scenario, parse_overrides

    return load_scenario(scenario_path(ref), parse_overrides(sets), profile)


def profile_option(fn: Any) -> Any:
    return click.option(
        "--profile", default=None, metavar="PROFILE",
        help="Machine profile (a file from `zsim calibrate`, or a shipped name) whose fitted "
             "costs the model uses; default: the shipped 'default' profile. A scenario's "
             "[model] table still overrides it.")(fn)


SET_HELP = "Override a [params] value, e.g. --set workers=8 (repeatable; values are TOML)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zsim")
def cli() -> None:
    """zsim: simulate ZeroMQ topologies described in scenario files, and check them live.

    FILE is a scenario's path, or the name of a shipped scenario (see `zsim list`).
    """


@cli.command()
@click.argument("file")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
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
              help="Write events.parquet, metrics.parquet and meta.json to this directory "
                   "(with --reps: all repetitions, told apart by the rep and seed columns).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object {scenario, params, seed, metrics} instead of a table "
                   "(with --reps: seeds, and metrics rows that carry rep and seed).")
@click.option("--timeout", type=float, default=120.0, show_default=True,
              help="Live backend: wall-clock limit in seconds for each run.")
@profile_option
def run(file: str, sets: tuple[str, ...], seed: int | None, backend: str, reps: int,
        record: str | None, out: str | None, as_json: bool, timeout: float,
        profile: str | None) -> None:
    """Run a scenario and print its metrics table (node, metric, value).

    With --reps N it runs N times and prints node, metric, mean, sd, min, max.
    """
    scenario = _load(file, sets, profile)
    if backend == "sim":
        from zsim.sim import simulate

        def once(s: int | None, stratum: Stratum | None) -> Any:
            return simulate(scenario, seed=s, record=record, stratum=stratum)
    else:
        try:
            from zsim.live import run_live
        except ImportError:
            raise ZsimError("the live backend is not available in this build") from None

        def once(s: int | None, stratum: Stratum | None) -> Any:
            return run_live(scenario, seed=s, record=record, timeout=timeout)

    from zsim.analysis.compare import repetitions
    from zsim.progress import progress_bar
    from zsim.records import combine_reps

    # one run takes --seed as it is; repetitions spawn theirs from it, as compare and sweep do
    runs_of: list[tuple[int | None, Stratum | None]] = (
        [(seed, None)] if reps == 1 else list(repetitions(
            scenario.run.seed if seed is None else seed, reps)))
    runs = []
    stopped: RunInterrupted | None = None
    with progress_bar(total=reps, desc=f"run {scenario.name}") as bar:
        for s, stratum in runs_of:
            try:
                runs.append(once(s, stratum))
            except RunInterrupted as exc:  # Ctrl-C or SIGTERM: show and keep what was recorded
                runs.append(exc.result)
                stopped = exc
                break
            bar.update()
    result = runs[0] if reps == 1 else combine_reps(runs)
    seed_used = result.meta["seed"] if reps == 1 else [s for s, _ in runs_of[:len(runs)]]
    _show_run(scenario, result, seed_used, reps, out, as_json)
    if stopped is not None:
        raise stopped  # exits 130 (Ctrl-C) or 143 (SIGTERM), after the output


def _show_run(scenario: Any, result: Any, seed_used: Any, reps: int, out: str | None,
              as_json: bool) -> None:
    if out:
        result.save(out)
    if as_json:
        doc = {
            "scenario": scenario.name,
            "params": scenario.params,
            "seed": seed_used,
            "metrics": result.metrics.to_dict(orient="records"),
        }
        click.echo(json.dumps(doc))
    else:
        table = result.metrics
        if reps > 1:
            table = (table.groupby(["node", "metric"], sort=False).value
                     .agg(["mean", "std", "min", "max"]).rename(columns={"std": "sd"})
                     .reset_index())
        click.echo(table.to_string(index=False))
        if out:
            click.echo(f"wrote {out}")


@cli.command()
@click.argument("file")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
@click.option("--reps", type=click.IntRange(1), default=5, show_default=True,
              help="Simulation seeds and live repetitions (each backend runs this many).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Root seed; each repetition's seed is spawned from it (numpy SeedSequence).")
@click.option("--backend", "backends", type=click.Choice(["sim", "live"]), multiple=True,
              help="Backends to run (repeatable; default both).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write a report directory: report.html, report.md, parquet tables, PNG plots.")
@click.option("--timeout", type=float, default=120.0, show_default=True,
              help="Live backend: wall-clock limit in seconds for each run.")
@profile_option
def compare(file: str, sets: tuple[str, ...], reps: int, seed: int, backends: tuple[str, ...],
            out: str | None, timeout: float, profile: str | None) -> None:
    """Closed form vs simulation vs live runs: one table with 95% CIs and verdicts.

    Columns: the closed-form prediction (if the scenario names one in [compare] model), the
    sim and live means ± 95% CI half-widths over --reps runs, the relative error of sim against
    live, the tolerance declared in [compare] tolerance, and pass/FAIL.
    """
    from zsim.analysis.compare import compare as run_compare
    from zsim.analysis.compare import format_table
    from zsim.progress import progress_bar
    from zsim.sim import simulate

    scenario = _load(file, sets, profile)
    chosen = backends or ("sim", "live")
    sim = (lambda sc, s, stratum: simulate(sc, seed=s, stratum=stratum)) if "sim" in chosen \
        else None
    live = None
    if "live" in chosen:
        from zsim.live import run_live

        def live(sc: Any, s: int, _stratum: Stratum) -> Any:
            return run_live(sc, seed=s, timeout=timeout)

    with progress_bar(total=reps * len(chosen), desc=f"compare {scenario.name}") as bar:
        result = run_compare(scenario, reps, seed, sim, live, progress=lambda _b: bar.update())
    click.echo(format_table(result.table))
    if out:
        from zsim.analysis.report import write_report

        path = write_report(result, out)
        click.echo(f"wrote {path}/report.html")


@cli.command()
@click.argument("file")
@click.option("--grid", "grids", multiple=True, metavar="NAME=V1,V2,...",
              help="A parameter and its values (repeatable; the grid is their product). "
                   "Default: the scenario's [sweep] grid.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
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
@click.option("--out", type=click.Path(file_okay=False), required=True,
              help="Results directory. Rerunning the same command there resumes: finished "
                   "tasks are kept, not redone.")
@profile_option
def sweep(file: str, grids: tuple[str, ...], sets: tuple[str, ...], reps: int | None, seed: int,
          backend: str, jobs: int | None, scheduler: str | None, out: str,
          profile: str | None) -> None:
    """Run a parameter grid × replications and summarise each metric with 95% CIs.

    Writes OUT/tasks/ (one parquet per task), OUT/summary.parquet (mean, ci, n per backend,
    grid point, node and metric), OUT/closed_form.parquet, OUT/plots/*.png and OUT/meta.json.
    """
    from zsim.cli_sweep import run_sweep_command

    run_sweep_command(file, grids, sets, reps, seed, backend, jobs, scheduler, Path(out), profile)


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False), default=None, metavar="PROFILE",
              help="Profile file to write (default: ./profile-<hostname>.json); pass it to "
                   "--profile of run, compare, sweep and check-model.")
@click.option("--quick", is_flag=True,
              help="Fewer, shorter measurements: ~20-30 s instead of ~1.5-3 min; noisier fits.")
@click.option("--name", default=None, help="Profile name (default: calibrated-<hostname>).")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Wall-clock limit in seconds for each live run.")
def calibrate(out: str | None, quick: bool, name: str | None, timeout: float) -> None:
    """Measure this machine on loopback and write a fitted machine profile.

    Live micro-benchmarks per transport (tcp, ipc): send/recv cost by message size (with and
    without the event log), engine throughput, REQ/REP round trip, the slow-joiner window's
    distribution and how late paced sends run, buffer capacity by size and HWM, the cost of
    waking a sleeping reader, the interpreter lock, and the command throttle. Prints every
    parameter fitted against its default with its fit quality; the profile's "fit" section says
    how each was obtained, from what.
    """
    from zsim.cli_calibrate import run_calibrate_command

    run_calibrate_command(out, quick, name, timeout)


@cli.command("check-model")
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
    """
    from zsim.analysis.check_model import (
        MATRIX,
        Check,
        MatrixResult,
        judge,
        matrix_meta,
        phase_lines,
        run_count,
        run_matrix,
        summary_lines,
    )
    from zsim.analysis.check_report import table_text, write_check_report
    from zsim.progress import progress_bar
    from zsim.sim import simulate

    names = {c.name for c in MATRIX}
    unknown = sorted(set(only) - names)
    if unknown:
        raise ZsimError(f"--only: unknown check {unknown[0]!r} (one of {sorted(names)})")
    checks = [c.quick() if quick else c for c in MATRIX if not only or c.name in only]
    chosen: list[str | None] = [None, *profiles]
    live = None
    if not no_live:
        from zsim.live import run_live

        def live(sc: Any, s: int, _stratum: Stratum) -> Any:
            return run_live(sc, seed=s, timeout=120.0)

    import tempfile
    import time
    from collections.abc import Iterator
    from contextlib import contextmanager
    from datetime import UTC, datetime

    from zsim.analysis.host_tracking import HostTracking
    from zsim.profile import load_profile
    from zsim.steal import cpu_times, steal_share, steal_warning

    loaded = [load_profile(p) for p in profiles]
    tmp = tempfile.TemporaryDirectory(prefix="zsim-check-")
    tracking = HostTracking(loaded, Path(tmp.name), live is not None and track_host)
    total = run_count(checks, len(chosen) + len(tracking.profiles), live is not None)
    created = loaded[0].meta.get("created") if loaded else None
    phases: dict[str, dict[str, Any]] = {}

    @contextmanager
    def live_phase(check: Check) -> Iterator[None]:
        # when each check's live runs went, how long they took and what the host stole
        # meanwhile: a profile describes its host as it was when calibrated
        start, before, t0 = datetime.now(UTC), cpu_times(), time.monotonic()
        yield
        age = (start - datetime.fromisoformat(created)).total_seconds() if created else None
        phases[check.name] = {"started": start.isoformat(timespec="seconds"),
                              "profile_age_s": age, "wall_s": time.monotonic() - t0,
                              "host_steal": steal_share(before, cpu_times())}
        speed = tracking.phase(check.name)
        if speed:
            phases[check.name]["host_speed"] = speed

    times_before = cpu_times()
    with tmp, progress_bar(total, "check-model") as bar:
        # both backends at the scenario's own record level: recording costs the live
        # application time (app_record_s), so the sim must record what live records
        values = run_matrix(checks, chosen, lambda sc, s, stratum: simulate(
            sc, seed=s, stratum=stratum), live, seed, bar.update, live_phase,
            tracking.before_round, tracking.more_profiles)
        files = tracking.files()
    steal = steal_share(times_before, cpu_times())
    table = judge(values, checks)
    labels = [str(p or "default") for p in chosen]
    result = MatrixResult(values, table, labels,
                          {**matrix_meta(checks, labels, seed), "host_steal": steal,
                           "live_phases": phases,
                           "tracked_profiles": sorted(files)}, files=files)
    click.echo(table_text(table))
    for line in summary_lines(table) + phase_lines(phases):
        click.echo(line)
    if out:
        click.echo(f"wrote {write_check_report(result, out)}/report.html")
    warning = steal_warning("the check", steal) if live is not None else None
    if warning:
        click.echo(warning, err=True)


@cli.command()
@click.argument("file")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
def validate(file: str, sets: tuple[str, ...]) -> None:
    """Check a scenario file; print its nodes, or one line naming the bad field (exit 2)."""
    scenario = _load(file, sets)
    click.echo(f"{file}: ok: {len(scenario.nodes)} nodes ({', '.join(scenario.nodes)})")


@cli.command("list")
def list_() -> None:
    """Show the shipped scenarios with a one-line description each."""
    from zsim.catalog import shipped_scenarios
    from zsim.scenario.load import _leading_comment

    for path in shipped_scenarios():
        summary = _leading_comment(path.read_text()).split(". ")[0]
        click.echo(f"{path.stem:16} {summary}")


@cli.command()
def schema() -> None:
    """Print the scenario-format reference, generated from the validated model."""
    from zsim.docs import scenario_reference

    click.echo(scenario_reference())


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors print one line and exit 2, never a traceback."""
    try:
        cli.main(args=argv, prog_name="zsim", standalone_mode=False)
    except click.exceptions.Abort as exc:
        # a live run stopped by a signal: the run has cleaned up and shown what it recorded
        cause = exc.__cause__
        if isinstance(cause, RunInterrupted):
            _fail(f"live run stopped by {signal.Signals(cause.signum).name}; what it recorded "
                  "is marked incomplete", 128 + cause.signum)
        _fail("aborted", 130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ZsimError as exc:
        _fail(str(exc), exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
