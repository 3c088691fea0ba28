"""Errors a user can fix. They print as one line, without a traceback, and exit with code 2."""

from __future__ import annotations

from typing import Any


class ZsimError(Exception):
    """A user-fixable problem: bad input, a missing file, a bad option."""

    exit_code = 2


class ScenarioError(ZsimError):
    """A scenario file that cannot be used: the message names the file, the field and the value."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: {field}: " if field else f"{source}: "
        super().__init__(where + problem)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM stopped a live run. Raised once every node is stopped and
    reaped and the run's files are removed; ``result`` is what was recorded (marked incomplete).
    A KeyboardInterrupt, so that a loop of runs (compare, sweep, check-model) stops as a whole."""

    def __init__(self, result: Any, signum: int) -> None:
        super().__init__(f"live run stopped by signal {signum}")
        self.result = result
        self.signum = signum


class RunFailed(ZsimError):
    """A run that ended otherwise than its scenario expects; ``causes``: one line each, naming
    the node and what went wrong. Raised after the run's output is shown and written."""

    exit_code = 1

    def __init__(self, causes: list[str]) -> None:
        super().__init__("; ".join(causes))
        self.causes = causes
