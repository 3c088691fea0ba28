"""``python -m bench``: one table and bench/results.json, checked for structure, not timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_prints_the_table_and_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "sim_memory",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    head, row = proc.stdout.strip().splitlines()
    assert head.split()[:6] == ["benchmark", "figure", "baseline", "ratio", "goal", "met?"]
    assert row.split()[0] == "sim_memory"
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 1 and doc["quick"] is True
    assert set(doc["machine"]) >= {"cpus", "python", "pyzmq", "libzmq"}
    assert doc["date"].startswith("20")
    (r,) = doc["results"]
    assert r["name"] == "sim_memory" and r["status"] == "ok" and r["goal"] == "<= 1"
    assert r["baseline"] == 300.0 and r["figure"] > 0 and r["peak_rss_mb"] > 0
    assert r["ratio"] == r["figure"] / r["baseline"]
    # the script's own (rounded) ratio line agrees with the runner's
    assert abs(r["script_ratio"] - r["ratio"]) < 1e-4
    assert r["met"] == (r["ratio"] <= 1)


def test_unknown_name_is_refused_with_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "--only", "nope",
                           "--out", str(tmp_path / "r.json")], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "nope" in proc.stderr
    assert not (tmp_path / "r.json").exists()
