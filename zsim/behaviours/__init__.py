"""Behaviours: generator functions written once against the node API in ``api``.

A behaviour yields operations (send, recv, poll, sleep, work, mark) and receives their results;
each backend (simulation or live) interprets the operations its own way, so the same code drives
simulated and real sockets.
"""

from zsim.behaviours.api import Message, Node, Op, Subscription

__all__ = ["Message", "Node", "Op", "Subscription"]
