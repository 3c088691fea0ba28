"""The kernel's liveness invariant, and the case that broke it: a lost activate_write.

At HWM 1 a worker's receiving engine found its pipe full and, while it settled its wake-up,
the worker's activate_write came in; the engine then waited for one that had already come,
holding 24 of 100 tasks for ever (the run ended at 2.08 s with the ventilator blocked).
Recording every message shifted the timing enough to hide it, so the log level changed the
outcome. Real ZeroMQ never loses a task here: commands wait in the I/O thread's mailbox.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from zsim.scenario import load_scenario
from zsim.sim import simulate

CASE = Path(__file__).parent / "cases" / "stranded"


@pytest.fixture
def stranded_case(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(CASE))  # its behaviour module, pipeline_beh
    return CASE


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_task_arrives_at_both_record_levels_and_the_level_changes_nothing(
        stranded_case: Path, seed: int) -> None:
    sc = load_scenario(stranded_case / "pipeline.toml", {"hwm": 1},
                       str(stranded_case / "profile-2core-vm.json"))
    runs = {rec: simulate(sc, seed=seed, record=rec) for rec in ("lifecycle", "messages")}
    for r in runs.values():
        assert r.metric("vent", "received") == 100
        assert r.meta["stranded"] == [] and r.meta["problems"] == []
    lifecycle, messages = (runs[k] for k in ("lifecycle", "messages"))
    assert lifecycle.metrics.equals(messages.metrics)
    kept = messages.events[~messages.events.event.isin(["send", "recv", "drop"])]
    assert kept.reset_index(drop=True).equals(lifecycle.events.reset_index(drop=True))
    assert "pipeline_beh" in sys.modules
