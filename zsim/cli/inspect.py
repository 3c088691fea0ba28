"""``zsim validate``, ``zsim list`` and ``zsim schema``: look at scenarios without running them."""

from __future__ import annotations

import click

from zsim.catalog import shipped_scenarios
from zsim.cli.common import load, sets_option
from zsim.docs import scenario_reference
from zsim.scenario.load import leading_comment


@click.command()
@click.argument("file")
@sets_option
def validate(file: str, sets: tuple[str, ...]) -> None:
    """Check a scenario file; print its nodes, or one line naming the bad field (exit 2)."""
    scenario = load(file, sets)
    click.echo(f"{file}: ok: {len(scenario.nodes)} nodes ({', '.join(scenario.nodes)})")


@click.command("list")
def list_scenarios() -> None:
    """Show the shipped scenarios with a one-line description each."""
    for path in shipped_scenarios():
        summary = leading_comment(path.read_text()).split(". ")[0]
        click.echo(f"{path.stem:16} {summary}")


@click.command()
def schema() -> None:
    """Print the scenario-format reference, generated from the validated model."""
    click.echo(scenario_reference())
