"""What libzmq does with a socket pair its handshake refuses: a DEALER connected to a PULL.

Over tcp (mechanism.cpp check_socket_type fails the ZMTP handshake) and over inproc (no
handshake), on loopback with pyzmq: how many of 5 sends arrive, how many sends the DEALER
accepts afterwards before EAGAIN (its pipe stays attached, undrained), and the DEALER's monitor
events (a reconnect would show CONNECT_RETRIED). Linger 0, a timeout on every wait.

    python bench/pair_refusal.py
Last line: ratio=<delivered over tcp / delivered over inproc> (libzmq 4.3.5: 0).
"""

from __future__ import annotations

import time

import zmq
from zmq.utils.monitor import recv_monitor_message


def probe(ep: str) -> tuple[int, int, list[str]]:
    ctx = zmq.Context()
    pull, dealer = ctx.socket(zmq.PULL), ctx.socket(zmq.DEALER)
    for s in (pull, dealer):
        s.linger = 0
    dealer.sndtimeo = 200
    try:
        pull.bind(ep)
        mon = dealer.get_monitor_socket()
        dealer.connect(pull.last_endpoint.decode() if ep.startswith("tcp") else ep)
        for i in range(5):
            dealer.send(b"m%d" % i)
        time.sleep(0.5)
        got = 0
        while pull.poll(100):
            pull.recv()
            got += 1
        accepted = 0
        for _ in range(3000):
            try:
                dealer.send(b"x")
            except zmq.Again:
                break
            accepted += 1
        events = []
        while mon.poll(100):
            events.append(zmq.Event(recv_monitor_message(mon)["event"]).name)
        mon.close(linger=0)
        return got, accepted, events
    finally:
        pull.close()
        dealer.close()
        ctx.term()


def main() -> None:
    out = {ep: probe(ep) for ep in ("tcp://127.0.0.1:*", "inproc://pair-refusal")}
    for ep, (got, accepted, events) in out.items():
        print(f"{ep}: delivered {got} of 5; then {accepted} sends accepted before EAGAIN; "
              f"monitor: {', '.join(events) or '-'}")
    tcp, inproc = (v[0] for v in out.values())
    print(f"figure={float(tcp)!r}")
    print(f"baseline={float(max(inproc, 1))!r}")
    print(f"ratio={tcp / max(inproc, 1):.3f}")


if __name__ == "__main__":
    main()
