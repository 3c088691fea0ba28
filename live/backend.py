"""The live backend as a ``zsim.backend.Backend``: real pyzmq sockets on this machine."""

from __future__ import annotations

from zsim.backend import RunOptions
from zsim.records import RunResult
from zsim.scenario.model import Scenario

from .runner import run_live


class LiveBackend:
    """Each node a process (or, where nodes share inproc endpoints, a thread) with real pyzmq
    sockets over loopback; records in the sim's schema (zsim.live.runner)."""

    name = "live"

    def run(self, scenario: Scenario, options: RunOptions) -> RunResult:
        return run_live(scenario, seed=options.seed_for(scenario),
                        record=options.record_for(scenario), timeout=options.timeout)
