"""Sweep plots: per metric, a line plot against the first grid parameter (mean with its 95% CI
band, the median dashed, p5 and p95 dotted, the closed form in black), or for a 2-D grid a heat
map per backend; below either, P(metric ≤ x) per grid point for each ``--deadline`` that
applies, with its Wilson 95% interval.

Data comes from ``zsim.analysis.sweep.summarize`` and ``closed_form_curve``; this module only
draws."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from zsim.analysis.deadlines import Deadline
from zsim.analysis.plots import (
    BACKEND_COLOURS,
    CLOSED_FORM_COLOUR,
    integer_ticks,
    is_count,
    metric_label,
    metric_unit,
    new_figure,
    save_png,
)
from zsim.analysis.sweep import PARAM_PREFIX

_MARKERS = ("o", "s", "^", "v", "D")
_MAX_ANNOTATED = 64  # heat-map cells annotated with their numbers, at most


def _positions(values: Sequence[Any]) -> tuple[dict[Any, float], list[Any] | None]:
    """x position of each grid value: itself when all are numbers, else its rank (with the
    values as tick labels)."""
    uniq = list(dict.fromkeys(values))
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in uniq):
        return {v: float(v) for v in uniq}, None
    return {v: float(k) for k, v in enumerate(uniq)}, uniq


def _applicable(deadlines: Sequence[Deadline], node: str, metric: str) -> list[Deadline]:
    return [d for d in deadlines if d.applies(node, metric)]


def metric_figure(summary: pd.DataFrame, closed: pd.DataFrame, params: list[str], node: str,
                  metric: str, deadlines: Sequence[Deadline] = ()) -> Figure | None:
    """The figure of one (node, metric): a heat map for a 2-D grid, else a line plot."""
    rows = summary[(summary.node == node) & (summary.metric == metric)]
    if rows.empty:
        return None
    applying = _applicable(deadlines, node, metric)
    if len(params) == 2:
        return _heat_maps(rows, closed, params, node, metric, applying)
    return _lines(rows, closed, params, node, metric, applying)


# --- line plot --------------------------------------------------------------------------------


def _lines(rows: pd.DataFrame, closed: pd.DataFrame, params: list[str], node: str, metric: str,
           deadlines: list[Deadline]) -> Figure:
    x, others = PARAM_PREFIX + params[0], [PARAM_PREFIX + p for p in params[1:]]
    pos, ticks = _positions(rows[x].tolist())
    fig = new_figure(7.5, 4.6 + 2.2 * bool(deadlines))
    axes = fig.subplots(1 + bool(deadlines), 1, squeeze=False, sharex=True,
                        height_ratios=[2, 1] if deadlines else [1])[:, 0]
    ax = axes[0]
    groups = list(rows.groupby(["backend", *others], sort=True))
    handles: list[Line2D] = []
    for k, (key, g) in enumerate(groups):
        backend, rest = key[0], key[1:]
        g = g.sort_values(x, key=lambda s: s.map(pos))
        xs = g[x].map(pos).to_numpy(dtype=float)
        colour = (f"C{k % 10}" if others else BACKEND_COLOURS.get(str(backend), f"C{k % 10}"))
        label = str(backend) + "".join(f", {o[len(PARAM_PREFIX):]}={v}"
                                       for o, v in zip(others, rest, strict=True))
        ci = g["ci"].fillna(0).to_numpy(dtype=float)
        mean = g["mean"].to_numpy(dtype=float)
        ax.plot(xs, mean, marker="o", color=colour, linewidth=1.6)
        ax.fill_between(xs, mean - ci, mean + ci, color=colour, alpha=0.25, linewidth=0)
        ax.plot(xs, g["p50"], color=colour, linestyle="--", linewidth=1)
        for q in ("p5", "p95"):
            ax.plot(xs, g[q], color=colour, linestyle=":", linewidth=1)
        handles.append(Line2D([], [], color=colour, marker="o", label=label))
        for i, d in enumerate(deadlines):  # several deadlines share the lower panel
            _probability_line(axes[1], xs, g, d, colour, _MARKERS[i % len(_MARKERS)])
    handles += _closed_lines(ax, closed, node, metric, x, others, pos)
    handles += [Line2D([], [], color="0.4", linewidth=6, alpha=0.3, label="95% CI of the mean"),
                Line2D([], [], color="0.4", linestyle="--", label="median (p50)"),
                Line2D([], [], color="0.4", linestyle=":", label="p5 and p95")]
    ax.set_ylabel(metric_label(metric, node))
    if is_count(metric):
        integer_ticks(ax)
    ax.grid(alpha=0.3)
    ax.set_title(f"{node}.{metric} vs {params[0]} over the replications", fontsize=11)
    if deadlines:
        p_ax = axes[1]
        p_ax.set_ylim(-0.03, 1.03)
        p_ax.set_ylabel("fraction of runs" if len(deadlines) > 1 else deadlines[0].column)
        p_ax.grid(alpha=0.3)
        if len(deadlines) > 1:
            handles += [Line2D([], [], color="0.4", marker=m, linestyle="none", label=d.column)
                        for m, d in zip(itertools.cycle(_MARKERS), deadlines)]
    axes[-1].set_xlabel(params[0])
    if ticks is not None:
        axes[-1].set_xticks(range(len(ticks)), [str(t) for t in ticks])
    elif all(float(v).is_integer() for v in pos.values()):
        integer_ticks(axes[-1], "x")
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    return fig


def _probability_line(ax: Axes, xs: np.ndarray, g: pd.DataFrame, d: Deadline, colour: str,
                      marker: str) -> None:
    p = g[d.column].to_numpy(dtype=float)
    lo, hi = g[f"{d.column} lo"].to_numpy(dtype=float), g[f"{d.column} hi"].to_numpy(dtype=float)
    ax.errorbar(xs, p, yerr=[np.nan_to_num(np.clip(p - lo, 0, None)),
                                    np.nan_to_num(np.clip(hi - p, 0, None))], marker=marker,
                capsize=4, color=colour, linewidth=1.2)


def _closed_lines(ax: Axes, closed: pd.DataFrame, node: str, metric: str, x: str,
                  others: list[str], pos: dict[Any, float]) -> list[Line2D]:
    if closed.empty:
        return []
    cf = closed[(closed.node == node) & (closed.metric == metric)]
    if cf.empty:
        return []
    for _key, g in (cf.groupby(others) if others else [((), cf)]):
        g = g.sort_values(x, key=lambda s: s.map(pos))
        ax.plot(g[x].map(pos), g["value"], color=CLOSED_FORM_COLOUR, linewidth=1)
    return [Line2D([], [], color=CLOSED_FORM_COLOUR, linewidth=1, label="closed form")]


# --- heat maps (2-D grids) --------------------------------------------------------------------


def _grid(rows: pd.DataFrame, xcol: str, ycol: str, col: str) -> tuple[np.ndarray, list[Any],
                                                                    list[Any]]:
    xs, ys = list(dict.fromkeys(sorted(rows[xcol]))), list(dict.fromkeys(sorted(rows[ycol])))
    table = rows.pivot_table(index=ycol, columns=xcol, values=col, aggfunc="first",
                             dropna=False).reindex(index=ys, columns=xs)
    return table.to_numpy(dtype=float), xs, ys


def _heat_maps(rows: pd.DataFrame, closed: pd.DataFrame, params: list[str], node: str,
               metric: str, deadlines: list[Deadline]) -> Figure:
    xcol, ycol = PARAM_PREFIX + params[0], PARAM_PREFIX + params[1]
    backends = list(dict.fromkeys(rows.backend))
    nx, ny = rows[xcol].nunique(), rows[ycol].nunique()
    width = max(4.5, 0.9 * nx + 2.5)
    fig = new_figure(width * len(backends), (0.55 * ny + 1.6) * (1 + len(deadlines)) + 0.8)
    axes = fig.subplots(1 + len(deadlines), len(backends), squeeze=False)
    annotate = nx * ny <= _MAX_ANNOTATED
    for j, backend in enumerate(backends):
        g = rows[rows.backend == backend]
        mean, xs, ys = _grid(g, xcol, ycol, "mean")
        ci, p5, p95 = (_grid(g, xcol, ycol, c)[0] for c in ("ci", "p5", "p95"))
        ax = axes[0, j]
        image = ax.imshow(mean, cmap="viridis", aspect="auto", origin="lower")
        bar = fig.colorbar(image, ax=ax)
        bar.set_label(f"mean ({metric_unit(metric)})" if metric_unit(metric) else "mean")
        if annotate:
            _annotate(ax, mean, [[f"{m:.3g} ±{_fmt_ci(c)}\np5–p95 {a:.3g}–{b:.3g}"
                                  for m, c, a, b in zip(mr, cr, ar, br, strict=True)]
                                 for mr, cr, ar, br in zip(mean, ci, p5, p95, strict=True)],
                      image)
        _heat_axes(ax, xs, ys, params, f"{backend}: {node}.{metric}, mean ± 95% CI; p5–p95")
        for r, d in enumerate(deadlines, start=1):
            p, lo, hi = (_grid(g, xcol, ycol, c)[0]
                         for c in (d.column, f"{d.column} lo", f"{d.column} hi"))
            ax = axes[r, j]
            image = ax.imshow(p, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto", origin="lower")
            fig.colorbar(image, ax=ax).set_label(d.column)
            if annotate:
                _annotate(ax, p, [[f"{a:.2f}\n[{b:.2f}, {c:.2f}]"
                                   for a, b, c in zip(pr, lr, hr, strict=True)]
                                  for pr, lr, hr in zip(p, lo, hi, strict=True)], image)
            _heat_axes(ax, xs, ys, params, f"{backend}: {d.column} (Wilson 95% interval)")
    fig.suptitle(f"{node}.{metric} over {params[0]} × {params[1]}", fontsize=11)
    return fig


def _fmt_ci(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2g}"


def _annotate(ax: Axes, values: np.ndarray, labels: list[list[str]], image: Any) -> None:
    for i in range(values.shape[0]):
        for k in range(values.shape[1]):
            if math.isnan(values[i, k]):
                continue
            r, g, b, _ = image.cmap(image.norm(values[i, k]))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(k, i, labels[i][k], ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")


def _heat_axes(ax: Axes, xs: list[Any], ys: list[Any], params: list[str], title: str) -> None:
    ax.set_xticks(range(len(xs)), [str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [str(v) for v in ys])
    ax.set_xlabel(params[0])
    ax.set_ylabel(params[1])
    ax.set_title(title, fontsize=9)


# --- files ------------------------------------------------------------------------------------


def plot_name(node: str, metric: str) -> str:
    return f"{node}.{metric}.png".replace("*", "all")


def write_plots(summary: pd.DataFrame, closed: pd.DataFrame, params: list[str],
                rows: list[tuple[str, str]], out: Path,
                deadlines: Sequence[Deadline] = ()) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for node, metric in rows:
        fig = metric_figure(summary, closed, params, node, metric, deadlines)
        if fig is None:
            continue
        written.append(save_png(fig, out / plot_name(node, metric), dpi=100))
    return written
