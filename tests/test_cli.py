"""The ``zsim`` command: list, validate, run, schema and --help, in-process and end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pandas as pd
import pytest
from proc_kit import zsim_script

from zsim.behaviours.registry import BUILTINS, resolve
from zsim.catalog import SHIPPED, shipped_scenarios
from zsim.cli import cli, main
from zsim.costs import CostModel
from zsim.records import EVENT_COLUMNS, METRIC_COLUMNS, SCHEMA_VERSION, load_result
from zsim.scenario.model import NodeSpec, RunSpec, SocketSpec, StartSpec

REPO = SHIPPED.parent


def zsim(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [zsim_script(), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``main(args)`` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


# --- list ----------------------------------------------------------------------------------------


def test_list_shows_each_shipped_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    names = [p.stem for p in shipped_scenarios()]
    assert "pipeline" in names
    assert [line.split()[0] for line in lines] == names
    pipeline = next(line for line in lines if line.startswith("pipeline "))
    assert "Divide and conquer" in pipeline


def test_list_end_to_end_with_the_console_script() -> None:
    proc = zsim("list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    listed = [line.split()[0] for line in proc.stdout.splitlines()]
    assert listed == [p.stem for p in shipped_scenarios()]


# --- validate ------------------------------------------------------------------------------------


def test_validate_pipeline_end_to_end() -> None:
    proc = zsim("validate", "scenarios/pipeline.toml")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == (
        "scenarios/pipeline.toml: ok: 6 nodes "
        "(sink, ventilator, worker-1, worker-2, worker-3, worker-4)\n"
    )


def test_validate_by_shipped_name_with_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # the name is found without the file being in the cwd
    code, out, err = run_main(capsys, "validate", "pipeline", "--set", "workers=2")
    assert (code, err) == (0, "")
    assert out == "pipeline: ok: 4 nodes (sink, ventilator, worker-1, worker-2)\n"


def test_validate_every_shipped_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    for path in shipped_scenarios():
        code, out, err = run_main(capsys, "validate", str(path))
        assert (code, err) == (0, ""), path
        assert out.startswith(f"{path}: ok: ")


def test_validate_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "validate", "no_such_scenario.toml")
    assert code == 2
    assert out == ""
    assert err.startswith("zsim: error: no_such_scenario.toml: no such scenario file ")
    assert "pipeline" in err
    assert err.count("\n") == 1


def test_validate_an_invalid_file_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[nodes.worker]\nbehaviour = "worker"\ncount = 2\nsockets = [\n'
        '  { name = "tasks", type = "PULL", connect = ["tcp://v:5557"], rcvhwm = -1 },\n'
        '  { name = "results", type = "PUSH", connect = ["tcp://s:5558"] },\n]\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "zsim.cli", "validate", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"zsim: error: {path}: nodes.worker.sockets[0].rcvhwm: must be >= 0, got -1\n"
    )


def test_validate_invalid_toml_with_the_console_script(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("[nodes.a\nbehaviour = 'sink'\n")
    proc = zsim("validate", "broken.toml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("zsim: error: broken.toml: invalid TOML: ")
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


# --- run -----------------------------------------------------------------------------------------


def test_run_json_end_to_end() -> None:
    proc = zsim("run", "pipeline", "--set", "workers=2", "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict)
    assert set(doc) == {"scenario", "params", "seed", "metrics"}
    assert doc["scenario"] == "pipeline"
    assert doc["params"]["workers"] == 2
    assert doc["params"]["tasks"] == 100
    assert doc["seed"] == 0
    metrics = doc["metrics"]
    assert isinstance(metrics, list)
    assert metrics
    for row in metrics:
        assert set(row) == {"node", "metric", "value"}
        assert isinstance(row["node"], str)
        assert isinstance(row["metric"], str)
        assert isinstance(row["value"], int | float)
    nodes = {row["node"] for row in metrics}
    assert {"sink", "ventilator", "worker-1", "worker-2"} <= nodes
    assert "worker-3" not in nodes
    tasks = {row["node"]: row["value"] for row in metrics if row["metric"] == "tasks"}
    assert sum(tasks.values()) == 100


def test_run_reps_spawn_seeds_and_summarise(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    from zsim.analysis.compare import rep_seeds
    from zsim.scenario import load_scenario, parse_overrides
    from zsim.seeds import Stratum
    from zsim.sim import simulate

    args = ("run", "pipeline", "--set", "workers=2", "--set", "tasks=10", "--set", "sync=false",
            "--reps", "3", "--seed", "4")
    code, out, err = run_main(capsys, *args, "--json", "--out", str(tmp_path / "r"))
    assert code == 0, err
    doc = json.loads(out.splitlines()[0])
    seeds = rep_seeds(4, 3)
    assert doc["seed"] == seeds and len(set(seeds)) == 3
    # each repetition is exactly the run of its own seed, as the k-th of 3 (zsim.seeds.Stratum)
    sc = load_scenario(SHIPPED / "pipeline.toml",
                       parse_overrides(("workers=2", "tasks=10", "sync=false")))
    rows = pd.DataFrame(doc["metrics"])
    for k, s in enumerate(seeds):
        alone = simulate(sc, seed=s, stratum=Stratum(4, k, 3)).metrics
        rep = rows[rows.rep == k].drop(columns=["rep", "seed"]).reset_index(drop=True)
        assert (rows[rows.rep == k].seed == s).all()
        pd.testing.assert_frame_equal(rep, alone, check_dtype=False)
    saved = load_result(tmp_path / "r")
    assert sorted(saved.events.rep.unique()) == [0, 1, 2]
    assert saved.meta["seeds"] == seeds and saved.meta["schema_version"] == SCHEMA_VERSION
    # the table: one row per (node, metric), the mean/sd/min/max over the three
    code, out, err = run_main(capsys, *args)
    assert code == 0, err
    header, *lines = out.splitlines()
    assert header.split() == ["node", "metric", "mean", "sd", "min", "max"]
    makespans = rows[(rows.node == "sink") & (rows.metric == "makespan_s")].value
    row = next(ln.split() for ln in lines if ln.split()[:2] == ["sink", "makespan_s"])
    assert float(row[4]) == pytest.approx(makespans.min(), rel=1e-5)
    assert float(row[5]) == pytest.approx(makespans.max(), rel=1e-5)
    assert makespans.nunique() == 3  # three different seeds, three different makespans


def test_run_seed_and_same_seed_same_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("run", "pipeline", "--set", "workers=2", "--set", "tasks=10", "--json")
    code, out, err = run_main(capsys, *args, "--seed", "7")
    assert (code, err) == (0, "")
    first = json.loads(out)
    assert first["seed"] == 7
    assert first["params"]["tasks"] == 10
    code, out, _ = run_main(capsys, *args, "--seed", "7")
    assert code == 0
    assert json.loads(out) == first


def test_run_out_writes_the_records(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "results" / "pipeline"
    code, out, err = run_main(
        capsys,
        "run",
        "pipeline",
        "--set",
        "workers=2",
        "--set",
        "tasks=10",
        "--out",
        str(out_dir),
    )
    assert (code, err) == (0, "")
    assert out.rstrip("\n").endswith(f"wrote {out_dir}")
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "events.parquet",
        "meta.json",
        "metrics.parquet",
        "report.html",
        "timeline.png",
    ]
    assert (out_dir / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out_dir / "report.html").read_text()
    assert page.count("<img ") == 1 and 'id="timeline"' in page
    meta = json.loads((out_dir / "meta.json").read_text())
    assert meta["schema_version"] == SCHEMA_VERSION
    assert isinstance(meta["schema_version"], int)
    assert meta["scenario"] == "pipeline"
    assert meta["params"]["workers"] == 2
    assert meta["seed"] == 0
    events = pd.read_parquet(out_dir / "events.parquet")
    metrics = pd.read_parquet(out_dir / "metrics.parquet")
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert list(metrics.columns) == list(METRIC_COLUMNS)
    assert len(events) > 0
    assert "sink" in set(metrics.node)
    # the table printed is the metrics table written
    assert "makespan_s" in out
    loaded = load_result(out_dir)
    assert loaded.meta == meta
    assert len(loaded.metrics) == len(metrics)
    # no temporary directories are left next to the result
    assert [p.name for p in out_dir.parent.iterdir()] == ["pipeline"]


def test_run_json_and_out_together(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, out, err = run_main(
        capsys,
        "run",
        "pipeline",
        "--set",
        "workers=2",
        "--set",
        "tasks=10",
        "--json",
        "--out",
        str(out_dir),
        "--record",
        "lifecycle",
    )
    assert (code, err) == (0, "")
    doc = json.loads(out)  # only the JSON object on stdout
    meta = json.loads((out_dir / "meta.json").read_text())
    assert meta["record"] == "lifecycle"
    assert meta["seed"] == doc["seed"]
    assert len(pd.read_parquet(out_dir / "metrics.parquet")) == len(doc["metrics"])


def test_run_an_invalid_set_runs_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    code, out, err = run_main(
        capsys, "run", "pipeline", "--set", "workers=0", "--json", "--out", str(out_dir)
    )
    assert code == 2
    assert out == ""
    assert err.startswith("zsim: error: ")
    assert err.rstrip("\n").endswith("nodes.worker.count: must be an integer >= 1, got 0")
    assert err.count("\n") == 1
    assert not out_dir.exists()


# --- schema --------------------------------------------------------------------------------------


def test_schema_mentions_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "schema")
    assert (code, err) == (0, "")
    assert out.startswith("# Scenario format")
    for model in (SocketSpec, NodeSpec, StartSpec, RunSpec, CostModel):
        for name, field in model.model_fields.items():
            assert f"`{field.alias or name}`" in out, f"{model.__name__}.{name}"
    for name, field in SocketSpec.model_fields.items():
        assert field.description, f"SocketSpec.{name} has no description for the reference"
        assert field.description in out
    resolve("sink")
    for name in BUILTINS:
        assert f"### {name}" in out


def test_schema_end_to_end() -> None:
    proc = zsim("schema")
    assert proc.returncode == 0, proc.stderr
    for name in SocketSpec.model_fields:
        assert f"`{name}`" in proc.stdout


# --- help and version ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_subcommand_help_exits_0(capsys: pytest.CaptureFixture[str], command: str) -> None:
    for flag in ("--help", "-h"):
        code, out, err = run_main(capsys, command, flag)
        assert (code, err) == (0, "")
        assert out.startswith(f"Usage: zsim {command} ")


def _commands() -> list[str]:
    return cli.list_commands(click.Context(cli))


def test_every_subcommand_loads_and_has_help() -> None:
    assert {"run", "compare", "sweep", "validate", "list", "schema"} <= set(_commands())
    for name in _commands():
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.help, name


def test_top_level_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "--help")
    assert (code, err) == (0, "")
    for command in _commands():
        assert command in out


@pytest.mark.parametrize("command", ["run", "validate"])
def test_help_end_to_end(command: str) -> None:
    proc = zsim(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Usage: zsim {command} ")
    assert "--set" in proc.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "--version")
    assert (code, err) == (0, "")
    assert out.startswith("zsim, version ")


def test_unknown_subcommand_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(capsys, "frobnicate")
    assert code == 2
    assert "No such command 'frobnicate'" in err
    assert "Traceback" not in err
