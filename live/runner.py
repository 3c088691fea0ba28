"""The live runner: start one process per node, relay start conditions, crash and restart nodes
on schedule, stop everyone at the end and merge their records into the shared schema.

Timing: all node processes are spawned and import first; then the runner picks the common start
instant ``t0`` (``time.monotonic_ns``, which every process on the host shares) and sends it to all.
Scenario times (start.at, crash_at, restart_at, run.until) are wall seconds after ``t0``.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import zmq

from zsim.backend import RunOptions, run_meta
from zsim.behaviours.registry import BehaviourError, resolve, validate_params
from zsim.errors import RunInterrupted, ZsimError
from zsim.interrupts import STOPPED_BY, signum_of, sigterm_as_interrupt
from zsim.metrics import derived_rows, lifecycle_log
from zsim.records import RunResult, events_frame, metrics_frame
from zsim.scenario.model import Scenario

from .child import TERM_WAIT_S, NodeConfig, child_main, term_within
from .endpoints import map_endpoints

LOAD_TIMEOUT_S = 60.0  # spawning and importing every node process
GO_MARGIN_S = 0.03  # t0 is this far after the "go" message is sent
STOP_GRACE_S = 5.0  # how long stopped nodes get to hand over their records
JOIN_TIMEOUT_S = 2.0
STDERR_TAIL = 2000
_TEARDOWN_EVENTS = ("disconnected", "refused", "accepted", "connected")

# Metrics the live backend cannot observe: NaN in its records, "not observable live" in compare.
NOT_OBSERVABLE_LIVE = ("dropped", "destroyed")


@dataclass
class _Child:
    name: str
    incarnation: int
    cfg: NodeConfig
    conn: Connection
    worker: Any  # multiprocessing Process or threading.Thread
    loaded: bool = False
    final: bool = False
    finished: bool = False
    killed: bool = False
    dead: bool = False
    conn_open: bool = True
    released: bool = False
    events: list[tuple[Any, ...]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    stuck: bool = False
    error: str | None = None

    @property
    def label(self) -> str:
        return self.name if self.incarnation == 0 else f"{self.name}~{self.incarnation}"

    def send(self, msg: Any) -> None:
        if not self.conn_open or self.killed:
            return
        try:
            self.conn.send(msg)
        except (OSError, EOFError):
            self.conn_open = False


def error_line(trace: str) -> str:
    """A child's traceback as one line: the exception's last line, and where the innermost
    frame outside zsim's own live harness raised it (the behaviour's file:line)."""
    lines = trace.strip().splitlines()
    frames = re.findall(r'File "([^"]+)", line (\d+)', trace)
    here = str(Path(__file__).parent)
    outside = [f for f in frames if not f[0].startswith(here)] or frames
    where = f" (at {Path(outside[-1][0]).name}:{outside[-1][1]})" if outside else ""
    return f"raised {lines[-1] if lines else 'an error'}{where}"


class LiveRun:
    def __init__(self, scenario: Scenario, seed: int, record: str | None, timeout: float) -> None:
        self.scenario = scenario
        self.seed = seed
        self.messages = (record or scenario.run.record) == "messages"
        self.timeout = timeout
        self.children: list[_Child] = []
        self.runner_events: list[tuple[Any, ...]] = []
        self.marks: dict[str, set[str]] = {}
        self.finished: set[str] = set()
        self.stop_after = {n for name in scenario.run.stop_after
                           for n in scenario.nodes_matching(name)}
        self.t0 = 0
        self.t_end = 0
        self.stop_reason = ""
        self.problems: list[str] = []
        self.exits: dict[str, dict[str, Any]] = {}
        self.threads = scenario.inproc_between_nodes()
        self.shared_ctx: zmq.Context[zmq.Socket[bytes]] | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="zsim-live-"))

    # --- setup ------------------------------------------------------------------------------
    def _check(self) -> None:
        for name, spec in self.scenario.nodes.items():
            try:
                validate_params(resolve(spec.behaviour), spec.params,
                                [s.name for s in spec.sockets])
            except BehaviourError as exc:
                where = f"nodes.{name}.{exc.field}" if exc.field else f"nodes.{name}"
                raise ZsimError(f"{where}: {exc.problem}") from None
            if self.threads and spec.crash_at is not None:
                raise ZsimError(
                    f"live backend: nodes.{name}.crash_at: inproc links between nodes run the "
                    "nodes as threads of one process, which cannot be killed one by one"
                )

    def _configs(self, endpoints: dict[str, str]) -> list[NodeConfig]:
        scen = self.scenario
        binders: dict[str, str] = {}
        bind_at: dict[str, tuple[str, float]] = {}
        for name, spec in scen.nodes.items():
            for sock in spec.sockets:
                for ep in sock.bind:
                    binders[ep] = f"{name}.{sock.name}"
                    bind_at[ep] = (name, spec.start.at)
        out = []
        for name, spec in scen.nodes.items():
            incarnations = [0] if spec.restart_at is None else [0, 1]
            for inc in incarnations:
                wait_bound = []
                if inc == 0:
                    for sock in spec.sockets:
                        for ep in sock.connect:
                            owner = bind_at.get(ep)
                            if owner and owner[0] != name and owner[1] <= spec.start.at:
                                wait_bound.append(ep)
                stderr = None if self.threads else str(self.tmp / f"{name}.{inc}.stderr")
                out.append(NodeConfig(
                    name=name, incarnation=inc, spec=spec, endpoints=endpoints, binders=binders,
                    wait_bound=wait_bound, seed=self.seed, messages=self.messages,
                    periodic_flush=spec.crash_at is not None, stderr_path=stderr,
                ))
        return out

    def _spawn(self, cfgs: list[NodeConfig]) -> None:
        if self.threads:
            self.shared_ctx = zmq.Context()
            for cfg in cfgs:
                here, there = mp.Pipe(duplex=True)
                t = threading.Thread(target=child_main, args=(cfg, there, self.shared_ctx),
                                     name=f"zsim-node-{cfg.name}", daemon=True)
                self.children.append(_Child(cfg.name, cfg.incarnation, cfg, here, t))
                t.start()
            return
        # A fresh interpreter per node (``python -m zsim.live.node``): unlike multiprocessing's
        # spawn it never re-imports the caller's __main__. Its own session keeps a terminal's
        # Ctrl-C away from it: the runner stops it and collects its records.
        for cfg in cfgs:
            ours, theirs = socket.socketpair()
            here = Connection(ours.detach())
            fd = theirs.detach()
            assert cfg.stderr_path is not None
            with open(cfg.stderr_path, "wb") as err:
                try:
                    p = subprocess.Popen(
                        [sys.executable, "-m", "zsim.live.node", str(fd)],
                        pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                        start_new_session=True,
                    )
                except BaseException:
                    here.close()
                    raise
                finally:
                    os.close(fd)
            child = _Child(cfg.name, cfg.incarnation, cfg, here, p)
            self.children.append(child)
            child.send(("init", list(sys.path), cfg))

    # --- messages from nodes ------------------------------------------------------------------
    def _now(self) -> float:
        return (time.monotonic_ns() - self.t0) / 1e9 if self.t0 else 0.0

    def _drain(self, child: _Child) -> None:
        while child.conn_open:
            try:
                if not child.conn.poll(0):
                    return
                msg = child.conn.recv()
            except (EOFError, OSError):
                child.conn_open = False
                if not child.final and not child.killed:
                    self._died(child)
                return
            self._handle(child, msg)

    def _handle(self, child: _Child, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "loaded":
            child.loaded = True
        elif kind == "records":
            _, chunk, counters, metrics, stuck, error, final = msg
            child.events.extend(chunk)
            child.counters, child.metrics, child.stuck = counters, metrics, stuck
            if error:
                child.error = error
                self.problems.append(f"{child.label}: {error_line(error)}")
                self._request_stop("error")
            if final:
                child.final = True
        elif kind == "bound":
            for other in self.children:
                if other is not child:
                    other.send(("bound", msg[1]))
        elif kind == "mark":
            self.marks.setdefault(msg[1], set()).add(child.name)
            self._release()
        elif kind == "finished":
            child.finished = True
            self.finished.add(child.name)
            self._check_done()

    def _reached(self, after: str) -> bool:
        pattern, point = after.rsplit(":", 1)
        names = self.scenario.nodes_matching(pattern)
        done = self.marks.get(point, set())
        return bool(names) and all(n in done for n in names)

    def _release(self) -> None:
        for c in self.children:
            after = c.cfg.spec.start.after
            if c.incarnation == 0 and after and not c.released and self._reached(after):
                c.released = True
                c.send(("release",))

    def _check_done(self) -> None:
        if self.stop_after:
            if self.stop_after <= self.finished:
                self._request_stop("stop_after")
            return
        # no stop_after: done when every node's last incarnation has returned (or crashed)
        for name, spec in self.scenario.nodes.items():
            last = [c for c in self.children if c.name == name][-1]
            if not (last.finished or (spec.restart_at is None and last.killed)):
                return
        self._request_stop("all finished")

    def _request_stop(self, reason: str) -> None:
        if not self.stop_reason:
            self.stop_reason = reason
            self.t_end = time.monotonic_ns()

    def _died(self, child: _Child) -> None:
        """A node ended before handing over its records (its connection read EOF)."""
        child.dead = True
        code: Any = "thread"
        if not self.threads:
            try:
                code = child.worker.wait(1.0)
            except subprocess.TimeoutExpired:
                code = "connection closed, process still running"
        self.exits[child.label] = {"exitcode": code, "stderr": self._stderr_tail(child)}
        self.problems.append(f"{child.label}: ended unexpectedly (exit status {code})")
        self._request_stop("node died")

    def _stderr_tail(self, child: _Child) -> str:
        path = child.cfg.stderr_path
        if not path or not os.path.exists(path):
            return ""
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - STDERR_TAIL))
            return f.read().decode(errors="replace")

    def _pump(self, timeout: float) -> None:
        """Wait up to ``timeout`` for node messages (a dead node's connection reads EOF)."""
        conns = {c.conn: c for c in self.children if c.conn_open}
        if not conns:
            time.sleep(max(0.0, timeout))
            return
        for r in wait(list(conns), timeout=max(0.0, timeout)):
            self._drain(conns[r])  # type: ignore[index]

    # --- the run ------------------------------------------------------------------------------
    def _crash(self, name: str) -> None:
        for c in self.children:
            if c.name == name and c.incarnation == 0 and not c.killed:
                c.killed = True
                self.runner_events.append((self._now(), name, "", "crash", "", -1, 0, "", "", ""))
                if not self.threads and c.worker.poll() is None:
                    c.worker.kill()  # SIGKILL

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        self._check()
        endpoints = map_endpoints(self.scenario, self.tmp)
        self._spawn(self._configs(endpoints))
        load_deadline = min(deadline, time.monotonic() + LOAD_TIMEOUT_S)
        while not all(c.loaded for c in self.children) and not self.stop_reason:
            left = load_deadline - time.monotonic()
            if left <= 0:
                self.problems.append("node processes did not start in time")
                self._request_stop("timeout")
                break
            self._pump(min(left, 0.5))
        if self.stop_reason:
            return
        self.t0 = time.monotonic_ns() + int(GO_MARGIN_S * 1e9)
        for c in self.children:
            c.send(("go", self.t0))
        self._release()
        until_ns = self.t0 + int(self.scenario.run.until * 1e9)
        crashes = sorted(
            (self.t0 + int(spec.crash_at * 1e9), name)
            for name, spec in self.scenario.nodes.items() if spec.crash_at is not None
        )
        while not self.stop_reason:
            now = time.monotonic_ns()
            while crashes and crashes[0][0] <= now:
                self._crash(crashes.pop(0)[1])
                self._check_done()
            if now >= until_ns:
                self._request_stop("until")
                break
            if time.monotonic() >= deadline:
                self.problems.append(f"wall-clock timeout ({self.timeout} s)")
                self._request_stop("timeout")
                break
            nxt = min([until_ns, *(t for t, _ in crashes[:1])])
            wait_s = min((nxt - now) / 1e9, deadline - time.monotonic(), 0.5)
            self._pump(wait_s)

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """Ask every node for its records, then reap everything."""
        if not self.t_end:
            self.t_end = time.monotonic_ns()
        for c in self.children:
            if not c.final:
                c.send(("stop",))
        grace_deadline = time.monotonic() + grace
        while time.monotonic() < grace_deadline:
            pending = [c for c in self.children
                       if not c.final and not c.killed and c.conn_open]
            if not pending:
                break
            self._pump(min(0.1, grace_deadline - time.monotonic()))
        for c in self.children:
            if not c.final and not c.killed:
                self.problems.append(f"{c.label}: did not hand over its records in time")

    def kill_all(self) -> None:
        if not self.threads:
            for c in self.children:
                if c.worker.poll() is None:
                    c.worker.kill()

    def reap(self) -> None:
        """Join every node (killing those that do not exit), close everything, remove files."""
        try:
            self._reap()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _reap(self) -> None:
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        for c in self.children:
            w = c.worker
            left = max(0.0, deadline - time.monotonic())
            if self.threads:
                w.join(left)
                continue
            try:
                w.wait(left)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
                if c.label not in self.exits and not c.killed:
                    self.exits[c.label] = {"exitcode": "killed at the end",
                                           "stderr": self._stderr_tail(c)}
        for c in self.children:
            c.conn.close()
            c.conn_open = False
        if self.shared_ctx is not None:
            if all(not c.worker.is_alive() for c in self.children):
                if not term_within(self.shared_ctx, TERM_WAIT_S):
                    self.problems.append("context term blocked: a closed socket lingers "
                                         "with unsent messages (linger -1)")
            else:
                self.problems.append("node threads still running; context left open")

    # --- the result -------------------------------------------------------------------------
    def result(self, wall: float, interrupted: str | None) -> RunResult:
        """The run's records; ``interrupted``: "interrupted" (Ctrl-C), "terminated" (SIGTERM)."""
        rows = list(self.runner_events)
        for c in self.children:
            rows.extend(c.events)
        sim_time = (self.t_end - self.t0) / 1e9 if self.t0 and self.t_end else 0.0
        if sim_time:
            # connections torn down by the end-of-run shutdown are not part of the run
            rows = [r for r in rows if not (r[0] >= sim_time and r[3] in _TEARDOWN_EVENTS)]
        rows.sort(key=lambda r: r[0])
        events = events_frame(rows)
        metric_rows: list[tuple[str, str, float]] = []
        for name, spec in self.scenario.nodes.items():
            mine = [c for c in self.children if c.name == name]
            totals: dict[str, float] = {k: 0 for k in ("sent", "received", "dropped",
                                                       "destroyed", "cpu_s", "io_wait_s",
                                                       "preempted")}
            metrics: dict[str, float] = {}
            for c in mine:
                for k in totals:
                    totals[k] += c.counters.get(k, 0)
                metrics.update(c.metrics)
            # libzmq reports no drops (an HWM drop in pub/dist.cpp is silent): absent, not 0
            totals.update(dict.fromkeys(NOT_OBSERVABLE_LIVE, math.nan))
            metric_rows += [(name, k, float(v)) for k, v in totals.items()]
            if any(s.type == "REQ" for s in spec.sockets):
                last = [c for c in mine if c.final or c.killed]
                stuck = bool(last) and not last[-1].killed and last[-1].stuck
                metric_rows.append((name, "stuck", 1.0 if stuck else 0.0))
            metric_rows += [(name, k, v) for k, v in sorted(metrics.items())]
        metric_rows += derived_rows(events, self.scenario)
        if not self.messages:
            events = lifecycle_log(events)  # the join rows served derived_rows only
        metric_rows.append(("*", "sim_time_s", max(0.0, sim_time)))
        metric_rows.append(("*", "queued", math.nan))  # not observable on real sockets
        incomplete = sorted(c.label for c in self.children if not c.final and not c.killed)
        complete = (not self.problems and not incomplete and not interrupted
                    and self.stop_reason not in ("timeout", "error", "node died"))
        unfinished = self.unfinished()
        options = RunOptions(seed=self.seed,
                             record="messages" if self.messages else "lifecycle",
                             timeout=self.timeout)
        meta = run_meta(
            "live", self.scenario, options, complete=complete, wall_s=wall,
            stop_reason=interrupted or self.stop_reason,
            mode="threads" if self.threads else "processes",
            incomplete_nodes=incomplete,
            unfinished=unfinished,
            problems=self.problems,
            child_exits=self.exits,
            errors={c.label: c.error for c in self.children if c.error},
            pyzmq=zmq.__version__,
            libzmq=zmq.zmq_version(),
            cpus=os.cpu_count(),
            kernel=platform.release(),
        )
        return RunResult(events, metrics_frame(metric_rows), meta)


    def unfinished(self) -> dict[str, dict[str, object]]:
        """Each node whose behaviour had not returned when the run ended (zsim.outcome): a REQ
        awaiting its reply and a start condition never met are hangs; others are idle."""
        why = f"the run ended ({self.stop_reason or 'stopped'})"
        out: dict[str, dict[str, object]] = {}
        for name, spec in self.scenario.nodes.items():
            mine = [c for c in self.children if c.name == name]
            last = mine[-1] if mine else None
            if last is None or last.finished or last.killed:
                continue
            started = any(e[1] == name and e[3] == "start" for e in last.events)
            if not started and spec.start.after:
                doing, hang = f"not started: its start condition after = " \
                              f"{spec.start.after!r} was never met", True
            elif last.stuck:
                doing, hang = "blocked in recv on a REQ awaiting its reply", True
            else:
                doing, hang = "did not finish", False
            out[name] = {"waiting": f"{doing}; {why}", "hang": hang}
        return out




def run_live(
    scenario: Scenario, seed: int | None = None, record: str | None = None, timeout: float = 120.0
) -> RunResult:
    """Run ``scenario`` once on real pyzmq sockets over loopback, one process per node.

    Returns the same event columns and metric names as the simulator. ``meta['complete']`` is
    False when the run hit ``timeout``, a node failed or died, or a node did not hand over its
    records; what was recorded is returned all the same. On Ctrl-C or SIGTERM every node is
    stopped and reaped and the run's files removed, then ``RunInterrupted`` is raised with what
    was recorded.
    """
    seed = scenario.run.seed if seed is None else seed
    run = LiveRun(scenario, seed, record, timeout)
    wall0 = time.perf_counter()
    signum = 0
    with sigterm_as_interrupt():
        try:
            try:
                run.run()
            except KeyboardInterrupt as exc:
                signum = signum_of(exc)
                run.problems.append(STOPPED_BY[signum])
            try:
                run.stop(grace=1.0 if signum else STOP_GRACE_S)
            except KeyboardInterrupt as exc:
                signum = signum or signum_of(exc)
        except BaseException:
            run.kill_all()
            raise
        finally:
            run.reap()
    result = run.result(time.perf_counter() - wall0, STOPPED_BY.get(signum))
    if signum:
        raise RunInterrupted(result, signum)
    return result
