"""Fixtures shared by the test suites."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from proc_kit import children_of

# every sim run in the suite (and in the zsim processes it starts) checks the kernel's
# liveness invariant: no message stranded where its reader waits for it (zsim.sim.world)
os.environ["ZSIM_ASSERT_KERNEL"] = "1"


@pytest.fixture
def my_children() -> Callable[[], list[int]]:
    """Call it to list this test process's live children (a live run must leave none)."""
    return lambda: children_of(os.getpid())
