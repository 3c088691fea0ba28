"""The live backend on real sockets: same schema as the simulator, comparable numbers, clean-up.

Run with ``python -m pytest tests/live -m live``; each test starts a few node processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from proc_kit import children_of, gone, zsim_script

from zsim.behaviours.api import Message, Subscription
from zsim.live import run_live
from zsim.live.codec import decode, encode
from zsim.records import EVENT_COLUMNS
from zsim.scenario import load_scenario, parse_overrides
from zsim.scenario.model import Scenario
from zsim.sim import simulate

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def scenario(name: str, *sets: str, until: float | None = None) -> Scenario:
    path = SCENARIOS / f"{name}.toml"
    if not path.exists():
        pytest.skip(f"scenarios/{name}.toml not present")
    s = load_scenario(path, parse_overrides(tuple(sets)))
    if until is not None:
        s = s.model_copy(update={"run": s.run.model_copy(update={"until": until})})
    return s


def run_dirs() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("zsim-live-")}


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, my_children):
    """Every live test must leave no node processes and no run directories behind. Runs get a
    private temporary directory, so that other live runs on the machine cannot interfere."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield
    assert my_children() == []
    assert run_dirs() == set()


def metric_names(result) -> set[tuple[str, str]]:
    return set(zip(result.metrics.node, result.metrics.metric, strict=True))


def test_codec_roundtrip() -> None:
    msg = Message("a~1", 7, {"task": 3, "w": 0.5}, 128, "10001 ", (b"\x00\x01", b""), 1.25)
    frames = encode(msg)
    assert len(frames) == 3 and len(frames[-1]) == 128 and frames[-1].startswith(b"10001 \0")
    back = decode(frames)
    assert back == msg
    assert decode(encode(Subscription("abc")), subscriptions=True) == Subscription("abc")
    assert decode(encode(Subscription("", False)), subscriptions=True) == Subscription("", False)
    small = Message("n", 0, {}, 0)
    assert decode(encode(small)) == small


@pytest.mark.live
def test_pipeline_sync_matches_sim(clean) -> None:
    s = scenario("pipeline", "sync=true", "workers=4")
    live = run_live(s, timeout=60)
    sim = simulate(s)
    assert live.meta["complete"], live.meta
    assert live.meta["backend"] == "live"
    assert list(live.events.columns) == list(EVENT_COLUMNS)
    assert metric_names(live) == metric_names(sim)
    for i in range(1, 5):
        assert live.metric(f"worker-{i}", "tasks") == 25
    assert live.metric("sink", "received") == 101
    makespan, expected = live.metric("sink", "makespan_s"), sim.metric("sink", "makespan_s")
    assert abs(makespan - expected) <= 0.10 * expected, (makespan, expected)
    sends = live.events[live.events.event == "send"]
    recvs = live.events[live.events.event == "recv"]
    assert len(sends) == len(recvs) == 201
    # every message received was sent, by (sender, seq)
    assert set(zip(recvs.sender, recvs.seq, strict=True)) <= set(
        zip(sends.sender, sends.seq, strict=True))
    for key in ("pyzmq", "libzmq", "cpus", "kernel", "seed", "params", "schema_version"):
        assert key in live.meta


@pytest.mark.live
def test_pipeline_without_sync_first_worker_takes_all(clean) -> None:
    # Workers 5 ms apart. PUSH deals only to pipes attached when it sends (lb.cpp), so every
    # task sent before worker-2 even began to connect went to worker-1: checked exactly (the
    # clock is the host's monotonic clock in every process). How many tasks that is depends on
    # how fast the ventilator's burst of 100 runs, which on a 2-core host is CPU contention:
    # `zsim run pipeline --backend live --set sync=false --reps 20` gave worker-1 100 tasks in
    # 18 runs, 98 and 70 in the others (one CI run: 86). So "nearly all" is tested as the
    # median case's bound we can hold on any run: more than all the other workers together.
    s = scenario("pipeline", "sync=false", "stagger=0.005")
    live = run_live(s, timeout=60)
    assert live.meta["complete"], live.meta
    ev = live.events
    tasks = ev[(ev.node == "ventilator") & (ev.event == "send") & (ev.socket == "tasks")]
    tasks = tasks.sort_values("t")
    w2_connect = ev[(ev.node == "worker-2") & (ev.event == "connect")].t.min()
    # a send is stamped as it starts: the one whose successor started before the connect is done
    before = set(tasks.seq[tasks.t.shift(-1) < w2_connect])
    to_w1 = set(ev[(ev.node == "worker-1") & (ev.event == "recv") & (ev.socket == "tasks")].seq)
    assert before <= to_w1, sorted(before - to_w1)
    assert live.metric("worker-1", "tasks") > 50
    assert sum(live.metric(f"worker-{i}", "tasks") for i in range(1, 5)) == 100


@pytest.mark.live
def test_cli_run_live_reps_prints_the_sims_table(clean) -> None:
    script = zsim_script()
    args = ["run", "hello_reqrep", "--set", "service=0.01", "--set", "requests=3", "--reps", "2"]
    tables = {}
    for backend in ("sim", "live"):
        proc = subprocess.run([script, *args, "--backend", backend], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        tables[backend] = [ln.split() for ln in proc.stdout.splitlines()]
    assert tables["live"][0] == tables["sim"][0] == ["node", "metric", "mean", "sd", "min", "max"]
    assert [r[:2] for r in tables["live"]] == [r[:2] for r in tables["sim"]]
    replies = next(r for r in tables["live"] if r[:2] == ["client", "replies"])
    assert [float(v) for v in replies[2:]] == [3.0, 0.0, 3.0, 3.0]


@pytest.mark.live
def test_hello_reqrep(clean) -> None:
    s = scenario("hello_reqrep", "service=0.05", "requests=5")
    live = run_live(s, timeout=60)
    assert live.meta["complete"], live.meta
    assert live.metric("client", "replies") == 5
    assert live.metric("client", "stuck") == 0
    assert live.metric("server", "requests") == 5
    assert 0.05 <= live.metric("client", "rtt_mean_s") < 0.2


@pytest.mark.live
def test_server_crash_leaves_client_stuck(clean) -> None:
    s = scenario("server_crash", "service=0.2", "crash_at=0.7", "restart_at=1.0", until=2.0)
    live = run_live(s, timeout=60)
    sim = simulate(s)
    assert live.meta["complete"], live.meta
    assert metric_names(live) == metric_names(sim)
    assert live.metric("client", "stuck") == 1 == sim.metric("client", "stuck")
    assert live.metric("client", "replies") == sim.metric("client", "replies") == 3
    server = live.events[live.events.node == "server"]
    assert list(server[server.event.isin(["crash", "restart"])].event) == ["crash", "restart"]
    # the records sent before the SIGKILL survive it
    assert live.metric("server", "received") == sim.metric("server", "received")


@pytest.mark.live
def test_slow_joiner(clean) -> None:
    # A publisher descheduled for the few ms of the join window (a loaded 2-core machine) sends
    # nothing in it and loses nothing; that is real, so up to three runs may show the loss.
    for _ in range(3):
        lossy = run_live(scenario("slow_joiner", "sync=false"), timeout=60)
        assert lossy.meta["complete"], lossy.meta
        if lossy.metric("subscriber", "lost") > 0:
            break
    assert lossy.metric("subscriber", "lost") > 0
    assert lossy.metric("subscriber", "received") < lossy.metric("publisher", "sent")
    synced = run_live(scenario("slow_joiner", "sync=true"), timeout=60)
    assert synced.meta["complete"], synced.meta
    assert synced.metric("subscriber", "lost") == 0
    assert synced.metric("subscriber", "received") == synced.metric("publisher", "sent")


def custom(tmp_path: Path, body: str) -> Scenario:
    path = tmp_path / "custom.toml"
    path.write_text(textwrap.dedent(body))
    return load_scenario(path, {})


@pytest.mark.live
def test_timeout_returns_partial_records(clean) -> None:
    # a publisher in a tight loop and a subscriber that never gets its topic
    s = scenario("weather", "zip=99999x", until=None)
    live = run_live(s, timeout=3.0)
    assert not live.meta["complete"]
    assert live.meta["stop_reason"] == "timeout"
    assert live.metric("server", "sent") > 0  # the busy publisher still handed over its counts
    assert live.meta["incomplete_nodes"] == []


@pytest.mark.live
def test_unexpected_death_is_reported(clean, tmp_path: Path) -> None:
    s = custom(tmp_path, """
        [run]
        until = 20.0
        [nodes.victim]
        behaviour = "live_behaviours:die"
        sockets = [{ name = "out", type = "PUSH", bind = ["ipc://victim"] }]
        [nodes.peer]
        behaviour = "live_behaviours:idle"
        sockets = [{ name = "in", type = "PULL", connect = ["ipc://victim"] }]
    """)
    live = run_live(s, timeout=30)
    assert not live.meta["complete"]
    assert live.meta["stop_reason"] == "node died"
    assert live.meta["child_exits"]["victim"]["exitcode"] == 3
    assert live.meta["incomplete_nodes"] == ["victim"]
    peer = live.events[live.events.node == "peer"]
    assert "connect" in set(peer.event)  # the surviving node still handed over its records
    assert live.meta["wall_s"] < 15


@pytest.mark.live
def test_behaviour_error_is_reported(clean, tmp_path: Path) -> None:
    s = custom(tmp_path, """
        [run]
        until = 20.0
        [nodes.bad]
        behaviour = "live_behaviours:fail"
        sockets = [{ name = "out", type = "PUSH", bind = ["tcp://bad:7000"] }]
    """)
    live = run_live(s, timeout=30)
    assert not live.meta["complete"]
    assert "behaviour failed on purpose" in live.meta["errors"]["bad"]
    assert live.meta["wall_s"] < 15


def _listening(pids: list[int]) -> set[tuple[str, str]]:
    """(local address, port) of the listening TCP sockets that the processes ``pids`` hold:
    their socket inodes (/proc/PID/fd) matched in /proc/net/tcp*, so that other programs on
    the host cannot change the answer."""
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # TCP_LISTEN, one of theirs
                out.add(tuple(fields[1].split(":")))
    return out


@pytest.mark.live
@pytest.mark.parametrize(("sig", "transport"), [(signal.SIGINT, "tcp"),
                                               (signal.SIGTERM, "ipc")])
def test_a_signal_to_the_runner_leaves_nothing_behind(tmp_path: Path, sig, transport) -> None:
    # `zsim run` in its own process, its run directory in tmp_path; a busy publisher and a
    # subscriber that never gets its topic keep the run going until the signal
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [zsim_script(), "run", "weather", "--backend", "live",
         "--set", "zip=99999x", "--set", f"transport={transport}", "--timeout", "60",
         "--out", str(out)],
        env={**os.environ, "TMPDIR": str(tmp_path)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        # running: both node processes exist and the server's endpoint is there to connect to
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = [p for p in tmp_path.iterdir() if p.name.startswith("zsim-live-")]
            bound = (bool(_listening(children_of(proc.pid))) if transport == "tcp" else
                     bool(runs) and any(p.is_socket() for p in runs[0].iterdir()))
            if len(children_of(proc.pid)) >= 2 and bound:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the live run did not start within 30 s")
        nodes = children_of(proc.pid)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + sig, err
    assert f"stopped by {sig.name}" in err
    # what was recorded is written, marked incomplete
    meta = json.loads((out / "meta.json").read_text())
    assert not meta["complete"]
    assert meta["stop_reason"] == ("interrupted" if sig == signal.SIGINT else "terminated")
    # nothing left: node processes, the run directory (ipc files), listening ports
    deadline = time.monotonic() + 5
    while not all(gone(pid) for pid in nodes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(pid) for pid in nodes)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("zsim-live-")] == []
    # no port is left either: a listening socket cannot outlive the processes holding it
