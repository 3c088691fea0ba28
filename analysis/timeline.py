"""A run's timeline from its event log: what each node sent and received over time, the queue
depth per pipe, drops, and the connections, handshakes and crashes, one panel row each.

``timeline_figure(events, meta)`` draws one run; ``side_by_side(sim_events, live_events)`` draws
a sim run and a live run in two columns on one shared time axis (simulated seconds on the left,
wall-clock seconds on the right). Message counts are cumulative (a step per event, so a count
is read off directly and two runs compare by height); the queue depth is reconstructed from
matched sends and receives (``zsim.analysis.frames.queue_depth``), which attributes a message to
a pipe only once it was received, so messages never received are not in it. At record level
``lifecycle`` the log holds no message events: those panels say so and only the connection
lanes are drawn. Figures are built without pyplot (``zsim.analysis.plots.new_figure``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from zsim.analysis import frames, plots
from zsim.records import MESSAGE_EVENTS

LineStyle = Literal["-", "--", "-.", ":"]

ROWS = ("sent", "received", "queue", "dropped", "lifecycle")
_YLABELS = {
    "sent": "messages sent\n(cumulative)",
    "received": "messages received\n(cumulative)",
    "queue": "messages in flight\nper pipe",
    "dropped": "messages dropped\n(cumulative)",
    "lifecycle": "node",
}
_MESSAGE_ROW_EVENT = {"sent": "send", "received": "recv", "dropped": "drop"}
_MAX_LEGEND = 12


@dataclass(frozen=True)
class Marker:
    """How a lifecycle event is drawn: in its node's lane, and (``vline``) across the message
    panels as a vertical line."""

    event: str
    label: str
    symbol: str
    colour: str
    vline: LineStyle | None  # line style, or None for no vertical line


MARKERS = (
    Marker("connect", "connect (started)", "|", "0.45", ":"),
    Marker("connected", "handshake done (connecting side)", "^", "tab:green", "--"),
    Marker("accepted", "handshake done (binding side)", "v", "tab:green", None),
    Marker("refused", "refused", "x", "tab:purple", None),
    Marker("disconnected", "disconnected", "D", "tab:brown", None),
    Marker("crash", "crash", "X", "tab:red", "-"),
    Marker("restart", "restart", "P", "tab:red", "-."),
    Marker("start", "behaviour start", ">", "black", None),
    Marker("stop", "behaviour stop", "s", "black", None),
    Marker("mark", "mark (named point)", ".", "0.3", None),
)


def time_label(backend: str) -> str:
    """The time axis's label: simulated seconds for the sim, wall-clock seconds for live."""
    if backend == "sim":
        return "simulated time since start (s)"
    if backend == "live":
        return "wall-clock time since start (s)"
    return "time since start (s)"


def first_rep(events: pd.DataFrame) -> pd.DataFrame:
    """The first repetition's events of a ``--reps`` log (one with a ``rep`` column)."""
    if "rep" in events and not events.empty:
        return events[events["rep"] == events["rep"].min()]
    return events


def has_messages(events: pd.DataFrame) -> bool:
    return bool(not events.empty and events["event"].isin(MESSAGE_EVENTS).any())


def node_order(events: Sequence[pd.DataFrame], order: Sequence[str] | None = None) -> list[str]:
    """Nodes in ``order`` first (the scenario's), then in order of appearance."""
    seen = dict.fromkeys(n for ev in events for n in ev["node"] if n and n != "*")
    first = [n for n in (order or []) if n in seen]
    return first + [n for n in seen if n not in set(first)]


# --- drawing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One run to draw: its events (one repetition), backend and record level."""

    events: pd.DataFrame
    backend: str
    record: str
    title: str


def _column(events: pd.DataFrame, meta: Mapping[str, Any], title: str | None = None) -> Column:
    runs = meta.get("runs")
    inner = runs[0] if isinstance(runs, list) and runs and isinstance(runs[0], dict) else meta
    backend = str(inner.get("backend", meta.get("backend", "")))
    record = str(inner.get("record", meta.get("record", "")))
    ev = first_rep(events)
    if not record:
        record = "messages" if has_messages(ev) else "lifecycle"
    if title is None:
        title = f"{backend or 'run'}: {inner.get('scenario', '')} (seed {inner.get('seed', '-')})"
        if "rep" in events and events["rep"].nunique() > 1:
            title += ", first of the repetitions"
    return Column(ev, backend, record, title)


def _note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=8,
            color="0.35", wrap=True)


@dataclass(frozen=True)
class TimelineData:
    """What a timeline draws, taken from the records: per message panel ("sent", "received",
    "dropped") each node's event times, sorted (one step each); the queue depth steps per pipe
    (``frames.queue_depth``: t, src, dst, depth); per lifecycle event (``MARKERS``) each node's
    event times."""

    messages: bool  # the log holds message events (record level 'messages')
    counts: dict[str, dict[str, np.ndarray]]
    queue: pd.DataFrame
    markers: dict[str, dict[str, np.ndarray]]


def _times(events: pd.DataFrame, kind: str) -> dict[str, np.ndarray]:
    rows = events[events["event"] == kind]
    return {str(node): np.sort(g["t"].to_numpy(dtype=float))
            for node, g in rows.groupby("node", sort=False)}


def column_data(col: Column) -> TimelineData:
    ev = col.events
    messages = col.record != "lifecycle" and has_messages(ev)
    counts = {row: _times(ev, kind) if messages else {}
              for row, kind in _MESSAGE_ROW_EVENT.items()}
    queue = frames.queue_depth(ev) if messages else pd.DataFrame(
        columns=["t", "src", "dst", "depth"])
    return TimelineData(messages, counts, queue, {m.event: _times(ev, m.event) for m in MARKERS})


def timeline_data(events: pd.DataFrame, meta: Mapping[str, Any]) -> TimelineData:
    """The data ``timeline_figure(events, meta)`` draws (of the first repetition)."""
    return column_data(_column(events, meta))


def _cumulative(ax: Axes, times: Mapping[str, np.ndarray], colours: Mapping[str, Any]) -> int:
    for node, t in times.items():
        ax.step(np.concatenate([[0.0], t]), np.arange(t.size + 1), where="post",
                color=colours[node], linewidth=1.2)
    return sum(t.size for t in times.values())


def _message_row(ax: Axes, col: Column, data: TimelineData, row: str,
                 colours: Mapping[str, Any]) -> None:
    if not data.messages:
        _note(ax, f"record level '{col.record}': no send/recv/drop events "
                  "(run with --record messages)")
        return
    n = _cumulative(ax, data.counts[row], colours)
    if n == 0 and row == "dropped":
        _note(ax, "the live backend cannot observe drops (libzmq does not report them)"
              if col.backend == "live" else "no drops")


def _pair_colours(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """Pipes take colours of their own (tab20b), so that none reads as a node's."""
    cmap = colormaps["tab20b"]
    return {p: cmap(k % cmap.N) for k, p in enumerate(pairs)}


def _queue_row(ax: Axes, col: Column, data: TimelineData,
               pair_colour: Mapping[tuple[str, str], Any]) -> None:
    if not data.messages:
        _note(ax, f"record level '{col.record}': queue depth needs --record messages")
        return
    depth = data.queue
    if depth.empty:
        _note(ax, "no message was both sent and received: no pipe to reconstruct")
        return
    for (src, dst), steps in depth.groupby(["src", "dst"], sort=True):
        t = np.concatenate([[0.0], steps["t"].to_numpy(dtype=float)])
        d = np.concatenate([[0.0], steps["depth"].to_numpy(dtype=float)])
        ax.step(t, d, where="post", color=pair_colour[(str(src), str(dst))], linewidth=1.1)


def _lanes(ax: Axes, data: TimelineData, nodes: Sequence[str]) -> None:
    y_of = {n: len(nodes) - 1 - k for k, n in enumerate(nodes)}
    for m in MARKERS:
        at = {n: t for n, t in data.markers[m.event].items() if n in y_of}
        if at:
            ax.scatter(np.concatenate(list(at.values())),
                       np.concatenate([np.full(t.size, float(y_of[n])) for n, t in at.items()]),
                       marker=m.symbol, color=m.colour, s=30, linewidths=0.8, zorder=3)
    ax.set_yticks([y_of[n] for n in nodes], list(nodes), fontsize=7)
    ax.set_ylim(-0.6, max(len(nodes), 1) - 0.4)


def _vlines(ax: Axes, events: pd.DataFrame) -> None:
    for m in MARKERS:
        if m.vline is None:
            continue
        for t in np.unique(events.loc[events["event"] == m.event, "t"].to_numpy(dtype=float)):
            ax.axvline(t, color=m.colour, linestyle=m.vline, linewidth=0.7, alpha=0.45,
                       zorder=0)


def _draw(axes: Sequence[Axes], rows: Sequence[str], col: Column, nodes: Sequence[str],
          colours: Mapping[str, Any], pair_colour: Mapping[tuple[str, str], Any]) -> None:
    data = column_data(col)
    for ax, row in zip(axes, rows, strict=True):
        if row in _MESSAGE_ROW_EVENT:
            _message_row(ax, col, data, row, colours)
        elif row == "queue":
            _queue_row(ax, col, data, pair_colour)
        else:
            _lanes(ax, data, nodes)
        if row != "lifecycle":
            _vlines(ax, col.events)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    axes[0].set_title(col.title, fontsize=9)
    axes[-1].set_xlabel(time_label(col.backend), fontsize=8)


def _legend(fig: Figure, nodes: Sequence[str], colours: Mapping[str, Any],
            pairs: Sequence[tuple[str, str]], pair_colour: Mapping[tuple[str, str], Any],
            shown_markers: set[str], messages: bool) -> None:
    """One legend outside the axes, right of them, so that it never covers data."""
    def capped(handles: list[Line2D], total: int) -> list[Line2D]:
        if total > len(handles):
            handles.append(Line2D([], [], color="none", label=f"(+{total - len(handles)} more)"))
        return handles

    handles: list[Line2D] = []
    if pairs or messages:
        handles.append(Line2D([], [], color="none", label="nodes (count panels):"))
        handles += capped([Line2D([], [], color=colours[n], label=n)
                           for n in nodes[:_MAX_LEGEND]], len(nodes))
    if pairs:
        handles.append(Line2D([], [], color="none", label="pipes (queue panel):"))
        handles += capped([Line2D([], [], color=pair_colour[p], label=f"{p[0]} → {p[1]}")
                           for p in pairs[:_MAX_LEGEND]], len(pairs))
    handles.append(Line2D([], [], color="none", label="events:"))
    handles += [Line2D([], [], marker=m.symbol, color=m.colour, markersize=6,
                       linestyle=m.vline or "none", linewidth=0.8, label=m.label)
                for m in MARKERS if m.event in shown_markers]
    fig.legend(handles=handles, loc="outside right upper", fontsize=7, frameon=False)


def _figure(columns: Sequence[Column], order: Sequence[str] | None, suptitle: str) -> Figure:
    nodes = node_order([c.events for c in columns], order)
    palette = plots._palette(len(nodes))
    colours = {n: palette[k % len(palette)] for k, n in enumerate(nodes)}
    depths = [frames.queue_depth(c.events) for c in columns if has_messages(c.events)]
    pairs = sorted({(str(s), str(d)) for f in depths
                    for s, d in zip(f["src"], f["dst"], strict=True)})
    pair_colour = _pair_colours(pairs)
    # at record level lifecycle everywhere, only the lanes: the message panels would be empty
    rows = ROWS if any(has_messages(c.events) for c in columns) else ROWS[-1:]
    if len(rows) == 1:
        columns = [replace(c, title=c.title + "\nrecord level 'lifecycle': no message events, "
                           "so no counts,\nqueue depths or drops (run with --record messages)")
                   for c in columns]
    lane_h = max(1.4, 0.28 * len(nodes) + 0.6)
    fig = plots.new_figure(5.2 * len(columns) + 2.6, 1.7 * (len(rows) - 1) + lane_h + 1.0)
    grid = fig.subplots(len(rows), len(columns), squeeze=False, sharex="all", sharey="row",
                        gridspec_kw={"height_ratios": [1.7] * (len(rows) - 1) + [lane_h]})
    for k, col in enumerate(columns):
        _draw(list(grid[:, k]), rows, col, nodes, colours, pair_colour)
    for row, ax in zip(rows, grid[:, 0], strict=True):
        ax.set_ylabel(_YLABELS[row], fontsize=8)
    shown = {e for c in columns for e in c.events["event"].unique()}
    _legend(fig, nodes, colours, pairs, pair_colour, shown, len(rows) > 1)
    fig.suptitle(suptitle, fontsize=10)
    return fig


def timeline_figure(events: pd.DataFrame, meta: Mapping[str, Any],
                    order: Sequence[str] | None = None) -> Figure:
    """One run's timeline (the first repetition of a ``--reps`` log): cumulative sends and
    receives per node, queue depth per pipe, cumulative drops, then one lane per node with its
    connections, handshakes, crashes, restarts and marks; crashes, restarts, connects and
    handshakes are also vertical lines across the message panels."""
    col = _column(events, meta)
    return _figure([col], order, "Run timeline")


def side_by_side(sim_events: pd.DataFrame, live_events: pd.DataFrame,
                 sim_meta: Mapping[str, Any] | None = None,
                 live_meta: Mapping[str, Any] | None = None,
                 order: Sequence[str] | None = None) -> Figure:
    """A sim run (left, simulated time) and a live run (right, wall-clock time) of the same
    scenario, panel for panel on one shared time axis and shared count scales."""
    cols = [_column(sim_events, {"backend": "sim", **(sim_meta or {})}),
            _column(live_events, {"backend": "live", **(live_meta or {})})]
    return _figure(cols, order, "Timeline: sim (simulated time) and live (wall-clock time)")
