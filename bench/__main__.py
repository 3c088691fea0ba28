"""Run every benchmark, each in a fresh process, print one table and write bench/results.json.

    python -m bench                 # every benchmark at its full size (several minutes)
    python -m bench --quick         # smaller N: a smoke check, not a measurement
    python -m bench --only sim_memory --out results.json

Each script prints ``figure=<float>`` and ``baseline=<float>`` lines (the baseline measured in
the same run, or the issue's fixed limit where the goal is absolute) and ends with
``ratio=<float>``; the table's ratio is figure / baseline. A script's peak RSS is read from
``wait4`` on its own process, so it is that benchmark's alone. Benchmarks that need perf and root
are skipped, with the reason, when either is missing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

HERE = Path(__file__).resolve().parent
SCHEMA_VERSION = 1
TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    figure: str  # what figure and baseline are
    goal: str  # "<= 1", ">= 0.3" or "" (a diagnostic)
    args: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    needs_perf: bool = False


BENCHES = (
    Bench("sim_speed", "sim_speed.py", "sim hops/s vs bare simpy Store items/s", ">= 0.3",
          quick=("--n", "20000", "--store-n", "20000", "--repeat", "1")),
    Bench("sim_memory", "sim_memory.py", "peak RSS MB, 1M msgs lifecycle vs 300 MB", "<= 1",
          quick=("--n", "20000")),
    Bench("sim_memory_full", "sim_memory.py", "peak RSS MB, 1M msgs full log vs 300 MB", "<= 1",
          args=("--record", "messages"), quick=("--record", "messages", "--n", "20000")),
    Bench("sweep_scaling", "sweep_scaling.py", "sweep wall s, 2 jobs vs 1 job", "<= 0.6",
          quick=("--reps", "1")),
    Bench("live_overhead", "live_overhead.py", "live msg/s vs bare pyzmq msg/s", ">= 0.8",
          quick=("--n", "5000", "--repeat", "1")),
    Bench("cpu_share", "cpu_share.py", "thread CPU/msg vs cores x wall/msg", "",
          quick=("--n", "5000")),
    Bench("handshake_spread", "handshake_spread.py", "handshake jitter s, tcp vs ipc", "",
          quick=("--n", "20")),
    Bench("pair_refusal", "pair_refusal.py", "delivered of 5, tcp vs inproc", ""),
    Bench("io_trace", "io_trace.py", "share of bursts stranded > 0.5 ms", "",
          quick=("--reps", "1"), needs_perf=True),
    Bench("join_trace", "join_trace.py", "off-core s after connect vs before", "",
          quick=("--reps", "1"), needs_perf=True),
)


def skip_reason(b: Bench) -> str | None:
    if b.needs_perf and shutil.which("perf") is None:
        return "needs perf (not installed)"
    if b.needs_perf and os.geteuid() != 0:
        return "needs root"
    return None


def run_script(b: Bench, quick: bool) -> tuple[int, str, float, float]:
    """(exit code, stdout, wall s, peak RSS MB) of one benchmark in a fresh process."""
    cmd = [sys.executable, str(HERE / b.script), *(b.quick if quick else b.args)]
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=HERE.parent)
        status, rusage = wait_rusage(proc, t0 + TIMEOUT_S)
        wall = time.perf_counter() - t0
        out.seek(0)
        text = out.read()
    # Linux reports ru_maxrss in KiB, macOS in bytes
    rss = rusage / 2**20 if sys.platform == "darwin" else rusage / 1024
    return status, text, wall, rss


def wait_rusage(proc: subprocess.Popen[bytes], deadline: float) -> tuple[int, int]:
    """(exit code, ru_maxrss) of ``proc``, reaped with wait4; killed at ``deadline``."""
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, rusage.ru_maxrss
        if time.perf_counter() > deadline:
            proc.kill()
        time.sleep(0.05)


def parse(text: str) -> dict[str, float]:
    """The ``figure=``, ``baseline=`` and ``ratio=`` lines a script printed (last one wins)."""
    got: dict[str, float] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key in ("figure", "baseline", "ratio"):
            try:
                got[key] = float(value.split()[0])
            except (ValueError, IndexError):
                continue
    return got


def met(goal: str, ratio: float | None) -> bool | None:
    if not goal or ratio is None:
        return None
    op, limit = goal.split()
    return ratio <= float(limit) if op == "<=" else ratio >= float(limit)


def measure(b: Bench, quick: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"name": b.name, "figure_is": b.figure, "goal": b.goal,
                           "command": " ".join(["python", f"bench/{b.script}",
                                                *(b.quick if quick else b.args)])}
    reason = skip_reason(b)
    if reason:
        return {**row, "status": "skipped", "reason": reason}
    code, text, wall, rss = run_script(b, quick)
    got = parse(text)
    if "ratio" in got and "figure" not in got and "baseline" not in got:
        got.update(figure=got["ratio"], baseline=1.0)  # a script that prints its ratio alone
    row.update(wall_s=round(wall, 3), peak_rss_mb=round(rss, 1), script_ratio=got.get("ratio"))
    if code != 0 or "figure" not in got or "baseline" not in got:
        tail = text.strip().splitlines()[-3:]
        return {**row, "status": "failed", "reason": f"exit {code}: " + " | ".join(tail)}
    ratio = got["figure"] / got["baseline"] if got["baseline"] else None
    return {**row, "status": "ok", "figure": got["figure"], "baseline": got["baseline"],
            "ratio": ratio, "met": met(b.goal, ratio)}


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "pyzmq": zmq.__version__,
            "libzmq": zmq.zmq_version()}


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def table(rows: list[dict[str, Any]]) -> str:
    head = ("benchmark", "figure", "baseline", "ratio", "goal", "met?", "figure vs baseline")
    lines = [head]
    for r in rows:
        if r["status"] != "ok":
            lines.append((r["name"], "-", "-", "-", r["goal"] or "diagnostic",
                          r["status"], r["reason"][:60]))
            continue
        lines.append((r["name"], fmt(r["figure"]), fmt(r["baseline"]), fmt(r["ratio"]),
                      r["goal"] or "diagnostic", fmt(r["met"]), r["figure_is"]))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``path`` atomically (a temporary file renamed into place)."""
    fd, tmp = tempfile.mkstemp(prefix=".results-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small N: a smoke check")
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="run only this benchmark (repeatable)")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args(argv)
    names = {b.name for b in BENCHES}
    for n in args.only or []:
        if n not in names:
            print(f"--only: no benchmark {n!r} (have: {', '.join(sorted(names))})",
                  file=sys.stderr)
            return 2
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    rows = []
    for b in chosen:
        print(f"running {b.name} ...", file=sys.stderr, flush=True)
        rows.append(measure(b, args.quick))
    print(table(rows))
    write_json(args.out, {
        "schema_version": SCHEMA_VERSION, "quick": args.quick, "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg()[0], "results": rows})
    return 1 if any(r["status"] == "failed" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
