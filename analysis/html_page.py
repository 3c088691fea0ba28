"""The shell every self-contained report.html shares: inline CSS, a Content-Security-Policy
that forbids any fetch (images are base64 PNGs in the page), key/value and pandas tables, and
figures."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from zsim.atomic import write_file

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
p.description { color: #444; }
table.kv, table.data { border-collapse: collapse; }
table.kv td, table.kv th, table.data td, table.data th { border: 1px solid #ddd;
    padding: 3px 8px; text-align: left; vertical-align: top; }
table.kv th, table.data th { background: #f4f4f4; font-weight: 600; }
table.data td { font-variant-numeric: tabular-nums; text-align: right; }
div.scroll { overflow-x: auto; }
pre.table { background: #f7f7f9; border: 1px solid #e1e1e8; padding: 10px 12px;
            overflow-x: auto; font-size: 13px; line-height: 1.35; }
.head { font-weight: 700; }
.pass { color: #1a7f37; }
.fail { color: #cf222e; font-weight: 700; }
code { background: #f4f4f4; padding: 0 3px; border-radius: 3px; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.92em; margin-top: 4px; }
li { margin: 2px 0; }
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class Plot:
    """A figure of a report, rendered: its id, title, caption and PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """``fig`` as PNG bytes; its contents are released afterwards."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    fig.clear()
    return buf.getvalue()


def img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def figure(plot: Plot) -> str:
    e = html.escape
    return (f'<figure id="{e(plot.name)}"><h3>{e(plot.title)}</h3>{img(plot.png, plot.title)}'
            f"<figcaption>{e(plot.caption)}</figcaption></figure>")


def kv_table(rows: Sequence[tuple[str, str]], head: tuple[str, str] | None = None) -> str:
    e = html.escape
    parts = ['<table class="kv">']
    if head:
        parts.append(f"<tr><th>{e(head[0])}</th><th>{e(head[1])}</th></tr>")
    parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows]
    return "\n".join([*parts, "</table>"])


def data_table(frame: pd.DataFrame) -> str:
    """A pandas frame as an HTML table (numbers to 6 significant digits, NaN as '-')."""
    if frame.empty:
        return "<p>(no rows)</p>"
    table = frame.to_html(index=False, classes="data", border=0, na_rep="-",
                          float_format=lambda v: f"{v:.6g}", escape=True)
    return f'<div class="scroll">{table}</div>'


def bullets(items: Sequence[str]) -> str:
    """Escaped items as a list."""
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def page(title: str, body: Sequence[str]) -> str:
    """A whole HTML document around ``body`` (already HTML)."""
    e = html.escape
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{e(title)}</h1>\n" + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def write_html(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
