"""Sweep summaries (quantiles, deadlines), report.html of every result kind, `zsim report`,
and the plots' hygiene (legends off the data, integer counts, units, wall-clock time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from zsim.analysis import plots, report
from zsim.analysis.compare import compare
from zsim.analysis.deadlines import Deadline, check_known, parse_deadline
from zsim.analysis.html_rebuild import rebuild
from zsim.analysis.stats import wilson_ci
from zsim.analysis.sweep import PARAM_PREFIX, summarize
from zsim.analysis.sweep_plots import metric_figure
from zsim.catalog import scenario_path
from zsim.errors import ZsimError
from zsim.records import RunResult
from zsim.scenario import load_scenario
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum
from zsim.sim import simulate

PIPELINE = str(scenario_path("pipeline"))


def zsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zsim.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False)


# --- statistics -------------------------------------------------------------------------------


def test_wilson_interval_matches_published_values() -> None:
    # Wilson score intervals at z = 1.96 (e.g. Newcombe 1998, Stat. Med. 17:857, table I)
    assert wilson_ci(0, 6)[1:] == pytest.approx((0.0, 0.3903), abs=1e-4)
    assert wilson_ci(5, 10)[1:] == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_ci(6, 6)[1:] == pytest.approx((0.6097, 1.0), abs=1e-4)
    assert all(np.isnan(wilson_ci(0, 0)))


def _results() -> pd.DataFrame:
    """Two grid points × 10 replications of one metric, values 0..9 and 10..19."""
    rows = [("sim", w, "sink", "makespan_s", float(10 * (w - 1) + k), k)
            for w in (1, 2) for k in range(10)]
    rows += [("sim", w, "sink", "tasks", 100.0, k) for w in (1, 2) for k in range(10)]
    return pd.DataFrame(rows, columns=["backend", PARAM_PREFIX + "w", "node", "metric", "value",
                                       "rep"])


def test_summary_carries_quantiles_and_deadline_probabilities() -> None:
    d = parse_deadline("makespan_s<=4")
    summary = summarize(_results(), ["w"], [d]).set_index([PARAM_PREFIX + "w", "metric"])
    first = summary.loc[(1, "makespan_s")]
    values = np.arange(10.0)
    assert [first.p5, first.p50, first.p95] == pytest.approx(
        list(np.quantile(values, [0.05, 0.5, 0.95])))
    assert first[d.column] == 0.5  # 0..4 of 0..9
    assert (first[f"{d.column} lo"], first[f"{d.column} hi"]) == wilson_ci(5, 10)[1:]
    assert summary.loc[(2, "makespan_s")][d.column] == 0.0  # 10..19: none within 4
    assert np.isnan(summary.loc[(1, "tasks")][d.column])  # not this deadline's metric


def test_deadline_parsing() -> None:
    assert parse_deadline("makespan_s<=2.5") == Deadline("makespan_s", "<=", 2.5)
    assert parse_deadline(" sink.lost >= 10 ") == Deadline("lost", ">=", 10.0, "sink")
    assert parse_deadline("sink.lost>=10").column == "P(sink.lost>=10)"
    for bad, why in (("makespan_s<2", "expected METRIC<=X"), ("makespan_s<=soon", "not a number"),
                     ("<=2", "expected")):
        with pytest.raises(ZsimError, match=why):
            parse_deadline(bad)
    with pytest.raises(ZsimError, match=r"unknown metric 'sink\.nope'"):
        check_known([parse_deadline("sink.nope<=1")], [("sink", "makespan_s")])


def test_sweep_refuses_an_unknown_deadline_metric_in_one_line(tmp_path: Path) -> None:
    done = zsim("sweep", PIPELINE, "--grid", "workers=1", "--reps", "1", "--jobs", "1",
                "--deadline", "makespn_s<=2", "--out", str(tmp_path / "s"))
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("zsim: error: --deadline: unknown metric 'makespn_s'"), done.stderr
    assert "makespan_s" in last  # the metrics it could have meant


# --- reports of every kind, and `zsim report` -------------------------------------------------


def sim_runner(sc: Scenario, seed: int, stratum: Stratum) -> RunResult:
    return simulate(sc, seed=seed, stratum=stratum)


def test_zsim_report_rebuilds_a_comparison_identically(tmp_path: Path) -> None:
    out = report.write_report(compare(load_scenario(PIPELINE), 2, 0, sim_runner, None),
                              tmp_path / "c")
    before = (out / "report.html").read_text()
    (out / "report.html").unlink()
    done = zsim("report", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "report.html").read_text() == before


def test_zsim_report_on_a_run_and_a_sweep(tmp_path: Path) -> None:
    simulate(load_scenario(PIPELINE), seed=3).save(tmp_path / "run")
    page = rebuild(tmp_path / "run").read_text()
    assert page.count("<tr>") >= 10 and "makespan_s" in page  # the metrics table
    assert page.count("<img ") == 1 and 'id="timeline"' in page
    assert (tmp_path / "run" / "timeline.png").is_file()
    done = zsim("run", PIPELINE, "--seed", "3", "--out", str(tmp_path / "cli"))
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "cli" / "report.html").read_text()
    (tmp_path / "cli" / "report.html").unlink()
    assert zsim("report", str(tmp_path / "cli")).returncode == 0
    assert (tmp_path / "cli" / "report.html").read_text() == written  # from the files alone
    sweep = tmp_path / "sweep"
    done = zsim("sweep", PIPELINE, "--grid", "workers=1,2", "--reps", "2", "--jobs", "1",
                "--deadline", "makespan_s<=3", "--out", str(sweep))
    assert done.returncode == 0, done.stderr
    first = (sweep / "report.html").read_text()
    assert "P(makespan_s&lt;=3)" in first and "<th>p95</th>" in first
    rebuild(sweep)
    assert (sweep / "report.html").read_text() == first  # drawn from the files alone


def test_zsim_report_refuses_what_is_not_a_zsim_result(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    done = zsim("report", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "not a zsim result directory" in done.stderr
    (tmp_path / "meta.json").write_text('{"kind": "shopping list"}')
    done = zsim("report", str(tmp_path))
    assert done.returncode == 2 and "kind 'shopping list'" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json", "notes.txt"]


def test_a_sweep_result_missing_its_summary_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text('{"kind": "sweep", "grid": {"w": [1]}}')
    with pytest.raises(ZsimError, match=r"a sweep result without summary\.parquet"):
        rebuild(tmp_path)


# --- plot hygiene -----------------------------------------------------------------------------


def _legend_clear_of_axes(fig: Figure) -> None:
    """No legend box overlaps any axes' box: legends never cover data."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legends = [*fig.legends, *[ax.get_legend() for ax in fig.axes if ax.get_legend()]]
    assert legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()


def test_sweep_line_plot_legend_below_axes_and_labels_with_units() -> None:
    d = parse_deadline("makespan_s<=4")
    summary = summarize(_results(), ["w"], [d])
    fig = metric_figure(summary, pd.DataFrame(), ["w"], "sink", "makespan_s", [d])
    assert fig is not None
    _legend_clear_of_axes(fig)
    assert fig.axes[0].get_ylabel() == "sink makespan_s (s)"
    assert fig.axes[1].get_ylim() == pytest.approx((-0.03, 1.03))
    count = metric_figure(summary, pd.DataFrame(), ["w"], "sink", "tasks", [])
    assert count is not None
    assert count.axes[0].get_ylabel() == "sink tasks (tasks)"
    assert isinstance(count.axes[0].yaxis.get_major_locator(), MaxNLocator)
    assert all(float(t).is_integer() for t in count.axes[0].get_yticks())


def test_latency_legend_is_off_the_curves() -> None:
    lat = pd.DataFrame({"latency": np.linspace(1e-4, 1e-2, 50)})
    fig = plots.latency_cdf_figure({"sim": lat, "live": lat * 1.1})
    assert fig is not None
    _legend_clear_of_axes(fig)


def test_live_time_axes_say_wall_clock() -> None:
    depth = pd.DataFrame({"t": [0.0, 0.5, 1.0], "src": ["a"] * 3, "dst": ["b"] * 3,
                          "depth": [1.0, 2.0, 0.0]})
    fig = plots.queue_depth_figure({"sim": depth, "live": depth})
    assert fig is not None
    assert [ax.get_xlabel() for ax in fig.axes] == ["simulated time since start (s)",
                                                    "wall-clock time since start (s)"]
    assert all(float(t).is_integer() for t in fig.axes[0].get_yticks())  # messages: counts
    assert fig.axes[0].get_ylabel() == "messages in flight (messages)"


def test_tasks_axis_counts_in_integers() -> None:
    frame = pd.DataFrame({"node": ["w1", "w2"], "backend": ["sim", "sim"], "mean": [2.5, 3.5],
                          "ci": [0.2, 0.3], "closed_form": [3.0, 3.0]})
    fig = plots.tasks_figure(frame)
    assert fig is not None
    ax = fig.axes[0]
    assert all(float(t).is_integer() for t in ax.get_yticks())
    assert "(tasks)" in ax.get_ylabel()
    _legend_clear_of_axes(fig)


def test_units_from_metric_names() -> None:
    assert [plots.metric_unit(m) for m in ("makespan_s", "msgs_per_s", "lost", "mean_x")] == [
        "s", "1/s", "messages", ""]
