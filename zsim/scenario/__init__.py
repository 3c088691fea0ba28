"""Scenario files: TOML → validated, frozen model. Knows nothing of simpy or zmq."""

from zsim.scenario.load import load_scenario, parse_overrides
from zsim.scenario.model import NodeSpec, RunSpec, Scenario, SocketSpec

__all__ = ["NodeSpec", "RunSpec", "Scenario", "SocketSpec", "load_scenario", "parse_overrides"]
