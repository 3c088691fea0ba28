"""``zsim validate``, ``zsim list`` and ``zsim schema``: look at scenarios without running them."""

from __future__ import annotations

import click

from zsim.catalog import shipped_scenarios
from zsim.cli.common import load, one_line, sets_option
from zsim.docs import scenario_reference
from zsim.errors import ZsimError
from zsim.scenario.lint import scenario_warnings
from zsim.scenario.load import leading_comment


@click.command()
@click.argument("file")
@sets_option
@click.option("--strict", is_flag=True,
              help="Treat warnings as errors: exit 2 if there is any.")
def validate(file: str, sets: tuple[str, ...], strict: bool) -> None:
    """Check a scenario file; print its nodes, or one line naming the bad field (exit 2).

    Warns, one line each on stderr, on what is valid but likely wrong: a connect to an endpoint
    no node binds, a bind nobody connects to, a pair of socket types libzmq's handshake refuses
    (e.g. DEALER to PULL).
    """
    scenario = load(file, sets)
    warnings = scenario_warnings(scenario)
    for line in warnings:
        click.echo(f"zsim: warning: {one_line(line)}", err=True)
    if strict and warnings:
        raise ZsimError(f"{file}: {len(warnings)} warning(s) and --strict")
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
