"""What a valid scenario may still get wrong: warnings ``zsim validate`` prints (and
``--strict`` fails on). Each names the file, the field and the value.

- a connect to an endpoint no node binds (it retries for ever: nothing will answer);
- a bind nobody connects to;
- a pair of socket types libzmq's handshake refuses (zsim.scenario.pairs).

(``run.stop_after`` and ``start.after`` names that match no node are errors of the model.)
"""

from __future__ import annotations

from zsim.scenario.model import Scenario, transport_of
from zsim.scenario.pairs import compatible


def _sockets(sc: Scenario, side: str) -> dict[str, list[tuple[str, int, str]]]:
    """endpoint → [(node, socket index, socket type)] for ``side`` ("bind" or "connect")."""
    out: dict[str, list[tuple[str, int, str]]] = {}
    for node, spec in sc.nodes.items():
        for i, sock in enumerate(spec.sockets):
            for ep in getattr(sock, side):
                out.setdefault(ep, []).append((node, i, sock.type))
    return out


def scenario_warnings(sc: Scenario) -> list[str]:
    src = sc.source or sc.name
    binds, connects = _sockets(sc, "bind"), _sockets(sc, "connect")
    lines: list[str] = []
    for ep, users in connects.items():
        for node, i, kind in users:
            field = f"{src}: nodes.{node}.sockets[{i}].connect"
            if ep not in binds:
                if transport_of(ep) in ("tcp", "ipc", "inproc"):
                    lines.append(f"{field}: {ep!r} is bound by no node")
                continue
            for b_node, _, b_kind in binds[ep]:
                if not compatible(kind, b_kind):
                    lines.append(f"{field}: {kind} to {b_kind} ({b_node}) at {ep!r}: libzmq "
                                 "refuses this pair in the handshake")
    for ep, users in binds.items():
        if ep not in connects:
            for node, i, _ in users:
                lines.append(f"{src}: nodes.{node}.sockets[{i}].bind: nobody connects to "
                             f"{ep!r}")
    return lines
