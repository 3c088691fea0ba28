"""A set of repetitions spreads its per-run draws evenly (zsim.seeds.Stratum)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zsim.analysis.compare import rep_seeds, repetitions
from zsim.catalog import scenario_path
from zsim.scenario import load_scenario
from zsim.seeds import Stratum, run_quantile
from zsim.sim import simulate
from zsim.sim.world import host_speed_factor


def test_each_repetition_takes_its_own_slice_of_each_draw() -> None:
    n = 8
    for stream in (4, 5):
        q = [run_quantile(s, stream, st) for s, st in repetitions(3, n)]
        assert sorted(int(x * n) for x in q) == list(range(n))  # one per slice
    # the streams order their slices differently: a run's two draws are not paired
    slices = [[int(run_quantile(s, stream, st) * n) for s, st in repetitions(3, n)]
              for stream in (4, 5)]
    assert slices[0] != slices[1]
    # within its slice, where the quantile lies is the seed's own draw
    s, st = repetitions(3, n)[0]
    assert abs(run_quantile(s, 4, st) * n % 1 - run_quantile(s, 4)) < 1e-9


def test_stratified_sets_have_means_near_the_distributions() -> None:
    # the host-speed factor's mean over 8 repetitions, over 50 root seeds: independent draws
    # miss 1 by 0.16 / sqrt(8) = 5.7% (one SE); stratified ones by about a quarter of that
    # (over 200 roots: SDs 0.053 and 0.014), what is left being the spread within the
    # outermost slices
    def means(stratified: bool) -> np.ndarray:
        return np.array([np.mean([host_speed_factor(0.16, run_quantile(
            s, 4, st if stratified else None)) for s, st in repetitions(root, 8)])
            for root in range(50)])
    independent, stratified = means(False), means(True)
    assert independent.std() > 0.04
    assert abs(stratified.mean() - 1) < 0.005
    assert stratified.std() < independent.std() / 3


def test_a_stratified_run_is_reproducible_and_says_which_it_was() -> None:
    sc = load_scenario(scenario_path("slow_subscriber"),
                       {"transport": "tcp", "hwm": 10, "count": 400, "service": 0.0005})
    sc = sc.model_copy(update={"model": sc.model.model_copy(update={"host_speed_cv": 0.3})})
    seed = rep_seeds(0, 4)[2]
    a = simulate(sc, seed=seed, stratum=Stratum(0, 2, 4))
    b = simulate(sc, seed=seed, stratum=Stratum(0, 2, 4))
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    assert a.meta["stratum"] == [2, 4]
    assert a.meta["host_speed_factor"] == host_speed_factor(
        0.3, run_quantile(seed, 4, Stratum(0, 2, 4)))
    alone = simulate(sc, seed=seed)
    assert alone.meta["stratum"] is None
    assert alone.meta["host_speed_factor"] != a.meta["host_speed_factor"]
