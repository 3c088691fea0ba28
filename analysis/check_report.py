"""The validation matrix's report: tables, loss distributions, errors by profile.

Analysis computed the frames (``check_model``); this module draws and writes them, atomically,
as report.md, a self-contained report.html, parquet tables and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from zsim.analysis.check_model import MatrixResult, phase_lines, summary_lines
from zsim.analysis.html_check import check_html
from zsim.analysis.html_page import Plot
from zsim.analysis.plots import new_figure, save_png
from zsim.atomic import write_dir
from zsim.records import SCHEMA_VERSION, package_versions


def loss_distributions(values: pd.DataFrame) -> Figure | None:
    """ECDFs of slow-joiner loss per grid point: each sim profile against live."""
    rows = values[(values.check == "slow_joiner") & (values.metric == "lost")]
    if rows.empty:
        return None
    points = list(dict.fromkeys(rows.point))
    fig = new_figure(4.0 * min(3, len(points)), 3.2 * ((len(points) + 2) // 3))
    for k, point in enumerate(points):
        ax = fig.add_subplot((len(points) + 2) // 3, min(3, len(points)), k + 1)
        for backend, g in rows[rows.point == point].groupby("backend"):
            x = np.sort(g.value.to_numpy(dtype=float))
            ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", label=str(backend))
        ax.set_title(point, fontsize=8)
        ax.set_xlabel("messages lost")
        ax.grid(alpha=0.3)
        if k == 0:
            ax.set_ylabel("fraction of runs ≤ x")
    # below the panels: an ECDF reaches every corner of its axes, so no legend inside is safe
    handles, labels = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=7,
               frameon=False)
    return fig


def errors_by_profile(table: pd.DataFrame) -> Figure | None:
    """|relative error| of each row under each profile, with the row's tolerance."""
    cols = [c for c in table.columns if c.startswith("error[")]
    if table.empty or not cols:
        return None
    fig = new_figure(10, 0.22 * len(table) + 1.5)
    ax = fig.add_subplot()
    y = np.arange(len(table))
    for k, col in enumerate(cols):
        err = table[col].abs().clip(upper=10.0).fillna(0)
        ax.scatter(err, y + 0.15 * k, s=14, label=col[6:-1])
    ax.scatter(table.tolerance, y, marker="|", color="black", s=80, label="tolerance")
    ax.set_yticks(y, [f"{r.check}: {r.point}: {r.node}.{r.metric}" for r in table.itertuples()],
                  fontsize=6)
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlim(left=0)  # absolute errors: nothing below 0
    ax.set_xlabel("|sim − live| / |live| (clipped at 10)")
    ax.invert_yaxis()
    ax.grid(alpha=0.3)
    # beside the axes: the rows fill the panel from top to bottom
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return fig


def table_text(table: pd.DataFrame) -> str:
    shown = table.copy()
    for col in shown.columns:
        if col.startswith("error["):
            shown[col] = [("-" if pd.isna(v) else f"{100 * v:+.1f}%") for v in shown[col]]
        elif col == "tolerance":
            shown[col] = [f"{100 * v:.0f}%" for v in shown[col]]
        elif col == "live_ci":
            shown[col] = [("-" if pd.isna(v) else f"±{100 * v:.0f}%") for v in shown[col]]
        elif shown[col].dtype.kind == "f":
            shown[col] = [f"{v:.6g}" for v in shown[col]]
    return str(shown.to_string(index=False))


def write_check_report(result: MatrixResult, out_dir: str | Path) -> Path:
    return write_dir(out_dir, lambda tmp: _write(result, tmp), "check-model report")


def _write(result: MatrixResult, out: Path) -> None:
    (out / "plots").mkdir()
    result.values.to_parquet(out / "values.parquet", index=False)
    result.table.to_parquet(out / "table.parquet", index=False)
    for name, text in result.files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    plots: list[tuple[str, Path]] = []
    for name, title, fig in (
        ("loss", "Slow-joiner loss distributions (sim vs live)",
         loss_distributions(result.values)),
        ("errors", "Relative error by profile, with tolerances", errors_by_profile(result.table)),
    ):
        if fig is not None:
            plots.append((title, save_png(fig, out / "plots" / f"{name}.png", dpi=90)))
    text = table_text(result.table)
    summary = summary_lines(result.table) + phase_lines(result.meta.get("live_phases", {}))
    md = ["# zsim check-model", "", "Simulation against live runs of the canonical scenarios; "
          "each row passes when |sim − live| / |live| is within its tolerance (statistic: mean, "
          "median, or exact per-seed equality).", "", *[f"- {s}" for s in summary], "",
          "```", text, "```", ""]
    md += [f"## {t}\n\n![{t}](plots/{p.name})\n" for t, p in plots]
    (out / "report.md").write_text("\n".join(md))
    (out / "report.html").write_text(check_html(
        summary, text, [Plot(p.stem, t, "", p.read_bytes()) for t, p in plots]))
    meta: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "kind": "check-model report",
                            **result.meta,
                            "profiles": result.profiles, "versions": package_versions()}
    (out / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
