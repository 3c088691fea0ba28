"""Logical scenario endpoints → real loopback addresses for one run.

``tcp://ventilator:5557`` becomes ``tcp://127.0.0.1:<a free port>``; ``ipc://name`` becomes a
socket file in the run's private directory; ``inproc://`` stays as it is. The same logical
endpoint maps to the same real address in every process. Nothing is ever bound or connected
outside loopback.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from pathlib import Path

from zsim.errors import ZsimError
from zsim.scenario.model import Scenario, transport_of

LOOPBACK = "127.0.0.1"


def _free_ports(n: int) -> list[int]:
    """``n`` distinct ports the kernel hands out now (all held open until all are chosen)."""
    held: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(s)
            s.bind((LOOPBACK, 0))
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40] or "ep"


def check_loopback(real: str) -> None:
    """Refuse any real address that is not loopback, ipc or inproc."""
    transport = transport_of(real)
    if transport in ("ipc", "inproc"):
        return
    if transport != "tcp":
        raise ZsimError(f"live backend: transport {transport!r} is not supported ({real})")
    host = real.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ZsimError(f"live backend: refusing non-loopback address {real}")


def map_endpoints(scenario: Scenario, ipc_dir: Path) -> dict[str, str]:
    """Every endpoint the scenario names → the real address used in this run."""
    logical: list[str] = []
    for node in scenario.nodes.values():
        for sock in node.sockets:
            for ep in [*sock.bind, *sock.connect]:
                if ep not in logical:
                    logical.append(ep)
    tcp = [ep for ep in logical if transport_of(ep) == "tcp"]
    for ep in logical:
        transport = transport_of(ep)
        if transport not in ("tcp", "ipc", "inproc"):
            raise ZsimError(f"live backend: transport {transport!r} is not supported ({ep}); "
                            "only tcp, ipc and inproc run on loopback")
        if transport == "tcp" and ";" in ep:
            raise ZsimError(f"live backend: source-address endpoints are not supported ({ep})")
        if transport == "tcp" and ep.endswith(":*"):
            raise ZsimError(f"live backend: wildcard ports are not supported ({ep}); "
                            "name a port so that peers can find it")
    ports = _free_ports(len(tcp))
    out: dict[str, str] = {}
    for ep, port in zip(tcp, ports, strict=True):
        out[ep] = f"tcp://{LOOPBACK}:{port}"
    k = 0
    for ep in logical:
        transport = transport_of(ep)
        if transport == "ipc":
            path = ipc_dir / f"{k}-{_safe(ep.split('://', 1)[1])}"
            out[ep] = f"ipc://{path}"
            k += 1
        elif transport == "inproc":
            out[ep] = ep
    for real in out.values():
        check_loopback(real)
    return out
