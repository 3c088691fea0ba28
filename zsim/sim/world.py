"""The simulated world: one simpy environment, the network, the nodes, the run loop."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import simpy

from zsim.costs import CostModel
from zsim.records import Recorder
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum, node_seeds, run_quantile
from zsim.sim.cpu import Cpu
from zsim.sim.gil import Gil
from zsim.sim.network import Network
from zsim.sim.node import SimNode


@dataclass
class NodeStats:
    """Counters of one scenario node across its incarnations."""

    sent: int = 0
    received: int = 0
    dropped: int = 0
    destroyed: int = 0
    cpu_s: float = 0.0
    io_wait_s: float = 0.0
    preempted: int = 0
    metrics: dict[str, float] = field(default_factory=dict)


def host_speed_factor(cv: float, quantile: float) -> float:
    """This run's CPU cost factor: the ``quantile`` of a lognormal with mean 1 and coefficient of
    variation ``cv``; 1 when ``cv`` is 0."""
    if cv <= 0:
        return 1.0
    var = math.log1p(cv * cv)  # the log's variance, for that CV
    return math.exp(math.sqrt(var) * NormalDist().inv_cdf(quantile) - var / 2)


def gil_wait(costs: CostModel, quantile: float) -> float:
    """This run's mean wait for the interpreter lock: app_gil_wait_s times the ``quantile`` of a
    lognormal factor (median 1, log-sd app_gil_wait_sigma)."""
    if costs.app_gil_wait_sigma <= 0:
        return costs.app_gil_wait_s
    return costs.app_gil_wait_s * math.exp(
        costs.app_gil_wait_sigma * NormalDist().inv_cdf(quantile))


class World:
    def __init__(self, scenario: Scenario, seed: int, record: str | None = None,
                 stratum: Stratum | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        self.env = simpy.Environment()
        # the per-run draws, each from a stream of its own (so that the seed's other draws do
        # not move with them), in the stratum's slice when the run is one of a set
        self.speed_factor = host_speed_factor(scenario.model.host_speed_cv,
                                              run_quantile(seed, 4, stratum))
        self.costs = scenario.model.slowed(self.speed_factor)
        self.recorder = Recorder(messages=(record or scenario.run.record) == "messages")
        self.network = Network(self.env)
        self.cpu = Cpu(self.env, self.costs.cpu_cores)  # the cores every thread shares
        # one interpreter lock when the nodes are threads of one process (see zsim.sim.gil)
        self.gil = (Gil(self.env, gil_wait(self.costs, run_quantile(seed, 5, stratum)),
                        np.random.default_rng([seed, 2]))
                    if self.costs.app_gil_wait_s > 0 and scenario.inproc_between_nodes()
                    else None)
        self.nodes: dict[str, SimNode] = {}
        self.stats = {name: NodeStats() for name in scenario.nodes}
        self.marks: dict[str, set[str]] = {}
        self.point_waiters: list[tuple[str, str, simpy.Event]] = []
        self.finished: set[str] = set()
        self.stop_after = {n for name in scenario.run.stop_after
                           for n in scenario.nodes_matching(name)}
        self.stopped = False
        self.end_reason = ""  # set by run(): stop_after, until, idle or timeout

    def seeds_for(self, name: str, incarnation: int) -> tuple[int, int]:
        """Two independent seeds for a node (behaviour draws, model draws), stable by name."""
        return node_seeds(self.seed, name, incarnation)

    # --- start conditions -----------------------------------------------------------------
    def mark(self, node: str, point: str) -> None:
        self.marks.setdefault(point, set()).add(node)
        still = []
        for pattern, p, event in self.point_waiters:
            if self._reached(pattern, p):
                event.succeed()
            else:
                still.append((pattern, p, event))
        self.point_waiters = still

    def _reached(self, pattern: str, point: str) -> bool:
        names = self.scenario.nodes_matching(pattern)
        done = self.marks.get(point, set())
        return bool(names) and all(n in done for n in names)

    def point_reached(self, after: str) -> simpy.Event:
        pattern, point = after.rsplit(":", 1)
        event = self.env.event()
        if self._reached(pattern, point):
            event.succeed()
        else:
            self.point_waiters.append((pattern, point, event))
        return event

    def node_finished(self, name: str) -> None:
        self.finished.add(name)
        if self.stop_after and self.stop_after <= self.finished:
            self.stopped = True

    # --- running --------------------------------------------------------------------------
    def _schedule(self, at: float, action: Any) -> None:
        self.env.timeout(at).callbacks.append(lambda _e: action())

    def _start_late(self, name: str, incarnation: int) -> float:
        mean, cv = self.costs.app_start_late_s, self.costs.app_start_late_cv
        if mean <= 0 or cv <= 0:
            return mean
        rng = np.random.default_rng([self.seeds_for(name, incarnation)[1], 3])
        shape = 1.0 / (cv * cv)
        return float(rng.gamma(shape, mean / shape))

    def _bind(self, name: str, incarnation: int) -> None:
        spec = self.scenario.nodes[name]
        if incarnation:
            node = self.nodes[name]
            node.record_lifecycle(None, "restart", "", "")
        node = SimNode(self, spec, name, incarnation, self.stats[name])
        self.nodes[name] = node
        node.bind()

    def _connect(self, name: str, incarnation: int) -> None:
        node = self.nodes[name]
        if node.incarnation == incarnation and node.alive:
            node.connect_and_run()

    def run(self, wall_timeout: float | None = None) -> None:
        # As the live backend (zsim.live.child, runner): a node's process sleeps until its
        # start and wakes late (app_start_late_*, each node and incarnation a draw of its own);
        # a node that starts at 0 binds before the common start, any other when it wakes; its
        # connects wait for the binds due at or before its start. A restart binds and connects
        # when it wakes; a crash is a SIGKILL from outside, on time.
        nodes = self.scenario.nodes
        wake = {name: spec.start.at + self._start_late(name, 0) for name, spec in nodes.items()}
        bound = {name: 0.0 if spec.start.at == 0 else wake[name] for name, spec in nodes.items()}
        owner = {ep: name for name, spec in nodes.items() for s in spec.sockets for ep in s.bind}
        for name in nodes:
            self._schedule(bound[name], lambda n=name: self._bind(n, 0))
        for name, spec in nodes.items():
            due = [bound[owner[ep]] for s in spec.sockets for ep in s.connect
                   if owner.get(ep, name) != name
                   and nodes[owner[ep]].start.at <= spec.start.at]
            self._schedule(max([wake[name], *due]), lambda n=name: self._connect(n, 0))
            if spec.crash_at is not None:
                self._schedule(spec.crash_at, lambda n=name: self.nodes[n].crash())
            if spec.restart_at is not None:
                back = spec.restart_at + self._start_late(name, 1)
                self._schedule(back, lambda n=name: self._bind(n, 1))
                self._schedule(back, lambda n=name: self._connect(n, 1))
        self.end_reason = self._step_until(self.scenario.run.until, wall_timeout)

    def _step_until(self, until: float, wall_timeout: float | None) -> str:
        """Run the kernel; why it stopped: stop_after, until, idle (nothing left to happen)
        or timeout (``wall_timeout`` wall-clock seconds, checked every 4096 events)."""
        env = self.env
        step, peek = env.step, env.peek
        deadline = math.inf if wall_timeout is None else time.monotonic() + wall_timeout
        while True:
            for _ in range(4096):
                if self.stopped:
                    return "stop_after"
                t = peek()
                if t > until:
                    return "idle" if t == math.inf else "until"
                step()
            if time.monotonic() > deadline:
                return "timeout"

    def stranded(self) -> list[str]:
        """The kernel's liveness invariant, one line per breach: no message sits in an
        engine's input while its pipe has room (the engine waits for an activate_write that
        already came), and none in a pipe whose reader went to sleep on it empty and was
        never woken (an activate_read that never came)."""
        out = []
        for name, node in self.nodes.items():
            if not node.alive:
                continue
            for engine, _ in node.engines:
                n = engine.stranded()
                if n:
                    out.append(f"{name}: {n} messages stranded in {engine.label}'s input "
                               "while its pipe has room (a lost wake-up in the model)")
            for sock in node.sockets.values():
                for conn in sock.conns:
                    if conn.alive and conn.inp.reader_asleep and len(conn.inp):
                        out.append(f"{name}: {len(conn.inp)} messages stranded in "
                                   f"{conn.inp.label}, its reader never woken")
        return out

    def unfinished(self) -> dict[str, dict[str, object]]:
        """Each node whose behaviour had not returned when the run ended, and what it was
        doing (zsim.outcome): blocked (node.waiting, a hang or not), asleep, or crashed."""
        why = {"idle": "nothing left to happen in the model (deadlock)",
               "until": f"the run reached until = {self.scenario.run.until:g} s",
               "stop_after": "the run ended at stop_after",
               "timeout": "the run hit its wall-clock timeout",
               "interrupted": "the run was interrupted",
               "terminated": "the run was terminated"}[self.end_reason]
        out: dict[str, dict[str, object]] = {}
        for name in self.scenario.nodes:
            node = self.nodes.get(name)
            if name in self.finished and node is not None and node.alive:
                unsent = node.unsent_at_close()
                if unsent and self.end_reason in ("until", "idle"):
                    # the program would hang in zmq_ctx_term (linger -1, or a longer linger)
                    out[name] = {"waiting": f"closing with {unsent}; {why}", "hang": True}
                continue
            if name in self.finished or (node is not None and not node.alive):
                continue  # returned, or crashed on purpose (crash_at) and not restarted
            wait = None if node is None else node.waiting
            doing = "not started" if node is None else (
                wait.describe() if wait is not None else "running")
            out[name] = {"waiting": f"{doing}; {why}", "hang": bool(wait and wait.hang)}
        return out

    # --- accounting -----------------------------------------------------------------------
    def queued(self) -> int:
        """Messages still in pipes, engines and wires (each pipe counted once)."""
        pipes: dict[int, int] = {}
        engines = 0
        for node in self.nodes.values():
            if not node.alive:
                continue
            for sock in node.sockets.values():
                for conn in sock.conns:
                    for pipe in (conn.out, conn.inp):
                        pipes[id(pipe)] = len(pipe)
            engines += sum(e.queued() for e, _ in node.engines if e.alive)
        for conns in self.network.parked.values():
            for conn in conns:
                pipes[id(conn.out)] = len(conn.out)
        return sum(pipes.values()) + engines

    def metric_rows(self) -> list[tuple[str, str, float]]:
        rows: list[tuple[str, str, float]] = []
        for name, st in self.stats.items():
            rows += [(name, "sent", st.sent), (name, "received", st.received),
                     (name, "dropped", st.dropped), (name, "destroyed", st.destroyed),
                     (name, "cpu_s", st.cpu_s), (name, "io_wait_s", st.io_wait_s),
                     (name, "preempted", st.preempted)]
            node = self.nodes.get(name)
            if node is not None and any(s.spec.type == "REQ" for s in node.sockets.values()):
                rows.append((name, "stuck", 1.0 if node.is_stuck() else 0.0))
            rows += [(name, k, v) for k, v in sorted(st.metrics.items())]
        return rows
