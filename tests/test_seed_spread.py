"""Seeds under the shipped default profile: the same seed gives the same records, and different
seeds move slow_joiner's loss as live runs spread (issue #20, defect 7).

The loss is the sends between the SUB's connect() and the PUB's first command processing after
the handshake (socket_base.cpp process_commands: at most once per max_command_delay during
send). What moves it from run to run is how late each of the publisher's paced sleeps ends
(app_sleep_late_s / _cv, measured by bench/join_spread.py), which decides the send on which
each processing falls, and so where the join lands in the throttle interval."""

from __future__ import annotations

import statistics

import pandas as pd

from zsim.catalog import scenario_path
from zsim.scenario import load_scenario
from zsim.sim import simulate

# Live, bench/join_spread.py --runs 30 (pyzmq 27.3 / libzmq 4.3.5, loopback, 2-core VM), the
# losses of 30 fresh slow_joiner runs: tcp 9-29 (sd 5.1), ipc 7-26 (sd 4.4).
LIVE_RANGE = {"tcp": 29 - 9, "ipc": 26 - 7}
LIVE_SD = {"tcp": 5.1, "ipc": 4.4}


def _lost(seed: int, transport: str = "tcp") -> float:
    sc = load_scenario(scenario_path("slow_joiner"), {"transport": transport})
    return simulate(sc, seed=seed).metric("subscriber", "lost")


def test_same_seed_same_records() -> None:
    sc = load_scenario(scenario_path("slow_joiner"))
    a, b = simulate(sc, seed=3), simulate(sc, seed=3)
    pd.testing.assert_frame_equal(a.events, b.events, check_exact=True)
    pd.testing.assert_frame_equal(a.metrics, b.metrics, check_exact=True)


def test_seeds_one_to_five_lose_differently() -> None:
    lost = [_lost(s) for s in range(1, 6)]
    assert lost == [2.0, 8.0, 5.0, 4.0, 10.0]


def test_loss_spread_over_seeds_is_within_the_live_spread() -> None:
    """Over 20 seeds the sim's losses spread over at least half the throttle interval in sends
    (1 ms at 10,000 msg/s: 10 sends; the join's phase in it is what the seeds move) and no more
    than the live losses did over 30 runs. The live spread is the larger by its handshake's
    (sd 0.3 ms live, a Python process's I/O threads, against tens of µs in the C-like default
    profile), which is why the sim's is bounded by it, not equated to it."""
    for transport in ("tcp", "ipc"):
        lost = [_lost(s, transport) for s in range(1, 21)]
        assert 5 <= max(lost) - min(lost) <= LIVE_RANGE[transport], (transport, lost)
        assert 0 < statistics.stdev(lost) <= LIVE_SD[transport], (transport, lost)
