"""Tidy DataFrames for the report's plots, computed from event logs and comparisons.

Pure pandas: nothing here draws. Every function over events takes one run's event log (the
``zsim.records.EVENT_COLUMNS`` schema both backends write) and returns an empty frame with the
documented columns when the log holds no message events (``record = "lifecycle"``).

Messages are matched hop by hop: a ``recv`` is paired with the latest ``send`` of the same
``(sender, seq)`` at or before it, so a message forwarded by a proxy counts as two hops
(publisher → proxy, proxy → subscriber), and a PUB's one send fans out to one pair per
subscriber. The live backend stamps a send when the send call has returned, by which time
another process may already have logged the receive; such a receive is paired with the
earliest send after it, and its latency comes out slightly negative (queue depths count it as
zero time in flight).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from zsim.analysis.stats import mean_ci
from zsim.records import MESSAGE_EVENTS

if TYPE_CHECKING:
    from zsim.analysis.compare import Comparison

LATENCY_COLUMNS = ("node", "src", "sender", "seq", "t_send", "t_recv", "latency")
TIMELINE_COLUMNS = ("t", "node", "socket", "event", "sender", "seq", "detail", "delivered")
QUEUE_COLUMNS = ("src", "dst", "t", "depth")
TASK_COLUMNS = ("node", "backend", "mean", "ci", "reps", "closed_form")
METRIC_CI_COLUMNS = ("label", "node", "metric", "backend", "mean", "ci", "closed_form")


_DTYPES = {"t": "float64", "t_send": "float64", "t_recv": "float64", "latency": "float64",
           "depth": "float64", "mean": "float64", "ci": "float64", "closed_form": "float64",
           "seq": "int64", "reps": "int64", "delivered": "bool"}


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame with ``columns`` and no rows (strings for the columns not in ``_DTYPES``)."""
    return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, "str")) for c in columns})


def _kind(events: pd.DataFrame, kind: str) -> pd.DataFrame:
    if events.empty or "event" not in events:
        return events.iloc[0:0]
    return events[events["event"] == kind]


def latencies(events: pd.DataFrame) -> pd.DataFrame:
    """One row per received message: the receiving ``node``, the node whose send it matched
    (``src``), the message id (``sender``, ``seq``), ``t_send``, ``t_recv`` and
    ``latency = t_recv - t_send`` (slightly negative when a live receive was logged before its
    send). Receives with no recorded send are left out. Sorted by ``t_recv``."""
    sends = _kind(events, "send")
    recvs = _kind(events, "recv")
    if sends.empty or recvs.empty:
        return _empty(LATENCY_COLUMNS)
    left = (recvs[["t", "node", "sender", "seq"]].rename(columns={"t": "t_recv"})
            .assign(_rid=np.arange(len(recvs))))
    right = sends[["t", "node", "sender", "seq"]].rename(columns={"t": "t_send", "node": "src"})
    pairs = left.merge(right, on=["sender", "seq"], how="inner")
    if pairs.empty:
        return _empty(LATENCY_COLUMNS)
    # Candidates in order of preference: another node's send over the receiver's own, a send
    # at or before the receive (the latest first) over one after it (the earliest first).
    after = (pairs["t_send"] > pairs["t_recv"]).to_numpy()
    pairs = pairs.assign(_own=(pairs["src"] == pairs["node"]).to_numpy(), _after=after,
                         _key=np.where(after, pairs["t_send"], -pairs["t_send"]))
    best = (pairs.sort_values(["_rid", "_own", "_after", "_key"], kind="stable")
            .drop_duplicates("_rid").sort_values(["t_recv", "_rid"], kind="stable"))
    best = best.astype({"t_send": "float64", "t_recv": "float64"})
    best = best.assign(latency=best["t_recv"] - best["t_send"])
    return best[list(LATENCY_COLUMNS)].reset_index(drop=True)


def timeline(events: pd.DataFrame) -> pd.DataFrame:
    """The send/recv/drop events, sorted by time, with ``delivered``: for a send, whether some
    node received that message (a slow joiner's early sends were not); True for receives,
    False for drops."""
    if events.empty or "event" not in events:
        return _empty(TIMELINE_COLUMNS)
    msgs = events[events["event"].isin(MESSAGE_EVENTS)]
    if msgs.empty:
        return _empty(TIMELINE_COLUMNS)
    msgs = msgs.sort_values("t", kind="stable").reset_index(drop=True)
    recvs = msgs[msgs["event"] == "recv"]
    received = pd.MultiIndex.from_frame(recvs[["sender", "seq"]])
    ids = pd.MultiIndex.from_frame(msgs[["sender", "seq"]])
    out = msgs[["t", "node", "socket", "event", "sender", "seq", "detail"]].copy()
    out["delivered"] = (out["event"] == "recv") | (
        (out["event"] == "send") & ids.isin(received))
    return out


def queue_depth(events: pd.DataFrame) -> pd.DataFrame:
    """Messages in flight per (``src`` node → ``dst`` node) pair as a step function: +1 at each
    send of a message the pair's receiver got, −1 at that receive (messages never received are
    left out). One row per (pair, time at which the depth changes), ``depth`` being the value
    from ``t`` on; each pair starts from 0 before its first row."""
    lat = latencies(events)
    if lat.empty:
        return _empty(QUEUE_COLUMNS)
    t_send = lat["t_send"].clip(upper=lat["t_recv"])  # a live receive logged before its send
    ups = pd.DataFrame({"src": lat["src"], "dst": lat["node"], "t": t_send, "delta": 1})
    downs = pd.DataFrame({"src": lat["src"], "dst": lat["node"], "t": lat["t_recv"],
                          "delta": -1})
    steps = (pd.concat([ups, downs], ignore_index=True)
             .groupby(["src", "dst", "t"], sort=True, as_index=False)["delta"].sum())
    steps = steps[steps["delta"] != 0]
    steps = steps.assign(
        depth=steps.groupby(["src", "dst"])["delta"].cumsum().astype("float64"))
    return steps[list(QUEUE_COLUMNS)].reset_index(drop=True)


def _node_order(comparison: Comparison) -> dict[str, int]:
    return {name: k for k, name in enumerate(comparison.scenario.nodes)}


def tasks_per_worker(comparison: Comparison, metric: str = "tasks") -> pd.DataFrame:
    """The ``metric`` ('tasks') per node and backend: mean over repetitions, 95% CI half-width,
    the number of repetitions and the closed form (NaN without one). Nodes in scenario order,
    sim before live."""
    runs = comparison.runs_frame()
    if runs.empty or "metric" not in runs:
        return _empty(TASK_COLUMNS)
    rows = runs[runs["metric"] == metric]
    if rows.empty:
        return _empty(TASK_COLUMNS)
    closed = {p.node: float(p.value) for p in comparison.predictions if p.metric == metric}
    records = []
    for (backend, node), group in rows.groupby(["backend", "node"], sort=False):
        mean, ci = mean_ci(group["value"].astype(float).tolist())
        records.append((node, backend, mean, ci, len(group), closed.get(node, math.nan)))
    out = pd.DataFrame(records, columns=list(TASK_COLUMNS))
    order = _node_order(comparison)
    out["_n"] = out["node"].map(lambda n: order.get(n, len(order)))
    out["_b"] = out["backend"].map({"sim": 0, "live": 1}).fillna(2)
    return (out.sort_values(["_n", "node", "_b"], kind="stable")
            .drop(columns=["_n", "_b"]).reset_index(drop=True))


def metric_ci(comparison: Comparison) -> pd.DataFrame:
    """The comparison table in long form for the sim-vs-live plot: one row per (node, metric,
    backend) that has a mean, with ``label`` = 'node.metric', the 95% CI half-width and the
    closed form (NaN without one). Table order, sim before live."""
    table = comparison.table
    if table.empty:
        return _empty(METRIC_CI_COLUMNS)
    records = []
    for row in table.itertuples(index=False):
        for backend in ("sim", "live"):
            mean = float(getattr(row, f"{backend}_mean"))
            if math.isnan(mean):
                continue
            records.append((f"{row.node}.{row.metric}", row.node, row.metric, backend, mean,
                            float(getattr(row, f"{backend}_ci")), float(row.closed_form)))
    if not records:
        return _empty(METRIC_CI_COLUMNS)
    return pd.DataFrame(records, columns=list(METRIC_CI_COLUMNS))
