"""Fixtures shared by the test suites."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest


def _children_of(pid: int) -> list[int]:
    """Live (non-zombie) child processes of ``pid``, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


@pytest.fixture
def my_children() -> Callable[[], list[int]]:
    """Call it to list this test process's live children (a live run must leave none)."""
    return lambda: _children_of(os.getpid())


@pytest.fixture
def children_of() -> Callable[[int], list[int]]:
    """Call it with a pid to list that process's live children."""
    return _children_of
