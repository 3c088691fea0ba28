"""The one interface both backends implement, the options of a run, and the meta they share.

A backend turns a validated ``Scenario`` and ``RunOptions`` into a ``RunResult`` (zsim.records):
the simulator (zsim.sim.SimBackend) and real pyzmq sockets (zsim.live.LiveBackend). Everything
above them (compare, sweep, the CLI, the Python API) holds a ``Backend`` and never asks which
one it is. Knows nothing of simpy or zmq.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from zsim.records import SCHEMA_VERSION, RunResult, host_info, package_versions
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum

RecordLevel = Literal["messages", "lifecycle"]


@dataclass(frozen=True)
class RunOptions:
    """How to run a scenario once; the CLI and the API build one and hand it down.

    seed: the run's root seed (None: the scenario's ``run.seed``); record: the event-log level
    (None: the scenario's ``run.record``); timeout: a wall-clock limit in seconds; stratum:
    which of a set of repetitions this run is (zsim.seeds.Stratum; the sim spreads its per-run
    draws over the set, live has none to spread).
    """

    seed: int | None = None
    record: RecordLevel | None = None
    timeout: float = 120.0
    stratum: Stratum | None = None

    def seed_for(self, scenario: Scenario) -> int:
        return scenario.run.seed if self.seed is None else self.seed

    def record_for(self, scenario: Scenario) -> RecordLevel:
        level = self.record or scenario.run.record
        return "messages" if level == "messages" else "lifecycle"


class Backend(Protocol):
    """Runs a scenario once. Same scenario and options on the sim → identical records."""

    name: str

    def run(self, scenario: Scenario, options: RunOptions) -> RunResult: ...


def run_meta(backend: str, scenario: Scenario, options: RunOptions, *, complete: bool,
             wall_s: float, **extra: Any) -> dict[str, Any]:
    """The meta.json every run carries, whichever backend made it; ``extra`` adds the
    backend's own keys (a live run's stop reason and child exits, the sim's host draw)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "run",
        "backend": backend,
        "scenario": scenario.name,
        "source": scenario.source,
        "params": scenario.params,
        "nodes": list(scenario.nodes),  # in the scenario's order: the reports' lane order
        "seed": options.seed_for(scenario),
        "record": options.record_for(scenario),
        "profile": scenario.profile,
        "model": scenario.model.model_dump(),
        "complete": complete,
        "wall_s": wall_s,
        **extra,
        "versions": package_versions(),
        "host": host_info(),
    }
