"""Did a run do what its scenario expects? One line per cause, the same for both backends.

A backend reports in its meta what it saw: ``problems`` (one line each: a node that raised or
died, a wall-clock timeout), ``unfinished`` (node → ``{"waiting": what it waited for when the
run ended, "hang": whether that wait is a hang}``) and ``stranded`` (one line per pipe holding
messages its blocked reader never got). A hang is a wait nothing in the scenario is meant to
end: a REQ awaiting its reply, a blocked send, a start condition never met; a server or
subscriber waiting in recv for more input is idle, the normal end of a run that stops at
``until``.

Held against the scenario: the nodes in ``run.stop_after`` must finish; no other node may hang;
those ``[expect] stuck`` names must hang (and then are no failure). Knows nothing of simpy or
zmq.
"""

from __future__ import annotations

from zsim.records import RunResult
from zsim.scenario.model import Scenario


def run_failures(scenario: Scenario, result: RunResult) -> list[str]:
    """Why ``result`` is not what ``scenario`` expects (empty: it is)."""
    meta = result.meta
    causes = [str(p) for p in meta.get("problems", [])]
    unfinished: dict[str, dict[str, object]] = meta.get("unfinished", {})
    must_finish = {n for name in scenario.run.stop_after for n in scenario.nodes_matching(name)}
    stuck_ok = {n for name in scenario.expect.stuck for n in scenario.nodes_matching(name)}
    for node, state in sorted(unfinished.items()):
        if node in stuck_ok:
            continue
        if node in must_finish or state.get("hang"):
            causes.append(f"{node}: {state.get('waiting', 'did not finish')}")
    for node in sorted(stuck_ok):
        if not unfinished.get(node, {}).get("hang"):
            causes.append(f"{node}: expected stuck ([expect] stuck), but it was not")
    causes += [str(s) for s in meta.get("stranded", [])]
    return causes
