"""Sweeps: the pipeline curve, Dask equivalence, and resuming after SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from zsim.analysis.executors import make_executor
from zsim.analysis.sweep import (
    PARAM_PREFIX,
    closed_form_curve,
    load_results,
    parse_grid,
    plan,
    run_sweep,
    summarize,
    task_file,
)
from zsim.catalog import scenario_path
from zsim.profile import profile_path

PIPELINE = str(scenario_path("pipeline"))


def _sweep(out: Path, grid: dict, reps: int, jobs: int | None, scheduler: str | None = None
           ) -> pd.DataFrame:
    tasks = plan(PIPELINE, {}, grid, reps, 0, ["sim"])
    with make_executor(jobs, scheduler) as executor:
        run_sweep(tasks, out, executor)
    return load_results(out, tasks)


def test_parse_grid_reads_toml_values() -> None:
    assert parse_grid(["workers=1,2,4", "transport=tcp,ipc", "sync=true"]) == {
        "workers": [1, 2, 4], "transport": ["tcp", "ipc"], "sync": [True]}


def test_pipeline_makespan_falls_with_workers_as_the_closed_form_says(tmp_path: Path) -> None:
    grid = {"workers": list(range(1, 9))}
    summary = summarize(_sweep(tmp_path, grid, reps=10, jobs=1), ["workers"])
    closed = closed_form_curve(PIPELINE, {}, grid)
    key = PARAM_PREFIX + "workers"
    sim = summary[summary.metric == "makespan_s"].set_index(key)
    cf = closed[closed.metric == "makespan_s"].set_index(key)
    means = [sim.loc[w, "mean"] for w in grid["workers"]]
    assert means[0] > means[1] > means[3] > means[7]  # 1 > 2 > 4 > 8 workers
    for w in grid["workers"]:
        # The closed form is E[max of W sums] (normal approximation), so agreement is within
        # the 10-replication CI plus a few percent for the approximation and messaging.
        assert abs(sim.loc[w, "mean"] - cf.loc[w, "value"]) <= sim.loc[w, "ci"] + 0.05 * cf.loc[
            w, "value"]


def test_dask_local_cluster_gives_identical_results(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    grid = {"workers": [1, 3]}
    local = _sweep(tmp_path / "local", grid, reps=2, jobs=2)
    dask = _sweep(tmp_path / "dask", grid, reps=2, jobs=2, scheduler="local")
    order = ["backend", "rep", PARAM_PREFIX + "workers", "node", "metric"]
    pd.testing.assert_frame_equal(local.sort_values(order).reset_index(drop=True),
                                  dask.sort_values(order).reset_index(drop=True))


def _command(out: Path) -> list[str]:
    return [sys.executable, "-m", "zsim.cli", "sweep", PIPELINE, "--grid", "workers=1,2,3,4",
            "--reps", "6", "--jobs", "1", "--out", str(out)]


def test_sigint_then_rerun_resumes_without_redoing_tasks(tmp_path: Path) -> None:
    out, reference = tmp_path / "interrupted", tmp_path / "reference"
    proc = subprocess.Popen(_command(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tasks_dir = out / "tasks"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if tasks_dir.exists() and len(list(tasks_dir.rglob("*.parquet"))) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"interrupted" in err
    before = {p: p.stat().st_mtime_ns for p in tasks_dir.rglob("*.parquet")}
    assert 3 <= len(before) < 24
    assert not list(tasks_dir.rglob(".*"))  # no half-written file

    rerun = subprocess.run(_command(out), capture_output=True, timeout=120, check=True)
    assert f"{len(before)} already done".encode() in rerun.stdout
    assert {p: p.stat().st_mtime_ns for p in before} == before  # finished tasks not redone
    subprocess.run(_command(reference), capture_output=True, timeout=120, check=True)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "summary.parquet"),
                                  pd.read_parquet(reference / "summary.parquet"))
    tasks = plan(PIPELINE, {}, {"workers": [1, 2, 3, 4]}, 6, 0, ["sim"])
    assert all(task_file(out, t).exists() for t in tasks)
    assert os.path.exists(out / "plots" / "sink.makespan_s.png")


def _sweep_cli(out: Path, scenario: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zsim.cli", "sweep", str(scenario), "--grid", "requests=1,2",
         "--reps", "2", "--jobs", "1", "--out", str(out), *args],
        capture_output=True, text=True, timeout=120)


def test_a_sweep_directory_made_with_other_inputs_is_refused_not_reused(tmp_path: Path) -> None:
    """#21 item 8: the resume key covers scenario and profile contents, --set, seed and reps;
    the same inputs resume, a grown grid reuses its old points, anything else is refused."""
    scenario = tmp_path / "hello.toml"
    scenario.write_text(scenario_path("hello_reqrep").read_text())
    profile = tmp_path / "mine.json"
    doc = json.loads(profile_path(None).read_text())
    out = tmp_path / "sweep"
    first = _sweep_cli(out, scenario)
    assert first.returncode == 0, first.stderr
    assert _sweep_cli(out, scenario).stdout.rstrip().splitlines()[-1].startswith(
        "0 tasks run, 4 already done")
    grown = subprocess.run(
        [sys.executable, "-m", "zsim.cli", "sweep", str(scenario), "--grid", "requests=1,2,3",
         "--reps", "2", "--jobs", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert "2 tasks run, 4 already done" in grown.stdout, grown.stderr

    refusals = {
        "sets": ["--set", "transport=ipc"],
        "root_seed": ["--seed", "7"],
        "reps": ["--reps", "3"],
    }
    # the same content under another name is the same profile; other content is not
    profile.write_text(json.dumps(doc))
    assert _sweep_cli(out, scenario, "--profile", str(profile)).returncode == 0
    doc["model"]["app_send_s"] = 2 * doc["model"].get("app_send_s", 1e-6)
    profile.write_text(json.dumps(doc))
    refusals["profile"] = ["--profile", str(profile)]
    for name, args in refusals.items():
        proc = _sweep_cli(out, scenario, *args)
        assert proc.returncode == 2, (name, proc.stderr)
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert f"holds a sweep made with other inputs ({name} differ)" in proc.stderr
    scenario.write_text(scenario.read_text() + "\n# edited\n")
    proc = _sweep_cli(out, scenario)
    assert proc.returncode == 2
    assert "(scenario differ)" in proc.stderr
