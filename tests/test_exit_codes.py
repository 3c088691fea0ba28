"""The exit status means what `zsim --help` says: 0 expected, 1 failed, 2 bad input, 130/143
interrupted, and a failure prints one line per cause naming the node and its wait."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases"
ZSIM = [sys.executable, "-m", "zsim.cli"]


def zsim(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ZSIM, *args], capture_output=True, text=True, timeout=timeout)


def test_bad_input_exits_2_with_one_line() -> None:
    done = zsim("run", str(CASES / "endless_push.toml"), "--set", "nosuch=1")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "nosuch" in done.stderr


def test_an_expected_hang_exits_0_and_the_same_hang_unexpected_exits_1(tmp_path: Path) -> None:
    assert zsim("run", "server_crash").returncode == 0  # [expect] stuck = ["client"]
    shipped = subprocess.run([*ZSIM, "list"], capture_output=True, text=True).stdout
    assert "server_crash" in shipped
    text = (Path(__file__).parent.parent / "scenarios" / "server_crash.toml").read_text()
    bare = tmp_path / "server_crash_unexpected.toml"
    bare.write_text(text.replace('stuck = ["client"]', "stuck = []"))
    done = zsim("run", str(bare))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == ["zsim: client: blocked in recv on 'requests' since t=3.50002 s; "
                     "nothing left to happen in the model (deadlock)"]


def test_a_sim_run_past_its_timeout_exits_1_and_says_so() -> None:
    done = zsim("run", str(CASES / "endless_push.toml"), "--timeout", "1",
                "--record", "lifecycle")
    assert done.returncode == 1
    assert "the simulation hit its wall-clock timeout (1 s)" in done.stderr


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_writes_what_the_sim_recorded_and_exits_128_plus_it(
        tmp_path: Path, sig: int, code: int) -> None:
    out = tmp_path / "result"
    proc = subprocess.Popen([*ZSIM, "run", str(CASES / "endless_push.toml"), "--record",
                             "lifecycle", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)  # past the imports, inside the run
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert err.strip().splitlines()[-1].startswith(f"zsim: error: stopped by {sig.name}")
    meta = json.loads((out / "meta.json").read_text())
    assert meta["complete"] is False
    assert meta["stop_reason"] == ("interrupted" if sig == signal.SIGINT else "terminated")
