"""--out never deletes what zsim did not write (run, compare, sweep, calibrate)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ZSIM = [sys.executable, "-m", "zsim.cli"]


def zsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ZSIM, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.parametrize("command", [["run", "hello_reqrep"],
                                     ["compare", "hello_reqrep", "--backend", "sim",
                                      "--reps", "2"],
                                     ["sweep", "hello_reqrep", "--grid", "requests=2",
                                      "--reps", "1", "--jobs", "1"]])
def test_a_directory_of_someone_elses_files_is_refused_untouched(
        tmp_path: Path, command: list[str]) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "thesis.txt").write_text("x")
    done = zsim(*command, "--out", str(d))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "zsim did not write" in done.stderr
    assert [p.name for p in d.iterdir()] == ["thesis.txt"]
    assert (d / "thesis.txt").read_text() == "x"


def test_an_earlier_result_of_the_same_kind_is_replaced_and_said_so(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert zsim("run", "hello_reqrep", "--out", str(out)).returncode == 0
    again = zsim("run", "hello_reqrep", "--seed", "4", "--out", str(out))
    assert again.returncode == 0 and "replaced the earlier run result" in again.stderr
    assert json.loads((out / "meta.json").read_text())["seed"] == 4
    other = zsim("compare", "hello_reqrep", "--backend", "sim", "--out", str(out))
    assert other.returncode == 2 and "holds a zsim run result" in other.stderr


def test_dot_and_a_path_under_a_file_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("mine")
    done = zsim("run", "hello_reqrep", "--out", ".", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert (tmp_path / "notes.md").read_text() == "mine"
    (tmp_path / "a_file").write_text("")
    done = zsim("run", "hello_reqrep", "--out", str(tmp_path / "a_file" / "x"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_calibrate_overwrites_only_a_profile(tmp_path: Path) -> None:
    mine = tmp_path / "mine.json"
    mine.write_text('{"not": "a profile"}')
    done = zsim("calibrate", "--quick", "--out", str(mine))
    assert done.returncode == 2 and "not a zsim profile" in done.stderr
    assert mine.read_text() == '{"not": "a profile"}'
