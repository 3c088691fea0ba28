"""The ``zsim`` command, the top floor: thin subcommands over the backends and the analysis.

One module per subcommand, each importing what it runs at its top; ``app`` loads a subcommand's
module only when that subcommand is asked for (click's lazy group), so ``zsim --help`` and
``zsim validate`` do not pay for pandas and matplotlib.
"""

from zsim.cli.app import cli, main

__all__ = ["cli", "main"]
