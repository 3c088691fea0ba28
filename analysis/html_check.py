"""check-model's report.html: its summary lines, its table (FAIL rows in red) and its plots,
in the shell every report shares (``zsim.analysis.html_page``)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from zsim.analysis import html_page as hp

INTRO = ("Simulation against live runs of the canonical scenarios; each row passes when "
         "|sim − live| / |live| is within its tolerance (statistic: mean, median, or exact "
         "per-seed equality).")


def _rows(text: str) -> str:
    rows = []
    for k, line in enumerate(text.splitlines()):
        cls = "fail" if " FAIL" in line else "head" if k == 0 else ""
        rows.append(f'<span class="{cls}">{html.escape(line)}</span>' if cls
                    else html.escape(line))
    return "\n".join(rows)


def check_html(summary: Sequence[str], table_text: str, plots: Sequence[hp.Plot]) -> str:
    body = [f"<p>{html.escape(INTRO)}</p>", hp.bullets(summary), "<h2>Results</h2>",
            f'<pre class="table">{_rows(table_text)}</pre>', *[hp.figure(p) for p in plots]]
    return hp.page("zsim check-model", body)
