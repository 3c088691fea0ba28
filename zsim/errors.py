"""Errors a user can fix. They print as one line, without a traceback, and exit with code 2."""

from __future__ import annotations


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
