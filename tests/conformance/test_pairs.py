"""Socket pairs and routing ids: what libzmq's handshake accepts, and who a ROUTER hears.

libzmq 4.3 src/mechanism.cpp check_socket_type refuses every pair outside its table in the
ZMTP handshake (tcp, ipc); inproc has no handshake and checks nothing (measured with pyzmq
27 / libzmq 4.3.5: a DEALER connected to a PULL over inproc delivers, over tcp it does not).
src/router.cpp identify_peer: a ROUTER or REP that connects identifies its pipe when the
handshake brings the peer's routing id; a second peer announcing an id in use is ignored.

The full matrix runs on the sim; the live backend runs a fixed sample of it (each live case
costs a second or more of wall time), marked ``live`` like the rest of the suite.
"""

from __future__ import annotations

import itertools

import pytest
from conftest import Run

from zsim.scenario.pairs import compatible

B = "conformance_behaviours"
N = 5
SENDERS = ("PUSH", "DEALER", "PAIR", "PUB", "XPUB")
RECEIVERS = ("PULL", "DEALER", "ROUTER", "PAIR", "SUB", "XSUB")

PAIR = f"""
    [run]
    stop_after = ["rx"]
    until = 20.0

    [nodes.rx]
    behaviour = "{B}:receiver"
    params = {{ expect = {N}, idle = 1.0 }}
    [[nodes.rx.sockets]]
    name = "in"
    type = "${{rx}}"
    ${{rx_side}} = ["${{ep}}"]
    linger = 0
    subscribe = ${{subscribe}}

    [nodes.tx]
    behaviour = "{B}:sender"
    start = {{ after = "rx:ready", delay = 0.3 }}
    params = {{ n = {N}, timeout = 0.5 }}
    [[nodes.tx.sockets]]
    name = "out"
    type = "${{tx}}"
    ${{tx_side}} = ["${{ep}}"]
    linger = 0
"""


def pair_text(transport: str, tx_binds: bool) -> str:
    ep = {"tcp": "tcp://rx:5611", "ipc": "ipc://pair", "inproc": "inproc://pair"}[transport]
    sides = ("bind", "connect") if tx_binds else ("connect", "bind")
    return (PAIR.replace("${ep}", ep).replace("${tx_side}", sides[0])
            .replace("${rx_side}", sides[1]))


def run_pair(run: Run, tx: str, rx: str, transport: str, tx_binds: bool) -> int:
    subscribe = '[""]' if rx == "SUB" else "[]"
    text = pair_text(transport, tx_binds).replace("${subscribe}", subscribe)
    text = text.replace("${tx}", tx).replace("${rx}", rx)
    return int(run(text).metric("rx", "got"))


def expected(tx: str, rx: str, transport: str) -> int:
    if rx == "XSUB" and tx in ("PUB", "XPUB"):
        return 0  # an XSUB that sends no subscription gets nothing (xpub.cpp: no match)
    if not compatible(tx, rx):
        return N if transport == "inproc" and not tx.endswith("PUB") else 0
    return N


MATRIX = [(tx, rx, t, b) for tx, rx in itertools.product(SENDERS, RECEIVERS)
          for t in ("tcp", "ipc") for b in (True, False)]


@pytest.mark.parametrize("backend", ["sim"])
@pytest.mark.parametrize(("tx", "rx", "transport", "tx_binds"), MATRIX)
def test_every_pair_delivers_if_and_only_if_libzmq_accepts_it(
        run: Run, tx: str, rx: str, transport: str, tx_binds: bool) -> None:
    assert run_pair(run, tx, rx, transport, tx_binds) == expected(tx, rx, transport)


SAMPLE = [("PUSH", "PULL", "tcp", False), ("DEALER", "PULL", "tcp", False),
          ("DEALER", "ROUTER", "ipc", True), ("PUB", "PULL", "tcp", True),
          ("PAIR", "PAIR", "tcp", False), ("DEALER", "PULL", "inproc", False)]


@pytest.mark.parametrize(("tx", "rx", "transport", "tx_binds"), SAMPLE)
def test_a_sample_of_pairs_on_both_backends(
        run: Run, tx: str, rx: str, transport: str, tx_binds: bool) -> None:
    assert run_pair(run, tx, rx, transport, tx_binds) == expected(tx, rx, transport)


REVERSED_HELLO = """
    [run]
    stop_after = ["client"]
    until = 10.0

    [nodes.server]
    behaviour = "server"
    params = { service = 0.001, size = 5 }
    [[nodes.server.sockets]]
    name = "replies"
    type = "${server}"
    connect = ["${ep}"]
    linger = 0

    [nodes.client]
    behaviour = "client"
    params = { requests = 10, size = 5 }
    [[nodes.client.sockets]]
    name = "requests"
    type = "REQ"
    bind = ["${ep}"]
    linger = 0
"""


@pytest.mark.parametrize("ep", ["tcp://client:5612", "ipc://hello", "inproc://hello"])
def test_a_rep_that_connects_answers_every_request(run: Run, ep: str) -> None:
    # the zguide's worker-to-broker layout: the REP connects, the REQ binds
    r = run(REVERSED_HELLO.replace("${ep}", ep).replace("${server}", "REP"))
    assert r.metric("client", "replies") == 10
    assert r.metric("client", "stuck") == 0


DUPLICATE_ID = f"""
    [run]
    stop_after = ["router"]
    until = 20.0

    [nodes.router]
    behaviour = "{B}:receiver"
    params = {{ idle = 1.5 }}
    [[nodes.router.sockets]]
    name = "in"
    type = "ROUTER"
    bind = ["tcp://router:5613"]
    linger = 0
    router_handover = ${{handover}}

    [nodes.first]
    behaviour = "{B}:sender"
    params = {{ n = 3, wait = 5.0 }}
    [[nodes.first.sockets]]
    name = "out"
    type = "DEALER"
    connect = ["tcp://router:5613"]
    routing_id = "same"
    linger = 0

    [nodes.second]
    behaviour = "{B}:sender"
    start = {{ at = 0.5 }}  # connects only then: the first peer holds the id by then
    params = {{ n = 4, wait = 5.0 }}
    [[nodes.second.sockets]]
    name = "out"
    type = "DEALER"
    connect = ["tcp://router:5613"]
    routing_id = "same"
    linger = 0
"""


def test_a_second_peer_with_a_routing_id_in_use_is_ignored(run: Run) -> None:
    r = run(DUPLICATE_ID.replace("${handover}", "false"))
    got = r.events[(r.events.node == "router") & (r.events.event == "recv")]
    assert r.metric("router", "got") == 3
    assert set(got.sender) == {"first"}


def test_with_router_handover_the_newcomer_takes_the_id_over(run: Run) -> None:
    r = run(DUPLICATE_ID.replace("${handover}", "true"))
    got = r.events[(r.events.node == "router") & (r.events.event == "recv")]
    assert r.metric("router", "got") == 7
    assert list(got.sender).count("second") == 4


RELAXED = f"""
    [run]
    stop_after = ["client"]
    until = 20.0

    [nodes.server]
    behaviour = "{B}:slow_first_echo"
    params = {{ delay = 0.3, rounds = 3 }}
    [[nodes.server.sockets]]
    name = "rep"
    type = "REP"
    bind = ["tcp://server:5614"]
    linger = 0

    [nodes.client]
    behaviour = "{B}:relaxed_client"
    start = {{ at = 0.3 }}
    params = {{ patience = 0.05, pause = ${{pause}} }}
    [[nodes.client.sockets]]
    name = "req"
    type = "REQ"
    connect = ["tcp://server:5614"]
    req_relaxed = true
    req_correlate = ${{correlate}}
    linger = 0
"""


@pytest.mark.parametrize(("correlate", "pause"), [("true", 0.0), ("true", 0.5),
                                                ("false", 0.5)])
def test_req_relaxed_discards_the_late_reply_to_a_resent_request(
        run: Run, correlate: str, pause: float) -> None:
    # req.cpp: the resend bumps the request id, so a late reply to request 0 carries the old
    # id and recv skips it (correlate); and xsend drops whatever is readable when a request
    # is sent ("eat all currently available messages"), which alone saves a client without
    # correlate when the late reply came in before the resend (pause)
    r = run(RELAXED.replace("${correlate}", correlate).replace("${pause}", str(pause)))
    assert r.metric("client", "first_in_time") == 0
    assert r.metric("client", "answered") == 1
    assert r.metric("client", "last_answered") == 2
