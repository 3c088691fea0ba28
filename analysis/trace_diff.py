"""A trace diff: two event logs of the same scenario (a sim run and a live run, or two runs of
one backend) aligned message by message; the first point where they differ, and a counts table.

Message ids (``sender``, ``seq``) need not agree between two runs, so messages are aligned by
position, not by id:

- **per sending socket, by send order**: the k-th message sent on ``node.socket`` in one log
  is the k-th sent there in the other; what became of it is compared: which ``node.socket``
  received it, and whether it was dropped (with the drop's reason). A receive is attributed
  to the send of the same id it follows (the latest such send at or before it by another
  node, else the earliest after it: a live send is logged when its call has returned, so its
  receive can come first), which keeps a proxy's two hops apart;
- **per receiving socket, by arrival order**: the j-th message received on ``node.socket``
  is compared by the (sending socket, k) it came from.

The first divergence is the one that happened first on either side (the smaller of its two
times, each on its own log's clock), ties broken by kind, node, socket and position. At record
level ``lifecycle`` (either log) there are no messages: each node's sequence of behaviour
events (start, stop, marks, crash, restart) is compared instead, and the table counts
connection and behaviour events.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from zsim.analysis.timeline import first_rep, has_messages

MESSAGE_MEASURES = ("sent", "received", "dropped")
_MEASURE_EVENT = {"sent": "send", "received": "recv", "dropped": "drop"}
LIFECYCLE_MEASURES = ("connect", "connected", "accepted", "disconnected", "refused", "crash",
                      "restart", "mark")
SEQUENCE_EVENTS = ("start", "stop", "mark", "crash", "restart")
KINDS = ("sent", "dropped", "receiver", "arrival", "lifecycle")
"""sent: the k-th message exists on one side only; dropped: dropped on one side only (or for
different reasons); receiver: received by different sockets; arrival: a receiving socket's
j-th message came from different senders; lifecycle: a node's j-th behaviour event differs."""


@dataclass(frozen=True)
class Divergence:
    """Where two logs first differ: ``node.socket``'s ``index``-th (0-based) message sent
    (kinds sent, dropped, receiver), received (arrival) or behaviour event (lifecycle); the
    time on each side (NaN where it is missing) and what each side shows there."""

    kind: str
    node: str
    socket: str
    index: int
    t_a: float
    t_b: float
    a: str
    b: str

    def describe(self, labels: tuple[str, str]) -> str:
        where = f"{self.node}.{self.socket}" if self.socket else self.node
        what = {"arrival": "message received", "lifecycle": "behaviour event"}.get(
            self.kind, "message sent")
        times = " / ".join(f"{_t(t)} ({lab})" for t, lab in zip((self.t_a, self.t_b), labels,
                                                                strict=True))
        return (f"{self.kind}: {where}, {what} #{self.index} (0-based), at {times}: "
                f"{labels[0]}: {self.a}; {labels[1]}: {self.b}")


def _t(t: float) -> str:
    return "absent" if math.isnan(t) else f"t={t:.6g} s"


@dataclass(frozen=True)
class TraceDiff:
    """The diff of logs a and b (``labels``): the level compared, the first divergence (None
    when there is none), the counts table and notes on what could not be compared."""

    labels: tuple[str, str]
    record: str
    first: Divergence | None
    divergences: int
    counts: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return self.first is not None or bool(self.counts["differs"].any())


# --- matching ---------------------------------------------------------------------------------


def _sorted(events: pd.DataFrame, kind: str) -> pd.DataFrame:
    rows = events[events["event"] == kind]
    return rows.sort_values("t", kind="stable").reset_index(drop=True)


def numbered_sends(events: pd.DataFrame) -> pd.DataFrame:
    """The sends in time order, with ``k``: their position among their socket's sends."""
    sends = _sorted(events, "send")
    return sends.assign(k=sends.groupby(["node", "socket"], sort=False).cumcount())


def attribute(rows: pd.DataFrame, sends: pd.DataFrame, prefer_own: bool) -> pd.DataFrame:
    """``rows`` (receives or drops) with the send each follows: ``src``, ``src_socket``, ``k``
    (NaN/"" when no send of that id was logged). Of the sends of the same (sender, seq): by
    another node than the row's (``prefer_own``: the same node) first, then the latest at or
    before the row, then the earliest after it."""
    left = rows.assign(_rid=np.arange(len(rows)))
    right = sends[["t", "node", "socket", "sender", "seq", "k"]].rename(
        columns={"t": "t_send", "node": "src", "socket": "src_socket"})
    pairs = left.merge(right, on=["sender", "seq"], how="inner")
    after = (pairs["t_send"] > pairs["t"]).to_numpy()
    own = (pairs["src"] == pairs["node"]).to_numpy()
    pairs = pairs.assign(_pref=own if not prefer_own else ~own, _after=after,
                         _key=np.where(after, pairs["t_send"], -pairs["t_send"]))
    best = (pairs.sort_values(["_rid", "_pref", "_after", "_key"], kind="stable")
            .drop_duplicates("_rid").set_index("_rid"))
    out = left.set_index("_rid")
    out["src"] = best["src"].reindex(out.index).fillna("")
    out["src_socket"] = best["src_socket"].reindex(out.index).fillna("")
    out["k"] = best["k"].reindex(out.index).fillna(-1).astype("int64")
    return out.reset_index(drop=True)


def _outcomes(events: pd.DataFrame) -> pd.DataFrame:
    """One row per send: (node, socket, k, t) and its fate, as ``receivers`` (sorted
    "node.socket", comma-joined) and ``drops`` (sorted drop reasons)."""
    sends = numbered_sends(events)
    recvs = attribute(_sorted(events, "recv"), sends, prefer_own=False)
    drops = attribute(_sorted(events, "drop"), sends, prefer_own=True)
    key = ["src", "src_socket", "k"]

    def joined(rows: pd.DataFrame, values: pd.Series) -> pd.Series:
        if rows.empty:
            return pd.Series(dtype="str")
        return (rows.assign(_v=values).groupby(key)["_v"]
                .agg(lambda v: ",".join(sorted(v))))

    got = joined(recvs, recvs["node"] + "." + recvs["socket"])
    lost = joined(drops, drops["node"] + "." + drops["socket"] + " (" + drops["detail"] + ")")
    index = pd.MultiIndex.from_frame(sends[["node", "socket", "k"]], names=key)
    return sends[["node", "socket", "k", "t"]].assign(
        receivers=got.reindex(index).fillna("").to_numpy(),
        drops=lost.reindex(index).fillna("").to_numpy())


def _arrivals(events: pd.DataFrame) -> pd.DataFrame:
    """One row per receive: (node, socket, j, t) and where it came from, ``origin``."""
    recvs = attribute(_sorted(events, "recv"), numbered_sends(events), prefer_own=False)
    origin = np.where(recvs["k"] >= 0,
                      recvs["src"] + "." + recvs["src_socket"] + " #" + recvs["k"].astype(str),
                      "an unlogged send")
    return recvs.assign(j=recvs.groupby(["node", "socket"], sort=False).cumcount(),
                        origin=origin)[["node", "socket", "j", "t", "origin"]]


# --- comparing --------------------------------------------------------------------------------


def _fate(receivers: Any, drops: Any) -> str:
    if not isinstance(receivers, str):
        return "not sent"
    parts = []
    if receivers:
        parts.append(f"received by {receivers}")
    if drops:
        parts.append(f"dropped at {drops}")
    return "; ".join(parts) or "not received, no drop logged"


def _message_divergences(a: pd.DataFrame, b: pd.DataFrame) -> list[Divergence]:
    out: list[Divergence] = []
    key = ["node", "socket", "k"]
    m = _outcomes(a).merge(_outcomes(b), on=key, how="outer", suffixes=("_a", "_b"))
    for r in m.itertuples(index=False):
        missing = not isinstance(r.receivers_a, str) or not isinstance(r.receivers_b, str)
        if missing:
            kind = "sent"
        elif r.drops_a != r.drops_b:
            kind = "dropped"
        elif r.receivers_a != r.receivers_b:
            kind = "receiver"
        else:
            continue
        out.append(Divergence(kind, str(r.node), str(r.socket), int(r.k), float(r.t_a),
                              float(r.t_b), _fate(r.receivers_a, r.drops_a),
                              _fate(r.receivers_b, r.drops_b)))
    m = _arrivals(a).merge(_arrivals(b), on=["node", "socket", "j"], how="outer",
                           suffixes=("_a", "_b"))
    for r in m.itertuples(index=False):
        if r.origin_a != r.origin_b:
            out.append(Divergence("arrival", str(r.node), str(r.socket), int(r.j),
                                  float(r.t_a), float(r.t_b), _origin(r.origin_a),
                                  _origin(r.origin_b)))
    return out


def _origin(origin: Any) -> str:
    return f"from {origin}" if isinstance(origin, str) else "not received"


def _sequences(events: pd.DataFrame) -> pd.DataFrame:
    rows = events[events["event"].isin(SEQUENCE_EVENTS)].sort_values("t", kind="stable")
    what = rows["event"] + np.where(rows["detail"] != "", " " + rows["detail"], "")
    return rows.assign(j=rows.groupby("node", sort=False).cumcount(), what=what)[
        ["node", "j", "t", "what"]]


def _lifecycle_divergences(a: pd.DataFrame, b: pd.DataFrame) -> list[Divergence]:
    m = _sequences(a).merge(_sequences(b), on=["node", "j"], how="outer",
                            suffixes=("_a", "_b"))
    return [Divergence("lifecycle", str(r.node), "", int(r.j), float(r.t_a), float(r.t_b),
                       r.what_a if isinstance(r.what_a, str) else "nothing",
                       r.what_b if isinstance(r.what_b, str) else "nothing")
            for r in m.itertuples(index=False) if r.what_a != r.what_b]


def _first(divergences: Sequence[Divergence]) -> Divergence | None:
    def key(d: Divergence) -> tuple[float, int, str, str, int]:
        times = [t for t in (d.t_a, d.t_b) if not math.isnan(t)]
        return (min(times, default=math.inf), KINDS.index(d.kind), d.node, d.socket, d.index)

    return min(divergences, key=key, default=None)


def counts_table(a: pd.DataFrame, b: pd.DataFrame, labels: tuple[str, str],
                 measures: Sequence[str]) -> pd.DataFrame:
    """Per (node, socket): each measure's count in a and in b and their difference (b − a);
    ``differs`` lists the measures that differ ("" when none)."""
    def counts(events: pd.DataFrame) -> pd.DataFrame:
        kinds = [_MEASURE_EVENT.get(m, m) for m in measures]
        rows = events[events["event"].isin(kinds)]
        table = (rows.groupby(["node", "socket", "event"]).size().unstack("event")
                 .reindex(columns=kinds).fillna(0).astype("int64"))
        return table.set_axis(list(measures), axis=1)

    ca, cb = counts(a), counts(b)
    index = ca.index.union(cb.index)
    ca, cb = ca.reindex(index).fillna(0).astype("int64"), cb.reindex(index).fillna(0).astype(
        "int64")
    out = pd.DataFrame(index=index)
    for m in measures:
        out[f"{m}_{labels[0]}"] = ca[m]
        out[f"{m}_{labels[1]}"] = cb[m]
        out[f"{m}_diff"] = cb[m] - ca[m]
    out["differs"] = [",".join(m for m in measures if ca.at[i, m] != cb.at[i, m])
                      for i in index]
    return out.reset_index().astype({"node": "str", "socket": "str"})


def diff_events(a: pd.DataFrame, b: pd.DataFrame, labels: tuple[str, str] = ("sim", "live"),
                record: str | None = None) -> TraceDiff:
    """Align two event logs (their first repetitions) and diff them. ``record``: the level
    to compare at (default: messages when both logs hold message events, else lifecycle)."""
    notes = [f"{lab}: {ev['rep'].nunique()} repetitions; compared the first"
             for lab, ev in zip(labels, (a, b), strict=True)
             if "rep" in ev and ev["rep"].nunique() > 1]
    a, b = first_rep(a), first_rep(b)
    if record is None:
        record = "messages" if has_messages(a) and has_messages(b) else "lifecycle"
    if record == "messages":
        divergences = _message_divergences(a, b)
        counts = counts_table(a, b, labels, MESSAGE_MEASURES)
    else:
        notes.append("record level 'lifecycle': no message events to align; compared each "
                     "node's behaviour events (start, stop, marks, crash, restart) in order")
        divergences = _lifecycle_divergences(a, b)
        counts = counts_table(a, b, labels, LIFECYCLE_MEASURES)
    return TraceDiff(labels, record, _first(divergences), len(divergences), counts, notes)


# --- text -------------------------------------------------------------------------------------


def format_counts(diff: TraceDiff) -> str:
    """The counts table as text: measures that are 0 everywhere left out, ``Δ`` = b − a, and
    a ``*`` in the last column on each row that differs."""
    table = diff.counts
    if table.empty:
        return "(no events to count)"
    shown = pd.DataFrame({"node": table["node"],
                          "socket": table["socket"].replace("", "-")})
    for m in _measures(table):
        cols = [f"{m}_{diff.labels[0]}", f"{m}_{diff.labels[1]}"]
        if not (table[cols] == 0).all().all():
            shown[f"{m} {diff.labels[0]}"] = table[cols[0]]
            shown[f"{m} {diff.labels[1]}"] = table[cols[1]]
            shown[f"Δ{m}"] = table[f"{m}_diff"].map(lambda v: f"{v:+d}" if v else "0")
    shown["differs"] = ["* " + d if d else "" for d in table["differs"]]
    return str(shown.to_string(index=False))


def _measures(table: pd.DataFrame) -> list[str]:
    return [c[: -len("_diff")] for c in table.columns if c.endswith("_diff")]


def format_diff(diff: TraceDiff) -> str:
    lines = [f"compared {diff.labels[0]} with {diff.labels[1]} at record level '{diff.record}'"]
    lines += [f"note: {n}" for n in diff.notes]
    if diff.first is None:
        lines.append("first divergence: none")
    else:
        lines.append(f"first divergence: {diff.first.describe(diff.labels)}")
        lines.append(f"{diff.divergences} divergence(s) in all")
    lines += ["", format_counts(diff)]
    return "\n".join(lines)


def run_labels(meta_a: Mapping[str, Any], meta_b: Mapping[str, Any]) -> tuple[str, str]:
    """The two logs' names: their backends, told apart as BACKEND-a / -b when equal."""
    a, b = str(meta_a.get("backend", "a")), str(meta_b.get("backend", "b"))
    return (a, b) if a != b else (f"{a}-a", f"{b}-b")
