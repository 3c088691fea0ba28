"""Matplotlib figures of the frames in ``zsim.analysis.frames``: drawing only, no analysis.

Each function takes frames and returns a ``Figure`` rendered by the Agg canvas, or ``None`` when
there is nothing to draw. Figures are built without pyplot, so nothing is ever shown and no
global figure registry holds on to them; ``save_png`` writes one and releases its contents.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

BACKEND_COLOURS = {"sim": "tab:blue", "live": "tab:orange"}
CLOSED_FORM_COLOUR = "black"
_OTHER_COLOUR = "tab:gray"
_MAX_LEGEND = 12


def _colour(backend: str) -> str:
    return BACKEND_COLOURS.get(backend, _OTHER_COLOUR)


def new_figure(width: float, height: float) -> Figure:
    """A figure on an Agg canvas, with constrained layout."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str | Path, dpi: int = 100, close: bool = True) -> Path:
    """Write ``fig`` as a PNG; with ``close``, clear it afterwards to free its artists."""
    out = Path(path)
    fig.savefig(out, format="png", dpi=dpi)
    if close:
        fig.clear()
    return out


def _nonempty(frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: f for k, f in frames.items() if not f.empty}


def _ci(value: float) -> float:
    return 0.0 if math.isnan(value) else value


def format_seconds(seconds: float) -> str:
    """A duration with a readable unit: 25 µs, 3.2 ms, 1.5 s."""
    if math.isnan(seconds):
        return "-"
    a = abs(seconds)
    if a == 0 or a >= 1:
        return f"{seconds:.3g} s"
    if a >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


# --- units and axes ---------------------------------------------------------------------------

# the standard metrics that count something (docs/scenarios.md, "Standard metrics")
_COUNTS = {"sent": "messages", "received": "messages", "dropped": "messages",
           "destroyed": "messages", "lost": "messages", "queued": "messages",
           "tasks": "tasks", "preempted": "times", "stuck": "0/1"}


def metric_unit(metric: str) -> str:
    """The unit of a metric, from its name: ``*_s`` seconds, ``*_per_s`` per second, the
    standard counts (messages, tasks, times); '' when the name does not say."""
    if metric.endswith("_per_s"):
        return "1/s"
    if metric.endswith("_s"):
        return "s"
    return _COUNTS.get(metric, "")


def is_count(metric: str) -> bool:
    """Whether the metric counts whole things (its axis gets integer ticks)."""
    return metric in _COUNTS


def format_value(metric: str, value: float) -> str:
    """A metric's value as text: a whole count as an integer ("5", not "5.000000"), a mean
    count or any other figure to six significant digits, NaN (not observed) as "-"."""
    if math.isnan(value):
        return "-"
    if is_count(metric) and float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"


def metric_label(metric: str, prefix: str = "") -> str:
    """An axis label: ``"sink makespan_s (s)"``; no parentheses without a unit."""
    unit = metric_unit(metric)
    text = f"{prefix} {metric}".strip()
    return f"{text} ({unit})" if unit else text


def integer_ticks(ax: Axes, axis: str = "y") -> None:
    """Ticks at whole numbers only (for counts)."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(integer=True))


def time_label(backend: str) -> str:
    """The time axis of a run: live runs are measured in wall-clock time, sim runs in
    simulated time, both from the scenario's start."""
    if backend == "live":
        return "wall-clock time since start (s)"
    if backend == "sim":
        return "simulated time since start (s)"
    return "time since start (s)"


# --- sim vs live per metric -------------------------------------------------------------------


def metric_ci_figure(frame: pd.DataFrame) -> Figure | None:
    """One panel per table row (its own scale): the closed form (black diamond and dotted line)
    and each backend's mean with its 95% CI as error bars. ``frame``: ``frames.metric_ci``."""
    if frame.empty:
        return None
    labels = list(dict.fromkeys(frame["label"]))
    ncols = min(len(labels), 4)
    nrows = math.ceil(len(labels) / ncols)
    fig = new_figure(3.0 * ncols + 0.4, 2.6 * nrows + 0.4)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, label in zip(axes.flat, labels, strict=False):
        rows = frame[frame["label"] == label]
        _metric_panel(ax, rows, label)
        metric = str(rows["metric"].iloc[0])
        ax.set_ylabel(metric_unit(metric), fontsize=8)
        if is_count(metric):
            integer_ticks(ax)
    for ax in list(axes.flat)[len(labels):]:
        ax.set_axis_off()
    fig.suptitle("Sim vs live per metric (mean ± 95% CI; ◆ closed form)", fontsize=11)
    return fig


def _metric_panel(ax: Axes, rows: pd.DataFrame, label: str) -> None:
    closed = float(rows["closed_form"].iloc[0])
    names: list[str] = []
    if not math.isnan(closed):
        names.append("closed form")
        ax.axhline(closed, color=CLOSED_FORM_COLOUR, linestyle=":", linewidth=1)
        ax.plot([0], [closed], marker="D", color=CLOSED_FORM_COLOUR, linestyle="none")
    for row in rows.itertuples(index=False):
        x = len(names)
        names.append(str(row.backend))
        ax.errorbar([x], [row.mean], yerr=[_ci(row.ci)], marker="o", capsize=5,
                    color=_colour(str(row.backend)), linestyle="none")
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_title(label, fontsize=9)
    ax.tick_params(axis="y", labelsize=8)
    ax.margins(y=0.25)
    ax.grid(axis="y", alpha=0.3)


# --- message timeline -------------------------------------------------------------------------

_TIMELINE_STYLES = (
    # (event, delivered, lane offset, marker, colour, legend label)
    ("send", True, 0.2, "|", "tab:blue", "send (received somewhere)"),
    ("send", False, 0.2, "|", "tab:red", "send (never received)"),
    ("recv", True, -0.2, "|", "tab:green", "recv"),
    ("drop", False, 0.0, "x", "black", "drop"),
)


def _lanes(frames: Mapping[str, pd.DataFrame], order: Sequence[str] | None) -> list[str]:
    seen = dict.fromkeys(n for f in frames.values() for n in f["node"])
    if order is None:
        return list(seen)
    return [n for n in order if n in seen] + [n for n in seen if n not in set(order)]


def timeline_figure(
    timelines: Mapping[str, pd.DataFrame], order: Sequence[str] | None = None
) -> Figure | None:
    """One lane per node, time across: sends above the lane's line (blue when the message was
    received somewhere, red when never), receives below it (green), drops on it (×). One panel
    per backend, side by side. ``timelines``: backend → ``frames.timeline``; ``order``: the lane
    order, top first."""
    frames = _nonempty(timelines)
    if not frames:
        return None
    lanes = _lanes(frames, order)
    y_of = {n: len(lanes) - 1 - k for k, n in enumerate(lanes)}
    fig = new_figure(6.0 * len(frames) + 0.5, 0.55 * len(lanes) + 2.2)
    axes = fig.subplots(1, len(frames), squeeze=False, sharey=True)[0]
    for ax, (backend, frame) in zip(axes, frames.items(), strict=True):
        y = frame["node"].map(y_of).to_numpy(dtype=float)
        for event, delivered, offset, marker, colour, _ in _TIMELINE_STYLES:
            mask = ((frame["event"] == event) & (frame["delivered"] == delivered)).to_numpy()
            if mask.any():
                ax.scatter(frame["t"].to_numpy()[mask], y[mask] + offset, marker=marker,
                           s=40 if marker == "x" else 60, linewidths=0.6, color=colour,
                           rasterized=True)
        for lane in range(1, len(lanes)):
            ax.axhline(lane - 0.5, color="0.85", linewidth=0.8)
        ax.set_title(f"{backend} (first run)", fontsize=10)
        ax.set_xlabel(time_label(str(backend)))
        ax.set_ylim(-0.6, len(lanes) - 0.4)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks([y_of[n] for n in lanes], lanes, fontsize=8)
    handles = [Line2D([], [], marker=m, color=c, linestyle="none", markersize=8, label=lab)
               for _, _, _, m, c, lab in _TIMELINE_STYLES]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    fig.suptitle("Message timeline per node", fontsize=11)
    return fig


# --- queue depth ------------------------------------------------------------------------------


def _palette(n: int) -> list[Any]:
    """Distinct colours: tab10 for up to 10 series, tab20 (cycled) beyond."""
    if n <= 10:
        return [f"C{k}" for k in range(10)]
    tab20 = colormaps["tab20"]
    return [tab20(k) for k in range(tab20.N)]


def queue_depth_figure(depths: Mapping[str, pd.DataFrame]) -> Figure | None:
    """Messages in flight per (sender node → receiver node) pair over time, as steps; one
    panel per backend, side by side, a pair keeping its colour across panels. ``depths``:
    backend → ``frames.queue_depth``."""
    frames = _nonempty(depths)
    if not frames:
        return None
    pairs = sorted({(s, d) for f in frames.values()
                    for s, d in zip(f["src"], f["dst"], strict=True)})
    palette = _palette(len(pairs))
    colour = {p: palette[k % len(palette)] for k, p in enumerate(pairs)}
    fig = new_figure(6.0 * len(frames) + 0.5, 4.2)
    axes = fig.subplots(1, len(frames), squeeze=False, sharey=True)[0]
    for ax, (backend, frame) in zip(axes, frames.items(), strict=True):
        for (src, dst), steps in frame.groupby(["src", "dst"], sort=True):
            t = np.concatenate([[steps["t"].iloc[0]], steps["t"].to_numpy()])
            depth = np.concatenate([[0.0], steps["depth"].to_numpy()])
            ax.step(t, depth, where="post", color=colour[(src, dst)], linewidth=1.1)
        ax.set_title(f"{backend} (first run)", fontsize=10)
        ax.set_xlabel(time_label(str(backend)))
        ax.grid(alpha=0.3)
        integer_ticks(ax)
    axes[0].set_ylabel("messages in flight (messages)")
    shown = pairs[:_MAX_LEGEND]
    handles = [Line2D([], [], color=colour[p], label=f"{p[0]} → {p[1]}") for p in shown]
    if len(pairs) > len(shown):
        handles.append(Line2D([], [], color="none", label=f"(+{len(pairs) - len(shown)} more)"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle("Queue depth per pipe (sent, not yet received)", fontsize=11)
    return fig


# --- tasks per worker -------------------------------------------------------------------------


def tasks_figure(frame: pd.DataFrame, metric: str = "tasks") -> Figure | None:
    """Bars per node, one per backend (mean ± 95% CI over repetitions), the closed form as a
    black diamond. ``frame``: ``frames.tasks_per_worker``."""
    if frame.empty:
        return None
    nodes = list(dict.fromkeys(frame["node"]))
    backends = list(dict.fromkeys(frame["backend"]))
    width = 0.8 / len(backends)
    fig = new_figure(max(4.5, 0.9 * len(nodes) * len(backends) + 1.5), 3.8)
    ax = fig.subplots()
    x = np.arange(len(nodes))
    for k, backend in enumerate(backends):
        rows = frame[frame["backend"] == backend].set_index("node").reindex(nodes)
        ax.bar(x + (k - (len(backends) - 1) / 2) * width, rows["mean"].to_numpy(), width,
               yerr=[_ci(v) for v in rows["ci"]], capsize=3, color=_colour(backend),
               label=backend)
    closed = frame.drop_duplicates("node").set_index("node")["closed_form"].reindex(nodes)
    if closed.notna().any():
        ax.plot(x, closed.to_numpy(), marker="D", color=CLOSED_FORM_COLOUR, linestyle="none",
                label="closed form")
    ax.set_xticks(x, nodes, rotation=30 if len(nodes) > 6 else 0, fontsize=8)
    ax.set_ylabel(f"{metric} per worker, mean over runs ({metric_unit(metric) or 'count'})")
    if is_count(metric):
        integer_ticks(ax)
    ax.grid(axis="y", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=len(backends) + 1, fontsize=8, frameon=False)
    ax.set_title(f"{metric.capitalize()} per worker", fontsize=11)
    return fig


# --- latency CDF ------------------------------------------------------------------------------


def latency_cdf_figure(latencies: Mapping[str, pd.DataFrame]) -> Figure | None:
    """The empirical CDF of message latency (receive time − send time, every hop) per backend,
    overlaid; a log time axis when latencies span more than two decades (symmetric log when
    some are ≤ 0, as live receives logged before their send are). ``latencies``: backend →
    ``frames.latencies`` (of every run, concatenated)."""
    frames = _nonempty(latencies)
    if not frames:
        return None
    values = {b: np.sort(f["latency"].to_numpy(dtype=float)) for b, f in frames.items()}
    everything = np.concatenate(list(values.values()))
    positive = everything[everything > 0]
    wide = positive.size > 0 and positive.max() > 100 * positive.min()
    fig = new_figure(6.5, 4.0)
    ax = fig.subplots()
    for backend, lat in values.items():
        y = np.arange(1, lat.size + 1) / lat.size
        label = f"{backend} (n={lat.size}, median {format_seconds(float(np.median(lat)))}"
        negative = int((lat < 0).sum())
        label += f", {negative} < 0)" if negative else ")"
        ax.step(lat, y, where="post", color=_colour(backend), linewidth=1.4,
                linestyle="-" if backend == "sim" else "--", label=label)
    if wide and positive.size == everything.size:
        ax.set_xscale("log")
    elif wide:
        ax.set_xscale("symlog", linthresh=10 ** math.floor(math.log10(positive.min())))
    if (everything <= 0).any():
        ax.axvline(0.0, color="0.5", linewidth=0.8)
    ax.set_xlabel("latency: receive time − send time (s)")
    ax.set_ylabel("fraction of messages ≤ x")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    # below the axes: a CDF reaches every corner of its panel, so no legend inside is safe
    fig.legend(loc="outside lower center", ncols=min(len(values), 2), fontsize=8,
               frameon=False)
    ax.set_title("Message latency CDF", fontsize=11)
    return fig
