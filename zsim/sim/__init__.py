"""The simulation backend: libzmq 4.3 sockets, pipes and engines on a simpy kernel."""

from zsim.sim.run import SimBackend, simulate

__all__ = ["SimBackend", "simulate"]
