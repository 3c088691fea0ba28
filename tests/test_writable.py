"""A sending engine resumes on POLLOUT (LinkCosts.writable_fraction): a unix stream socket
polls writable only once its queued buffers are back to a quarter of its send buffer
(net/unix/af_unix.c unix_writable), and libzmq's poller is level-triggered, so a writer that
filled it waits for the reader to drain three quarters before it writes again."""

from __future__ import annotations

from typing import Any

import pytest

from zsim.scenario.load import load_scenario_text
from zsim.sim import engine, simulate

SNDBUF = 212_992

# a fast pusher with deep pipes into a puller that takes 1 ms a message through a shallow one:
# the unix socket between them fills, and drains only as fast as the puller reads
SCENARIO = """
[run]
stop_after = ["puller"]
until = 10.0
[model.ipc]
kernel_buffer_bytes = 212992
write_charge = "unix_skb"
writable_fraction = {fraction}
[nodes.pusher]
behaviour = "publisher"
start = {{ after = "puller:ready", delay = 0.01 }}
params = {{ socket = "out", count = 1000, size = 1000 }}
sockets = [{{ name = "out", type = "PUSH", connect = ["ipc://puller"], sndhwm = 1000 }}]
[nodes.puller]
behaviour = "subscriber"
params = {{ socket = "in", count = 1000, service = 0.001 }}
sockets = [{{ name = "in", type = "PULL", bind = ["ipc://puller"], rcvhwm = 10 }}]
"""


def _writes(fraction: float, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """What the socket held before and after each of the pusher's writes."""
    seen: list[tuple[int, int]] = []
    send = engine.Wire.send

    def logged(self: engine.Wire, msgs: list[Any], nbytes: int) -> None:
        before = self.in_flight
        send(self, msgs, nbytes)
        if nbytes > 1000:  # the pusher's data, not the puller's handshake
            seen.append((before, self.in_flight))

    monkeypatch.setattr(engine.Wire, "send", logged)
    sc = load_scenario_text(SCENARIO.format(fraction=fraction), source="t", name="t")
    assert simulate(sc, seed=0).metric("puller", "received") == 1000
    return seen


def _after_first_fill(writes: list[tuple[int, int]]) -> list[int]:
    """What the socket held before each write after the first write that filled it."""
    full = next(k for k, (_, after) in enumerate(writes) if after >= SNDBUF)
    return [before for before, _ in writes[full + 1:]]


def test_a_unix_socket_drains_to_a_quarter_before_its_writer_resumes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the pusher has a backlog from then on, so each batch is cut at out_batch_size, and a cut
    # batch above the mark waits for POLLOUT too: every write starts at a quarter or less
    later = _after_first_fill(_writes(0.25, monkeypatch))
    assert len(later) > 20 and max(later) <= SNDBUF / 4


def test_at_any_room_the_writer_keeps_the_socket_full(monkeypatch: pytest.MonkeyPatch) -> None:
    # each message the puller's engine takes frees room that the pusher fills at once
    later = _after_first_fill(_writes(1.0, monkeypatch))
    assert len(later) > 20 and min(later) > SNDBUF * 0.9
