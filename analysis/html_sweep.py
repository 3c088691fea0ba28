"""A sweep directory's report.html, built from what the sweep wrote: meta.json,
summary.parquet and closed_form.parquet (so ``zsim report`` can rebuild it at any time)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from zsim.analysis import html_page as hp
from zsim.analysis.deadlines import Deadline, parse_deadline
from zsim.analysis.sweep import PARAM_PREFIX
from zsim.analysis.sweep_plots import metric_figure

HOW_TO_READ = (
    "mean ± ci: the mean over the replications of a grid point and the half-width of its 95% "
    "confidence interval (Student's t); n: how many replications.",
    "p5, p50, p95: the 5th, 50th (median) and 95th percentiles of the replications "
    "(linear interpolation between order statistics); with fewer than 20 replications p5 and "
    "p95 lie close to the smallest and largest value.",
    "P(metric<=x): the fraction of replications that met the deadline given with --deadline; "
    "lo and hi bound its Wilson score 95% interval, which stays honest at 0 and 1.",
    "Plots: one per metric. A 1-D grid draws the mean (points, with its CI as a band), the "
    "median dashed, p5 and p95 dotted and the closed form in black; a 2-D grid draws one heat "
    "map per backend. Deadlines get a panel of their own below.",
)


def _grid_text(grid: dict[str, Any]) -> str:
    return "; ".join(f"{k} = {', '.join(str(v) for v in vs)}" for k, vs in grid.items())


def shown_rows(meta: dict[str, Any], summary: pd.DataFrame) -> list[tuple[str, str]]:
    """The (node, metric) rows the sweep chose to show; every non-* row of older sweeps."""
    if "shown" in meta:
        return [(str(n), str(m)) for n, m in meta["shown"]]
    return sorted({(str(n), str(m)) for n, m in zip(summary.node, summary.metric, strict=True)
                   if n != "*"})


def summary_table(summary: pd.DataFrame, rows: list[tuple[str, str]]) -> pd.DataFrame:
    """The shown rows, grid parameters without their prefix, deadline columns that apply."""
    wanted = set(rows)
    mask = [(n, m) in wanted for n, m in zip(summary.node, summary.metric, strict=True)]
    shown = summary[mask]
    unused = [c for c in shown.columns if c.startswith("P(") and shown[c].isna().all()]
    shown = shown.drop(columns=unused).rename(
        columns=lambda c: c[len(PARAM_PREFIX):] if c.startswith(PARAM_PREFIX) else c)
    return shown.reset_index(drop=True)


def _facts(meta: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("scenario", str(meta.get("scenario", "-"))),
        ("source", str(meta.get("source", "-"))),
        ("grid", _grid_text(meta.get("grid", {}))),
        ("replications per point", str(meta.get("reps", "-"))),
        ("root seed", str(meta.get("root_seed", "-"))),
        ("backends", ", ".join(meta.get("backends", [])) or "-"),
        ("profile", str(meta.get("profile", "-"))),
        ("deadlines", ", ".join(meta.get("deadlines", [])) or "none"),
        ("complete", str(meta.get("complete", "-")).lower()),
    ]


def sweep_html(meta: dict[str, Any], summary: pd.DataFrame, closed: pd.DataFrame) -> str:
    params = [str(p) for p in meta.get("grid", {})]
    deadlines: list[Deadline] = [parse_deadline(t) for t in meta.get("deadlines", [])]
    rows = shown_rows(meta, summary)
    body = ["<h2>Sweep</h2>", hp.kv_table(_facts(meta))]
    body += ["<h2>How to read this report</h2>", hp.bullets(HOW_TO_READ)]
    body.append("<h2>Plots</h2>")
    drawn = 0
    for node, metric in rows:
        fig = metric_figure(summary, closed, params, node, metric, deadlines)
        if fig is None:
            continue
        drawn += 1
        kind = "heat map" if len(params) == 2 else "line plot"
        body.append(hp.figure(hp.Plot(f"{node}.{metric}", f"{node}.{metric}", (
            f"{kind} over the grid; {meta.get('reps', '?')} replications per point"),
            hp.png_bytes(fig))))
    if not drawn:
        body.append("<p>(no metric to draw)</p>")
    body += ["<h2>Summary</h2>", "<p>The shown metrics; summary.parquet holds every node and "
             "metric.</p>", hp.data_table(summary_table(summary, rows))]
    body += ["<h2>Files</h2>", hp.bullets([
        "summary.parquet: mean, ci, n, p5, p50, p95 and deadline columns per backend, grid "
        "point, node and metric",
        "closed_form.parquet: the closed form at every grid point (empty without a model)",
        "tasks/: one parquet per task (backend, grid point, replication)",
        "plots/*.png: the plots above", "meta.json: what ran, seeds, versions"])]
    return hp.page(f"zsim sweep: {meta.get('scenario', '?')}", body)


def write_sweep_report(out: Path) -> Path:
    """(Re)write ``out/report.html`` atomically from the sweep's files."""
    meta = json.loads((out / "meta.json").read_text())
    summary = pd.read_parquet(out / "summary.parquet")
    closed_path = out / "closed_form.parquet"
    closed = pd.read_parquet(closed_path) if closed_path.exists() else pd.DataFrame()
    return hp.write_html(out / "report.html", sweep_html(meta, summary, closed))
