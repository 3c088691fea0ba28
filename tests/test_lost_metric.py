"""#21 item 7 at the command line: ``lost`` is defined when a subscriber received nothing, and
``zsim run`` prints whole counts as integers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

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
