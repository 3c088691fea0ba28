"""``zsim report DIR``: (re)build report.html of any zsim result directory from its files,
by the kind its meta.json names (run, comparison report, sweep, check-model report)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from zsim.analysis import html_page as hp
from zsim.analysis import report
from zsim.analysis.check_model import phase_lines, summary_lines
from zsim.analysis.check_report import table_text
from zsim.analysis.compare import format_table
from zsim.analysis.html_check import check_html
from zsim.analysis.html_run import write_run_report
from zsim.analysis.html_sweep import write_sweep_report
from zsim.errors import ZsimError

# the files each kind's page is drawn from, besides meta.json
REQUIRED = {"run": ("events.parquet", "metrics.parquet"),
            "comparison report": ("comparison.parquet",),
            "sweep": ("summary.parquet",),
            "check-model report": ("table.parquet",)}
CHECK_PLOTS = (("loss", "Slow-joiner loss distributions (sim vs live)"),
               ("errors", "Relative error by profile, with tolerances"))


def result_kind(out: Path) -> str:
    """The kind of zsim result ``out`` holds; ZsimError when it holds none."""
    if not out.is_dir():
        raise ZsimError(f"{out}: not a directory")
    try:
        meta = json.loads((out / "meta.json").read_text())
    except (OSError, ValueError):
        raise ZsimError(f"{out}: not a zsim result directory (no readable meta.json)") from None
    kind = meta.get("kind") if isinstance(meta, dict) else None
    if kind not in BUILDERS:
        raise ZsimError(f"{out}: meta.json: kind {kind!r} is not one zsim reports on "
                        f"({', '.join(BUILDERS)})")
    return str(kind)


def rebuild(out: str | Path) -> Path:
    """Rewrite ``out/report.html`` (atomically) and return its path."""
    path = Path(out)
    kind = result_kind(path)
    missing = [name for name in REQUIRED[kind] if not (path / name).is_file()]
    if missing:
        raise ZsimError(f"{path}: a {kind} result without {', '.join(missing)}")
    return BUILDERS[kind](path)


def _pairs(items: Any) -> list[tuple[str, str]]:
    return [(str(a), str(b)) for a, b in items or []]


def _comparison(out: Path) -> Path:
    meta = json.loads((out / "meta.json").read_text())
    table = pd.read_parquet(out / "comparison.parquet")
    saved = meta.get("report") or {}
    facts = _pairs(saved.get("facts")) or [
        ("scenario", str(meta.get("scenario", "-"))), ("source", str(meta.get("source", "-"))),
        ("backends", ", ".join(meta.get("backends", [])) or "-"),
        ("root seed", str(meta.get("root_seed", "-"))),
        ("seeds", ", ".join(str(s) for s in meta.get("seeds", [])) or "-")]
    rendered = [report.RenderedPlot(spec, f"plots/{spec.name}.png",
                                    (out / "plots" / f"{spec.name}.png").read_bytes())
                for spec in report.PLOTS if (out / "plots" / f"{spec.name}.png").is_file()]
    text = report.ReportText(
        f"zsim comparison: {meta.get('scenario', '?')}", str(meta.get("description") or ""),
        facts, [(str(k), report.value_text(v)) for k, v in (meta.get("params") or {}).items()],
        format_table(table) if not table.empty else "(no rows)",
        [(str(a), str(b), str(c)) for a, b, c in saved.get("assumptions", [])],
        [str(n) for n in saved.get("notes", [])], _pairs(saved.get("files")))
    return hp.write_html(out / "report.html", report.html_page(text, rendered))


def _check_model(out: Path) -> Path:
    meta = json.loads((out / "meta.json").read_text())
    table = pd.read_parquet(out / "table.parquet")
    summary = summary_lines(table) + phase_lines(meta.get("live_phases", {}))
    plots = [hp.Plot(name, title, "", (out / "plots" / f"{name}.png").read_bytes())
             for name, title in CHECK_PLOTS if (out / "plots" / f"{name}.png").is_file()]
    return hp.write_html(out / "report.html", check_html(summary, table_text(table), plots))


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "run": write_run_report,
    "comparison report": _comparison,
    "sweep": write_sweep_report,
    "check-model report": _check_model,
}
