"""The committed scenario reference is what `zsim schema` generates from the model."""

from __future__ import annotations

from pathlib import Path

from zsim.docs import scenario_reference


def test_docs_scenarios_md_is_up_to_date() -> None:
    committed = (Path(__file__).parent.parent / "docs" / "scenarios.md").read_text()
    assert committed == scenario_reference() + "\n", "regenerate: zsim schema > docs/scenarios.md"
