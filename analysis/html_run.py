"""A run directory's report.html (``zsim run --out``, then ``zsim report``): what ran, its
metrics, and its figures, built from events.parquet, metrics.parquet and meta.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from zsim.analysis import html_page as hp
from zsim.records import RunResult, load_result

HOW_TO_READ = (
    "One run: each node's metrics as the run reported them.",
    "Repetitions (zsim run --reps): mean, sd, min and max of each metric over them; "
    "metrics.parquet keeps every repetition's value with its rep and seed.",
    "Times are seconds from the scenario's start: simulated time for the sim backend, "
    "wall-clock time for live runs.",
)


def run_figures(result: RunResult) -> list[hp.Plot]:
    """The run's figures. The single place where they are made: the message timeline of
    ``zsim.analysis.timeline`` will be added here (none yet)."""
    return []


def metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per node and metric: the value, or mean/sd/min/max over repetitions."""
    if "rep" not in metrics.columns or metrics["rep"].nunique() <= 1:
        return metrics[["node", "metric", "value"]].reset_index(drop=True)
    return (metrics.groupby(["node", "metric"], sort=False).value
            .agg(["mean", "std", "min", "max", "count"])
            .rename(columns={"std": "sd", "count": "n"}).reset_index())


def _facts(meta: dict[str, Any]) -> list[tuple[str, str]]:
    first = meta["runs"][0] if meta.get("runs") else meta  # --reps: per-repetition metas
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
    first = meta["runs"][0] if meta.get("runs") else meta
    params = first.get("params", {})
    return [(str(k), json.dumps(v, default=str) if isinstance(v, list | dict) else str(v))
            for k, v in params.items()]


def run_html(result: RunResult) -> str:
    meta = result.meta
    params = _params(meta)
    body = ["<h2>Run</h2>", hp.kv_table(_facts(meta)), "<h2>Parameters</h2>",
            hp.kv_table(params, ("param", "value")) if params else "<p>(none)</p>",
            "<h2>How to read this report</h2>", hp.bullets(HOW_TO_READ),
            "<h2>Metrics</h2>", hp.data_table(metrics_table(result.metrics))]
    figures = run_figures(result)
    if figures:
        body += ["<h2>Plots</h2>", *[hp.figure(p) for p in figures]]
    body += ["<h2>Files</h2>", hp.bullets([
        "events.parquet: the event log", "metrics.parquet: every metric (with rep and seed "
        "columns for repetitions)", "meta.json: what ran, seeds, model, versions"])]
    first = meta["runs"][0] if meta.get("runs") else meta
    return hp.page(f"zsim run: {first.get('scenario', '?')}", body)


def write_run_report(out: Path) -> Path:
    """(Re)write ``out/report.html`` atomically from the run's files."""
    return hp.write_html(out / "report.html", run_html(load_result(out)))
