"""Where sweep tasks run: a local process pool, or a Dask cluster (optional extra)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from zsim.errors import ZsimError


def _pool_context() -> Any:
    """fork when this process has no other thread (workers start at once, with zsim already
    imported); else forkserver, whose server imports zsim once (forking a threaded process is
    unsafe, and spawn would import pandas and zsim again in every worker)."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["zsim.analysis.sweep", "zsim.sim"])
    return ctx


@contextmanager
def make_executor(jobs: int | None, scheduler: str | None) -> Iterator[Executor | None]:
    """``scheduler`` None: a process pool of ``jobs`` workers (None → CPU count; 1 → run in this
    process); ``"local"``: a Dask LocalCluster; else the address of a Dask scheduler."""
    if scheduler is None:
        workers = jobs or os.cpu_count() or 1
        if workers == 1:
            yield None
            return
        ctx = _pool_context()
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            yield pool
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ZsimError("--scheduler needs Dask: pip install 'zsim[distributed]'") from None
    if scheduler == "local":
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1, processes=True,
            dashboard_address=None)
        with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
            yield client.get_executor()
        return
    with Client(scheduler, timeout="30s") as client:  # type: ignore[no-untyped-call]
        yield client.get_executor()
