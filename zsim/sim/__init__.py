"""The simulation backend: libzmq 4.3 sockets, pipes and engines on a simpy kernel."""

from zsim.sim.run import simulate

__all__ = ["simulate"]
