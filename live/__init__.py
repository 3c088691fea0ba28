"""The live backend: each scenario node runs as an OS process with real pyzmq sockets on
loopback, driving the same behaviour generators as the simulator and producing the same records.

``run_live`` is imported lazily so that node processes (which import ``zsim.live.child``) do not
pay for pandas.

Differences from the simulator's records, by nature of real sockets:
- ``dropped`` and ``destroyed`` are NaN (libzmq does not report its drops), and no ``drop``,
  ``attach`` or ``detach`` events are logged; ``connected``, ``accepted``, ``disconnected`` and
  ``refused`` come from socket monitors (``peer`` is the binding ``node.socket``, on the
  connecting side only).
- ``('*', 'queued')`` is NaN (not observable); ``('*', 'sim_time_s')`` is the wall time from the
  common start to the end of the run. Without ``run.stop_after`` the run ends when every node's
  behaviour has returned, else at ``run.until`` wall seconds.
- A crashed node (``crash_at``, SIGKILL) hands over its records each time it is about to block,
  so the crash loses at most what it did since its last blocking call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zsim.records import RunResult
    from zsim.scenario.model import Scenario

__all__ = ["run_live"]


def run_live(
    scenario: Scenario,
    seed: int | None = None,
    record: str | None = None,
    timeout: float = 120.0,
) -> RunResult:
    """Run ``scenario`` once on real sockets; see ``zsim.live.runner.run_live``."""
    from zsim.live.runner import run_live as _run_live

    return _run_live(scenario, seed=seed, record=record, timeout=timeout)
