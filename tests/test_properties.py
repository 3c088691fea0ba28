"""Invariants over random topologies and HWMs (hypothesis): conservation and per-pipe FIFO.

Conservation: every message copy written by a sending socket is received, dropped by a socket,
destroyed, or still queued when the run ends. FIFO: messages from one sender reach one receiver
in the order they were sent (a pipe is a FIFO and lb/fq/dist keep whole messages).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_kit import run

from zsim.records import RunResult

TOPOLOGY = st.fixed_dictionaries({
    "pattern": st.sampled_from(["pushpull", "pubsub"]),
    "transport": st.sampled_from(["inproc", "ipc", "tcp"]),
    "senders": st.integers(1, 3),
    "receivers": st.integers(1, 3),
    "messages": st.integers(1, 300),
    "size": st.sampled_from([1, 100, 3000]),
    "sndhwm": st.integers(1, 40),
    "rcvhwm": st.integers(1, 40),
    "service": st.sampled_from([0.0, 0.0001, 0.001]),
})


def _endpoint(transport: str, name: str, port: int) -> str:
    return f"tcp://{name}:{port}" if transport == "tcp" else f"{transport}://{name}"


def topology_toml(t: dict) -> str:
    pub = t["pattern"] == "pubsub"
    send_type, recv_type = ("PUB", "SUB") if pub else ("PUSH", "PULL")
    # PUSH/PULL: receivers bind, senders connect to all; PUB/SUB: senders bind.
    lines = ["[run]", "until = 600.0", "stop_after = ['rx']", ""]
    rx_eps = [_endpoint(t["transport"], f"rx{j}", 6000 + j) for j in range(t["receivers"])]
    tx_eps = [_endpoint(t["transport"], f"tx{i}", 7000 + i) for i in range(t["senders"])]
    for i in range(t["senders"]):
        where = f"bind = ['{tx_eps[i]}']" if pub else f"connect = {rx_eps!r}"
        lines += [
            f"[nodes.tx{i}]",
            "behaviour = 'sim_behaviours:burst'",
            "start = { after = 'rx-*:ready', delay = 0.05 }",
            f"params = {{ n = {t['messages']}, size = {t['size']} }}",
            f"sockets = [{{ name = 'out', type = '{send_type}', {where}, "
            f"sndhwm = {t['sndhwm']} }}]",
            "",
        ]
    sub = ", subscribe = ['']" if pub else ""
    rx_expr = ("'tcp://rx' + str(i - 1) + ':' + str(5999 + i)" if t["transport"] == "tcp"
               else f"'{t['transport']}://rx' + str(i - 1)")
    where = f"connect = {tx_eps!r}" if pub else f'bind = ["={rx_expr}"]'
    lines += [
        "[nodes.rx]",
        f"count = {t['receivers']}",
        "behaviour = 'sim_behaviours:drain'",
        f"params = {{ idle = 1.0, service = {t['service']} }}",
        f"sockets = [{{ name = 'in', type = '{recv_type}', {where}, "
        f"rcvhwm = {t['rcvhwm']}{sub} }}]",
    ]
    return "\n".join(lines) + "\n"


def _total(result: RunResult, metric: str) -> float:
    m = result.metrics
    return float(m[(m.metric == metric) & (m.node != "*")].value.sum())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TOPOLOGY)
def test_every_message_copy_is_accounted_for(t: dict) -> None:
    result = run(topology_toml(t), seed=1)
    sent = _total(result, "sent")
    assert sent == t["senders"] * t["messages"]
    copies = sent * (t["receivers"] if t["pattern"] == "pubsub" else 1)
    accounted = (_total(result, "received") + _total(result, "dropped")
                 + _total(result, "destroyed") + result.metric("*", "queued"))
    assert accounted == copies
    if t["pattern"] == "pushpull":
        assert _total(result, "dropped") == 0  # PUSH blocks, it never drops


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TOPOLOGY)
def test_each_pipe_delivers_in_order(t: dict) -> None:
    events = run(topology_toml(t), seed=2).events
    recvs = events[events.event == "recv"]
    for (_node, _sender), group in recvs.groupby(["node", "sender"]):
        seqs = group.seq.tolist()
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)  # and never twice
