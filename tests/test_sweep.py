"""Sweeps: the pipeline curve, Dask equivalence, and resuming after SIGINT."""

from __future__ import annotations

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
