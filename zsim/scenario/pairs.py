"""Which socket types may talk to which: libzmq's ZMTP handshake refuses every other pair.

libzmq 4.3 src/mechanism.cpp ``check_socket_type``: each side checks the Socket-Type property
of its peer's READY command against this table and fails the handshake otherwise (the draft
types, SERVER/CLIENT, RADIO/DISH, ..., are not modelled). Knows nothing of zmq.
"""

from __future__ import annotations

PEERS: dict[str, frozenset[str]] = {
    "REQ": frozenset({"REP", "ROUTER"}),
    "REP": frozenset({"REQ", "DEALER"}),
    "DEALER": frozenset({"REP", "DEALER", "ROUTER"}),
    "ROUTER": frozenset({"REQ", "DEALER", "ROUTER"}),
    "PUSH": frozenset({"PULL"}),
    "PULL": frozenset({"PUSH"}),
    "PUB": frozenset({"SUB", "XSUB"}),
    "SUB": frozenset({"PUB", "XPUB"}),
    "XPUB": frozenset({"SUB", "XSUB"}),
    "XSUB": frozenset({"PUB", "XPUB"}),
    "PAIR": frozenset({"PAIR"}),
}


def compatible(a: str, b: str) -> bool:
    """Whether a socket of type ``a`` accepts a peer of type ``b`` (the table is symmetric)."""
    return b in PEERS.get(a, frozenset())
