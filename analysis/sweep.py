"""Parameter sweeps: grid points × replications as independent, resumable tasks.

Each task (backend, grid point, replication) runs one scenario and writes its metrics atomically
to its own parquet file under ``OUT/tasks/``; a rerun skips tasks whose file exists, so an
interrupted sweep resumes where it stopped. Replication k uses the k-th seed spawned from the
root seed (numpy SeedSequence) at every grid point: results do not depend on scheduling, and
grid points share random numbers, which sharpens the differences between them.

Sim tasks run on any ``concurrent.futures.Executor`` (a local process pool, or Dask's executor);
live tasks run one at a time in this process, after the sim tasks, because they measure the
machine.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zsim.analysis.backends import get_backend
from zsim.analysis.closed_forms import predict
from zsim.analysis.compare import repetitions
from zsim.analysis.deadlines import Deadline
from zsim.analysis.stats import mean_ci
from zsim.atomic import write_file
from zsim.backend import RecordLevel, RunOptions
from zsim.errors import ZsimError
from zsim.profile import load_profile
from zsim.records import SCHEMA_VERSION, package_versions
from zsim.scenario import load_scenario, parse_overrides
from zsim.seeds import Stratum

PARAM_PREFIX = "p."


@dataclass(frozen=True)
class SweepTask:
    scenario: str  # path of the scenario file
    overrides: tuple[tuple[str, Any], ...]  # --set values and this grid point, in order
    point: tuple[tuple[str, Any], ...]  # the grid point alone
    rep: int
    seed: int
    backend: str
    profile: str | None = None
    stratum: Stratum | None = None  # which of the point's repetitions (zsim.seeds.Stratum)

    @property
    def key(self) -> str:
        """Stable file key: backend/point-hash/rep."""
        text = json.dumps(self.point, default=str)
        digest = hashlib.sha1(text.encode()).hexdigest()[:12]
        return f"{self.backend}/{digest}/rep-{self.rep:04d}"


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["workers=1,2,4"]`` → ``{"workers": [1, 2, 4]}`` (values are TOML)."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise ZsimError(f"--grid: expected name=v1,v2,..., got {item!r}")
        grid[name.strip()] = [parse_overrides([f"v={v}"], "--grid")["v"]
                              for v in values.split(",")]
    return grid


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[tuple[tuple[str, Any], ...]]:
    names = list(grid)
    return [tuple(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def plan(
    scenario: str,
    sets: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    reps: int,
    root_seed: int,
    backends: Sequence[str],
    profile: str | None = None,
) -> list[SweepTask]:
    """Every task of the sweep; loads each grid point once so that bad values fail early."""
    runs = repetitions(root_seed, reps)
    tasks = []
    for point in grid_points(grid):
        overrides = tuple({**sets, **dict(point)}.items())
        load_scenario(scenario, dict(overrides), profile)  # fail now, not in a worker
        for backend in backends:
            tasks += [SweepTask(scenario, overrides, point, k, s, backend, profile, stratum)
                      for k, (s, stratum) in enumerate(runs)]
    return tasks


def run_task(task: SweepTask) -> pd.DataFrame:
    """Run one task; its metrics with backend, rep, seed and grid-parameter columns."""
    sc = load_scenario(task.scenario, dict(task.overrides), task.profile)
    # the sim records lifecycle only (its metrics are complete either way); live records
    # messages, as its derived metrics need them
    record: RecordLevel = "lifecycle" if task.backend == "sim" else "messages"
    result = get_backend(task.backend).run(
        sc, RunOptions(seed=task.seed, record=record, stratum=task.stratum))
    df = result.metrics.assign(backend=task.backend, rep=task.rep, seed=task.seed,
                               complete=bool(result.meta.get("complete", True)))
    for name, value in task.point:
        df[PARAM_PREFIX + name] = value
    return df


def run_task_to_file(task: SweepTask, out: Path) -> None:
    """Run one task and write its file (for workers that share the results directory)."""
    write_atomic(run_task(task), task_file(out, task))


def task_file(out: Path, task: SweepTask) -> Path:
    return out / "tasks" / f"{task.key}.parquet"


def write_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` so that the file is either whole or absent."""
    write_file(path, lambda tmp: df.to_parquet(tmp, index=False))


def run_sweep(
    tasks: Sequence[SweepTask],
    out: Path,
    executor: Executor | None,
    on_done: Callable[[SweepTask], None] = lambda _t: None,
) -> int:
    """Run the tasks not done yet; returns how many ran. Sim tasks go to ``executor`` (or run
    here when None); live tasks run here, one at a time, after them."""
    todo = [t for t in tasks if not task_file(out, t).exists()]
    for t in tasks:
        if t not in todo:
            on_done(t)
    sim = [t for t in todo if t.backend == "sim"]
    live = [t for t in todo if t.backend != "sim"]
    if executor is None:
        for t in sim:
            _finish(t, run_task(t), out, on_done)
    elif isinstance(executor, ProcessPoolExecutor):
        # Local workers share this file system: each writes its own task file.
        done: dict[Future[None], SweepTask] = {
            executor.submit(run_task_to_file, t, out): t for t in sim}
        try:
            for fut in as_completed(done):
                fut.result()
                on_done(done[fut])
        except BaseException:
            for fut in done:
                fut.cancel()
            raise
    else:
        futures: dict[Future[pd.DataFrame], SweepTask] = {executor.submit(run_task, t): t
                                                          for t in sim}
        try:
            for fut in as_completed(futures):
                _finish(futures[fut], fut.result(), out, on_done)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    for t in live:
        _finish(t, run_task(t), out, on_done)
    return len(todo)


def _finish(task: SweepTask, df: pd.DataFrame, out: Path, on_done: Callable[[SweepTask], None]
            ) -> None:
    write_atomic(df, task_file(out, task))
    on_done(task)


def load_results(out: Path, tasks: Sequence[SweepTask]) -> pd.DataFrame:
    frames = [pd.read_parquet(task_file(out, t)) for t in tasks]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summarize(results: pd.DataFrame, params: Sequence[str],
              deadlines: Sequence[Deadline] = ()) -> pd.DataFrame:
    """Per backend, grid point, node and metric: the mean and 95% CI half-width, n, the p5,
    p50 and p95 quantiles of the replications (linear interpolation between order statistics,
    numpy's default), and per deadline that applies, P(metric op bound) with its Wilson 95%
    interval (columns ``P(...)``, ``P(...) lo``, ``P(...) hi``; NaN on rows it does not
    concern)."""
    keys = ["backend", *[PARAM_PREFIX + p for p in params], "node", "metric"]
    quantiles = [("p5", 0.05), ("p50", 0.5), ("p95", 0.95)]
    extra = [c for d in deadlines for c in (d.column, f"{d.column} lo", f"{d.column} hi")]
    rows = []
    for key, group in results.groupby(keys, sort=True):
        values = group.value.tolist()
        mean, ci = mean_ci(values)
        finite = group.value.dropna().to_numpy(dtype=float)
        qs = [float(np.quantile(finite, q)) if finite.size else math.nan for _, q in quantiles]
        probs: list[float] = []
        for d in deadlines:
            probs += (d.probability(values) if d.applies(str(key[-2]), str(key[-1]))
                      else (math.nan,) * 3)
        rows.append((*key, mean, ci, len(group), *qs, *probs))
    return pd.DataFrame(rows, columns=[*keys, "mean", "ci", "n", *[n for n, _ in quantiles],
                                       *extra])


def closed_form_curve(
    scenario: str,
    sets: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    profile: str | None = None,
) -> pd.DataFrame:
    """The scenario's closed-form predictions at every grid point (empty without a model)."""
    rows = []
    for point in grid_points(grid):
        sc = load_scenario(scenario, {**sets, **dict(point)}, profile)
        for p in predict(sc):
            rows.append((*[v for _, v in point], p.node, p.metric, p.value))
    return pd.DataFrame(rows, columns=[*[PARAM_PREFIX + n for n in grid], "node", "metric",
                                       "value"])


def sweep_inputs(scenario: str, sets: Mapping[str, Any], reps: int, root_seed: int,
                 profile: str | None) -> dict[str, str]:
    """What a sweep's task results depend on besides the grid point, each as a digest: the
    scenario's and the profile's contents (not their names), every --set, the root seed and
    the repetitions (whose seeds and strata follow from both). A resumed sweep must match all
    of them; the grid may grow, since each point has its own task files."""
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:16]

    return {
        "scenario": digest(Path(scenario).read_bytes()),
        "profile": digest(load_profile(profile).model.model_dump_json().encode()),
        "sets": digest(json.dumps(sorted(sets.items()), default=str).encode()),
        "root_seed": str(root_seed),
        "reps": str(reps),
    }


def check_resume(out: Path, inputs: Mapping[str, str]) -> None:
    """Refuse to resume into ``out`` when its earlier sweep had other inputs: its task files
    would be returned as this sweep's results."""
    try:
        earlier = json.loads((out / "meta.json").read_text()).get("inputs")
    except (OSError, ValueError):
        return  # no earlier sweep here (check_result_dir has vetted the directory)
    if earlier == dict(inputs):
        return
    differ = sorted(k for k in inputs if not isinstance(earlier, dict)
                    or earlier.get(k) != inputs[k])
    raise ZsimError(f"--out {out}: holds a sweep made with other inputs ({', '.join(differ)} "
                    "differ); give another --out, or rerun with the same inputs to resume")


def write_meta(out: Path, doc: dict[str, Any]) -> None:
    meta = {"schema_version": SCHEMA_VERSION, "kind": "sweep", **doc,
            "versions": package_versions()}
    write_file(out / "meta.json",
               lambda tmp: tmp.write_text(json.dumps(meta, indent=2, default=str)))
