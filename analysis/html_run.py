"""A run directory's report.html and timeline.png (``zsim run --out``, then ``zsim report``):
what ran, its metrics, and its timeline, built from events.parquet, metrics.parquet and
meta.json alone, so that a rebuild gives the same page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from zsim.analysis import html_page as hp
from zsim.analysis.timeline import timeline_figure
from zsim.atomic import write_file
from zsim.records import RunResult, load_result

HOW_TO_READ = (
    "One run: each node's metrics as the run reported them.",
    "Repetitions (zsim run --reps): mean, sd, min and max of each metric over them; "
    "metrics.parquet keeps every repetition's value with its rep and seed.",
    "Times are seconds from the scenario's start: simulated time for the sim backend, "
    "wall-clock time for live runs.",
)


TIMELINE_CAPTION = (
    "Top to bottom: messages sent and received per node (cumulative, one step per message), "
    "messages in flight per pipe (sent and not yet received, counting only messages that were "
    "received), messages dropped per node (cumulative), and one lane per node with its "
    "connects, handshakes, disconnects, crashes, restarts and marks. Connects, handshakes and "
    "crashes are also vertical lines across the panels. With --reps, the first repetition.")


def _first_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The run's meta; of a --reps result, its first repetition's."""
    runs = meta.get("runs")
    return runs[0] if isinstance(runs, list) and runs and isinstance(runs[0], dict) else meta


def run_figures(result: RunResult) -> list[hp.Plot]:
    """The run's figures, the single place where they are made: its timeline
    (``zsim.analysis.timeline``), lanes in the scenario's node order (meta ``nodes``)."""
    order = _first_meta(result.meta).get("nodes")
    fig = timeline_figure(result.events, result.meta,
                          order=[str(n) for n in order] if isinstance(order, list) else None)
    return [hp.Plot("timeline", "Run timeline", TIMELINE_CAPTION, hp.png_bytes(fig))]


def metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per node and metric: the value, or mean/sd/min/max over repetitions."""
    if "rep" not in metrics.columns or metrics["rep"].nunique() <= 1:
        return metrics[["node", "metric", "value"]].reset_index(drop=True)
    return (metrics.groupby(["node", "metric"], sort=False).value
            .agg(["mean", "std", "min", "max", "count"])
            .rename(columns={"std": "sd", "count": "n"}).reset_index())


def _facts(meta: dict[str, Any]) -> list[tuple[str, str]]:
    first = _first_meta(meta)  # --reps: per-repetition metas
    seeds = meta.get("seeds", [meta.get("seed", "-")])
    return [
        ("scenario", str(first.get("scenario", "-"))),
        ("source", str(first.get("source", "-"))),
        ("backend", str(first.get("backend", "-"))),
        ("repetitions", str(meta.get("reps", 1))),
        ("seeds", ", ".join(str(s) for s in seeds)),
        ("profile", str(first.get("profile", "-"))),
        ("recorded", str(first.get("record", "-"))),
        ("complete", str(meta.get("complete", True)).lower()),
    ]


def _params(meta: dict[str, Any]) -> list[tuple[str, str]]:
    first = _first_meta(meta)
    params = first.get("params", {})
    return [(str(k), json.dumps(v, default=str) if isinstance(v, list | dict) else str(v))
            for k, v in params.items()]


def run_html(result: RunResult, figures: list[hp.Plot]) -> str:
    meta = result.meta
    params = _params(meta)
    body = ["<h2>Run</h2>", hp.kv_table(_facts(meta)), "<h2>Parameters</h2>",
            hp.kv_table(params, ("param", "value")) if params else "<p>(none)</p>",
            "<h2>How to read this report</h2>", hp.bullets(HOW_TO_READ),
            "<h2>Metrics</h2>", hp.data_table(metrics_table(result.metrics))]
    if figures:
        body += ["<h2>Plots</h2>", *[hp.figure(p) for p in figures]]
    body += ["<h2>Files</h2>", hp.bullets([
        "events.parquet: the event log", "metrics.parquet: every metric (with rep and seed "
        "columns for repetitions)", "meta.json: what ran, seeds, model, versions",
        "timeline.png: the timeline above", "report.html: this report"])]
    return hp.page(f"zsim run: {_first_meta(meta).get('scenario', '?')}", body)


def _write_png(path: Path, png: bytes) -> None:
    write_file(path, lambda tmp: tmp.write_bytes(png))


def write_run_files(result: RunResult, out: Path) -> Path:
    """Write ``out/timeline.png`` and ``out/report.html`` (each atomically) from ``result``;
    return the page's path."""
    figures = run_figures(result)
    for plot in figures:
        _write_png(out / f"{plot.name}.png", plot.png)
    return hp.write_html(out / "report.html", run_html(result, figures))


def write_run_report(out: Path) -> Path:
    """(Re)write ``out/report.html`` and ``out/timeline.png`` from the run's files."""
    return write_run_files(load_result(out), out)
