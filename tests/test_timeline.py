"""The run timeline shows what the records say: the data behind ``timeline_figure`` (from
``timeline_data``) against the seeded sim runs' events of shipped scenarios, and the figure's
lines against that data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.lines import Line2D

from zsim.analysis import frames
from zsim.analysis.timeline import MARKERS, timeline_data, timeline_figure
from zsim.catalog import scenario_path
from zsim.records import RunResult
from zsim.scenario import load_scenario
from zsim.sim import simulate


def run(name: str) -> RunResult:
    return simulate(load_scenario(scenario_path(name)), seed=1)


def counts(events: pd.DataFrame, kind: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in events[events.event == kind].groupby("node").size().items()}


def steps(lines: list[Line2D]) -> list[Line2D]:
    """The data lines of a panel: not the vertical lifecycle lines (one x value)."""
    return [ln for ln in lines if np.unique(np.asarray(ln.get_xdata())).size > 1]


@pytest.mark.parametrize("name", ["pipeline", "slow_subscriber", "server_crash", "slow_joiner"])
def test_message_panels_hold_every_send_receive_and_drop(name: str) -> None:
    r = run(name)
    data = timeline_data(r.events, r.meta)
    for row, kind in (("sent", "send"), ("received", "recv"), ("dropped", "drop")):
        assert {n: t.size for n, t in data.counts[row].items()} == counts(r.events, kind), row
        for node, t in data.counts[row].items():
            ev = r.events[(r.events.event == kind) & (r.events.node == node)]
            assert np.array_equal(t, np.sort(ev.t.to_numpy(dtype=float)))
    assert data.queue.equals(frames.queue_depth(r.events))


def test_figure_draws_one_step_line_per_node_up_to_its_count() -> None:
    r = run("slow_subscriber")
    fig = timeline_figure(r.events, r.meta)
    sent_ax, recv_ax, queue_ax, drop_ax = fig.axes[:4]
    for ax, kind in ((sent_ax, "send"), (recv_ax, "recv"), (drop_ax, "drop")):
        tops = sorted(int(np.max(line.get_ydata())) for line in steps(ax.get_lines()))
        assert tops == sorted(counts(r.events, kind).values()), kind
    assert counts(r.events, "drop")  # the slow subscriber's publisher drops at its HWM
    pipes = frames.queue_depth(r.events).groupby(["src", "dst"]).ngroups
    assert len(steps(queue_ax.get_lines())) == pipes


@pytest.mark.parametrize(("name", "events"), [("server_crash", ("crash",)),
                                              ("slow_joiner", ("connect", "connected",
                                                               "accepted"))])
def test_lifecycle_markers_are_the_records(name: str, events: tuple[str, ...]) -> None:
    r = run(name)
    data = timeline_data(r.events, r.meta)
    for m in MARKERS:
        rows = r.events[r.events.event == m.event]
        assert {n: t.size for n, t in data.markers[m.event].items()} == counts(r.events,
                                                                               m.event)
        assert sum(t.size for t in data.markers[m.event].values()) == len(rows)
    for kind in events:
        assert counts(r.events, kind), (name, kind)  # the scenario has them ...
        assert data.markers[kind]  # ... and the lanes show them


def test_lifecycle_level_draws_no_message_data() -> None:
    s = load_scenario(scenario_path("pipeline"))
    s = s.model_copy(update={"run": s.run.model_copy(update={"record": "lifecycle"})})
    r = simulate(s, seed=1)
    data = timeline_data(r.events, r.meta)
    assert all(not v for v in data.counts.values()) and data.queue.empty
    assert data.markers["connect"]
