"""A comparison report directory: Markdown, self-contained HTML, plots, data and metadata.

``write_report(comparison, out_dir)`` computes the frames (``zsim.analysis.frames``), draws them
(``zsim.analysis.plots``) and writes, atomically (built in a temporary directory next to
``out_dir``, then renamed into place)::

    report.md            the scenario, the comparison table, the closed forms' assumptions,
                         how to read it, and the plots
    report.html          the same, self-contained (plots as base64 PNGs, inline CSS)
    comparison.parquet   the comparison table
    runs.parquet         every run's metrics (Comparison.runs_frame)
    events_sim.parquet   the first sim run's event log (when there are sim runs)
    events_live.parquet  the first live run's event log (when there are live runs)
    plots/*.png          the plots that had data
    meta.json            schema version, scenario, params, seeds, backends, package versions
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from zsim.analysis import frames, plots, timeline, trace_diff
from zsim.analysis.compare import Comparison, format_table
from zsim.analysis.html_page import CSP as _CSP
from zsim.analysis.html_page import CSS as _CSS
from zsim.atomic import write_dir
from zsim.records import SCHEMA_VERSION, RunResult, package_versions

BACKENDS = ("sim", "live")


@dataclass(frozen=True)
class PlotSpec:
    """One plot of the report: its file stem, title and what it shows."""

    name: str
    title: str
    caption: str


PLOTS = (
    PlotSpec("metrics", "Sim vs live per metric",
             "One panel per row of the table: the closed form (black diamond, dotted line) and "
             "each backend's mean with its 95% confidence interval as error bars."),
    PlotSpec("timeline", "Message timeline",
             "The first run of each backend, one lane per node: sends above the lane's line "
             "(blue when some node received the message, red when none did), receives below "
             "it (green), drops on it (×). A slow joiner shows as a stretch of red sends "
             "before its first receive."),
    PlotSpec("queue_depth", "Queue depth per pipe",
             "The first run of each backend: messages sent but not yet received per "
             "(sender node → receiver node) pair over time; messages never received are "
             "left out."),
    PlotSpec("run_timeline", "Run timeline, sim and live side by side",
             "The first run of each backend on one time axis (simulated seconds for sim, "
             "wall-clock seconds for live): cumulative sends and receives per node, messages "
             "in flight per pipe (counting only messages that were received), cumulative "
             "drops, and one lane per node with its connects, handshakes, crashes and marks; "
             "vertical lines mark connects, handshakes and crashes across the panels."),
    PlotSpec("tasks", "Tasks per worker",
             "The 'tasks' metric per node: bars are the mean over runs with 95% CIs, one per "
             "backend; black diamonds are the closed form."),
    PlotSpec("latency_cdf", "Latency CDF",
             "The fraction of messages delivered within a given latency (receive time − send "
             "time of the same message, each hop), over every run of each backend. Live sends "
             "are stamped when the send call has returned, so a live receive can be logged "
             "before its send: those latencies come out below 0."),
)

HOW_TO_READ = (
    "**closed form**: what the scenario's analytic model predicts from its inputs alone "
    "(assumptions below); '-' when there is none.",
    "**sim / live (95% CI)**: the mean over the runs of each backend (one run per seed, the "
    "same seeds for both) ± the half-width of the 95% confidence interval (Student's t); no "
    "± with a single run.",
    "**sim vs live**: the relative error (sim − live) / |live| (the plain difference when "
    "live is 0).",
    "**tolerance / verdict**: the largest relative error the scenario's `[compare]` accepts; "
    "*pass* or *FAIL* against it, *n/a* when a backend is missing, '-' without a tolerance.",
    "**Plots**: sim is blue, live orange, the closed form black. The timeline and the queue "
    "depths show the first run of each backend; the other plots use every run. Times are "
    "seconds since the scenario started.",
)


@dataclass(frozen=True)
class RenderedPlot:
    spec: PlotSpec
    path: str  # relative to the report directory
    png: bytes


# --- frames and figures -----------------------------------------------------------------------


def _runs(comparison: Comparison, backend: str) -> list[RunResult]:
    return comparison.sim_runs if backend == "sim" else comparison.live_runs


def _first_events(comparison: Comparison) -> dict[str, pd.DataFrame]:
    """Backend → the event log of its first run (backends with runs only)."""
    return {b: _runs(comparison, b)[0].events for b in BACKENDS if _runs(comparison, b)}


def _all_latencies(comparison: Comparison) -> dict[str, pd.DataFrame]:
    out = {}
    for backend in BACKENDS:
        parts = [frames.latencies(r.events) for r in _runs(comparison, backend)]
        parts = [p for p in parts if not p.empty]
        if parts:
            out[backend] = pd.concat(parts, ignore_index=True)
    return out


def _metrics_figure(comparison: Comparison) -> Figure | None:
    return plots.metric_ci_figure(frames.metric_ci(comparison))


def _timeline_figure(comparison: Comparison) -> Figure | None:
    timelines = {b: frames.timeline(ev) for b, ev in _first_events(comparison).items()}
    return plots.timeline_figure(timelines, order=list(comparison.scenario.nodes))


def _queue_depth_figure(comparison: Comparison) -> Figure | None:
    depths = {b: frames.queue_depth(ev) for b, ev in _first_events(comparison).items()}
    return plots.queue_depth_figure(depths)


def _run_timeline_figure(comparison: Comparison) -> Figure | None:
    order = list(comparison.scenario.nodes)
    first = {b: _runs(comparison, b)[0] for b in BACKENDS if _runs(comparison, b)}
    if len(first) == 2:
        return timeline.side_by_side(first["sim"].events, first["live"].events,
                                     first["sim"].meta, first["live"].meta, order=order)
    return next((timeline.timeline_figure(r.events, r.meta, order=order)
                 for r in first.values()), None)


def _tasks_figure(comparison: Comparison) -> Figure | None:
    return plots.tasks_figure(frames.tasks_per_worker(comparison))


def _latency_figure(comparison: Comparison) -> Figure | None:
    return plots.latency_cdf_figure(_all_latencies(comparison))


_FIGURES: dict[str, Callable[[Comparison], Figure | None]] = {
    "metrics": _metrics_figure,
    "timeline": _timeline_figure,
    "queue_depth": _queue_depth_figure,
    "run_timeline": _run_timeline_figure,
    "tasks": _tasks_figure,
    "latency_cdf": _latency_figure,
}


def figure(comparison: Comparison, name: str) -> Figure | None:
    """The figure of plot ``name`` (see ``PLOTS``), or None when it has no data."""
    return _FIGURES[name](comparison)


def render_plots(comparison: Comparison, plot_dir: Path) -> list[RenderedPlot]:
    """Draw every plot that has data into ``plot_dir`` as PNG, one figure at a time."""
    plot_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for spec in PLOTS:
        fig = figure(comparison, spec.name)
        if fig is None:
            continue
        path = plots.save_png(fig, plot_dir / f"{spec.name}.png")
        out.append(RenderedPlot(spec, f"{plot_dir.name}/{path.name}", path.read_bytes()))
    return out


# --- text -------------------------------------------------------------------------------------


def value_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v, default=str) if isinstance(v, list | dict) else str(v)


def _backends(comparison: Comparison) -> list[str]:
    listed = comparison.meta.get("backends")
    if listed:
        return [str(b) for b in listed]
    return [b for b in BACKENDS if _runs(comparison, b)]


def _wall(runs: list[RunResult]) -> str:
    walls = [float(r.meta["wall_s"]) for r in runs if "wall_s" in r.meta]
    return f", {sum(walls):.2f} s wall time in all" if walls else ""


@dataclass(frozen=True)
class ReportText:
    """The report's content, shared by the Markdown and HTML renderings."""

    title: str
    description: str
    facts: list[tuple[str, str]]  # label, value
    params: list[tuple[str, str]]
    table: str
    assumptions: list[tuple[str, str, str]]  # node.metric, value, assumptions
    notes: list[str]
    files: list[tuple[str, str]]  # path, what it holds


def report_text(comparison: Comparison, rendered: list[RenderedPlot]) -> ReportText:
    sc = comparison.scenario
    seeds = comparison.seeds
    runs = [f"{b}: {len(_runs(comparison, b))} run(s){_wall(_runs(comparison, b))}"
            for b in BACKENDS if _runs(comparison, b)]
    facts = [
        ("scenario", sc.name),
        ("source", sc.source or "-"),
        ("backends", ", ".join(_backends(comparison)) or "none (closed form only)"),
        ("runs", "; ".join(runs) or "none"),
        ("root seed", str(comparison.meta.get("root_seed", "-"))),
        ("seeds", ", ".join(str(s) for s in seeds) or "-"),
        ("recorded", sc.run.record),
    ]
    assumptions = [(f"{p.node}.{p.metric}", f"{p.value:.6g}", p.assumptions)
                   for p in comparison.predictions]
    drawn = {r.spec.name for r in rendered}
    notes = [f"{spec.title}: not drawn, {_why_missing(comparison, spec.name)}."
             for spec in PLOTS if spec.name not in drawn]
    table = format_table(comparison.table) if not comparison.table.empty else "(no rows)"
    files = [
        ("report.md", "this report, in Markdown"),
        ("report.html", "this report, self-contained HTML"),
        ("comparison.parquet", "the table above, unformatted"),
        ("runs.parquet", "every run's metrics, with backend and rep columns"),
        *[(f"events_{b}.parquet", f"the first {b} run's event log")
          for b in _first_events(comparison)],
        *[(r.path, r.spec.title) for r in rendered],
        ("meta.json", "schema version, scenario, params, seeds, backends, package versions"),
    ]
    return ReportText(f"zsim comparison: {sc.name}", sc.description, facts,
                      [(k, value_text(v)) for k, v in sc.params.items()], table, assumptions, notes,
                      files)


def _why_missing(comparison: Comparison, name: str) -> str:
    if name == "metrics":
        return "the table has no sim or live values"
    if name == "tasks":
        return "no node reports a 'tasks' metric"
    if not _first_events(comparison):
        return "there are no sim or live runs"
    return "the event logs hold no matched send/receive (record = 'messages' logs them)"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(text: ReportText, rendered: list[RenderedPlot]) -> str:
    lines = [f"# {text.title}", ""]
    if text.description:
        lines += [text.description, ""]
    lines += ["## Run", ""] + [f"- **{k}**: {_md_cell(v)}" for k, v in text.facts] + [""]
    lines += ["## Parameters", ""]
    if text.params:
        lines += ["| param | value |", "|---|---|"]
        lines += [f"| {_md_cell(k)} | {_md_cell(v)} |" for k, v in text.params]
    else:
        lines.append("(none)")
    lines += ["", "## Results", "", "```text", text.table, "```", ""]
    lines += ["## Closed-form assumptions", ""]
    if text.assumptions:
        lines += [f"- `{name}` = {value}: {why}" for name, value, why in text.assumptions]
    else:
        lines.append("No closed form for this scenario (its `[compare] model` is unset).")
    lines += ["", "## How to read this report", ""] + [f"- {h}" for h in HOW_TO_READ] + [""]
    lines += ["## Plots", ""]
    for r in rendered:
        lines += [f"### {r.spec.title}", "", f"![{r.spec.title}]({r.path})", "",
                  r.spec.caption, ""]
    lines += [f"- {n}" for n in text.notes]
    if not rendered and not text.notes:
        lines.append("(none)")
    lines += ["", "## Files", ""] + [f"- `{path}`: {what}" for path, what in text.files]
    return "\n".join(lines).rstrip() + "\n"


# --- HTML -------------------------------------------------------------------------------------



def _code_spans(text: str) -> str:
    """Escape ``text`` for HTML, rendering `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _inline(text: str) -> str:
    """Escape ``text`` for HTML, rendering the **bold**, *italic* and `code` of HOW_TO_READ."""
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", _code_spans(text))
    return re.sub(r"\*(.+?)\*", r"<em>\1</em>", out)


def _table_html(table: str) -> str:
    """The text table in a <pre>, rows coloured by their verdict (the last column)."""
    rows = []
    for k, line in enumerate(table.splitlines()):
        cls = "head" if k == 0 else {"FAIL": "fail", "pass": "pass"}.get(
            line.rstrip().rpartition(" ")[2])
        esc = html.escape(line)
        rows.append(f'<span class="{cls}">{esc}</span>' if cls else esc)
    return '<pre class="table">' + "\n".join(rows) + "</pre>"


def _kv_html(rows: list[tuple[str, str]], head: tuple[str, str] | None = None) -> str:
    parts = ['<table class="kv">']
    if head:
        parts.append(f"<tr><th>{html.escape(head[0])}</th><th>{html.escape(head[1])}</th></tr>")
    parts += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows]
    return "\n".join([*parts, "</table>"])


def html_page(text: ReportText, rendered: list[RenderedPlot]) -> str:
    e = html.escape
    body = [f"<h1>{e(text.title)}</h1>"]
    if text.description:
        body.append(f'<p class="description">{_code_spans(text.description)}</p>')
    body += ["<h2>Run</h2>", _kv_html(text.facts)]
    body.append("<h2>Parameters</h2>")
    body.append(_kv_html(text.params, ("param", "value")) if text.params else "<p>(none)</p>")
    body += ["<h2>Results</h2>", _table_html(text.table)]
    body.append("<h2>Closed-form assumptions</h2>")
    if text.assumptions:
        body.append("<ul>" + "".join(
            f"<li><code>{e(name)}</code> = {e(value)}: {e(why)}</li>"
            for name, value, why in text.assumptions) + "</ul>")
    else:
        body.append("<p>No closed form for this scenario (its <code>[compare] model</code> is "
                    "unset).</p>")
    body.append("<h2>How to read this report</h2>")
    body.append("<ul>" + "".join(f"<li>{_inline(h)}</li>" for h in HOW_TO_READ) + "</ul>")
    body.append("<h2>Plots</h2>")
    for r in rendered:
        data = base64.b64encode(r.png).decode("ascii")
        body.append(
            f'<figure id="{e(r.spec.name)}"><h3>{e(r.spec.title)}</h3>'
            f'<img src="data:image/png;base64,{data}" alt="{e(r.spec.title)}">'
            f"<figcaption>{e(r.spec.caption)}</figcaption></figure>")
    if text.notes:
        body.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in text.notes) + "</ul>")
    body.append("<h2>Files</h2>")
    body.append("<ul>" + "".join(f"<li><code>{e(path)}</code>: {e(what)}</li>"
                                 for path, what in text.files) + "</ul>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(text.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        "<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )


# --- metadata and writing ---------------------------------------------------------------------


def _versions() -> dict[str, str]:
    out = package_versions()
    for name in ("matplotlib", "pyarrow"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def report_meta(comparison: Comparison, files: list[str], text: ReportText | None = None
                ) -> dict[str, Any]:
    sc = comparison.scenario
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "comparison report",
        "scenario": sc.name,
        "description": sc.description,
        "source": sc.source,
        "params": sc.params,
        "root_seed": comparison.meta.get("root_seed"),
        "reps": comparison.meta.get("reps", len(comparison.seeds)),
        "seeds": comparison.seeds,
        "backends": _backends(comparison),
        "runs": {b: len(_runs(comparison, b)) for b in BACKENDS},
        "record": sc.run.record,
        "complete": comparison.meta.get("complete", True),
        "stopped": comparison.meta.get("stopped"),
        "versions": _versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
        # what `zsim report` needs, besides the parquet tables, to rebuild report.html
        "report": {"facts": text.facts, "assumptions": text.assumptions, "notes": text.notes,
                   "files": text.files} if text else None,
    }


def _write_contents(comparison: Comparison, out: Path) -> None:
    rendered = render_plots(comparison, out / "plots")
    text = report_text(comparison, rendered)
    text = _with_trace_diff(comparison, text, out)
    (out / "report.md").write_text(markdown(text, rendered), encoding="utf-8")
    (out / "report.html").write_text(html_page(text, rendered), encoding="utf-8")
    comparison.table.to_parquet(out / "comparison.parquet", index=False)
    comparison.runs_frame().to_parquet(out / "runs.parquet", index=False)
    for backend, events in _first_events(comparison).items():
        events.to_parquet(out / f"events_{backend}.parquet", index=False)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    meta = report_meta(comparison, [*files, "meta.json"], text)
    (out / "meta.json").write_text(json.dumps(meta, indent=2, default=str) + "\n",
                                   encoding="utf-8")


def _with_trace_diff(comparison: Comparison, text: ReportText, out: Path) -> ReportText:
    """The trace diff of the first sim run against the first live run (same seed;
    ``zsim.analysis.trace_diff``): written to trace_diff.txt, its first divergence a note."""
    if not (comparison.sim_runs and comparison.live_runs):
        return text
    diff = trace_diff.diff_events(comparison.sim_runs[0].events,
                                  comparison.live_runs[0].events)
    (out / "trace_diff.txt").write_text(trace_diff.format_diff(diff) + "\n", encoding="utf-8")
    first = diff.first.describe(diff.labels) if diff.first else "none"
    note = (f"Trace diff of the first sim and live runs (zsim diff): first divergence: "
            f"{first}; the per-socket counts are in trace_diff.txt.")
    return replace(text, notes=[*text.notes, note],
                   files=[*text.files, ("trace_diff.txt", "the trace diff of the first sim "
                                        "and live runs: first divergence, counts per socket")])


def write_report(comparison: Comparison, out_dir: str | Path) -> Path:
    """Write the report directory ``out_dir`` (replacing any previous one) and return it."""
    return write_dir(out_dir, lambda tmp: _write_contents(comparison, tmp), "comparison report")
