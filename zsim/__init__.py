"""zsim: discrete-event simulation of ZeroMQ topologies, with a live pyzmq backend.

The Python API (zsim.api): ``zsim.run``, ``zsim.compare``, ``zsim.sweep``, ``zsim.load``,
``zsim.failures`` and ``zsim.load_run``; see docs/api.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["compare", "failures", "load", "load_run", "run", "sweep"]


def __getattr__(name: str) -> Any:
    # Loaded on first use (PEP 562): the live backend's node processes import zsim's core
    # and must not pay for pandas and matplotlib, which the API pulls in.
    if name in __all__:
        return getattr(import_module("zsim.api"), name)
    raise AttributeError(f"module 'zsim' has no attribute {name!r}")
