"""check-model's host tracking: the calibration's probe repeated during a check, and the
profile scaled to what it measured (zsim.analysis.host_tracking)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from zsim.analysis.check_model import Check, Criterion, phase_lines, run_matrix
from zsim.analysis.host_tracking import (
    HostProbe,
    HostTracking,
    calibration_probes,
    speed_ratio,
    tracked_profile,
)
from zsim.costs import HOST_SPEED_COSTS
from zsim.profile import SHIPPED, load_profile
from zsim.records import RunResult, metrics_frame
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum

CALIBRATION = [9e-6, 10e-6, 11e-6, 30e-6]  # one stalled burst: the median ignores it


@pytest.fixture
def calibrated(tmp_path: Path) -> Path:
    """The shipped default as if calibrated: named, with the bursts its fit would record."""
    doc = json.loads((SHIPPED / "default.json").read_text())
    doc["name"] = "vm"
    doc["fit"] = {"parameters": {"app_drop_saving_s": {"quality": {
        "dropped_s": CALIBRATION, "written_minus_dropped_s": []}}}}
    path = tmp_path / "vm.json"
    path.write_text(json.dumps(doc))
    return path


def test_the_ratio_is_of_medians_and_needs_both_sides() -> None:
    assert speed_ratio([12e-6, 13e-6, 14e-6], CALIBRATION) == pytest.approx(13 / 10.5)
    assert speed_ratio([], CALIBRATION) is None
    assert speed_ratio([1e-5], []) is None


def test_the_shipped_default_has_no_calibration_to_track() -> None:
    assert calibration_probes(load_profile(None)) == []


def test_a_tracked_profile_is_its_calibration_at_the_probed_speed(calibrated: Path,
                                                                  tmp_path: Path) -> None:
    base = load_profile(str(calibrated))
    path = tracked_profile(base, [9.45e-6, 9.45e-6], "slow_subscriber", tmp_path)
    assert path is not None and path.name == "vm+host.slow_subscriber.json"
    tracked = load_profile(str(path))
    assert tracked.name == "vm+host"
    factor = 9.45 / 10.5
    assert tracked.meta["fit"]["slowed_by"] == pytest.approx(factor)
    got = tracked.model.model_dump()
    for name, value in base.model.model_dump().items():
        if name in HOST_SPEED_COSTS:
            assert got[name] == pytest.approx(value * factor), name
        else:
            assert got[name] == value, name
    assert tracked_profile(base, [], "pipeline", tmp_path) is None


def _check(name: str) -> Check:
    crit = Criterion("sink", "makespan_s", "mean", 0.10)
    return Check(name, "pipeline", {"workers": [2, 3]}, {}, (crit,), reps=2)


def test_the_check_probes_before_each_live_round_and_simulates_the_tracked_profile(
        calibrated: Path, tmp_path: Path) -> None:
    events: list[str] = []
    tracking = HostTracking([load_profile(str(calibrated))], tmp_path / "out", enabled=True)
    (tmp_path / "out").mkdir()

    class Probe(HostProbe):  # the host at half its calibrated speed, without a live burst
        def __call__(self, check: str, round_index: int) -> None:
            events.append(f"probe {check} {round_index}")
            self.samples.setdefault(check, []).append(21e-6)
    tracking.probe = Probe(0.0)

    def run(backend: str):  # type: ignore[no-untyped-def]
        def go(sc: Scenario, seed: int, stratum: Stratum) -> RunResult:
            events.append(f"{backend} {sc.profile} {sc.params['workers']}")
            return RunResult(pd.DataFrame(), metrics_frame([("sink", "makespan_s", 1.0)]))
        return go

    values = run_matrix([_check("a")], [None, str(calibrated)], run("sim"), run("live"), 0,
                        lambda: None, before_round=tracking.before_round,
                        more_profiles=tracking.more_profiles)
    assert events[:6] == ["probe a 0", "live default 2", "live default 3", "probe a 1",
                          "live default 2", "live default 3"]
    assert sorted(values.backend.unique()) == ["live", "sim:default", "sim:vm", "sim:vm+host"]
    assert list(tracking.files()) == ["profiles/vm+host.a.json"]
    speed = tracking.phase("a")
    assert speed is not None and speed["ratio"] == pytest.approx(2.0) and speed["probes"] == 2
    line = phase_lines({"a": {"wall_s": 60.0, "host_speed": speed}})[0]
    assert "2.000x the profile's (2 probes)" in line


def test_nothing_is_tracked_without_a_calibrated_profile_or_when_disabled(
        calibrated: Path, tmp_path: Path) -> None:
    for profiles, enabled in (([load_profile(None)], True),
                              ([load_profile(str(calibrated))], False)):
        tracking = HostTracking(profiles, tmp_path, enabled)
        tracking.before_round(_check("a"), 0)  # would run a live burst if it probed
        assert tracking.probe.samples == {} and tracking.more_profiles(_check("a")) == []
        assert tracking.phase("a") is None
