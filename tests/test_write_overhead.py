"""Kernel buffer taken per write (``write_overhead_bytes``): a unix socket charges each queued
write's whole buffer, so small messages written one at a time fill it long before their bytes
do."""

from __future__ import annotations

from zsim.catalog import scenario_path
from zsim.scenario import load_scenario
from zsim.sim import simulate

BURST = {"transport": "ipc", "hwm": 100, "size": 10, "count": 2000, "service": 0.0005}


def _received(overhead: int, seed: int = 0) -> float:
    sc = load_scenario(scenario_path("slow_subscriber"), BURST)
    ipc = sc.model.ipc.model_copy(update={"kernel_buffer_bytes": 212_992,
                                          "write_overhead_bytes": overhead})
    model = sc.model.model_copy(update={"ipc": ipc, "app_send_s": 10e-6})
    return simulate(sc.model_copy(update={"model": model}), seed=seed).metric(
        "subscriber", "received")


def test_bytes_alone_hold_the_whole_burst() -> None:
    # 2000 × 12 wire bytes fit in 213 kB many times over
    assert _received(0) == 2000


def test_a_write_overhead_holds_a_few_hundred_small_messages() -> None:
    # the publisher sends every 10 µs, the I/O thread writes each message alone: 213 kB /
    # (12 + 700) B ≈ 300 in the kernel, plus both pipes and what the subscriber takes meanwhile
    assert [_received(700, seed) for seed in range(2)] == [500, 500]
