"""The trace diff (zsim.analysis.trace_diff, zsim diff): exact on seeded sim runs and on
hand-made logs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from zsim.analysis.trace_diff import Divergence, diff_events, format_diff, run_labels
from zsim.catalog import scenario_path
from zsim.cli.app import main
from zsim.records import RunResult, events_frame
from zsim.scenario import load_scenario
from zsim.sim import simulate


def sim(name: str, seed: int = 1, record: str = "messages", **params: Any) -> RunResult:
    return simulate(load_scenario(scenario_path(name), params), seed, record)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def counts(diff: Any, measure: str) -> dict[str, tuple[int, int]]:
    a, b = diff.labels
    t = diff.counts
    return {f"{r['node']}.{r['socket']}": (int(r[f"{measure}_{a}"]), int(r[f"{measure}_{b}"]))
            for _, r in t.iterrows()}


# --- seeded sim runs --------------------------------------------------------------------------


def test_identical_runs_do_not_diverge() -> None:
    a = sim("pipeline", workers=2, tasks=10)
    d = diff_events(a.events, sim("pipeline", workers=2, tasks=10).events, ("a", "b"))
    assert d.first is None and d.divergences == 0 and not d.diverged
    assert counts(d, "sent") == {
        "sink.results": (0, 0), "ventilator.sink": (1, 1), "ventilator.tasks": (10, 10),
        "worker-1.results": (5, 5), "worker-1.tasks": (0, 0),
        "worker-2.results": (5, 5), "worker-2.tasks": (0, 0)}
    assert counts(d, "received")["sink.results"] == (11, 11)
    assert list(d.counts["differs"]) == [""] * 7
    assert "first divergence: none" in format_diff(d)


def test_one_task_more_diverges_at_the_extra_send() -> None:
    a = sim("pipeline", workers=2, tasks=10)
    b = sim("pipeline", workers=2, tasks=11)
    d = diff_events(a.events, b.events, ("a", "b"))
    assert d.first is not None
    first = d.first
    assert (first.kind, first.node, first.socket, first.index) == ("sent", "ventilator", "tasks",
                                                                   10)
    assert math.isnan(first.t_a) and first.t_b == pytest.approx(0.0105346, abs=1e-7)
    assert (first.a, first.b) == ("not sent", "received by worker-2.tasks")
    assert d.divergences == 5
    marked = dict(zip(d.counts["node"] + "." + d.counts["socket"], d.counts["differs"],
                      strict=True))
    assert {k: v for k, v in marked.items() if v} == {
        "sink.results": "received", "ventilator.tasks": "sent", "worker-2.results": "sent",
        "worker-2.tasks": "received"}
    assert counts(d, "sent")["ventilator.tasks"] == (10, 11)
    row = d.counts[(d.counts["node"] == "ventilator") & (d.counts["socket"] == "tasks")]
    assert int(row["sent_diff"].iloc[0]) == 1


def test_another_seed_diverges_in_the_sinks_arrival_order() -> None:
    a = sim("pipeline", 1, workers=2, tasks=10)
    b = sim("pipeline", 2, workers=2, tasks=10)
    d = diff_events(a.events, b.events, ("a", "b"))
    assert d.first is not None
    assert (d.first.kind, d.first.node, d.first.socket, d.first.index) == (
        "arrival", "sink", "results", 1)
    assert (d.first.t_a, d.first.t_b) == pytest.approx((0.0172397, 0.0784556), abs=1e-7)
    assert (d.first.a, d.first.b) == ("from worker-1.results #0", "from worker-2.results #0")
    assert d.divergences == 7
    assert not any(d.counts["differs"])  # the same counts, in another order
    assert d.diverged


def test_a_drop_on_one_side_only_is_the_first_divergence() -> None:
    a = sim("slow_subscriber", count=3000)  # hwm 1000: the publisher drops at the HWM
    b = sim("slow_subscriber", count=3000, hwm=5000)  # room for everything
    d = diff_events(a.events, b.events, ("a", "b"))
    assert d.first is not None
    assert (d.first.kind, d.first.node, d.first.socket, d.first.index) == (
        "dropped", "publisher", "pub", 2500)
    assert (d.first.a, d.first.b) == ("dropped at publisher.pub (hwm)",
                                      "received by subscriber.sub")
    assert counts(d, "dropped")["publisher.pub"] == (152, 0)
    assert counts(d, "received")["subscriber.sub"] == (2848, 3000)


def test_lifecycle_logs_compare_behaviour_events() -> None:
    a = sim("pipeline", record="lifecycle", workers=2, tasks=10)
    b = sim("pipeline", 2, record="lifecycle", workers=2, tasks=10)
    d = diff_events(a.events, b.events, ("a", "b"))
    assert d.record == "lifecycle" and d.first is None
    assert counts(d, "mark")["sink."] == (2, 2)
    assert "no message events" in d.notes[0]


# --- hand-made logs ---------------------------------------------------------------------------


def log(*rows: tuple[float, str, str, str, str, int, str]) -> Any:
    """Rows of (t, node, socket, event, sender, seq, detail)."""
    return events_frame([(t, n, s, e, snd, q, 1, "", "", d) for t, n, s, e, snd, q, d in rows])


def test_a_proxys_hops_are_told_apart() -> None:
    # pub sends id (pub, 0); the proxy receives it and forwards it with the same id
    a = log((0.0, "pub", "out", "send", "pub", 0, ""),
            (0.1, "proxy", "in", "recv", "pub", 0, ""),
            (0.2, "proxy", "out", "send", "pub", 0, ""),
            (0.3, "sub", "in", "recv", "pub", 0, ""))
    b = log((0.0, "pub", "out", "send", "pub", 7, ""),  # another id: aligned by position
            (0.1, "proxy", "in", "recv", "pub", 7, ""),
            (0.2, "proxy", "out", "send", "pub", 7, ""),
            (0.3, "other", "in", "recv", "pub", 7, ""))
    d = diff_events(a, b, ("a", "b"))
    assert d.first == Divergence("receiver", "proxy", "out", 0, 0.2, 0.2,
                                 "received by sub.in", "received by other.in")
    assert d.divergences == 1 + 2  # the proxy's hop, then each receiver's arrival


def test_a_live_receive_logged_before_its_send_is_still_its_send() -> None:
    a = log((0.0, "p", "o", "send", "p", 0, ""), (0.1, "q", "i", "recv", "p", 0, ""))
    b = log((0.11, "q", "i", "recv", "p", 3, ""), (0.12, "p", "o", "send", "p", 3, ""))
    assert not diff_events(a, b).diverged


def test_a_message_sent_on_one_side_only() -> None:
    a = log((0.0, "p", "o", "send", "p", 0, ""), (0.5, "p", "o", "send", "p", 1, ""))
    b = log((0.0, "p", "o", "send", "p", 0, ""))
    d = diff_events(a, b)
    assert d.first is not None
    assert (d.first.kind, d.first.index, d.first.t_a, d.first.b) == ("sent", 1, 0.5, "not sent")


def test_labels_tell_two_runs_of_one_backend_apart() -> None:
    assert run_labels({"backend": "sim"}, {"backend": "live"}) == ("sim", "live")
    assert run_labels({"backend": "sim"}, {"backend": "sim"}) == ("sim-a", "sim-b")


# --- the CLI ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("diff")
    out = {"a": sim("pipeline", workers=2, tasks=10), "same": sim("pipeline", workers=2, tasks=10),
           "more": sim("pipeline", workers=2, tasks=11), "other": sim("hello_reqrep", requests=2)}
    return {k: r.save(root / k) for k, r in out.items()}


def test_diff_exits_0_when_the_runs_agree(capsys: pytest.CaptureFixture[str],
                                          run_dirs: dict[str, Path]) -> None:
    code, out, err = run_main(capsys, "diff", str(run_dirs["a"]), str(run_dirs["same"]))
    assert (code, err) == (0, "")
    assert "first divergence: none" in out and "sent sim-a" in out


def test_diff_exits_1_and_names_the_first_divergence(capsys: pytest.CaptureFixture[str],
                                                     run_dirs: dict[str, Path]) -> None:
    code, out, _ = run_main(capsys, "diff", str(run_dirs["a"]), str(run_dirs["more"]))
    assert code == 1
    assert ("first divergence: sent: ventilator.tasks, message sent #10 (0-based), at absent "
            "(sim-a) / t=0.0105346 s (sim-b): sim-a: not sent; sim-b: received by "
            "worker-2.tasks") in out
    assert "params differ" in out
    assert "* sent" in out


def test_diff_exits_2_on_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   run_dirs: dict[str, Path]) -> None:
    code, _, err = run_main(capsys, "diff", str(run_dirs["a"]), str(run_dirs["other"]))
    assert code == 2 and "scenario 'hello_reqrep' is not 'pipeline'" in err
    code, _, err = run_main(capsys, "diff", str(run_dirs["a"]), str(tmp_path))
    assert code == 2 and "not a zsim result directory" in err
    assert len(err.strip().splitlines()) == 1
