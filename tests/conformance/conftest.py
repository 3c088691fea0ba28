"""The conformance suite's fixture: every test runs once per backend (sim, and live on
loopback, marked ``live``), with the same scenario text and the same assertions."""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from zsim.live import run_live
from zsim.records import RunResult
from zsim.scenario.load import load_scenario_text
from zsim.sim import simulate

LIVE_TIMEOUT_S = 30.0

Run = Callable[..., RunResult]


# --- the backend fixture ----------------------------------------------------------------------

@pytest.fixture(params=["sim", pytest.param("live", marks=pytest.mark.live)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def run(backend: str, my_children: Callable[[], list[int]]) -> Run:
    """``run(toml_text, **params) -> RunResult`` on this test's backend.

    ``params`` override the scenario's ``[params]``. The run must complete; a live run must also
    leave no node process and no run directory behind (it makes its run directory in a private
    temporary directory, so that other live runs on the host cannot confuse the check).
    """

    def _run(text: str, **params: Any) -> RunResult:
        sc = load_scenario_text(textwrap.dedent(text), source="<conformance>",
                                name="conformance", overrides=params)
        if backend == "sim":
            result = simulate(sc, seed=0)
        else:
            private = tempfile.mkdtemp(prefix="zsim-conf-")
            try:
                with pytest.MonkeyPatch.context() as mp:
                    mp.setattr(tempfile, "tempdir", private)
                    result = run_live(sc, seed=0, timeout=LIVE_TIMEOUT_S)
                assert my_children() == []
                assert os.listdir(private) == []
            finally:
                shutil.rmtree(private, ignore_errors=True)
        assert result.meta["backend"] == backend
        assert result.meta["complete"], result.meta
        return result

    return _run


