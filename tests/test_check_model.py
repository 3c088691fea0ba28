"""The validation matrix's judging: statistics, tolerances, and comparing workers by rank."""

from __future__ import annotations

import pandas as pd

from zsim.analysis.check_model import Check, Criterion, Runner, judge, run_matrix
from zsim.catalog import scenario_path
from zsim.records import RunResult
from zsim.scenario import load_scenario
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum
from zsim.sim import simulate

TASKS = Criterion("worker-*", "tasks", "exact", 0.0, rank_by="first_task")
CHECK = Check("pipeline", "pipeline", {"workers": [3]}, {}, (TASKS,), reps=1)


def _rows(backend: str, runs: list[dict[str, tuple[int, int]]]) -> list[tuple]:
    """runs: per rep, node → (first_task, tasks)."""
    rows = []
    for rep, run in enumerate(runs):
        for node, (first, tasks) in run.items():
            rows.append(("pipeline", "workers=3", backend, rep, node, "first_task", first))
            rows.append(("pipeline", "workers=3", backend, rep, node, "tasks", tasks))
    return rows


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["check", "point", "backend", "rep", "node", "metric",
                                       "value"])


def test_workers_are_compared_by_the_order_they_were_served() -> None:
    sim = [{"worker-1": (0, 34), "worker-2": (1, 33), "worker-3": (2, 33)}] * 2
    # live: another worker connected first in each run, same counts per serving order
    live = [{"worker-2": (0, 34), "worker-1": (1, 33), "worker-3": (2, 33)},
            {"worker-3": (0, 34), "worker-2": (1, 33), "worker-1": (2, 33)}]
    table = judge(_frame(_rows("sim:default", sim) + _rows("live", live)), [CHECK])
    assert list(table.node) == ["worker served #1", "worker served #2", "worker served #3"]
    assert list(table.live) == [34, 33, 33]
    assert set(table["verdict[default]"]) == {"pass"}


def test_a_different_count_for_a_serving_rank_fails() -> None:
    sim = [{"worker-1": (0, 34), "worker-2": (1, 33), "worker-3": (2, 33)}]
    live = [{"worker-2": (0, 33), "worker-1": (1, 34), "worker-3": (2, 33)}]
    table = judge(_frame(_rows("sim:default", sim) + _rows("live", live)), [CHECK])
    assert list(table["verdict[default]"]) == ["FAIL", "FAIL", "pass"]


def test_the_simulated_pipeline_serves_in_round_robin_order() -> None:
    sc = load_scenario(scenario_path("pipeline"), {"workers": 6, "sync": True})
    m = simulate(sc, seed=3).metrics
    first = m[m.metric == "first_task"].set_index("node").value
    tasks = m[m.metric == "tasks"].set_index("node").value
    served = [int(tasks[n]) for n in first.sort_values().index]
    assert sorted(first) == [0, 1, 2, 3, 4, 5]
    assert served == [17, 17, 17, 17, 16, 16]


def test_median_ci_uses_the_order_statistics_that_cover_95_percent() -> None:
    from zsim.analysis.stats import median_ci

    x = list(range(1, 21))  # n = 20: x(6) and x(15) cover 95.9%; x(7), x(14) only 88.5%
    assert median_ci(x) == (10.5, 6.0, 15.0)
    assert median_ci([5, 1, 4, 2, 6, 3]) == (3.5, 1.0, 6.0)  # n = 6: min..max cover 96.9%
    med, lo, hi = median_ci([1, 2, 3, 4, 5])  # n = 5: min..max cover only 93.8%
    assert med == 3 and lo != lo and hi != hi


LOSS = Criterion("subscriber", "lost", "median", 0.30)
JOIN = Check("slow_joiner", "slow_joiner", {"rate": [1000.0]}, {}, (LOSS,), reps=6)


def _losses(backend: str, values: list[float]) -> list[tuple]:
    return [("slow_joiner", "rate=1000.0", backend, k, "subscriber", "lost", v)
            for k, v in enumerate(values)]


def test_a_miss_within_the_live_spread_is_told_apart_from_one_beyond_it() -> None:
    from zsim.analysis.check_model import summary_lines

    live = [8, 9, 10, 10, 11, 14]  # median 10, 95% CI 8..14: ±30%
    near = _losses("sim:near", [14] * 6)  # +40%: beyond the 30% tolerance, inside tol + CI
    far = _losses("sim:far", [20] * 6)  # +100%: beyond both
    table = judge(_frame(_losses("live", live) + near + far), [JOIN])
    assert table.live_ci.tolist() == [0.3]
    assert table["verdict[near]"].tolist() == table["verdict[far]"].tolist() == ["FAIL"]
    assert summary_lines(table) == [
        "far: 0 pass, 1 FAIL (1 beyond the live 95% CI), 0 n/a of 1",
        "near: 0 pass, 1 FAIL (0 beyond the live 95% CI), 0 n/a of 1"]


def test_repetitions_go_round_the_grid() -> None:
    """Live repetition k of every point runs before repetition k + 1 of any: a drift of the
    host's speed spreads over all points instead of settling in the last ones."""
    order: list[tuple[str, str, int]] = []

    def runner(backend: str) -> Runner:
        def run(sc: Scenario, seed: int, stratum: Stratum) -> RunResult:
            order.append((backend, str(sc.params["workers"]), seed))
            return simulate(sc, seed, stratum=stratum)
        return run

    check = Check("pipeline", "pipeline", {"workers": [2, 3]}, {"sync": True}, (TASKS,), reps=2)
    values = run_matrix([check], [None], runner("sim"), runner("live"), seed=0)
    seeds = sorted({s for _, _, s in order}, key=[s for _, _, s in order].index)
    live = [(w, seeds.index(s)) for b, w, s in order if b == "live"]
    assert live == [("2", 0), ("3", 0), ("2", 1), ("3", 1)]
    assert len(values.groupby(["point", "backend", "rep"])) == 8


def test_every_checks_live_runs_come_first_each_in_its_phase() -> None:
    """A profile describes the host when it was calibrated: every check's live runs go before
    any simulation, in matrix order, each check's inside its own live_phase."""
    from contextlib import contextmanager

    events: list[str] = []

    def runner(backend: str) -> Runner:
        def run(sc: Scenario, seed: int, stratum: Stratum) -> RunResult:
            events.append(f"{backend} {sc.params['workers']}")
            return simulate(sc, seed, stratum=stratum)
        return run

    @contextmanager
    def phase(check: Check):  # type: ignore[no-untyped-def]
        events.append(f"enter {check.name}")
        yield
        events.append(f"leave {check.name}")

    first = Check("first", "pipeline", {"workers": [2]}, {"sync": True}, (TASKS,), reps=1)
    second = Check("second", "pipeline", {"workers": [3]}, {"sync": True}, (TASKS,), reps=1)
    run_matrix([first, second], [None], runner("sim"), runner("live"), 0, lambda: None, phase)
    assert events == ["enter first", "live 2", "leave first", "enter second", "live 3",
                      "leave second", "sim 2", "sim 3"]


def test_the_matrix_runs_the_drift_sensitive_checks_first() -> None:
    from zsim.analysis.check_model import MATRIX

    assert [c.name for c in MATRIX][:2] == ["reqrep", "throughput"]


def test_the_help_states_each_checks_repetitions() -> None:
    from click.testing import CliRunner

    from zsim.analysis.check_model import MATRIX
    from zsim.cli import cli

    text = " ".join(CliRunner().invoke(cli, ["check-model", "--help"]).output.split())
    for check in MATRIX:
        live = (f"{check.reps} reps" if check.live_max == check.reps else
                f"{check.reps}-{check.live_max} live reps")
        assert live in text, check.name
        if check.sim_count != check.reps:
            assert f"{check.sim_count} sim reps" in text, check.name


def test_a_noisy_live_point_gets_more_runs_and_a_steady_one_stops() -> None:
    """Live runs of a point continue until the 95% CI of its mean is within half the
    tolerance (or max_reps); the model runs its own, stratified, number of repetitions."""
    from zsim.records import metrics_frame

    calls: dict[str, list[Stratum]] = {"sim": [], "live": []}
    noisy = iter([80.0, 120.0] * 20)

    def run(backend: str) -> Runner:
        def go(sc: Scenario, seed: int, stratum: Stratum) -> RunResult:
            calls[backend].append(stratum)
            value = next(noisy) if sc.params["workers"] == 2 and backend == "live" else 100.0
            return RunResult(pd.DataFrame(), metrics_frame([("sink", "makespan_s", value)]))
        return go

    crit = Criterion("sink", "makespan_s", "mean", 0.10)
    check = Check("pipeline", "pipeline", {"workers": [2, 3]}, {}, (crit,), reps=3,
                  max_reps=9, sim_reps=5)
    values = run_matrix([check], [None], run("sim"), run("live"), seed=0)
    live = values[values.backend == "live"].groupby("point").rep.nunique().to_dict()
    # 80/120 alternating: the CI of the mean is ±61% at 3 runs and ±16% at 9, never within
    # half of 10%: all 9; a point whose runs all agree stops at the least
    assert live == {"workers=2": 9, "workers=3": 3}
    assert [s.index for s in calls["sim"]] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert {s.count for s in calls["sim"]} == {5}
    table = judge(values, [check])
    assert table.set_index("point").live_n.to_dict() == {"workers=2": 9, "workers=3": 3}


def test_a_point_stops_once_its_mean_is_pinned_down() -> None:
    from zsim.analysis.check_model import settled
    from zsim.records import metrics_frame

    crit = Criterion("sink", "makespan_s", "mean", 0.20)
    check = Check("pipeline", "pipeline", {"workers": [2]}, {}, (crit,), reps=2, max_reps=20)

    def runs(*values: float) -> list[RunResult]:
        return [RunResult(pd.DataFrame(), metrics_frame([("sink", "makespan_s", v)]))
                for v in values]
    assert settled(check, runs(100, 100))
    assert settled(check, runs(0, 0))  # a zero mean has no relative CI, but nothing varies
    assert not settled(check, runs(90, 110))  # ±64% at 2 runs (t = 12.7)
    assert settled(check, runs(*[90, 110] * 6))  # ±6.4% at 12 runs, under half of 20%
