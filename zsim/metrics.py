"""Metrics derived from a run's event log, the same for both backends."""

from __future__ import annotations

import pandas as pd

from zsim.scenario.model import Scenario


def _prefix_match(subscriptions: list[str], topic: str) -> bool:
    return any(topic.startswith(s) for s in subscriptions)


def wired_publishers(scenario: Scenario, node: str) -> set[str]:
    """The nodes whose PUB or XPUB sockets share an endpoint with ``node``'s SUB sockets (one
    binds it, the other connects to it): the streams a SUB joins."""
    mine = {ep for s in scenario.nodes[node].sockets if s.type == "SUB"
            for ep in (*s.bind, *s.connect)}
    return {name for name, spec in scenario.nodes.items() for s in spec.sockets
            if s.type in ("PUB", "XPUB") and mine.intersection((*s.bind, *s.connect))}


def joiner_loss(events: pd.DataFrame, scenario: Scenario, node: str) -> float | None:
    """Messages a SUB node missed after joining: published (matching its subscriptions) after
    its first connect and before the send of its first received message, by the publishers it
    heard from; when it received nothing, every matching message its wired publishers sent
    after it connected. None without message-level events or without a connect."""
    subs = [t for s in scenario.nodes[node].sockets if s.type == "SUB" for t in s.subscribe]
    mine = events[events.node == node]
    connects = mine[mine.event == "connect"]
    recvs = mine[mine.event == "recv"]
    if connects.empty:
        return None
    t_join = connects.t.min()
    if recvs.empty:
        publishers = wired_publishers(scenario, node)
        window = events[(events.event == "send") & events.node.isin(publishers)
                        & (events.t >= t_join)]
        return float(sum(_prefix_match(subs, str(t)) for t in window.topic))
    first = recvs.iloc[0]
    sends = events[(events.event == "send") & (events.sender == first.sender)]
    t_first_sent = sends[sends.seq == first.seq].t
    if t_first_sent.empty:
        return None
    window = sends[(sends.t >= t_join) & (sends.t < t_first_sent.iloc[0])]
    return float(sum(_prefix_match(subs, str(t)) for t in window.topic))


def derived_rows(events: pd.DataFrame, scenario: Scenario) -> list[tuple[str, str, float]]:
    """``lost`` for every SUB node, when the log has message events."""
    if events.empty or not (events.event == "send").any():
        return []
    rows = []
    for name, spec in scenario.nodes.items():
        if any(s.type == "SUB" for s in spec.sockets):
            lost = joiner_loss(events, scenario, name)
            if lost is not None:
                rows.append((name, "lost", lost))
    return rows
