"""Same seed → same records, over every shipped scenario: the guard for refactors.

A refactor leaves these files alone; a commit that changes the model on purpose regenerates
them (see tests/golden_records.py) and its message says why.
"""

from __future__ import annotations

import json
import os

import pytest
from golden_records import RECORD_LEVELS, golden_path, run_digest, scenario_names, write_golden
from scenario_kit import shipped as shipped_scenario

from zsim.sim import simulate

UPDATE = os.environ.get("ZSIM_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", scenario_names())
def test_shipped_scenario_records_unchanged(name: str) -> None:
    if UPDATE:
        write_golden(name)
    path = golden_path(name)
    assert path.is_file(), f"no golden file for {name}: run with ZSIM_UPDATE_GOLDEN=1"
    golden = json.loads(path.read_text())
    for record in RECORD_LEVELS:
        now = run_digest(name, record)
        want = golden[record]
        # counts and metrics first: they say what moved when a digest differs
        assert now["events_by_kind"] == want["events_by_kind"], (name, record)
        assert now["metrics"] == want["metrics"], (name, record)
        assert now["events_sha256"] == want["events_sha256"], (name, record)
        assert now["metrics_sha256"] == want["metrics_sha256"], (name, record)



def test_seeds_draw_what_varies_on_a_real_machine() -> None:
    # the handshake's measured jitter (the default profile's handshake_jitter_s, from
    # bench/handshake_spread.py) draws from the run's seed: the subscriber's connection
    # completes at a different time for each seed; the same seed gives the same records
    connected = set()
    for seed in range(1, 6):
        ev = simulate(shipped_scenario("slow_joiner"), seed=seed).events
        connected.add(float(ev[(ev.node == "subscriber") & (ev.event == "connected")].t.iloc[0]))
    assert len(connected) == 5
