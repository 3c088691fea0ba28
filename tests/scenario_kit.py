"""Build small scenarios from TOML snippets for tests."""

from __future__ import annotations

from typing import Any

from zsim.scenario.load import load_scenario_text
from zsim.scenario.model import Scenario
from zsim.sim import simulate


def scenario(text: str, name: str = "test", **overrides: Any) -> Scenario:
    return load_scenario_text(text, source=f"<{name}>", name=name, overrides=overrides)


def shipped(name: str, **overrides: Any) -> Scenario:
    from zsim.catalog import scenario_path
    from zsim.scenario import load_scenario

    return load_scenario(scenario_path(name), overrides)


def run(text_or_scenario: str | Scenario, seed: int = 0, **overrides: Any) -> Any:
    sc = text_or_scenario if isinstance(text_or_scenario, Scenario) else scenario(
        text_or_scenario, **overrides)
    return simulate(sc, seed=seed)
