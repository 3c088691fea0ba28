"""Built-in behaviours: the zguide's examples as parameterised generators.

Each takes the node and its validated parameters and yields operations (see ``api``). Metrics they
set appear in the run's metrics table next to the backend's own counters.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from zsim.behaviours.api import BehaviourRun, Message, Node
from zsim.behaviours.registry import Params, SocketName, behaviour
from zsim.scenario.distributions import Constant, Distribution


class PublisherParams(Params):
    socket: SocketName = Field("pub", description="socket to publish on")
    rate: float = Field(0.0, ge=0, description="messages per second; 0 = as fast as possible")
    interval: Distribution | None = Field(
        None, description="seconds between sends, drawn each time (overrides rate): "
        "an exponential interval makes Poisson arrivals"
    )
    count: int = Field(0, ge=0, description="messages to publish; 0 = until the run ends")
    size: int = Field(16, ge=0, description="payload bytes per message")
    topic: str = Field("", description="topic, a format string: '{key:05d} ' uses the key draw")
    key: Distribution = Field(Constant(value=0), description="drawn per message (floored)")
    fields: dict[str, Distribution] = Field(
        default_factory=dict, description="body fields drawn per message"
    )


@behaviour("publisher", PublisherParams)
def publisher(node: Node, p: PublisherParams) -> BehaviourRun:
    """Publish `count` messages at `rate` msg/s, each topic from `topic` and a key draw."""
    sock = node.socket(p.socket)
    yield node.mark("started")
    t0: float = yield node.now()
    interval = 1.0 / p.rate if p.rate > 0 else 0.0
    k = 0
    while p.count == 0 or k < p.count:
        if p.interval is not None:
            gap = p.interval.sample(node.rng)
            if gap > 0:
                yield node.sleep(gap)
        elif interval:
            now: float = yield node.now()
            due = t0 + k * interval
            if due > now:
                yield node.sleep(due - now)
        key = math.floor(p.key.sample(node.rng))
        body = {name: d.sample(node.rng) for name, d in p.fields.items()}
        yield sock.send(body, size=p.size, topic=p.topic.format(key=key))
        k += 1
    yield node.mark("done")


class SubscriberParams(Params):
    socket: SocketName = Field("sub", description="socket to receive on")
    service: Distribution = Field(Constant(value=0.0), description="seconds of work per message")
    count: int = Field(0, ge=0, description="stop after this many messages; 0 = never")
    idle_timeout: float = Field(
        0.0, ge=0, description="stop after this long without a message; 0 = never"
    )
    average: str = Field("", description="body field to average into metric mean_<field>")


@behaviour("subscriber", SubscriberParams)
def subscriber(node: Node, p: SubscriberParams) -> BehaviourRun:
    """Receive (filtered by the socket's subscriptions), spending `service` s per message."""
    sock = node.socket(p.socket)
    yield node.mark("ready")
    timeout = p.idle_timeout or None
    total, latency, n, t_first = 0.0, 0.0, 0, 0.0
    while p.count == 0 or n < p.count:
        msg: Message | None = yield sock.recv(timeout=timeout)
        if msg is None:
            break
        n += 1
        now: float = yield node.now()
        latency += now - msg.t_sent
        node.set_metric("latency_mean_s", latency / n)
        if n == 1:
            t_first = now
        elif now > t_first:
            node.set_metric("throughput_msg_s", (n - 1) / (now - t_first))
        if p.average:
            total += float(msg.body[p.average])
        cost = p.service.sample(node.rng)
        if cost > 0:
            yield node.work(cost)
    if p.average and n:
        node.set_metric(f"mean_{p.average}", total / n)
    yield node.mark("done")


class VentilatorParams(Params):
    socket: SocketName = Field("tasks", description="PUSH socket the tasks go out on")
    sink: SocketName = Field("", description="socket for the start-of-batch signal ('' = none)")
    tasks: int = Field(100, ge=0, description="tasks in the batch")
    workload: Distribution = Field(description="seconds of work per task")
    size: int = Field(8, ge=0, description="payload bytes per task")


@behaviour("ventilator", VentilatorParams)
def ventilator(node: Node, p: VentilatorParams) -> BehaviourRun:
    """Signal the sink, then push `tasks` tasks whose workloads are drawn from `workload`."""
    if p.sink:
        yield node.socket(p.sink).send({"batch": p.tasks}, size=1)
    sock = node.socket(p.socket)
    total = 0.0
    for task in range(p.tasks):
        workload = p.workload.sample(node.rng)
        total += workload
        yield sock.send({"task": task, "workload": workload}, size=p.size)
    node.set_metric("workload_s", total)
    yield node.mark("done")


class WorkerParams(Params):
    tasks: SocketName = Field("tasks", description="PULL socket tasks arrive on")
    results: SocketName = Field("results", description="PUSH socket results leave on")
    size: int = Field(8, ge=0, description="payload bytes per result")


@behaviour("worker", WorkerParams)
def worker(node: Node, p: WorkerParams) -> BehaviourRun:
    """Take tasks, work for each task's workload, send a result; forever. Metrics: ``tasks``,
    ``busy_s``, and ``first_task``: the number of the first task it got (the ventilator's
    round-robin order: which worker was served first, second, …)."""
    tasks, results = node.socket(p.tasks), node.socket(p.results)
    yield tasks.wait_connected()
    yield results.wait_connected()
    yield node.mark("ready")
    done, busy = 0, 0.0
    node.set_metric("tasks", 0)
    node.set_metric("busy_s", 0.0)
    while True:
        msg: Message = yield tasks.recv()
        if done == 0:
            node.set_metric("first_task", msg.body["task"])
        yield node.work(msg.body["workload"])
        done += 1
        busy += msg.body["workload"]
        node.set_metric("tasks", done)
        node.set_metric("busy_s", busy)
        yield results.send({"task": msg.body["task"], "worker": node.name}, size=p.size)


class SinkParams(Params):
    socket: SocketName = Field("results", description="PULL socket results arrive on")
    results: int = Field(100, ge=0, description="results to collect after the start signal")


@behaviour("sink", SinkParams)
def sink(node: Node, p: SinkParams) -> BehaviourRun:
    """Wait for the start-of-batch signal, collect `results` results, report makespan_s."""
    sock = node.socket(p.socket)
    yield node.mark("ready")
    yield sock.recv()
    t_start: float = yield node.now()
    for _ in range(p.results):
        yield sock.recv()
    t_end: float = yield node.now()
    node.set_metric("makespan_s", t_end - t_start)
    yield node.mark("done")


class ClientParams(Params):
    socket: SocketName = Field("requests", description="REQ (or DEALER) socket")
    requests: int = Field(10, ge=0, description="requests to make")
    think: Distribution = Field(Constant(value=0.0), description="seconds between requests")
    size: int = Field(5, ge=0, description="payload bytes per request")
    timeout: float = Field(0.0, ge=0, description="reply timeout in s; 0 = wait forever (REQ)")


@behaviour("client", ClientParams)
def client(node: Node, p: ClientParams) -> BehaviourRun:
    """Send `requests` requests, waiting for each reply; report replies and round trips."""
    sock = node.socket(p.socket)
    yield sock.wait_connected()
    yield node.mark("ready")
    rtt_total = 0.0
    node.set_metric("replies", 0)
    for k in range(p.requests):
        t0: float = yield node.now()
        yield sock.send({"request": k}, size=p.size)
        reply = yield sock.recv(timeout=p.timeout or None)
        if reply is None:
            node.set_metric("timeouts", 1)
            break
        t1: float = yield node.now()
        replies = k + 1
        rtt_total += t1 - t0
        node.set_metric("replies", replies)
        node.set_metric("rtt_mean_s", rtt_total / replies)
        think = p.think.sample(node.rng)
        if think > 0:
            yield node.sleep(think)
    yield node.mark("done")


class ServerParams(Params):
    socket: SocketName = Field("replies", description="REP (or ROUTER) socket")
    service: Distribution = Field(Constant(value=0.0), description="seconds of work per request")
    size: int = Field(5, ge=0, description="payload bytes per reply")


@behaviour("server", ServerParams)
def server(node: Node, p: ServerParams) -> BehaviourRun:
    """Answer requests forever, working `service` seconds on each."""
    sock = node.socket(p.socket)
    yield node.mark("ready")
    served = 0
    while True:
        request: Message = yield sock.recv()
        cost = p.service.sample(node.rng)
        if cost > 0:
            yield node.work(cost)
        yield sock.send({"reply": request.body.get("request")}, size=p.size,
                        envelope=request.envelope)
        served += 1
        node.set_metric("requests", served)


class ProxyParams(Params):
    frontend: SocketName = Field("frontend", description="e.g. XSUB or ROUTER")
    backend: SocketName = Field("backend", description="e.g. XPUB or DEALER")


@behaviour("proxy", ProxyParams)
def proxy(node: Node, p: ProxyParams) -> BehaviourRun:
    """zmq_proxy: forward whole messages both ways (XSUB/XPUB, ROUTER/DEALER), forever."""
    pair = {p.frontend: node.socket(p.backend), p.backend: node.socket(p.frontend)}
    sockets = {p.frontend: node.socket(p.frontend), p.backend: node.socket(p.backend)}
    yield node.mark("ready")
    while True:
        ready: tuple[str, ...] = yield node.poll(list(sockets))
        for name in ready:
            msg: Any = yield sockets[name].recv(timeout=0)
            if msg is not None:
                yield pair[name].forward(msg)
