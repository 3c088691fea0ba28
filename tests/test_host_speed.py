"""A host whose speed differs from run to run: one cost factor per run (CostModel.host_speed_cv)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zsim.catalog import scenario_path
from zsim.costs import HOST_SPEED_COSTS, CostModel
from zsim.scenario import load_scenario
from zsim.seeds import run_quantile
from zsim.sim import simulate
from zsim.sim.world import host_speed_factor


def test_no_spread_leaves_every_run_at_the_profiles_speed() -> None:
    assert {host_speed_factor(0.0, q) for q in (0.01, 0.5, 0.99)} == {1.0}
    model = CostModel()
    assert model.slowed(1.0) is model


def test_the_factor_is_a_seeded_lognormal_with_mean_one_and_the_given_spread() -> None:
    draws = np.array([host_speed_factor(0.2, run_quantile(s, 4)) for s in range(4000)])
    assert run_quantile(7, 4) == run_quantile(7, 4)
    assert len(set(draws[:50])) == 50
    assert abs(draws.mean() - 1.0) < 0.01  # 4000 draws: the mean's SE is 0.2 / 63 = 0.003
    assert abs(draws.std() / draws.mean() - 0.2) < 0.01


def test_slowed_scales_the_cpu_costs_and_nothing_else() -> None:
    model = CostModel(app_drop_saving_s=1e-6, app_record_s=2e-6, command_post_s=3e-6,
                      io_wake_cpu_s=4e-6, app_sleep_late_s=5e-6, io_strand_s=1e-3)
    want = {name: value * 1.5 if name in HOST_SPEED_COSTS else value
            for name, value in model.model_dump().items()}
    assert model.slowed(1.5).model_dump() == want
    assert want["command_interval_s"] == model.command_interval_s  # TSC ticks, not work


def test_a_run_is_the_run_of_its_profile_slowed_by_its_draw() -> None:
    sc = load_scenario(scenario_path("slow_subscriber"),
                       {"transport": "tcp", "hwm": 10, "count": 400, "service": 0.0005})
    model = sc.model.model_copy(update={"app_send_s": 6e-6, "host_speed_cv": 0.3})
    spread = simulate(sc.model_copy(update={"model": model}), seed=5, record="messages")
    factor = spread.meta["host_speed_factor"]
    assert factor != 1.0
    fixed = model.slowed(factor).model_copy(update={"host_speed_cv": 0.0})
    same = simulate(sc.model_copy(update={"model": fixed}), seed=5, record="messages")
    pd.testing.assert_frame_equal(spread.events, same.events)
    pd.testing.assert_frame_equal(spread.metrics, same.metrics)
    # the publisher's burst (all but the first HWM's sends dropped) takes its CPU per send
    # times the factor
    base = simulate(sc.model_copy(update={"model": model.model_copy(
        update={"host_speed_cv": 0.0})}), seed=5, record="messages")
    ratio = spread.metric("publisher", "cpu_s") / base.metric("publisher", "cpu_s")
    assert abs(ratio / factor - 1) < 0.02, (ratio, factor)
