"""What every subcommand shares: loading a scenario, the common options, failing in one line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from zsim.catalog import scenario_path
from zsim.scenario import Scenario, load_scenario, parse_overrides

F = TypeVar("F", bound=Callable[..., Any])

SET_HELP = "Override a [params] value, e.g. --set workers=8 (repeatable; values are TOML)."


def one_line(text: str) -> str:
    """``text`` with line breaks and other unprintable characters escaped."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def fail(message: str, code: int = 2) -> None:
    click.echo(f"zsim: error: {one_line(message)}", err=True)
    sys.exit(code)


def load(ref: str, sets: tuple[str, ...], profile: str | None = None) -> Scenario:
    """A scenario by path or shipped name, with ``--set`` overrides, on a machine profile."""
    return load_scenario(scenario_path(ref), parse_overrides(sets), profile)


def profile_option(fn: F) -> F:
    return click.option(
        "--profile", default=None, metavar="PROFILE",
        help="Machine profile (a file from `zsim calibrate`, or a shipped name) whose fitted "
             "costs the model uses; default: the shipped 'default' profile. A scenario's "
             "[model] table still overrides it.")(fn)


def sets_option(fn: F) -> F:
    return click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)(fn)


def timeout_option(fn: F) -> F:
    return click.option(
        "--timeout", type=click.FloatRange(min=0, min_open=True), default=120.0,
        show_default=True,
        help="Wall-clock limit in seconds for each run (sim or live); a run that hits it is "
             "marked incomplete and the command exits 1.")(fn)
