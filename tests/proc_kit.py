"""Processes the tests start and must see gone: /proc lookups and the zsim console script."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


def _state(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a process from /proc; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
    return fields[0], int(fields[1])


def children_of(pid: int) -> list[int]:
    """Live (non-zombie) child processes of ``pid``."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            state = _state(int(entry))
            if state is not None and state[1] == pid and state[0] != "Z":
                out.append(int(entry))
    return out


def gone(pid: int) -> bool:
    """The process has exited (a zombie counts: it runs no more)."""
    state = _state(pid)
    return state is None or state[0] == "Z"


def zsim_script() -> str:
    """The installed console script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("zsim")
    if beside.is_file():
        return str(beside)
    found = shutil.which("zsim")
    if found is None:
        pytest.fail("the zsim console script is not installed (pip install -e .)")
    return found
