"""#21 item 7: a metric the live backend cannot observe is absent (NaN), never 0, and compare
says so instead of printing a relative error against a fake zero."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from zsim.analysis.backends import get_backend
from zsim.analysis.compare import NOT_OBSERVABLE, build_table, format_table
from zsim.backend import RunOptions
from zsim.catalog import scenario_path
from zsim.records import MESSAGE_EVENTS
from zsim.scenario import load_scenario

pytestmark = pytest.mark.live


def test_live_drops_are_absent_and_compare_says_not_observable() -> None:
    sc = load_scenario(scenario_path("hello_reqrep"), {"requests": 3})
    sc = sc.model_copy(update={"compare": sc.compare.model_copy(
        update={"metrics": ["server.dropped", "client.sent"]})})
    options = RunOptions(seed=1, record="lifecycle", timeout=30)
    sim = get_backend("sim").run(sc, options)
    live = get_backend("live").run(sc, options)
    assert math.isnan(live.metric("server", "dropped"))
    assert math.isnan(live.metric("client", "destroyed"))
    assert sim.metric("server", "dropped") == 0.0
    assert live.metric("client", "sent") == 3.0  # what live can count, it still counts

    table = build_table(sc, [], [sim], [live])
    rows = dict(zip(zip(table.node, table.metric, strict=True), table.verdict, strict=True))
    assert rows[("server", "dropped")] == NOT_OBSERVABLE
    assert rows[("client", "sent")] != NOT_OBSERVABLE
    text = format_table(table)
    assert "not observable" in text
    assert "%" not in text.split("server")[1].splitlines()[0]  # no error against a fake 0


def test_live_lost_is_measured_at_record_lifecycle_and_the_log_keeps_no_messages() -> None:
    sc = load_scenario(scenario_path("slow_joiner"), {"duration": 0.1})
    result = get_backend("live").run(sc, RunOptions(seed=1, record="lifecycle", timeout=30))
    lost = result.metric("subscriber", "lost")
    # live slow_joiner at 10 k msg/s loses 7-29 messages (tcp and ipc, seeds 1-20, a join
    # window of 1.5-2.6 ms); a loaded host only widens the window, and 1000 were sent
    assert 1 <= lost <= 500
    # the subscriber connects at 0.05 s, halfway through the 1000 paced sends: what it got
    # and what it lost are the ~500 sent after that (50 = 5 ms of start and pacing lateness)
    assert abs(result.metric("subscriber", "received") + lost - 500) <= 50
    assert not result.events.event.isin(MESSAGE_EVENTS).any()


def test_a_live_run_table_labels_its_time_as_wall_clock() -> None:
    done = subprocess.run([sys.executable, "-m", "zsim.cli", "run", "hello_reqrep", "--backend",
                           "live", "--set", "requests=2", "--set", "service=0.001",
                           "--timeout", "30"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    names = [line.split()[1] for line in done.stdout.splitlines() if line.split()[:1] == ["*"]]
    assert "wall_time_s" in names and "sim_time_s" not in names
