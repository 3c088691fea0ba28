"""Run a scenario on the simulation backend and return the shared record schema."""

from __future__ import annotations

import os
import time

from zsim.backend import RecordLevel, RunOptions, run_meta
from zsim.errors import RunInterrupted
from zsim.interrupts import STOPPED_BY, signum_of, sigterm_as_interrupt
from zsim.metrics import derived_rows, lifecycle_log
from zsim.records import RunResult, metrics_frame
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum
from zsim.sim.world import World

# set to 1 (the test suite does, tests/conftest.py) to make a breach of the kernel's liveness
# invariant (World.stranded) an AssertionError in every sim run, not only a failed outcome
ASSERT_KERNEL_ENV = "ZSIM_ASSERT_KERNEL"


class SimBackend:
    """The simpy model of libzmq (zsim.backend.Backend)."""

    name = "sim"

    def run(self, scenario: Scenario, options: RunOptions) -> RunResult:
        """Run ``scenario`` once. Same scenario and options → identical records."""
        seed = options.seed_for(scenario)
        world = World(scenario, seed, options.record, options.stratum)
        wall0 = time.perf_counter()
        signum = 0
        with sigterm_as_interrupt():
            try:
                world.run(options.timeout)
            except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: keep what was recorded
                signum = signum_of(exc)
                world.end_reason = STOPPED_BY[signum]
        wall = time.perf_counter() - wall0
        result = self._result(world, scenario, options, wall)
        if result.meta["stranded"] and os.environ.get(ASSERT_KERNEL_ENV) == "1":
            raise AssertionError(f"{scenario.name}: kernel invariant: {result.meta['stranded']}")
        if signum:
            raise RunInterrupted(result, signum)
        return result

    @staticmethod
    def _result(world: World, scenario: Scenario, options: RunOptions,
                wall: float) -> RunResult:
        ended = world.end_reason
        problems = {
            "timeout": [f"the simulation hit its wall-clock timeout ({options.timeout:g} s) "
                        f"at t={world.env.now:.6g} s"],
            "interrupted": [f"the simulation was interrupted at t={world.env.now:.6g} s"],
            "terminated": [f"the simulation was terminated at t={world.env.now:.6g} s"],
        }.get(ended, [])
        events = world.recorder.frame()
        rows = world.metric_rows() + derived_rows(events, scenario)
        if not world.recorder.messages:
            events = lifecycle_log(events)  # the join rows served derived_rows only
        rows.append(("*", "sim_time_s", world.env.now))
        rows.append(("*", "queued", world.queued()))
        stratum = options.stratum
        meta = run_meta(
            "sim", scenario, options, complete=not problems, wall_s=wall,
            stop_reason=world.end_reason, problems=problems, unfinished=world.unfinished(),
            stranded=world.stranded(),
            stratum=None if stratum is None else [stratum.index, stratum.count],
            host_speed_factor=world.speed_factor,  # this run's draw (CostModel.host_speed_cv)
        )
        return RunResult(events, metrics_frame(rows), meta)


def simulate(scenario: Scenario, seed: int | None = None, record: str | None = None,
             stratum: Stratum | None = None) -> RunResult:
    """``SimBackend().run`` with the options spelled out (the form most tests use)."""
    level: RecordLevel | None = None
    if record is not None:
        level = "messages" if record == "messages" else "lifecycle"
    return SimBackend().run(scenario, RunOptions(seed=seed, record=level, stratum=stratum))
