"""Fixtures shared by the test suites."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from proc_kit import children_of


@pytest.fixture
def my_children() -> Callable[[], list[int]]:
    """Call it to list this test process's live children (a live run must leave none)."""
    return lambda: children_of(os.getpid())
