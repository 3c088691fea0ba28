"""Comparison reports: frames computed from event logs, plots, and the report directory."""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from zsim.analysis import frames, plots, report
from zsim.analysis.closed_forms import predict
from zsim.analysis.compare import Comparison, build_table, compare, format_table
from zsim.catalog import scenario_path
from zsim.records import SCHEMA_VERSION, RunResult, events_frame, metrics_frame
from zsim.scenario import load_scenario
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum
from zsim.sim import simulate

IMG_DATA = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def sim_runner(sc: Scenario, seed: int, stratum: Stratum) -> RunResult:
    return simulate(sc, seed=seed, stratum=stratum)


def shifted_runner(sc: Scenario, seed: int, _stratum: Stratum) -> RunResult:
    """A stand-in for the live backend: the simulator on other seeds (keeps the tests fast)."""
    return simulate(sc, seed=seed + 1)


def scenario(name: str) -> Scenario:
    return load_scenario(scenario_path(name))


def with_record(sc: Scenario, record: str) -> Scenario:
    return sc.model_copy(update={"run": sc.run.model_copy(update={"record": record})})


@pytest.fixture(scope="module")
def comparisons() -> dict[str, Comparison]:
    return {name: compare(scenario(name), 2, 0, sim_runner, None)
            for name in ("slow_joiner", "pipeline")}


@pytest.fixture(scope="module")
def reports(
    comparisons: dict[str, Comparison], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    return {name: report.write_report(c, root / name) for name, c in comparisons.items()}


# --- frames over a hand-made event log --------------------------------------------------------

# a publishes a:0..a:3 to b; c also subscribes and gets a:1; a:2 is dropped at a's HWM; b
# forwards a:1 to d. Times are exact binary fractions so the latencies compare exactly.
TINY = [
    (0.0, "a", "pub", "bind", "", -1, 0, "tcp://a:1", "", ""),
    (0.0, "a", "pub", "send", "a", 0, 8, "", "", ""),
    (0.25, "a", "pub", "send", "a", 1, 8, "", "", ""),
    (0.5, "a", "pub", "send", "a", 2, 8, "", "", ""),
    (0.5, "a", "pub", "drop", "a", 2, 8, "b.sub", "", "hwm"),
    (0.75, "b", "sub", "recv", "a", 0, 8, "", "", ""),
    (1.0, "b", "sub", "recv", "a", 1, 8, "", "", ""),
    (1.0, "a", "pub", "send", "a", 3, 8, "", "", ""),
    (1.25, "c", "sub", "recv", "a", 1, 8, "", "", ""),
    (1.5, "b", "fwd", "send", "a", 1, 8, "", "", ""),
    (1.5, "b", "sub", "recv", "a", 3, 8, "", "", ""),
    (2.0, "d", "sub", "recv", "a", 1, 8, "", "", ""),
    (2.5, "d", "", "stop", "", -1, 0, "", "", ""),
]


def tiny_events(shuffle: bool = True) -> pd.DataFrame:
    df = events_frame(TINY)
    return df.sample(frac=1.0, random_state=7) if shuffle else df


def test_latencies_match_each_receive_to_the_latest_send_of_its_message() -> None:
    lat = frames.latencies(tiny_events())
    assert list(lat.columns) == list(frames.LATENCY_COLUMNS)
    got = [(r.node, r.src, r.sender, r.seq, r.t_send, r.t_recv, r.latency)
           for r in lat.itertuples()]
    assert got == [
        ("b", "a", "a", 0, 0.0, 0.75, 0.75),
        ("b", "a", "a", 1, 0.25, 1.0, 0.75),
        ("c", "a", "a", 1, 0.25, 1.25, 1.0),  # the same send fans out to c
        ("b", "a", "a", 3, 1.0, 1.5, 0.5),
        ("d", "b", "a", 1, 1.5, 2.0, 0.5),  # forwarded by b: matched to b's send
    ]


def test_queue_depth_is_a_step_function_per_pair() -> None:
    qd = frames.queue_depth(tiny_events())
    assert list(qd.columns) == list(frames.QUEUE_COLUMNS)
    steps = {
        pair: list(zip(g["t"], g["depth"], strict=True))
        for pair, g in qd.groupby(["src", "dst"])
    }
    # a→b: +1 at 0, +1 at 0.25, −1 at 0.75, (−1 +1 = 0 at 1.0: no step), −1 at 1.5
    assert steps == {
        ("a", "b"): [(0.0, 1.0), (0.25, 2.0), (0.75, 1.0), (1.5, 0.0)],
        ("a", "c"): [(0.25, 1.0), (1.25, 0.0)],
        ("b", "d"): [(1.5, 1.0), (2.0, 0.0)],
    }


def test_timeline_keeps_message_events_in_time_order_and_flags_undelivered_sends() -> None:
    tl = frames.timeline(tiny_events())
    assert list(tl.columns) == list(frames.TIMELINE_COLUMNS)
    assert set(tl["event"]) == {"send", "recv", "drop"}
    assert len(tl) == 11
    assert tl["t"].is_monotonic_increasing
    undelivered = tl[~tl["delivered"]]
    assert sorted(zip(undelivered["event"], undelivered["seq"], strict=True)) == [
        ("drop", 2), ("send", 2)]


def test_a_receive_logged_before_its_send_is_still_matched_and_never_in_flight() -> None:
    # live: the sender stamps its send after the call returns; the receiver may log first
    events = events_frame([
        (1.0, "b", "pull", "recv", "a", 0, 8, "", "", ""),
        (1.25, "a", "push", "send", "a", 0, 8, "", "", ""),
        (1.5, "a", "push", "send", "a", 1, 8, "", "", ""),
        (2.0, "b", "pull", "recv", "a", 1, 8, "", "", ""),
    ])
    lat = frames.latencies(events)
    assert lat["latency"].tolist() == [-0.25, 0.5]
    qd = frames.queue_depth(events)
    assert list(zip(qd["t"], qd["depth"], strict=True)) == [(1.5, 1.0), (2.0, 0.0)]
    assert plots.latency_cdf_figure({"live": lat}) is not None


@pytest.mark.parametrize("rows", [[], [r for r in TINY if r[3] in ("bind", "stop")]])
def test_frames_are_empty_without_message_events(rows: list[tuple[object, ...]]) -> None:
    events = events_frame(rows)
    for fn, columns in ((frames.latencies, frames.LATENCY_COLUMNS),
                        (frames.timeline, frames.TIMELINE_COLUMNS),
                        (frames.queue_depth, frames.QUEUE_COLUMNS)):
        out = fn(events)
        assert out.empty
        assert list(out.columns) == list(columns)


def fake_run(values: dict[tuple[str, str], float]) -> RunResult:
    return RunResult(events_frame([]), metrics_frame([(n, m, v) for (n, m), v in values.items()]))


def test_tasks_per_worker_and_metric_ci_from_a_hand_made_comparison() -> None:
    sc = scenario("pipeline")
    sim = [fake_run({("worker-1", "tasks"): 24, ("worker-2", "tasks"): 76,
                     ("sink", "makespan_s"): 1.0}),
           fake_run({("worker-1", "tasks"): 26, ("worker-2", "tasks"): 74,
                     ("sink", "makespan_s"): 3.0})]
    live = [fake_run({("worker-1", "tasks"): 30, ("worker-2", "tasks"): 70,
                      ("sink", "makespan_s"): 2.0})]
    predictions = predict(sc)
    c = Comparison(sc, [1, 2], predictions, sim, live, build_table(sc, predictions, sim, live))

    tasks = frames.tasks_per_worker(c)
    assert list(tasks.columns) == list(frames.TASK_COLUMNS)
    assert list(zip(tasks["node"], tasks["backend"], strict=True)) == [
        ("worker-1", "sim"), ("worker-1", "live"), ("worker-2", "sim"), ("worker-2", "live")]
    assert tasks["mean"].tolist() == [25.0, 30.0, 75.0, 70.0]
    assert tasks["reps"].tolist() == [2, 1, 2, 1]
    assert tasks["ci"].iloc[0] == pytest.approx(12.706)  # t(1) · sd (√2) / √2
    assert math.isnan(tasks["ci"].iloc[1])  # one live run: no interval
    assert tasks["closed_form"].tolist() == [25.0, 25.0, 25.0, 25.0]

    mci = frames.metric_ci(c)
    assert list(mci.columns) == list(frames.METRIC_CI_COLUMNS)
    span = mci[mci["label"] == "sink.makespan_s"]
    assert span["backend"].tolist() == ["sim", "live"]
    assert span["mean"].tolist() == [2.0, 2.0]
    assert span["ci"].iloc[0] == pytest.approx(12.706)
    # worker-3/4 have a closed form but no runs report them: no rows
    assert "worker-3.tasks" not in set(mci["label"])


def test_plots_skip_empty_frames() -> None:
    empty = frames.latencies(events_frame([]))
    assert plots.metric_ci_figure(frames.metric_ci(Comparison(
        scenario("pipeline"), [], [], [], [], pd.DataFrame()))) is None
    assert plots.tasks_figure(frames.tasks_per_worker(Comparison(
        scenario("pipeline"), [], [], [], [], pd.DataFrame()))) is None
    assert plots.timeline_figure({"sim": frames.timeline(events_frame([]))}) is None
    assert plots.queue_depth_figure({"sim": frames.queue_depth(events_frame([])),
                                     "live": frames.queue_depth(events_frame([]))}) is None
    assert plots.latency_cdf_figure({"sim": empty}) is None
    assert plots.latency_cdf_figure({}) is None


# --- the report directory ---------------------------------------------------------------------


def pngs(out: Path) -> list[Path]:
    return sorted((out / "plots").glob("*.png"))


def listed_files(comparison: Comparison) -> list[str]:
    files = ["report.md", "report.html", "comparison.parquet", "runs.parquet", "meta.json"]
    return files + [f"events_{b}.parquet" for b, runs in
                    (("sim", comparison.sim_runs), ("live", comparison.live_runs)) if runs]


@pytest.mark.parametrize("name", ["slow_joiner", "pipeline"])
def test_report_writes_every_file(
    name: str, comparisons: dict[str, Comparison], reports: dict[str, Path]
) -> None:
    out, c = reports[name], comparisons[name]
    for f in listed_files(c):
        assert (out / f).is_file(), f
        assert (out / f).stat().st_size > 0, f
    assert not (out / "events_live.parquet").exists()  # sim only
    names = {p.stem for p in pngs(out)}
    expected = {"metrics", "timeline", "queue_depth", "latency_cdf", "run_timeline"}
    assert names == (expected | {"tasks"} if name == "pipeline" else expected)
    for p in pngs(out):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    pd.testing.assert_frame_equal(pd.read_parquet(out / "comparison.parquet"), c.table,
                                  check_dtype=False)
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == len(c.runs_frame())
    assert set(runs["backend"]) == {"sim"}
    events = pd.read_parquet(out / "events_sim.parquet")
    assert len(events) == len(c.sim_runs[0].events)

    meta = json.loads((out / "meta.json").read_text())
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["scenario"] == name
    assert meta["params"] == json.loads(json.dumps(c.scenario.params))
    assert meta["seeds"] == c.seeds
    assert meta["backends"] == ["sim"]
    assert {"zsim", "pandas", "numpy", "matplotlib"} <= set(meta["versions"])
    assert set(meta["files"]) == {p.relative_to(out).as_posix()
                                  for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", ["slow_joiner", "pipeline"])
def test_report_md_and_html_hold_the_table_and_every_plot(
    name: str, comparisons: dict[str, Comparison], reports: dict[str, Path]
) -> None:
    out, c = reports[name], comparisons[name]
    table = format_table(c.table)
    md = (out / "report.md").read_text()
    assert table in md
    assert c.scenario.description in md
    assert "## How to read this report" in md
    for p in c.predictions:
        assert p.assumptions in md
    for png in pngs(out):
        assert f"](plots/{png.name})" in md

    page = (out / "report.html").read_text()
    for line in table.splitlines():
        assert line.rstrip() in re.sub(r"<[^>]+>", "", page).replace("&amp;", "&")
    images = IMG_DATA.findall(page)
    assert len(images) == len(pngs(out))
    assert sorted(base64.b64decode(i) for i in images) == sorted(
        p.read_bytes() for p in pngs(out))
    # self-contained: nothing fetched from elsewhere
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "How to read this report" in page


def test_report_escapes_text_in_html(comparisons: dict[str, Comparison]) -> None:
    c = comparisons["slow_joiner"]
    sc = c.scenario.model_copy(
        update={"description": 'A <script>alert("x")</script> & `code`',
                "params": {**c.scenario.params, "<tag>": "a|b"}})
    c = Comparison(sc, c.seeds, c.predictions, c.sim_runs, c.live_runs, c.table, c.meta)
    page = report.html_page(report.report_text(c, []), [])
    md = report.markdown(report.report_text(c, []), [])
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <code>code</code>" in page
    assert "<th>&lt;tag&gt;</th><td>a|b</td>" in page
    assert "| <tag> | a\\|b |" in md  # a pipe would split the Markdown table's cell


def test_report_without_message_events_skips_the_message_plots(tmp_path: Path) -> None:
    sc = with_record(scenario("slow_joiner"), "lifecycle")
    c = compare(sc, 2, 0, sim_runner, shifted_runner)
    out = report.write_report(c, tmp_path / "r")
    # the run timeline degrades to its connection lanes (zsim.analysis.timeline)
    assert [p.stem for p in pngs(out)] == ["metrics", "run_timeline"]
    md = (out / "report.md").read_text()
    assert "Message timeline: not drawn" in md
    assert (out / "events_sim.parquet").is_file()
    assert (out / "events_live.parquet").is_file()
    assert len(IMG_DATA.findall((out / "report.html").read_text())) == 2


def test_report_of_closed_forms_alone_has_no_plots(tmp_path: Path) -> None:
    c = compare(scenario("pipeline"), 2, 0, None, None)
    out = report.write_report(c, tmp_path / "r")
    assert pngs(out) == []
    assert not list(out.glob("events_*.parquet"))
    assert (out / "runs.parquet").is_file()
    assert format_table(c.table) in (out / "report.md").read_text()
    assert IMG_DATA.findall((out / "report.html").read_text()) == []
    assert json.loads((out / "meta.json").read_text())["backends"] == []


def test_report_with_both_backends_draws_them_side_by_side(tmp_path: Path) -> None:
    c = compare(scenario("pipeline"), 2, 0, sim_runner, shifted_runner)
    open_figures = plt.get_fignums()
    out = report.write_report(c, tmp_path / "r")
    assert plt.get_fignums() == open_figures  # nothing left open in pyplot
    assert {p.stem for p in pngs(out)} == {"metrics", "timeline", "queue_depth", "tasks",
                                           "latency_cdf", "run_timeline"}
    assert json.loads((out / "meta.json").read_text())["backends"] == ["sim", "live"]
    fig = report.figure(c, "timeline")
    assert fig is not None
    assert len([ax for ax in fig.axes if ax.get_title()]) == 2
    assert set(pd.read_parquet(out / "runs.parquet")["backend"]) == {"sim", "live"}


def test_report_replaces_a_previous_one_atomically(
    tmp_path: Path, comparisons: dict[str, Comparison], monkeypatch: pytest.MonkeyPatch
) -> None:
    c = comparisons["slow_joiner"]
    out = tmp_path / "r"
    report.write_report(c, out)
    (out / "stale.txt").write_text("old")  # inside an earlier report: replaced with it
    assert report.write_report(c, out) == out
    assert not (out / "stale.txt").exists()
    assert (out / "report.html").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no temporary directories left

    before = (out / "report.md").read_text()

    def boom(*_: object) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "html_page", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        report.write_report(c, out)
    assert (out / "report.md").read_text() == before  # the old report is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["r"]
