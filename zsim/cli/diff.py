"""``zsim diff``: align the event logs of two ``zsim run --out`` directories (a sim run and a
live run of one scenario, or two runs of one backend) and print where they first differ."""

from __future__ import annotations

import sys
from typing import Any

import click

from zsim.analysis.trace_diff import diff_events, format_diff, run_labels
from zsim.errors import ZsimError
from zsim.records import RunResult, load_result


def _load(path: str) -> RunResult:
    result = load_result(path)
    kind = result.meta.get("kind")
    if kind != "run":
        raise ZsimError(f"{path}: meta.json: kind {kind!r}: not a zsim run directory "
                        "(write one with zsim run --out)")
    return result


def _meta(result: RunResult) -> dict[str, Any]:
    """The run's meta; of a --reps directory, its first repetition's."""
    runs = result.meta.get("runs")
    if isinstance(runs, list) and runs and isinstance(runs[0], dict):
        return runs[0]
    return result.meta


@click.command()
@click.argument("sim_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("live_dir", type=click.Path(exists=True, file_okay=False))
def diff(sim_dir: str, live_dir: str) -> None:
    """Align two runs' event logs and print the first divergence and a counts table.

    SIM_DIR and LIVE_DIR are `zsim run --out` directories of the same scenario (usually a sim
    and a live run; two runs of one backend work too). Messages are aligned per sending socket
    by send order (what became of the k-th message: which socket received it, or whether it
    was dropped) and per receiving socket by arrival order. With --reps directories, the first
    repetitions are compared. Exits 0 when the logs agree, 1 when they diverge, 2 on bad input.
    """
    a, b = _load(sim_dir), _load(live_dir)
    ma, mb = _meta(a), _meta(b)
    if ma.get("scenario") != mb.get("scenario"):
        raise ZsimError(f"{live_dir}: meta.json: scenario {mb.get('scenario')!r} is not "
                        f"{ma.get('scenario')!r} (the scenario of {sim_dir})")
    levels = {str(ma.get("record")), str(mb.get("record"))}
    record = "messages" if levels == {"messages"} else "lifecycle"
    result = diff_events(a.events, b.events, run_labels(ma, mb), record)
    if ma.get("params") != mb.get("params"):
        result.notes.append(f"params differ: {ma.get('params')} vs {mb.get('params')}")
    if len(levels) > 1:
        result.notes.append("the runs were recorded at different levels: compared at "
                            "'lifecycle'")
    click.echo(format_diff(result))
    sys.exit(1 if result.diverged else 0)
