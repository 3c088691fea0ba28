"""The record schema both backends produce: an event log, a metrics table and run metadata.

Knows nothing of simpy or zmq. Events arrive as fields in ``EVENT_COLUMNS`` order and are kept
columnar (``Recorder``); a DataFrame is one call away. Results are written atomically (a
temporary directory renamed into place) and carry ``SCHEMA_VERSION``;
``load_result`` refuses a newer schema.
"""

from __future__ import annotations

import json
import os
import platform
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from zsim.atomic import write_dir
from zsim.errors import ZsimError

SCHEMA_VERSION = 1

EVENT_COLUMNS = ("t", "node", "socket", "event", "sender", "seq", "size", "peer", "topic", "detail")
"""t: seconds since the scenario started; node/socket: where it happened; event: see EVENTS;
sender/seq: the message id ("" / -1 for lifecycle events); size: payload bytes; peer: the other
end ("node.socket" or an endpoint); topic: the message topic; detail: reason or point name."""

EVENTS = {
    "send": "a message accepted by a send call",
    "recv": "a message handed to the application",
    "drop": "a message discarded by a socket (detail: hwm, unroutable, filtered, stale reply)",
    "bind": "a socket bound an endpoint",
    "connect": "a socket started connecting to an endpoint",
    "refused": "a connection attempt found no listener, or (detail \"handshake: A to B\") its "
    "handshake refused the pair of socket types",
    "connected": "a handshake completed (connecting side)",
    "accepted": "a handshake completed (binding side)",
    "attach": "a socket took a new pipe into use (at its next command processing)",
    "detach": "a socket dropped a pipe whose peer is gone",
    "disconnected": "a connection broke",
    "start": "a node's behaviour started",
    "stop": "a node's behaviour returned",
    "mark": "a node reached a named point (detail)",
    "close": "a behaviour closed a socket (detail: its linger in ms)",
    "crash": "a node was killed",
    "restart": "a node started afresh",
}

MESSAGE_EVENTS = ("send", "recv", "drop")
"""The message-level events: logged only when a run records messages (record = "messages")."""

METRIC_COLUMNS = ("node", "metric", "value")

STANDARD_METRICS = {
    "sent": "messages accepted by the node's send calls",
    "received": "messages handed to the node's application",
    "dropped": "messages the node's sockets discarded (HWM, unroutable, filtered)",
    "destroyed": "messages lost with a crashed node or a broken connection",
    "cpu_s": "seconds of CPU the node's application thread spent in its behaviour (sim: the "
    "cost of its calls, not counting any wait for a core; live: the thread's CPU clock)",
    "io_wait_s": "seconds the node's libzmq I/O thread could run but had no core, during its "
    "behaviour (sim: stranded behind the node's own application thread, io_strand_per_msg; "
    "live: the I/O threads' run-queue wait from /proc schedstat, NaN without it or when nodes "
    "share one context)",
    "preempted": "times the node's application thread lost its core while it could still run, "
    "during its behaviour (sim: to its stranded I/O thread; live: the thread's involuntary "
    "context switches from /proc, NaN without it)",
    "stuck": "1 if the run ended with the node blocked in recv on a REQ awaiting its reply",
    "lost": "(SUB nodes) messages published after the node connected and before its first "
    "received message; all those published after it connected when it received none (at "
    "either record level)",
}


KEY_COLUMNS = ("node", "socket", "event", "sender", "peer", "topic", "detail")
"""The string columns: each event stores one int32 code for the tuple of them (their distinct
tuples are few: nodes × sockets × events × peers), so a row costs 28 B while recording."""


class Recorder:
    """Collects events column by column; message-level events only when ``messages`` is set.

    Per event: ``t`` (float64), ``seq`` and ``size`` (int64) and one int32 code into ``keys``,
    the table of distinct (node, socket, event, sender, peer, topic, detail) tuples."""

    __slots__ = ("_codes", "_key_of", "_seq", "_size", "_t", "keys", "messages")

    def __init__(self, messages: bool) -> None:
        self.messages = messages
        self._t = array("d")
        self._seq = array("q")
        self._size = array("q")
        self._codes = array("i")
        self._key_of: dict[tuple[Any, ...], int] = {}
        self.keys: list[tuple[Any, ...]] = []

    def add(self, *row: Any) -> None:
        """One event, its fields in ``EVENT_COLUMNS`` order."""
        key = row[1:5] + row[7:]
        code = self._key_of.get(key)
        if code is None:
            code = self._key_of[key] = len(self.keys)
            self.keys.append(key)
        self._t.append(row[0])
        self._seq.append(row[5])
        self._size.append(row[6])
        self._codes.append(code)

    def __len__(self) -> int:
        return len(self._t)

    def frame(self) -> pd.DataFrame:
        """The events as ``events_frame`` would build them from the rows, without the rows."""
        if not self.keys:
            return events_frame([])
        codes = np.frombuffer(self._codes, dtype=np.int32)
        cols: dict[str, Any] = {"t": np.frombuffer(self._t, dtype=np.float64)}
        for j, name in enumerate(KEY_COLUMNS):
            cols[name] = _string_column(codes, [k[j] for k in self.keys])
        cols["seq"] = np.frombuffer(self._seq, dtype=np.int64)
        cols["size"] = np.frombuffer(self._size, dtype=np.int64)
        return pd.DataFrame({c: cols[c] for c in EVENT_COLUMNS})


def _string_column(codes: Any, values: list[Any]) -> pd.Series:
    """``values[codes]`` as pandas' default str column, built in Arrow (no Python objects);
    a column whose values are not all strings falls back to an object array."""
    if not all(type(v) is str for v in values):
        return pd.Series(np.array(values, dtype=object)[codes])
    uniq = sorted(set(values))
    index = {v: i for i, v in enumerate(uniq)}
    remap = np.array([index[v] for v in values], dtype=np.int32)
    arr = pa.DictionaryArray.from_arrays(pa.array(remap[codes]), pa.array(uniq, pa.string()))
    return pd.Series(pd.array(arr.cast(pa.string()), dtype=STR_DTYPE))


STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)
"""What pandas infers for a column of Python strings (``events_frame``)."""


def events_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    return df.astype({"t": "float64", "seq": "int64", "size": "int64"})


def metrics_frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    return df.astype({"value": "float64"})


@dataclass
class RunResult:
    """What a run yields, whatever the backend."""

    events: pd.DataFrame
    metrics: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def metric(self, node: str, name: str) -> float:
        m = self.metrics
        rows = m[(m.node == node) & (m.metric == name)]
        if rows.empty:
            raise KeyError(f"no metric {name!r} for node {node!r}")
        return float(rows.value.iloc[0])

    def save(self, out_dir: str | Path, extra: Callable[[Path], object] | None = None) -> Path:
        """Write events.parquet, metrics.parquet and meta.json atomically into ``out_dir``;
        ``extra(tmp)`` adds files of its own (the CLI's timeline.png) to the same directory."""
        def fill(tmp: Path) -> None:
            self.events.to_parquet(tmp / "events.parquet", index=False)
            self.metrics.to_parquet(tmp / "metrics.parquet", index=False)
            (tmp / "meta.json").write_text(json.dumps(self.meta, indent=2, default=str) + "\n")
            if extra is not None:
                extra(tmp)

        return write_dir(out_dir, fill, "run")


def combine_reps(runs: list[RunResult]) -> RunResult:
    """Repetitions of one scenario as one result: rows tagged with ``rep`` and ``seed``; the
    meta keeps each repetition's own meta under ``runs``."""
    def tagged(frame: pd.DataFrame, k: int, run: RunResult) -> pd.DataFrame:
        return frame.assign(rep=k, seed=run.meta.get("seed"))

    return RunResult(
        pd.concat([tagged(r.events, k, r) for k, r in enumerate(runs)], ignore_index=True),
        pd.concat([tagged(r.metrics, k, r) for k, r in enumerate(runs)], ignore_index=True),
        {"schema_version": SCHEMA_VERSION, "kind": "run", "reps": len(runs),
         "seeds": [r.meta.get("seed") for r in runs],
         "complete": all(r.meta.get("complete", True) for r in runs),
         "runs": [r.meta for r in runs]},
    )


def load_result(path: str | Path) -> RunResult:
    path = Path(path)
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, ValueError) as exc:
        raise ZsimError(f"{path}: not a zsim result directory: {exc}") from None
    version = meta.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ZsimError(f"{path}: meta.json: schema_version {version!r} is newer than this zsim "
                        f"reads ({SCHEMA_VERSION}); upgrade zsim")
    return RunResult(pd.read_parquet(path / "events.parquet"),
                     pd.read_parquet(path / "metrics.parquet"), meta)


def package_versions() -> dict[str, str]:
    out = {}
    for name in ("zsim", "simpy", "pyzmq", "numpy", "pandas"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def host_info() -> dict[str, Any]:
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
