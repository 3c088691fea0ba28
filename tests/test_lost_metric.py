"""#21 item 7: ``lost`` is defined when a subscriber received nothing, at either record level
and behind a proxy, and ``zsim run`` prints whole counts as integers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from zsim.catalog import scenario_path
from zsim.records import MESSAGE_EVENTS
from zsim.scenario import load_scenario
from zsim.sim.run import simulate

# slow_joiner cut short: the publisher's last sends (t = 0.0500, 0.0501 s) go out just as the
# subscriber connects (t = 0.05 s), before its handshake completes, so it receives nothing
_ARGS = ["slow_joiner", "--seed", "1", "--set", "duration=0.0502", "--record", "messages"]


def _zsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zsim.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_a_subscriber_that_received_nothing_lost_what_was_published_after_it_connected(
        tmp_path: Path) -> None:
    done = _zsim("run", *_ARGS, "--out", str(tmp_path / "r"))
    events = pd.read_parquet(tmp_path / "r" / "events.parquet")
    metrics = pd.read_parquet(tmp_path / "r" / "metrics.parquet")
    value = metrics.set_index(["node", "metric"]).value
    t_join = events[(events.node == "subscriber") & (events.event == "connect")].t.min()
    after = events[(events.node == "publisher") & (events.event == "send")
                   & (events.t >= t_join)]
    assert value["subscriber", "received"] == 0
    assert len(after) == 2  # counted from the log itself, not from the metric
    assert value["subscriber", "lost"] == 2
    assert done.returncode == 0, done.stderr  # the subscriber ends on its idle timeout


def test_run_prints_whole_counts_as_integers_and_times_as_figures() -> None:
    out = _zsim("run", *_ARGS).stdout
    rows = {tuple(line.split()[:2]): line.split()[2] for line in out.splitlines()
            if len(line.split()) == 3}
    assert rows["publisher", "sent"] == "502"
    assert rows["subscriber", "lost"] == "2"
    assert rows["subscriber", "received"] == "0"
    assert "." in rows["*", "sim_time_s"]


# --- lost at both record levels ----------------------------------------------------------------

PROXIED = """
[run]
stop_after = ["subscriber"]
until = 30.0
record = "{record}"

[nodes.publisher]
behaviour = "publisher"
params = {{ rate = 10000.0, count = 2000, size = 16 }}
sockets = [{{ name = "pub", type = "PUB", connect = ["tcp://proxy:5557"] }}]

[nodes.proxy]
behaviour = "proxy"
sockets = [
  {{ name = "frontend", type = "XSUB", bind = ["tcp://proxy:5557"] }},
  {{ name = "backend", type = "XPUB", bind = ["tcp://proxy:5558"] }},
]

[nodes.subscriber]
behaviour = "subscriber"
start = {{ at = 0.05 }}
params = {{ idle_timeout = 0.5 }}
sockets = [{{ name = "sub", type = "SUB", connect = ["tcp://proxy:5558"], subscribe = [""] }}]
"""


def test_lost_is_the_same_at_both_record_levels_and_lifecycle_logs_no_messages() -> None:
    sc = load_scenario(scenario_path("slow_joiner"))
    for seed, lost in zip(range(1, 6), (2, 8, 5, 4, 10), strict=True):  # tests/test_seed_spread
        full, lean = (simulate(sc, seed=seed, record=r) for r in ("messages", "lifecycle"))
        assert full.metric("subscriber", "lost") == lean.metric("subscriber", "lost") == lost
        assert not lean.events.event.isin(MESSAGE_EVENTS).any()
        assert lean.events.equals(full.events[~full.events.event.isin(MESSAGE_EVENTS)]
                                  .reset_index(drop=True))


def test_behind_a_proxy_the_loss_is_counted_once_at_the_publisher(
        tmp_path: Path) -> None:
    runs = {}
    for record in ("messages", "lifecycle"):
        path = tmp_path / f"proxied_{record}.toml"
        path.write_text(PROXIED.format(record=record))
        runs[record] = simulate(load_scenario(path), seed=3)
    ev = runs["messages"].events
    first = ev[(ev.node == "subscriber") & (ev.event == "recv")].iloc[0]
    t_join = ev[(ev.node == "subscriber") & (ev.event == "connect")].t.min()
    published = ev[(ev.node == "publisher") & (ev.event == "send")]
    t_first = published[published.seq == first.seq].t.iloc[0]
    expected = int(((published.t >= t_join) & (published.t < t_first)).sum())
    # the PUB sends into nothing until the subscription has come up through the proxy
    assert expected > 0
    forwarded = ev[(ev.node == "proxy") & (ev.event == "send")]
    assert len(forwarded) > 0 and forwarded.sender.eq("publisher").all()
    # counted at the source, not a second time in the proxy's forwards
    assert runs["messages"].metric("subscriber", "lost") == expected
    assert runs["lifecycle"].metric("subscriber", "lost") == expected


def test_run_at_record_lifecycle_prints_lost() -> None:
    out = _zsim("run", "slow_joiner", "--seed", "2", "--record", "lifecycle").stdout
    rows = {tuple(line.split()[:2]): line.split()[2] for line in out.splitlines()
            if len(line.split()) == 3}
    assert rows["subscriber", "lost"] == "8"  # as at record = "messages" (seed 2 above)
