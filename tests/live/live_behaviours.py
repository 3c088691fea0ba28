"""Behaviours for the live backend's failure tests (imported by node processes by name)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from zsim.behaviours.api import Node, Op


def die(node: Node, params: dict) -> Iterator[Op]:
    """Exit the process abruptly (status 3) after a short sleep."""
    yield node.mark("ready")
    yield node.sleep(0.1)
    os._exit(3)


def fail(node: Node, params: dict) -> Iterator[Op]:
    """Raise after a short sleep."""
    yield node.sleep(0.1)
    raise RuntimeError("behaviour failed on purpose")


def idle(node: Node, params: dict) -> Iterator[Op]:
    """Block in recv forever."""
    yield node.socket("in").recv()
