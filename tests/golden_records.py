"""Golden records: each shipped scenario's sim run, seed 1, at both record levels, as a digest.

The digest of a run is the SHA-256 of its event log and metrics table written as CSV with every
float in ``repr`` form, so any change to what the model does (one event, one ulp of one time)
changes it. The counts beside it say where to look when it does.

A commit that changes the model on purpose regenerates the files and says why:

    ZSIM_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_records.py
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from zsim.catalog import shipped_scenarios
from zsim.records import RunResult
from zsim.scenario import load_scenario
from zsim.sim import simulate

GOLDEN_DIR = Path(__file__).parent / "golden"
RECORD_LEVELS = ("messages", "lifecycle")
SEED = 1


def _csv(frame: Any) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%r", lineterminator="\n")
    return buf.getvalue().encode()


def digest(result: RunResult) -> dict[str, Any]:
    """What a golden file holds for one run: digests, and counts that point at a difference."""
    events, metrics = result.events, result.metrics
    return {
        "events_sha256": hashlib.sha256(_csv(events)).hexdigest(),
        "metrics_sha256": hashlib.sha256(_csv(metrics)).hexdigest(),
        "events_by_kind": {str(k): int(v)
                           for k, v in events.event.value_counts().sort_index().items()},
        "metrics": {f"{n}.{m}": repr(float(v)) for n, m, v in metrics.itertuples(index=False)},
    }


def scenario_names() -> list[str]:
    return [p.stem for p in shipped_scenarios()]


def run_digest(name: str, record: str) -> dict[str, Any]:
    path = next(p for p in shipped_scenarios() if p.stem == name)
    return digest(simulate(load_scenario(path), seed=SEED, record=record))


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"


def write_golden(name: str) -> None:
    body = {record: run_digest(name, record) for record in RECORD_LEVELS}
    golden_path(name).write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")
