"""``zsim calibrate``: measure this machine, fit the cost model, write a profile, print a summary.

The summary is a table of every parameter (default, fitted, ratio, how it was obtained, how
well it fits), the live distributions that a deterministic parameter cannot carry (join window,
round trip), and the fitted model's closed forms and simulations next to the live numbers.
"""

from __future__ import annotations

import math
import os
import platform
import re
from pathlib import Path
from typing import Any

import click
import numpy as np

from zsim.analysis.calibrate import calibrate as run_calibration
from zsim.analysis.calibrate_bench import Plan
from zsim.costs import CostModel
from zsim.profile import load_profile
from zsim.progress import progress_bar
from zsim.steal import steal_warning

SHORT_METHODS = (  # first match wins
    ("app_gil_wait_sigma", "live inproc burst"),
    ("app_gil", "inproc burst, sim = live"),
    ("app_record", "live calls, with/without log"),
    ("app_cost_cv", "live call gaps, 10-90% range"),
    ("command_post", "bare sends, woken vs idle"),
    ("app_sleep_late_by", "paced sends, per rate"),
    ("app_sleep_late", "paced sends vs send 0"),
    ("app_start_late", "node wake vs start time"),
    ("app_mark", "mark to first send"),
    ("app_drop_saving", "burst: written vs dropped"),
    ("host_speed", "repeated runs, CPU/call"),
    ("io_strand", "burst: missed credits, wait"),
    ("io_wake_cpu", "spaced sends, I/O CPU"),
    ("cpu_cores", "os.cpu_count"),
    ("io_hot", "one-way times by idle gap"),
    ("io_wakeup", "REQ/REP RTT equation"),
    ("app_wakeup", "REQ/REP RTT equation"),
    ("app_call_by_size", "live calls, each size"),
    ("app_", "live send/recv calls, LS on size"),
    ("engine_", "bare engine drain, LS on wire B"),
    ("latency", "REQ/REP RTT remainder"),
    ("command_interval", "TSC: 3e6 ticks"),
    ("write_overhead", "spaced fill, a write each"),
    ("write_charge", "spaced fill: the better rule"),
    ("ipc.kernel_buffer", "wmem_default"),
    ("kernel_buffer", "bare fill to EAGAIN"),
    ("half_trips", "SUB handshake / hop"),
    ("handshake_jitter", "SUB handshake spread"),
    ("bandwidth", "not separable: kept"),
    ("inbound_poll_rate", "libzmq constant"),
    ("batch_bytes", "libzmq constant"),
)


def _known(value: Any) -> bool:
    """A figure as saved is known: NaN becomes null in the profile."""
    return isinstance(value, int | float) and math.isfinite(value)


def _cv(value: Any) -> str:
    return f"{value:.2f}" if _known(value) else "-"


def default_out() -> Path:
    return Path(f"profile-{_host_slug()}.json")


def _host_slug() -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", platform.node() or "host").strip("-") or "host"


@click.command()
@click.option("--out", type=click.Path(dir_okay=False), default=None, metavar="PROFILE",
              help="Profile file to write (default: ./profile-<hostname>.json); pass it to "
                   "--profile of run, compare, sweep and check-model.")
@click.option("--quick", is_flag=True,
              help="Fewer, shorter measurements: ~20-30 s instead of ~1.5-3 min; noisier fits.")
@click.option("--name", default=None, help="Profile name (default: calibrated-<hostname>).")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Wall-clock limit in seconds for each live run.")
def calibrate(out: str | None, quick: bool, name: str | None, timeout: float) -> None:
    """Measure this machine on loopback and write a fitted machine profile.

    Live micro-benchmarks per transport (tcp, ipc): send/recv cost by message size (with and
    without the event log), engine throughput, REQ/REP round trip, the slow-joiner window's
    distribution and how late paced sends run, buffer capacity by size and HWM, the cost of
    waking a sleeping reader, the interpreter lock, and the command throttle. Prints every
    parameter fitted against its default with its fit quality; the profile's "fit" section says
    how each was obtained, from what.
    """
    run_calibrate_command(out, quick, name, timeout)


def run_calibrate_command(out: str | Path | None, quick: bool, name: str | None,
                          timeout: float = 60.0) -> Path:
    """Run the calibration, write the profile, print the summary; returns the profile path."""
    plan = Plan.make(quick, timeout)
    path = Path(out) if out else default_out()
    if path.exists():
        load_profile(str(path))  # only an earlier profile may be overwritten (ZsimError else)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cpus = os.cpu_count() or 1
    if load > 0.5 * cpus:
        click.echo(f"zsim: warning: load average {load:.1f} on {cpus} CPUs: other work will "
                   "slow the live measurements", err=True)
    # the measurements' steps, then the interpreter lock's fit by simulation
    with progress_bar(plan.steps() + 1, "calibrate") as bar:
        written, model, fit = run_calibration(plan, path, name or f"calibrated-{_host_slug()}",
                                        step=lambda _s: bar.update())
    click.echo(format_summary(model, fit))
    click.echo(f"wrote {written} ({fit['wall_s']:.0f} s); use it with --profile {written}")
    warning = steal_warning("the calibration", fit.get("host_steal"))
    if warning:
        click.echo(warning, err=True)
    return written


# --- the summary --------------------------------------------------------------------------------
def fmt_value(name: str, value: Any) -> str:
    if isinstance(value, list) and all(isinstance(p, dict) and "sleep_s" in p for p in value):
        # app_sleep_late_by_length: "sleep: mean ± sd" per point
        return "; ".join(f"{fmt_seconds(p['sleep_s'])}: {fmt_seconds(p['late_s'])} ± "
                         f"{fmt_seconds(p['sd_s'])}" for p in value) or "-"
    if isinstance(value, list) and all(isinstance(p, dict) and "size_bytes" in p for p in value):
        # app_call_by_size: "size: send / recv" per point
        return "; ".join(f"{p['size_bytes']} B: {fmt_seconds(p['send_s'])} / "
                         f"{fmt_seconds(p['recv_s'])}" for p in value) or "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if name.endswith("_s"):
        return fmt_seconds(float(value))
    if name.endswith("_Bps"):
        return f"{value / 1e9:.3g} GB/s"
    if name.endswith("_bytes"):
        return f"{value / 1e6:.3g} MB" if value >= 1e6 else f"{value / 1e3:.3g} kB"
    return f"{value:g}"


def fmt_seconds(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(s) >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns" if s else "0"


def fmt_quality(q: dict[str, Any]) -> str:
    parts = []
    if "r2" in q:
        parts.append(f"R²={q['r2']:.2f}")
    if "max_abs_rel_residual" in q:
        parts.append(f"max|res|={q['max_abs_rel_residual']:.0%}")
    if "rel_residual_fitted" in q:
        res = q["rel_residual_fitted"]
        worst = max(map(abs, res.values())) if isinstance(res, dict) else abs(res)
        parts.append(f"RTT res {worst:.1%}")
    if "ks_d" in q:
        parts.append(f"KS D={q['ks_d']:.2f} p={q['ks_p']:.2f} n={q['n']}")
    if "shares" in q:
        x = np.asarray(q["shares"], dtype=float)
        parts.append(f"share taken {np.min(x):.0%}-{np.max(x):.0%}, median {np.median(x):.0%} "
                     f"({x.size} runs)")
    if "sim_mean_share" in q:
        parts.append(f"mean share sim {q['sim_mean_share']:.0%} / live "
                     f"{q['live_mean_share']:.0%}, burst sim "
                     f"{fmt_seconds(q['sim_mean_burst_s'])} / live "
                     f"{fmt_seconds(q['live_mean_burst_s'])}")
    if q.get("spreads"):
        parts.append(f"runs {min(q['spreads']):.2f}-{max(q['spreads']):.2f}")
    if q.get("runs_s"):
        parts.append(f"runs {fmt_seconds(min(q['runs_s']))}-{fmt_seconds(max(q['runs_s']))}")
    if "differences_s" in q:
        parts.append(f"median {fmt_seconds(float(np.median(q['differences_s'])))}")
    if "dropped_s" in q:
        parts.append(f"dropped send {fmt_seconds(float(np.median(q['dropped_s'])))}, "
                     "written - dropped "
                     f"{fmt_seconds(float(np.median(q['written_minus_dropped_s'])))}")
    if "strands_seen" in q:
        ratio = q.get("modelled_over_seen")  # unknown when none was seen
        parts.append(f"strands seen {sum(q['strands_seen'])} in {len(q['strands_seen'])} runs"
                     + (f", modelled/seen {ratio:.2g}" if _known(ratio) else ""))
    if "bursts_cv" in q:
        parts.append(f"app_costs {_cv(q['app_costs_cv'])}, bursts {_cv(q['bursts_cv'])}, "
                     f"{q['dof']} dof")
    if q.get("post_runs_s"):
        runs = q["post_runs_s"]
        parts.append(f"fastest of {len(runs)} runs, median {fmt_seconds(float(np.median(runs)))}")
    if "saving_s" in q:
        parts.append("hot wake saves " + ", ".join(
            f"{t} {fmt_seconds(v)}" for t, v in sorted(q["saving_s"].items())))
    if q.get("line_rel_error_send_recv"):
        parts.append("the line's send off by " + ", ".join(
            f"{size} B {err[0]:+.0%}" for size, err in q["line_rel_error_send_recv"].items()))
    if "probe_max_over_interval" in q:
        parts.append(f"probe ≤ C: {q['probe_share_within']:.0%}, "
                     f"max {q['probe_max_over_interval']:.2f} C")
    return ", ".join(parts) or "-"


def _short(name: str) -> str:
    return next((label for key, label in SHORT_METHODS if key in name), "")


def parameter_rows(fit: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, p in fit["parameters"].items():
        value, default = p["value"], p["default"]
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        ratio = f"{value / default:.3g}" if numeric and default else "-"
        rows.append((name, fmt_value(name, default), fmt_value(name, value), ratio,
                     _short(name), fmt_quality(p["quality"])))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def format_summary(model: CostModel, fit: dict[str, Any]) -> str:
    out = [_table(("parameter", "default", "fitted", "×default", "method", "fit"),
                  parameter_rows(fit)), ""]
    out.append("join window, connect() → send of the first delivered message (live):")
    for t, d in fit["distributions"]["join_window"].items():
        q = d["quantiles_s"]
        out.append(
            f"  {t}: n={d['n']} mean {fmt_seconds(d['mean_s'])}, p5 {fmt_seconds(q['p5'])}, "
            f"p50 {fmt_seconds(q['p50'])}, p95 {fmt_seconds(q['p95'])}")
        if "handshake" in d:
            h = d["handshake"]
            out.append(f"    its handshake, connect() → HANDSHAKE_SUCCEEDED: "
                       f"{fmt_seconds(h['shift_s'])} + Exp({fmt_seconds(h['jitter_s'])}), "
                       f"KS D={h['ks_d']:.2f} (p={h['ks_p']:.2f})")
    out.append("REQ/REP round trip (live):")
    for t, d in fit["distributions"]["rtt"].items():
        out.append(f"  {t}: mean {fmt_seconds(d['mean_s'])}, p10 {fmt_seconds(d['p10_s'])}, "
                   f"p50 {fmt_seconds(d['p50_s'])}, p90 {fmt_seconds(d['p90_s'])}, "
                   f"p99 {fmt_seconds(d['p99_s'])}")
    out += ["fitted model vs live:", *_validation_lines(fit.get("validation", {}))]
    if fit.get("failures"):
        out.append(f"failures: {'; '.join(fit['failures'])}")
    return "\n".join(out)


def _validation_lines(v: dict[str, Any]) -> list[str]:
    lines = []
    for t, r in v.get("rtt", {}).items():
        lines.append(f"  rtt {t}: live {fmt_seconds(r['live_s'])}, closed form "
                     f"{fmt_seconds(r['closed_form_s'])}, sim {fmt_seconds(r['sim_s'])}")
    for key, r in sorted(v.get("join_window", {}).items()):
        sim = "-" if math.isnan(r["sim_s"]) else fmt_seconds(r["sim_s"])
        lines.append(f"  join {key}: live mean {fmt_seconds(r['live_mean_s'])} (lost "
                     f"{r['live_lost_mean']:.1f}), closed form {fmt_seconds(r['closed_form_s'])},"
                     f" sim mean {sim} (lost {r['sim_lost']:.1f})")
    for r in v.get("capacity", []):
        lines.append(f"  capacity {r['transport']} {r['size']} B hwm {r['sndhwm']}: live "
                     f"{r['accepted']}, model {r['predicted']:.0f} ({r['rel_error']:+.0%})")
    return lines
