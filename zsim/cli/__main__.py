"""``python -m zsim.cli``: the same as the ``zsim`` command."""

import sys

from zsim.cli.app import main

main(sys.argv[1:])
