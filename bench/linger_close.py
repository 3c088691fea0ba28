"""What ZMQ_LINGER does to messages still queued when a PUSH socket is closed.

PUSH connects, PULL binds (tcp loopback, free port), N x 100 B are sent, then the PUSH is
closed with the given linger and its context terminated at once; the PULL counts what arrives
(libzmq src/session_base.cpp process_term / timer_event, src/pipe.cpp terminate). A second
case closes a PUSH with queued messages and no peer: ctx.term returns after about the linger.
Loopback only, linger 0 on every socket the bench keeps, a timeout on every wait.

    python bench/linger_close.py [runs]
"""

from __future__ import annotations

import sys
import time

import zmq

N = 1000


def delivered(linger: int) -> int:
    """Messages the PULL receives after the PUSH closed with ``linger`` (ms)."""
    rx_ctx = zmq.Context()
    pull = rx_ctx.socket(zmq.PULL)
    pull.linger = 0
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    tx_ctx = zmq.Context()
    push = tx_ctx.socket(zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    for _ in range(N):
        push.send(b"x" * 100)
    push.close(linger=linger)
    tx_ctx.term()
    got = 0
    while pull.poll(500):
        pull.recv()
        got += 1
    pull.close()
    rx_ctx.term()
    return got


def term_seconds_without_peer(linger: int) -> float:
    """How long ctx.term takes for a PUSH holding 10 queued messages and no peer."""
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.connect("tcp://127.0.0.1:1")  # nothing listens on port 1: the pipe keeps them
    for _ in range(10):
        push.send(b"x" * 100)
    t0 = time.monotonic()
    push.close(linger=linger)
    ctx.term()
    return time.monotonic() - t0


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for linger in (0, -1, 200):
        print(f"tcp linger={linger}: received", [delivered(linger) for _ in range(runs)], "of", N)
    for linger in (0, 200, 1000):
        secs = [round(term_seconds_without_peer(linger), 3) for _ in range(runs)]
        print(f"no peer, linger={linger}: ctx.term took", secs, "s")


if __name__ == "__main__":
    main()
