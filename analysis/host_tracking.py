"""The host's speed through a check, measured by the calibration's own probe.

A profile describes its host as it was when calibrated, and a host's speed drifts over the
tens of minutes a check takes: in five checks (s37-s41) the live slow-subscriber publisher's
CPU per send came out 0.88-1.05 of the model's, and the rows whose ``received`` follows it
(HWM 10: how many throttle intervals a burst spans) went high or low with it. (That ratio
compares CPU time with a cost fitted to the gaps between sends; on the next host it was 0.87
in a check whose probes found the host at 0.99 of its calibration, so it is no speed gauge
of its own: the probe below measures what the profile was fitted to.)

So check-model repeats one of the calibration's measurements while it runs: before each
round of a check's live runs, one slow-subscriber burst at the calibration's own settings
(``calibrate_bench.strands``), whose mean gap after a dropped send is what the profile's
per-send cost was fitted to (``app_drop_saving_s``). The median of a check's probes over
the median of the calibration's is the host's speed during that check, relative to the
profile; the check is simulated a second time under the profile with its CPU costs scaled
by it (``CostModel.slowed``). The probes are measurements of their own: the runs a check
judges never feed the model.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zsim.analysis.calibrate_bench import strands
from zsim.errors import ZsimError
from zsim.profile import Profile, save_profile

if TYPE_CHECKING:
    from zsim.analysis.check_model import Check

TRACKED_SUFFIX = "+host"


def calibration_probes(profile: Profile) -> list[float]:
    """The calibration's per-burst mean gaps after a dropped send (seconds), as its fit
    recorded them; empty for a profile that was not calibrated (the shipped default)."""
    fit = profile.meta.get("fit") or {}
    param = (fit.get("parameters") or {}).get("app_drop_saving_s") or {}
    values = (param.get("quality") or {}).get("dropped_s") or []
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def speed_ratio(probes: Sequence[float], reference: Sequence[float]) -> float | None:
    """How many times slower the host ran during ``probes`` than during ``reference``: the
    ratio of their medians (a burst's mean is pulled by the occasional stalled run; the
    median of the runs is not). None without both."""
    if not probes or not reference:
        return None
    return float(np.median(probes) / np.median(reference))


@dataclass
class HostProbe:
    """Runs the probe and keeps its samples per check."""

    command_interval_s: float
    timeout: float = 60.0
    samples: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)

    def __call__(self, check: str, round_index: int) -> None:
        try:
            run = strands("tcp", self.command_interval_s, round_index, self.timeout)
        except ZsimError:  # a probe that could not finish tells nothing of the host's speed
            self.failures[check] = self.failures.get(check, 0) + 1
            return
        gap = run["dropped_mean_gap_s"]
        if math.isfinite(gap):
            self.samples.setdefault(check, []).append(gap)


def tracked_profile(profile: Profile, probes: Sequence[float], check: str,
                    directory: Path) -> Path | None:
    """``profile`` with its CPU costs scaled to the host's speed during ``check`` (from its
    probes), written as ``<name>+host.<check>.json`` in ``directory``; None when ``profile``
    has no calibration probes to compare with or the check took none."""
    reference = calibration_probes(profile)
    factor = speed_ratio(probes, reference)
    if factor is None:
        return None
    name = profile.name + TRACKED_SUFFIX
    fit: dict[str, Any] = {
        "tool": "zsim check-model", "check": check, "from_profile": profile.meta.get("path"),
        "slowed_by": factor,
        "method": "median of the check's probe bursts' mean gap after a dropped send over "
                  "the calibration's; the profile's HOST_SPEED_COSTS times that",
        "probe_dropped_s": list(probes), "calibration_dropped_s": reference}
    extra = {"description": f"{profile.name} at the host's speed during check-model's "
                            f"{check} live runs ({factor:.3f} times its calibrated costs)",
             "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
             "host": profile.meta.get("host", {}), "versions": profile.meta.get("versions", {}),
             "fit": fit}
    return save_profile(directory / f"{name}.{check}.json", name, profile.model.slowed(factor),
                        extra)


class HostTracking:
    """check-model's part: probe before each live round (``before_round``), and once the live
    runs are done, each check's tracked profiles (``more_profiles``), written to
    ``directory``. Tracks the calibrated ``profiles`` (those with probes of their own); with
    none, or not ``enabled``, it does nothing."""

    def __init__(self, profiles: Sequence[Profile], directory: Path, enabled: bool) -> None:
        self.profiles = [p for p in profiles if calibration_probes(p)] if enabled else []
        interval = self.profiles[0].model.command_interval_s if self.profiles else 0.0
        self.probe = HostProbe(interval)
        self.directory = directory
        self.written: dict[str, list[Path]] = {}

    def before_round(self, check: Check, round_index: int) -> None:
        if self.profiles:
            self.probe(check.name, round_index)

    def more_profiles(self, check: Check) -> list[str]:
        probes = self.probe.samples.get(check.name, [])
        paths = [tracked_profile(p, probes, check.name, self.directory) for p in self.profiles]
        self.written[check.name] = [p for p in paths if p is not None]
        return [str(p) for p in self.written[check.name]]

    def phase(self, check: str) -> dict[str, Any] | None:
        """The host's speed during ``check``'s live runs against the first tracked profile."""
        probes = self.probe.samples.get(check, [])
        ratio = (speed_ratio(probes, calibration_probes(self.profiles[0])) if self.profiles
                 else None)
        if ratio is None:
            return None
        return {"ratio": ratio, "probes": len(probes), "probe_dropped_s": probes,
                "failed_probes": self.probe.failures.get(check, 0)}

    def files(self) -> dict[str, str]:
        """The tracked profiles, by their path in a report."""
        return {f"profiles/{p.name}": p.read_text()
                for paths in self.written.values() for p in paths}
