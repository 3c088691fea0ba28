"""Socket-level behaviour of the sim backend, exact and seeded."""

from __future__ import annotations

from itertools import pairwise

from scenario_kit import run

from zsim.sim.pipe import Pipe, compute_lwm
from zsim.sim.routing import Conn, FairQueue, LoadBalancer


class _FakeSocket:
    label = "s"

    def __init__(self) -> None:
        self.posted: list[tuple[int, Conn, int]] = []

    def post(self, kind: int, conn: Conn, arg: int) -> None:
        self.posted.append((kind, conn, arg))


def _conns(n: int, hwm: int) -> tuple[_FakeSocket, list[Conn]]:
    sock = _FakeSocket()
    return sock, [Conn(sock, Pipe(hwm), Pipe(hwm), f"p{i}", "") for i in range(n)]  # type: ignore[arg-type]


def test_lwm_is_half_the_hwm_rounded_up() -> None:
    assert [compute_lwm(h) for h in (0, 1, 2, 10, 1000, 5001)] == [0, 1, 1, 5, 500, 2501]


def test_writer_hears_of_reads_only_every_lwm_reads() -> None:
    pipe = Pipe(10)
    sock, _ = _conns(0, 0)
    conn = Conn(sock, pipe, Pipe(10), "peer", "")  # type: ignore[arg-type]
    for k in range(10):
        assert conn.try_write(k)
    assert not conn.try_write(10)  # full: written - peer_read = 10
    for _ in range(4):
        pipe.pop()
    assert sock.posted == []  # 4 < lwm (5): the writer has not been told
    pipe.pop()
    assert sock.posted == [(2, conn, 5)]  # ACTIVATE_WRITE with msgs_read = 5


def test_load_balancer_round_robin_skips_full_pipes() -> None:
    _, conns = _conns(3, hwm=2)
    lb = LoadBalancer()
    for c in conns:
        lb.attach(c)
    chosen = [lb.send(k).peer for k in range(6)]  # type: ignore[union-attr]
    assert chosen == ["p0", "p1", "p2", "p0", "p1", "p2"]
    assert lb.send(6) is None  # every pipe holds hwm = 2: EAGAIN
    assert lb.active == 0


def test_fair_queue_takes_one_message_per_pipe_in_turn() -> None:
    _, conns = _conns(3, hwm=0)
    fq = FairQueue()
    for i, c in enumerate(conns):
        fq.attach(c)
        for k in range(3 - i):  # p0 has 3 messages, p1 2, p2 1
            c.inp.write((c.peer, k))
    order = []
    while (got := fq.recv()) is not None:
        order.append(got[1])
    assert order == [("p0", 0), ("p1", 0), ("p2", 0), ("p0", 1), ("p1", 1), ("p0", 2)]


REQ_TWICE = """
[nodes.server]
behaviour = "sim_behaviours:idle"
sockets = [{ name = "rep", type = "REP", bind = ["inproc://s"] }]
[nodes.client]
behaviour = "sim_behaviours:req_twice"
sockets = [{ name = "req", type = "REQ", connect = ["inproc://s"] }]
"""


def test_req_second_send_raises_efsm() -> None:
    assert run(REQ_TWICE).metric("client", "efsm") == 1


ROUTER = """
[nodes.router]
behaviour = "sim_behaviours:burst"
params = { n = 3, socket = "out" }
sockets = [{ name = "out", type = "ROUTER", bind = ["tcp://r:1"] }]
[nodes.dealer]
behaviour = "sim_behaviours:idle"
sockets = [{ name = "in", type = "DEALER", connect = ["tcp://r:1"] }]
"""


def test_router_drops_messages_it_cannot_route() -> None:
    result = run(ROUTER)
    # The burst has no routing-id frame that names a peer: all three are dropped silently.
    assert result.metric("router", "sent") == 3
    assert result.metric("router", "dropped") == 3
    drops = result.events[result.events.event == "drop"]
    assert set(drops.detail) == {"unroutable"}


PROXY = """
[params]
n = 50
[run]
stop_after = ["sub"]
until = 30.0
[nodes.proxy]
behaviour = "proxy"
sockets = [
  { name = "frontend", type = "XSUB", bind = ["tcp://proxy:1"] },
  { name = "backend", type = "XPUB", bind = ["tcp://proxy:2"] },
]
[nodes.pub]
behaviour = "publisher"
start = { after = "sub:ready", delay = 0.1 }
params = { count = "${n}", topic = "=('a' if True else '')" }
sockets = [{ name = "pub", type = "PUB", connect = ["tcp://proxy:1"] }]
[nodes.sub]
behaviour = "subscriber"
params = { count = "${n}", idle_timeout = 1.0 }
sockets = [{ name = "sub", type = "SUB", connect = ["tcp://proxy:2"], subscribe = ["a"] }]
"""


def test_xsub_xpub_proxy_forwards_subscriptions_up_and_messages_down() -> None:
    result = run(PROXY)
    assert result.metric("sub", "received") == 50
    assert result.metric("proxy", "received") == 51  # 50 messages + 1 subscription
    assert result.metric("proxy", "sent") == 51


RECONNECT = """
[run]
stop_after = ["client"]
[nodes.server]
behaviour = "server"
start = { at = 0.5 }
sockets = [{ name = "replies", type = "REP", bind = ["tcp://server:1"] }]
[nodes.client]
behaviour = "client"
params = { requests = 1 }
sockets = [{ name = "requests", type = "REQ", connect = ["tcp://server:1"] }]
"""


def test_connect_before_bind_retries_every_100_to_200_ms() -> None:
    events = run(RECONNECT).events
    client = events[events.node == "client"]
    refused = client[client.event == "refused"].t.tolist()
    assert len(refused) >= 3
    gaps = [b - a for a, b in pairwise(refused)]
    assert all(0.1 <= g < 0.2 + 1e-3 for g in gaps)  # ivl + rand() % ivl, plus the trip
    connected = client[client.event == "connected"].t.tolist()
    assert len(connected) == 1 and 0.5 < connected[0] < 0.7


CONFLATE = """
[run]
stop_after = ["rx"]
[nodes.tx]
behaviour = "sim_behaviours:burst"
params = { n = 100 }
sockets = [{ name = "out", type = "PUSH", connect = ["inproc://c"], conflate = true }]
[nodes.rx]
behaviour = "sim_behaviours:drain"
start = { after = "tx:done", delay = 0.01 }
params = { idle = 0.1 }
sockets = [{ name = "in", type = "PULL", bind = ["inproc://c"] }]
"""


def test_conflate_keeps_only_the_newest_message() -> None:
    # inproc pipes take CONFLATE from the connecting socket (socket_base.cpp connect_internal).
    result = run(CONFLATE)
    recvs = result.events[result.events.event == "recv"]
    assert recvs.seq.tolist() == [99]
