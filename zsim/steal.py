"""The share of CPU time a virtual machine's host gave to others (the steal column of the
``cpu`` line of /proc/stat, Linux). A live measurement taken while a neighbour steals a few
percent describes a slower, jumpier host than the one a later run meets: calibrations taken at
3.6% steal fitted wake-ups three times those at 0.05-0.5%, and checks against them failed."""

from __future__ import annotations

from pathlib import Path

# above this share of steal over a calibration or a check, its figures are suspect
STEAL_WARN = 0.01
_STEAL_COLUMN = 7  # user nice system idle iowait irq softirq steal guest guest_nice


def cpu_times(stat: Path = Path("/proc/stat")) -> list[int] | None:
    """The host's cumulative CPU times (the ``cpu`` line, in clock ticks); None off Linux."""
    try:
        for line in stat.read_text().splitlines():
            if line.startswith("cpu "):
                return [int(x) for x in line.split()[1:]]
    except (OSError, ValueError):
        return None
    return None


def steal_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """Steal over all CPU time between two ``cpu_times``; None when unknown."""
    if before is None or after is None or len(before) <= _STEAL_COLUMN:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:_STEAL_COLUMN + 1])  # guest time is already counted in user time
    return delta[_STEAL_COLUMN] / total if total > 0 else None


def steal_warning(what: str, share: float | None) -> str | None:
    """A one-line warning when ``share`` exceeds STEAL_WARN, else None."""
    if share is None or share <= STEAL_WARN:
        return None
    return (f"zsim: warning: the host stole {share:.1%} of the CPU during {what} (over "
            f"{STEAL_WARN:.0%}): its live figures describe a busier host than usual; "
            "repeat it when the host is quiet")
