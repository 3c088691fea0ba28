"""Per-call cost spread (``app_cost_cv``): seeded, mean-preserving, and what it is for."""

from __future__ import annotations

import numpy as np
import pytest

from zsim.catalog import scenario_path
from zsim.costs import CostModel
from zsim.records import RunResult
from zsim.scenario import load_scenario
from zsim.sim import simulate
from zsim.sim.node import CostSpread

# a publisher whose ~100 sends fill one command interval, against a 100-message pipe: at each
# throttled command processing it learns that everything was read and gets a full 100 again
BURST = {"transport": "tcp", "hwm": 100, "size": 10, "count": 2000, "service": 0.0005}


def _run(cv: float, seed: int = 0) -> RunResult:
    sc = load_scenario(scenario_path("slow_subscriber"), BURST)
    model = sc.model.model_copy(update={"app_cost_cv": cv, "app_send_s": 14.26e-6,
                                        "command_interval_s": 1.429e-3})
    return simulate(sc.model_copy(update={"model": model}), seed=seed)


def test_factors_have_mean_one_and_the_asked_spread() -> None:
    spread = CostSpread(np.random.default_rng(1), 0.3)
    x = np.array([spread.factor() for _ in range(20_000)])
    assert abs(x.mean() - 1) < 0.01 and abs(x.std() / x.mean() - 0.3) < 0.01


def test_same_seed_same_records() -> None:
    a, b = _run(0.3, seed=4), _run(0.3, seed=4)
    assert a.events.equals(b.events)


def test_spread_breaks_the_phase_lock_of_identical_calls() -> None:
    # identical calls: every interval holds the same ~100 sends, about one too many; with a 30%
    # spread some intervals hold many more (their surplus is dropped) and some fewer
    # (their room is not carried over): ten times the drops
    assert _run(0.0).metric("publisher", "dropped") == 19
    assert [_run(0.3, seed).metric("publisher", "dropped") for seed in range(3)] == [226, 320, 179]


def test_a_send_right_after_a_timed_sleep_pays_its_mean_cost() -> None:
    # slow_joiner's publisher at 1000 msg/s: send 0 follows no sleep and draws its factor; every
    # later one wakes on time and costs exactly 10 µs (the live paced sends' times spread by
    # their sleep's lateness, app_sleep_late_*, which is measured on them)
    sc = load_scenario(scenario_path("slow_joiner"),
                       {"rate": 1000.0, "duration": 0.005, "join_at": 0.5})
    model = CostModel.zero().model_copy(update={"app_send_s": 10e-6, "app_cost_cv": 0.5})
    ev = simulate(sc.model_copy(update={"model": model}), seed=0).events
    t = ev[(ev.node == "publisher") & (ev.event == "send")].t.to_numpy()
    assert abs(t[0] - 10e-6) > 1e-7  # its own draw
    assert t[1:] == pytest.approx([k * 1e-3 + 10e-6 for k in range(1, 5)], abs=1e-12)
