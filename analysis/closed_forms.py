"""Closed-form predictions for the canonical scenarios, each stating its assumptions.

Every prediction is computed from the scenario's inputs (params, distributions, model costs),
never from a simulation's outputs, so that simulation and live runs can be checked against it.
``MODELS`` maps a scenario's ``[compare] model`` to its prediction function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from zsim.behaviours.api import frame_overhead
from zsim.behaviours.registry import resolve, validate_params
from zsim.costs import IO_WAKE_CPU_BEFORE, CostModel
from zsim.errors import ScenarioError
from zsim.scenario.model import Scenario, transport_of


@dataclass(frozen=True)
class Prediction:
    node: str
    metric: str
    value: float
    assumptions: str


# E[max of n iid standard normals], n = 1..10 (Harter 1961); Blom's approximation beyond.
_NORMAL_MAX = (0.0, 0.5642, 0.8463, 1.0294, 1.1630, 1.2672, 1.3522, 1.4236, 1.4850, 1.5388)


def expected_max_std_normal(n: int) -> float:
    if n <= len(_NORMAL_MAX):
        return _NORMAL_MAX[n - 1]
    return NormalDist().inv_cdf((n - 0.375) / (n + 0.25))


def behaviour_params(sc: Scenario, node: str) -> Any:
    """The node's validated behaviour parameters (distributions as objects)."""
    spec = sc.nodes[node]
    return validate_params(resolve(spec.behaviour), spec.params, [s.name for s in spec.sockets])


# --- pipeline ---------------------------------------------------------------------------------


def round_robin_counts(tasks: int, workers: int) -> list[int]:
    """Tasks per worker when task i goes to worker i mod W."""
    return [tasks // workers + (1 if k < tasks % workers else 0) for k in range(workers)]


def round_robin_loads(workloads: Sequence[float], workers: int) -> list[float]:
    """Per-worker total work under round-robin pre-assignment (all pipes exist before the first
    send and none fills: HWM >= tasks / workers)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    loads = [0.0] * workers
    for i, w in enumerate(workloads):
        loads[i % workers] += w
    return loads


def greedy_loads(workloads: Sequence[float], workers: int) -> list[float]:
    """Per-worker total work when each task goes to whichever worker is free first (list
    scheduling): what a PUSH does when each worker can hold only the task it works on."""
    loads = [0.0] * workers
    for w in workloads:
        k = min(range(workers), key=lambda j: (loads[j], j))
        loads[k] += w
    return loads


def pipeline_makespan(worker_loads: Sequence[float], overhead_s: float = 0.0) -> float:
    """The busiest worker's total work plus a fixed overhead (messaging and start-up)."""
    return max(worker_loads) + overhead_s


def app_costs_of(sc: Scenario) -> CostModel:
    """The scenario's cost model as its application pays it. The event log is the harness's,
    so the record level changes nothing, as in the simulation (zsim.sim.node)."""
    return sc.model


def first_worker_takes_all(tasks: int, stagger_s: float, costs: CostModel, transport: str,
                           size: int = 8) -> bool:
    """True when the ventilator's whole burst is queued before a second worker's pipe exists:
    tasks × send cost < stagger + the second worker's handshake (bind side) + one command
    interval (the ventilator attaches new pipes only when it processes commands)."""
    link = costs.link(transport)
    handshake = link.bind_half_trips * (link.latency_s + costs.io_wakeup_s)
    burst = tasks * costs.call_cost(size)[0]
    return burst < stagger_s + handshake


def predict_pipeline(sc: Scenario) -> list[Prediction]:
    p = sc.params
    workers, tasks = int(p["workers"]), int(p["tasks"])
    names = sc.group_members("worker")
    vent = sc.nodes["ventilator"]
    dist = behaviour_params(sc, "ventilator").workload
    out: list[Prediction] = []
    if p.get("sync", True):
        counts = round_robin_counts(tasks, workers)
        rr = "round-robin over pipes that all exist before the first task (synchronised start)"
        out += [Prediction(n, "tasks", c, rr) for n, c in zip(names, counts, strict=True)]
        # Each worker's total is a sum of n iid workloads ~ N(n·mu, n·var); the makespan is the
        # expected maximum of `workers` such sums (normal approximation); messaging is ignored.
        # A worker's task is a sleep, which ends late by the model's lateness for its length.
        n = counts[0]
        late = sc.model.sleep_lateness(dist.mean)[0]
        mu, sd = n * (dist.mean + late), math.sqrt(n * dist.variance)
        out.append(Prediction("sink", "makespan_s", mu + sd * expected_max_std_normal(workers),
                              "E[max over workers of a sum of their workloads], normal "
                              "approximation; messaging time neglected"))
        return out
    transport = transport_of(vent.sockets[0].bind[0])
    size = int(behaviour_params(sc, "ventilator").size)
    if first_worker_takes_all(tasks, float(p["stagger"]), app_costs_of(sc), transport, size):
        why = "the whole burst is queued before the second worker connects"
        out += [Prediction(n, "tasks", tasks if i == 0 else 0, why) for i, n in enumerate(names)]
        out.append(Prediction("sink", "makespan_s",
                              tasks * (dist.mean + sc.model.sleep_lateness(dist.mean)[0]),
                              "one worker does every task: tasks × mean workload"))
    return out


# --- slow joiner ------------------------------------------------------------------------------


def join_window(costs: CostModel, transport: str, rate: float) -> float:
    """Expected time from a SUB's connect() to the publisher's first send that reaches it:
    the binding side's handshake, then the wait until the publisher next processes commands
    (uniform over one command interval when it sends more often than that, else over one send
    interval). The handshake's mean jitter (handshake_jitter_s) adds to it."""
    link = costs.link(transport)
    handshake = (link.bind_half_trips * (link.latency_s + costs.io_wakeup_s)
                 + link.handshake_jitter_s)
    send_gap = 1.0 / rate if rate > 0 else 0.0
    return handshake + max(costs.command_interval_s, send_gap) / 2


def predict_slow_joiner(sc: Scenario) -> list[Prediction]:
    p = sc.params
    if p.get("sync", False):
        return [Prediction("subscriber", "lost", 0.0, "the publisher starts after the "
                           "subscriber's connection and subscription are in place")]
    rate = float(p["rate"])
    transport = transport_of(sc.nodes["publisher"].sockets[0].bind[0])
    lost = rate * join_window(app_costs_of(sc), transport, rate)
    return [Prediction("subscriber", "lost", lost,
                       "lost = rate × join window (handshake + half a command interval)")]


# --- HWM burst --------------------------------------------------------------------------------


def burst_capacity(costs: CostModel, transport: str, sndhwm: int, rcvhwm: int, size: int) -> float:
    """Messages that fit between an idle receiver and the sender: inproc sndhwm + rcvhwm
    (unlimited if either is 0); tcp/ipc both pipes plus the kernel buffers in bytes."""
    if transport == "inproc":
        return math.inf if sndhwm == 0 or rcvhwm == 0 else float(sndhwm + rcvhwm)
    pipes = math.inf if sndhwm == 0 or rcvhwm == 0 else float(sndhwm + rcvhwm)
    wire = size + frame_overhead(size)
    return pipes + costs.link(transport).kernel_buffer_bytes / wire


def burst_received(sent: int, capacity: float, consumer_rate: float, burst_s: float) -> float:
    """received = min(sent, capacity + consumer rate × burst time): assumes the sender sees the
    consumer's progress at once (libzmq tells it only every lwm reads, so this is an upper
    bound)."""
    return float(min(sent, capacity + consumer_rate * burst_s))


def predict_slow_subscriber(sc: Scenario) -> list[Prediction]:
    p = sc.params
    count, size, hwm = int(p["count"]), int(p["size"]), int(p["hwm"])
    service = float(p["service"])
    transport = str(p["transport"])
    costs = app_costs_of(sc)
    capacity = burst_capacity(costs, transport, hwm, hwm, size)
    burst_s = count * costs.call_cost(size)[0]
    rate = 1.0 / service if service > 0 else math.inf
    received = count if math.isinf(rate) else burst_received(count, capacity, rate, burst_s)
    why = "min(sent, capacity + consumer rate × burst time); capacity = pipes + kernel buffers"
    return [Prediction("subscriber", "received", received, why),
            Prediction("publisher", "dropped", count - received, "sent - received")]


# --- request/reply ----------------------------------------------------------------------------


def reqrep_rtt(costs: CostModel, transport: str, size: int = 5, service: float = 0.0) -> float:
    """One request/reply round trip, less the service time: each way a send call, the I/O
    wake-ups (their latency and the CPU before the message) and engine work on both sides,
    the link, and the receiver's wake-up and recv.
    (The command a send posts to the sleeping reader, command_post_s, delays the sender's next
    call, not this message: the reader is woken as it is posted.)
    The sending side's I/O thread last worked one application turn earlier, when it read the
    message being answered (the application's wake-up, recv, ``service`` and send): it wakes
    hot when that is under ``io_hot_idle_s``. The receiving side's has been idle about a
    round trip: it wakes in ``io_wakeup_s``."""
    send, recv = costs.call_cost(size)
    if transport == "inproc":
        one_way = send + costs.app_wakeup_s + recv
    else:
        link = costs.link(transport)
        engine = 2 * (costs.engine_msg_s + costs.engine_byte_s * size)
        # the part of an I/O wake-up's CPU that comes before the message (the rest follows
        # its write or its push into the pipe: zsim.sim.engine)
        wake_cpu = costs.io_wake_cpu_s * IO_WAKE_CPU_BEFORE
        turn = costs.app_wakeup_s + recv + service + send
        hot = costs.io_wakeup_s if costs.io_hot_wakeup_s is None else costs.io_hot_wakeup_s
        send_wake = hot if turn < costs.io_hot_idle_s else costs.io_wakeup_s
        one_way = (send + send_wake + costs.io_wakeup_s + 2 * wake_cpu + engine
                   + link.latency_s + costs.app_wakeup_s + recv)
    return 2 * one_way


def predict_reqrep(sc: Scenario) -> list[Prediction]:
    p = sc.params
    requests, service = int(p["requests"]), float(p["service"])
    rtt = reqrep_rtt(app_costs_of(sc), str(p["transport"]), service=service) + service
    return [
        Prediction("client", "replies", requests, "every request is answered"),
        Prediction("client", "rtt_mean_s", rtt, "service time + messaging round trip; "
                   "throughput = 1 / RTT"),
    ]


def predict_server_crash(sc: Scenario) -> list[Prediction]:
    p = sc.params
    service = float(p["service"])
    rtt = reqrep_rtt(app_costs_of(sc), str(p["transport"]), service=service) + service
    replies = min(int(p["requests"]), math.floor(float(p["crash_at"]) / rtt))
    return [
        Prediction("client", "replies", replies, "replies completed before the crash"),
        Prediction("client", "stuck", 1.0, "the request in flight died with the server; a "
                   "REQ waits for its reply forever"),
    ]


# --- queueing ---------------------------------------------------------------------------------


def mm1_wait(arrival_rate: float, service_rate: float) -> float:
    """M/M/1 mean time in queue before service: rho / (mu - lambda)."""
    rho = arrival_rate / service_rate
    return math.inf if rho >= 1 else rho / (service_rate - arrival_rate)


def md1_wait(arrival_rate: float, service_rate: float) -> float:
    """M/D/1 mean time in queue (Pollaczek-Khinchine): rho / (2 mu (1 - rho))."""
    rho = arrival_rate / service_rate
    return math.inf if rho >= 1 else rho / (2 * service_rate * (1 - rho))


def predict_queue(sc: Scenario) -> list[Prediction]:
    p = sc.params
    lam, service = float(p["arrival_rate"]), float(p["service"])
    mu = 1.0 / service
    if p.get("service_dist", "exponential") == "exponential":
        wait, name = mm1_wait(lam, mu), "M/M/1"
    else:
        wait, name = md1_wait(lam, mu), "M/D/1"
    return [Prediction("consumer", "latency_mean_s", wait,
                       f"{name} mean wait in queue; Poisson arrivals, one consumer, "
                       "messaging time neglected")]


MODELS: dict[str, Callable[[Scenario], list[Prediction]]] = {
    "pipeline": predict_pipeline,
    "slow_joiner": predict_slow_joiner,
    "slow_subscriber": predict_slow_subscriber,
    "reqrep": predict_reqrep,
    "server_crash": predict_server_crash,
    "queue": predict_queue,
}


def predict(sc: Scenario) -> list[Prediction]:
    """The closed-form predictions the scenario's ``[compare] model`` names (none without)."""
    name = sc.compare.model
    if name is None:
        return []
    if name not in MODELS:
        raise ScenarioError(sc.source, "compare.model",
                            f"unknown closed form {name!r} (one of {sorted(MODELS)})")
    return MODELS[name](sc)
