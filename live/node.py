"""``python -m zsim.live.node FD``: one node process, talking to the runner over socket FD."""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection


def main(argv: list[str]) -> None:
    conn = Connection(int(argv[1]))
    kind, path, cfg = conn.recv()
    if kind != "init":
        raise SystemExit(f"zsim.live.node: expected init, got {kind!r}")
    for entry in reversed(path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    from zsim.live.child import child_main

    child_main(cfg, conn)


if __name__ == "__main__":
    main(sys.argv)
