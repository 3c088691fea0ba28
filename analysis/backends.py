"""The backends by name, for the layers that choose one from a word (CLI, API, sweep tasks)."""

from __future__ import annotations

from dataclasses import replace

from zsim.analysis.compare import Runner
from zsim.backend import Backend, RunOptions
from zsim.errors import ZsimError
from zsim.live.backend import LiveBackend
from zsim.records import RunResult
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum
from zsim.sim import SimBackend

BACKENDS: dict[str, type[Backend]] = {"sim": SimBackend, "live": LiveBackend}


def get_backend(name: str) -> Backend:
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ZsimError(f"backend: no backend {name!r} (one of {', '.join(BACKENDS)})") from None


def runner(backend: Backend, options: RunOptions) -> Runner:
    """``backend`` as compare's and check-model's runner: the same options, each repetition
    with its own seed and stratum."""
    def run(scenario: Scenario, seed: int, stratum: Stratum) -> RunResult:
        return backend.run(scenario, replace(options, seed=seed, stratum=stratum))
    return run
