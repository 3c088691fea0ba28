"""Live-backend overhead: a 100-byte PUSH→PULL flow through ``run_live`` against bare pyzmq.

(a) live: ``run_live`` on the flow of bench/bench_flow.py, as in bench/sim_speed.py (a pusher
    sending N messages of 100 B back to back, a puller receiving them; ``--builtin`` for the
    built-in publisher/subscriber), linger 0, record level 'lifecycle', one OS process per node.
    Rate = received / (t of the puller's ``done`` mark, right after its last recv - t of the
    pusher's ``started`` mark, right before its first send), both from the run's event log (one
    shared monotonic clock).
(b) bare: a PUSH process and a PULL process (this script re-run with ``--role``) with plain pyzmq,
    same transport, count, size and HWMs (1000), PULL binding and PUSH connecting, as in (a).
    Rate = N / (last recv - first send) on the same monotonic clock.

Both are measured in the same run, interleaved, ``--repeat`` times; the best of each counts.
(c) floor: the per-message Python of the behaviour API and the message-id codec alone, with no
    sockets (what any live driver runs), and the ratio a zero-cost driver would reach with it.
The last line is ``ratio=live/bare`` (the issue aims for >= 0.8).

    python bench/live_overhead.py                   # N = 200k over tcp loopback, ~30-40 s
    python bench/live_overhead.py --transport ipc --n 100000
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_flow import HWM, SIZE, flow_text, flow_window, puller, pusher

IO_TIMEOUT_MS = 20_000  # a stuck bare peer gives up after this


# --- (a) the live backend ---------------------------------------------------------------------
def live_rate(n: int, transport: str, timeout: float,
              builtin: bool) -> tuple[float, float, float]:
    """(msgs per second, flow seconds, whole run_live wall seconds)."""
    from zsim.live import run_live
    from zsim.scenario.load import load_scenario_text

    text = flow_text(n, transport, builtin=builtin, until=timeout, linger=0)
    scenario = load_scenario_text(text, source="<bench>", name="live_overhead")
    t0 = time.perf_counter()
    result = run_live(scenario, seed=1, record="lifecycle", timeout=timeout)
    wall = time.perf_counter() - t0
    if not result.meta.get("complete"):
        raise SystemExit(f"live run incomplete: {result.meta.get('stop_reason')} "
                         f"{result.meta.get('problems')} {result.meta.get('child_exits')}")
    received = result.metric("puller", "received")
    if received != n:
        raise SystemExit(f"live flow delivered {received:.0f} of {n} messages")
    t_started, t_done = flow_window(result.events)
    flow = t_done - t_started
    return received / flow, flow, wall


# --- (c) the floor: Python no live driver can skip ----------------------------------------------
def api_floor(n: int) -> tuple[float, float]:
    """Per-message seconds, in this process with no sockets, of what any live driver must run:
    the pusher's generator step (its op and message) plus encoding the message id into the
    payload; decoding it plus the puller's generator step."""
    import numpy as np

    from zsim.behaviours.api import Node
    from zsim.live.codec import decode_body, encode_body

    gen = pusher(Node("pusher", 0, np.random.default_rng(0)), {"count": n + 1, "size": SIZE})
    op = next(gen)  # its "started" mark
    t0 = time.perf_counter()
    for _ in range(n):
        op = gen.send(None)
        data = encode_body(op.message)
    push_s = (time.perf_counter() - t0) / n
    sink = puller(Node("puller", 1, np.random.default_rng(1)), {"count": n + 1})
    next(sink)  # its "ready" mark
    t0 = time.perf_counter()
    for _ in range(n):
        sink.send(decode_body(data))
    return push_s, (time.perf_counter() - t0) / n


# --- (b) bare pyzmq, two processes ------------------------------------------------------------
def _role_pull(n: int, endpoint: str) -> None:
    ctx = zmq.Context()
    s = ctx.socket(zmq.PULL)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVHWM, HWM)
    s.setsockopt(zmq.RCVTIMEO, IO_TIMEOUT_MS)
    try:
        if endpoint.startswith("tcp://"):
            port = s.bind_to_random_port(endpoint)
            endpoint = f"{endpoint}:{port}"
        else:
            s.bind(endpoint)
        print(endpoint, flush=True)
        got = 0
        try:
            for _ in range(n):
                s.recv(copy=True)
                got += 1
        except zmq.Again:
            pass
        print(got, time.monotonic_ns(), flush=True)
    finally:
        s.close(linger=0)
        ctx.term()


def _role_push(n: int, endpoint: str) -> None:
    ctx = zmq.Context()
    s = ctx.socket(zmq.PUSH)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDHWM, HWM)
    s.setsockopt(zmq.SNDTIMEO, IO_TIMEOUT_MS)
    try:
        s.connect(endpoint)
        payload = b"x" * SIZE
        t_first = time.monotonic_ns()
        sent = 0
        try:
            for _ in range(n):
                s.send(payload, copy=True)
                sent += 1
        except zmq.Again:
            pass
        print(sent, t_first, flush=True)
        # linger 0 would discard what is still queued: stay until the runner says the
        # puller has everything (or a timeout)
        select.select([sys.stdin], [], [], IO_TIMEOUT_MS / 1000)
    finally:
        s.close(linger=0)
        ctx.term()


def _readline(proc: subprocess.Popen, what: str, timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if not line:
        raise RuntimeError(f"bare {what}: no answer within {timeout:.0f} s "
                           f"(exit status {proc.poll()})")
    return line.strip()


def bare_rate(n: int, transport: str, timeout: float) -> tuple[float, float]:
    """(msgs per second, flow seconds) of a plain pyzmq PUSH process → PULL process."""
    tmp = tempfile.mkdtemp(prefix="zsim-bench-")
    endpoint = "tcp://127.0.0.1" if transport == "tcp" else f"ipc://{tmp}/flow.ipc"
    me = os.path.abspath(__file__)
    procs: list[subprocess.Popen] = []

    def start(role: str, ep: str) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, me, "--role", role, "--n", str(n), "--endpoint", ep],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(p)
        return p

    try:
        pull = start("pull", endpoint)
        real = _readline(pull, "pull", 30)
        push = start("push", real)
        sent, t_first = map(int, _readline(push, "push", timeout).split())
        got, t_last = map(int, _readline(pull, "pull", timeout).split())
        if sent != n or got != n:
            raise RuntimeError(f"bare flow: sent {sent}, received {got} of {n}")
        return n / ((t_last - t_first) / 1e9), (t_last - t_first) / 1e9
    finally:
        for p in procs:
            try:
                if p.stdin:
                    p.stdin.write("done\n")
                    p.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdout:
                p.stdout.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000, help="messages per flow")
    ap.add_argument("--repeat", type=int, default=3, help="measurements of each; best counts")
    ap.add_argument("--transport", default="tcp", choices=("tcp", "ipc"))
    ap.add_argument("--timeout", type=float, default=120.0, help="per run, seconds")
    ap.add_argument("--builtin", action="store_true",
                    help="built-in publisher/subscriber behaviours instead of the minimal ones")
    ap.add_argument("--role", choices=("pull", "push"), help=argparse.SUPPRESS)
    ap.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role == "pull":
        return _role_pull(args.n, args.endpoint)
    if args.role == "push":
        return _role_push(args.n, args.endpoint)

    live_best = bare_best = 0.0
    for k in range(1, args.repeat + 1):
        lr, lflow, lwall = live_rate(args.n, args.transport, args.timeout, args.builtin)
        br, bflow = bare_rate(args.n, args.transport, args.timeout)
        live_best, bare_best = max(live_best, lr), max(bare_best, br)
        print(f"run {k}: live {lr:,.0f} msg/s ({args.n} msgs in {lflow:.2f} s; run_live took "
              f"{lwall:.2f} s)   bare {br:,.0f} msg/s ({bflow:.3f} s)")
    flow = "built-in publisher/subscriber" if args.builtin else "minimal behaviours"
    print(f"live PUSH->PULL ({args.transport}, {SIZE} B, lifecycle, {flow}): "
          f"best {live_best:,.0f} msg/s")
    print(f"bare pyzmq PUSH->PULL ({args.transport}, {SIZE} B):       best {bare_best:,.0f} msg/s")
    push_s, pull_s = api_floor(min(args.n, 200_000))
    bare_s = 1.0 / bare_best
    print(f"floor: the behaviour API and the id codec alone cost {push_s * 1e6:.2f} µs (pusher) "
          f"and {pull_s * 1e6:.2f} µs (puller) per message against bare pyzmq's "
          f"{bare_s * 1e6:.2f} µs: even a driver that cost nothing would reach at most "
          f"ratio {bare_s / (bare_s + max(push_s, pull_s)):.2f}")
    print(f"pyzmq {zmq.__version__}, libzmq {zmq.zmq_version()}, "
          f"load average {os.getloadavg()[0]:.2f}, cpus {os.cpu_count()}")
    print(f"figure={live_best!r}")
    print(f"baseline={bare_best!r}")
    print(f"ratio={live_best / bare_best:.4f}")


if __name__ == "__main__":
    main()
