"""The host's steal over a calibration or a check (zsim.steal)."""

from __future__ import annotations

from pathlib import Path

from zsim.steal import STEAL_WARN, cpu_times, steal_share, steal_warning


def test_steal_is_the_steal_column_over_all_time(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    before = cpu_times(stat)
    assert before == [100, 0, 50, 800, 10, 0, 0, 40, 0, 0]
    stat.write_text("cpu  200 0 100 1600 20 0 0 80 30 0\n")
    # 40 of 1000 ticks stolen; guest time (30) is part of user time and not counted twice
    assert steal_share(before, cpu_times(stat)) == 40 / 1000
    assert steal_share(None, before) is None
    assert cpu_times(tmp_path / "missing") is None


def test_a_warning_only_above_the_threshold() -> None:
    assert steal_warning("the check", None) is None
    assert steal_warning("the check", STEAL_WARN) is None
    text = steal_warning("the calibration", 0.036)
    assert text is not None and "3.6%" in text and "calibration" in text
    assert "\n" not in text
