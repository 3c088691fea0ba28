"""Random streams: one root seed, one pair of streams per node, the same in both backends."""

from __future__ import annotations

import zlib

import numpy as np


def node_seeds(seed: int, name: str, incarnation: int) -> tuple[int, int]:
    """Two independent seeds for a node (behaviour draws, model draws), stable by its name, so
    that adding a node changes no other node's draws, and the sim and live backends draw alike."""
    ss = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()), incarnation))
    behaviour, system = ss.spawn(2)
    return int(behaviour.generate_state(1)[0]), int(system.generate_state(1)[0])
