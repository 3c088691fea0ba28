"""``zsim report DIR``: (re)build the report.html of a result directory."""

from __future__ import annotations

import click

from zsim.analysis.html_rebuild import rebuild


@click.command()
@click.argument("directory", metavar="DIR")
def report(directory: str) -> None:
    """(Re)build DIR/report.html from the files of a zsim result directory.

    DIR is what `zsim run --out`, `zsim compare --out`, `zsim sweep --out` or `zsim check-model
    --out` wrote (its meta.json says which); nothing else in DIR changes. The page is
    self-contained: plots are embedded, nothing is fetched.
    """
    click.echo(f"wrote {rebuild(directory)}")
