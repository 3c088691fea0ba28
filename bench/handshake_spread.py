"""How much a tcp/ipc handshake's duration varies on this machine: pyzmq socket monitors.

For each of N fresh connections (a SUB connecting to a bound PUB, one context each side, as
two zsim nodes are), the time from the connecting socket's CONNECTED event to its
HANDSHAKE_SUCCEEDED event, taken from one monotonic clock. The duration is modelled as a
fixed part (connect_half_trips × hop) plus an exponential delay (handshake_jitter_s, the
I/O thread descheduled at some stage): its mean is estimated as mean − min of the durations.
Loopback only, linger 0, a timeout on every wait.

    python bench/handshake_spread.py            # 200 connections per transport
Last line: ratio=<jitter tcp / jitter ipc> (a diagnostic: both figures are printed).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import zmq
from zmq.utils.monitor import recv_monitor_message

WAIT_MS = 2000


def one(ep: str) -> float:
    """Seconds from CONNECTED to HANDSHAKE_SUCCEEDED for one fresh SUB -> PUB connection."""
    a, b = zmq.Context(), zmq.Context()
    pub, sub = a.socket(zmq.PUB), b.socket(zmq.SUB)
    for s in (pub, sub):
        s.linger = 0
    try:
        pub.bind(ep)
        mon = sub.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
        sub.connect(pub.last_endpoint.decode())
        t: dict[int, float] = {}
        while len(t) < 2:
            if not mon.poll(WAIT_MS):
                raise SystemExit(f"{ep}: no handshake within {WAIT_MS} ms")
            t.setdefault(recv_monitor_message(mon)["event"], time.monotonic())
        mon.close(linger=0)
        return t[zmq.EVENT_HANDSHAKE_SUCCEEDED] - t[zmq.EVENT_CONNECTED]
    finally:
        pub.close()
        sub.close()
        a.term()
        b.term()


def spread(ep: str, n: int) -> tuple[float, float, float]:
    d = [one(ep) for _ in range(n)]
    return min(d), statistics.median(d), statistics.fmean(d) - min(d)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    n = ap.parse_args().n
    with tempfile.TemporaryDirectory(prefix="zsim-hs-") as tmp:
        out = {"tcp": spread("tcp://127.0.0.1:*", n),
               "ipc": spread(f"ipc://{Path(tmp) / 'hs'}", n)}
    for t, (lo, med, jitter) in out.items():
        print(f"{t}: {n} handshakes, min {lo * 1e6:.0f} us, median {med * 1e6:.0f} us, "
              f"mean - min (handshake_jitter_s) {jitter * 1e6:.0f} us")
    print(f"figure={out['tcp'][2]!r}")
    print(f"baseline={out['ipc'][2]!r}")
    print(f"ratio={out['tcp'][2] / out['ipc'][2]:.3f}")


if __name__ == "__main__":
    main()
