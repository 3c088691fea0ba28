"""Progress bars that appear only when a job runs longer than a second or two."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

SHOW_AFTER_S = 1.5
tqdm.monitor_interval = 0  # no monitor thread: sweeps may fork worker processes


def progress_bar(total: int, desc: str) -> Any:
    """A tqdm bar on stderr, shown after SHOW_AFTER_S seconds and only on a terminal."""
    return tqdm(total=total, desc=desc, unit="run", delay=SHOW_AFTER_S, leave=False,
                disable=not sys.stderr.isatty(), file=sys.stderr)
