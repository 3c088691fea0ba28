"""Run a scenario on the simulation backend and return the shared record schema."""

from __future__ import annotations

import time

from zsim.metrics import derived_rows
from zsim.records import SCHEMA_VERSION, RunResult, host_info, metrics_frame, package_versions
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum
from zsim.sim.world import World


def simulate(scenario: Scenario, seed: int | None = None, record: str | None = None,
             stratum: Stratum | None = None) -> RunResult:
    """Run ``scenario`` once. Same scenario, seed and stratum → identical records. ``stratum``:
    which of a set of repetitions this run is (zsim.seeds.Stratum: its per-run draws then
    cover their distributions evenly over the set)."""
    seed = scenario.run.seed if seed is None else seed
    world = World(scenario, seed, record, stratum)
    wall0 = time.perf_counter()
    world.run()
    wall = time.perf_counter() - wall0
    events = world.recorder.frame()
    rows = world.metric_rows() + derived_rows(events, scenario)
    rows.append(("*", "sim_time_s", world.env.now))
    rows.append(("*", "queued", world.queued()))
    meta = {
        "schema_version": SCHEMA_VERSION,
        "backend": "sim",
        "scenario": scenario.name,
        "source": scenario.source,
        "params": scenario.params,
        "seed": seed,
        "record": "messages" if world.recorder.messages else "lifecycle",
        "complete": True,
        "wall_s": wall,
        "profile": scenario.profile,
        "model": scenario.model.model_dump(),
        "stratum": None if stratum is None else [stratum.index, stratum.count],
        "host_speed_factor": world.speed_factor,  # this run's draw (CostModel.host_speed_cv)
        "versions": package_versions(),
        "host": host_info(),
    }
    return RunResult(events, metrics_frame(rows), meta)
