"""Metrics derived from a run's event log, the same for both backends.

``lost`` needs message events at every record level. A run that records only lifecycle
events still logs the few it needs (its join rows: every send on a PUB or XPUB socket, and
each node's first receive on a SUB socket), derives the metric, and then leaves them out of
the log it returns (``lifecycle_log``).
"""

from __future__ import annotations

import pandas as pd

from zsim.records import MESSAGE_EVENTS
from zsim.scenario.model import NodeSpec, Scenario

PUBLISHING_TYPES = ("PUB", "XPUB")


def publishing_sockets(spec: NodeSpec) -> frozenset[str]:
    """The node's PUB and XPUB sockets: their sends are join rows."""
    return frozenset(s.name for s in spec.sockets if s.type in PUBLISHING_TYPES)


def subscribing_sockets(spec: NodeSpec) -> frozenset[str]:
    """The node's SUB sockets: the node's first receive on one of them is a join row."""
    return frozenset(s.name for s in spec.sockets if s.type == "SUB")


def lifecycle_log(events: pd.DataFrame) -> pd.DataFrame:
    """The log without its message events: what a run at record = "lifecycle" returns."""
    return events[~events.event.isin(MESSAGE_EVENTS)].reset_index(drop=True)


def _prefix_match(subscriptions: list[str], topic: str) -> bool:
    return any(topic.startswith(s) for s in subscriptions)


def wired_publishers(scenario: Scenario, node: str) -> set[str]:
    """The nodes whose PUB or XPUB sockets share an endpoint with ``node``'s SUB sockets (one
    binds it, the other connects to it): the streams a SUB joins."""
    mine = {ep for s in scenario.nodes[node].sockets if s.type == "SUB"
            for ep in (*s.bind, *s.connect)}
    return {name for name, spec in scenario.nodes.items() for s in spec.sockets
            if s.type in PUBLISHING_TYPES and mine.intersection((*s.bind, *s.connect))}


def joiner_loss(events: pd.DataFrame, scenario: Scenario, node: str) -> float | None:
    """Messages a SUB node missed after joining: those published (matching its
    subscriptions) after its first connect and before the send of its first received message,
    counted in that message's stream: its sender's own PUB/XPUB sends, so a publisher behind a
    proxy is counted once, at its source (else the wired publisher's forwards). When it
    received nothing: every matching message its wired publishers (a proxy's XPUB, say) sent
    after it connected. None without a connect, or when the first message's send is not
    logged."""
    spec = scenario.nodes[node]
    subs = [t for s in spec.sockets if s.type == "SUB" for t in s.subscribe]
    mine = events[events.node == node]
    connects = mine[mine.event == "connect"]
    recvs = mine[(mine.event == "recv") & mine.socket.isin(subscribing_sockets(spec))]
    if connects.empty:
        return None
    t_join = connects.t.min()
    published = _published(events, scenario)
    wired = published[published.node.isin(wired_publishers(scenario, node))]
    if recvs.empty:
        window = wired[wired.t >= t_join]
        return float(sum(_prefix_match(subs, str(t)) for t in window.topic))
    first = recvs.iloc[0]
    stream = published[published.sender == first.sender]
    origin = stream[stream.node == first.sender]
    sends = origin if not origin.empty else stream[stream.node.isin(wired.node.unique())]
    t_first_sent = sends[sends.seq == first.seq].t
    if t_first_sent.empty:
        return None
    window = sends[(sends.t >= t_join) & (sends.t < t_first_sent.iloc[0])]
    return float(sum(_prefix_match(subs, str(t)) for t in window.topic))


def _published(events: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The sends on PUB and XPUB sockets (the join rows' sends)."""
    sends = events[events.event == "send"]
    keep = pd.Series(False, index=sends.index)
    for name, spec in scenario.nodes.items():
        keep |= (sends.node == name) & sends.socket.isin(publishing_sockets(spec))
    return sends[keep]


def derived_rows(events: pd.DataFrame, scenario: Scenario) -> list[tuple[str, str, float]]:
    """``lost`` for every SUB node, from a log that has at least the join rows."""
    if events.empty or not (events.event == "send").any():
        return []
    rows = []
    for name, spec in scenario.nodes.items():
        if any(s.type == "SUB" for s in spec.sockets):
            lost = joiner_loss(events, scenario, name)
            if lost is not None:
                rows.append((name, "lost", lost))
    return rows
