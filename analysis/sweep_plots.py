"""Sweep plots: a metric against the first grid parameter, with 95% CI bands.

Data comes from ``zsim.analysis.sweep.summarize`` and ``closed_form_curve``; this module only
draws."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from zsim.analysis.sweep import PARAM_PREFIX

_COLORS = {"sim": "tab:blue", "live": "tab:orange"}


def metric_vs_param(summary: pd.DataFrame, closed: pd.DataFrame, params: list[str], node: str,
                    metric: str) -> Figure | None:
    rows = summary[(summary.node == node) & (summary.metric == metric)]
    if rows.empty:
        return None
    x, others = PARAM_PREFIX + params[0], [PARAM_PREFIX + p for p in params[1:]]
    fig = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    groups = rows.groupby(["backend", *others]) if others else rows.groupby(["backend"])
    styles = itertools.cycle(["-", "--", ":", "-."])
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        backend, rest = key[0], key[1:]
        g = g.sort_values(x)
        label = backend + "".join(f", {o[len(PARAM_PREFIX):]}={v}" for o, v in
                                  zip(others, rest, strict=True))
        color = _COLORS.get(str(backend))
        ax.plot(g[x], g["mean"], marker="o", linestyle=next(styles), color=color, label=label)
        ax.fill_between(g[x], g["mean"] - g["ci"].fillna(0), g["mean"] + g["ci"].fillna(0),
                        color=color, alpha=0.2)
    cf = closed[(closed.node == node) & (closed.metric == metric)] if not closed.empty else closed
    if not cf.empty:
        for key, g in (cf.groupby(others) if others else [((), cf)]):
            g = g.sort_values(x)
            ax.plot(g[x], g["value"], color="black", linewidth=1, label=f"closed form {key}"
                    if others else "closed form")
    ax.set_xlabel(params[0])
    ax.set_ylabel(f"{node} {metric}")
    ax.set_title(f"{node}.{metric} vs {params[0]} (mean ± 95% CI)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def write_plots(summary: pd.DataFrame, closed: pd.DataFrame, params: list[str],
                rows: list[tuple[str, str]], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for node, metric in rows:
        fig = metric_vs_param(summary, closed, params, node, metric)
        if fig is None:
            continue
        path = out / f"{node}.{metric}.png".replace("*", "all")
        fig.savefig(path, dpi=110, bbox_inches="tight")
        written.append(path)
    return written
