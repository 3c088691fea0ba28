"""Where sweep tasks run: a local process pool, or a Dask cluster (optional extra)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from zsim.errors import ZsimError


@contextmanager
def make_executor(jobs: int | None, scheduler: str | None) -> Iterator[Executor | None]:
    """``scheduler`` None: a process pool of ``jobs`` workers (None → CPU count; 1 → run in this
    process); ``"local"``: a Dask LocalCluster; else the address of a Dask scheduler."""
    if scheduler is None:
        workers = jobs or os.cpu_count() or 1
        if workers == 1:
            yield None
            return
        # forkserver: workers fork from a clean server that has imported zsim once (spawn would
        # import pandas and zsim again in every worker; fork would copy this process's threads).
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["zsim.analysis.sweep", "zsim.sim"])
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            yield pool
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ZsimError("--scheduler needs Dask: pip install 'zsim[distributed]'") from None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        with cluster, Client(cluster) as client:
            yield client.get_executor()
        return
    with Client(scheduler, timeout="30s") as client:
        yield client.get_executor()
