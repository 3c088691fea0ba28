"""Simulator speed: simulated message hops per wall-second, against a bare simpy Store loop.

(a) A steady PUSH→PULL flow over the tcp model (bench/bench_flow.py): a pusher sending N
    messages of 100 B back to back, a puller receiving them, record level 'lifecycle'. A hop is
    one message delivered from a send to a recv; the rate is N / the wall time of ``simulate()``
    (scenario loading excluded; World construction and the result frames included).
    ``--builtin`` runs the built-in publisher/subscriber behaviours instead of the minimal ones.
(b) A bare simpy loop: a producer process putting N items into a ``simpy.Store``, a consumer
    process getting them; rate = N / the wall time of ``env.run()``.

Both are measured in the same run, interleaved, ``--repeat`` times each; the best of each counts.
CPU-time rates are printed too (more stable on a busy machine). The last line is
``ratio=a/b`` from the wall-time rates (the issue aims for >= 0.3).

    python bench/sim_speed.py                 # N = 200k (sim) and 200k (store), ~20-40 s
    python bench/sim_speed.py --n 50000       # quicker
    python bench/sim_speed.py --memory        # the 1M-message peak-RSS check (bench/sim_memory.py)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import simpy
from bench_flow import SIZE, flow_text

from zsim.scenario.load import load_scenario_text
from zsim.sim.run import simulate


def sim_rate(n: int, transport: str = "tcp", builtin: bool = False) -> tuple[float, float, float]:
    """(hops per wall-second, wall seconds, cpu seconds) of one simulated flow of ``n`` msgs."""
    text = flow_text(n, transport, builtin=builtin)
    scenario = load_scenario_text(text, source="<bench>", name="sim_speed")
    c0, t0 = time.process_time(), time.perf_counter()
    result = simulate(scenario, seed=1, record="lifecycle")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    received = result.metric("puller", "received")
    if received != n:
        raise SystemExit(f"sim flow delivered {received:.0f} of {n} messages")
    return n / wall, wall, cpu


def store_rate(n: int) -> tuple[float, float, float]:
    """(items per wall-second, wall seconds, cpu seconds) of a bare simpy Store put/get loop."""
    env = simpy.Environment()
    store = simpy.Store(env)
    got = [0]

    def producer():
        for i in range(n):
            yield store.put(i)

    def consumer():
        for _ in range(n):
            yield store.get()
            got[0] += 1

    env.process(producer())
    env.process(consumer())
    c0, t0 = time.process_time(), time.perf_counter()
    env.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if got[0] != n:
        raise SystemExit(f"store loop moved {got[0]} of {n} items")
    return n / wall, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000, help="messages in the sim flow")
    ap.add_argument("--store-n", type=int, default=200_000, help="items in the Store loop")
    ap.add_argument("--repeat", type=int, default=3, help="measurements of each; best counts")
    ap.add_argument("--transport", default="tcp", choices=("tcp", "ipc", "inproc"))
    ap.add_argument("--builtin", action="store_true",
                    help="built-in publisher/subscriber behaviours instead of the minimal ones")
    ap.add_argument("--memory", action="store_true",
                    help="instead: the 1M-message peak-RSS check (same as bench/sim_memory.py)")
    args = ap.parse_args()
    if args.memory:
        import sim_memory

        sim_memory.main(["--builtin"] if args.builtin else [])
        return

    sim_best = store_best = sim_cpu = store_cpu = 0.0
    for k in range(1, args.repeat + 1):
        s, s_wall, s_cpu = sim_rate(args.n, args.transport, args.builtin)
        b, b_wall, b_cpu = store_rate(args.store_n)
        sim_best, store_best = max(sim_best, s), max(store_best, b)
        sim_cpu, store_cpu = max(sim_cpu, args.n / s_cpu), max(store_cpu, args.store_n / b_cpu)
        print(f"run {k}: sim {s:,.0f} hops/s ({args.n} msgs in {s_wall:.2f} s)   "
              f"store {b:,.0f} items/s ({args.store_n} items in {b_wall:.2f} s)")
    flow = "built-in publisher/subscriber" if args.builtin else "minimal behaviours"
    print(f"sim PUSH->PULL ({args.transport}, {SIZE} B, lifecycle, {flow}): "
          f"best {sim_best:,.0f} hops/s")
    print(f"bare simpy Store put/get: best {store_best:,.0f} items/s")
    print(f"per cpu-second: sim {sim_cpu:,.0f}, store {store_cpu:,.0f}, "
          f"ratio {sim_cpu / store_cpu:.4f}")
    print(f"python {sys.version.split()[0]}, simpy {simpy.__version__}, "
          f"load average {os.getloadavg()[0]:.2f}, cpus {os.cpu_count()}")
    print(f"figure={sim_best!r}")
    print(f"baseline={store_best!r}")
    print(f"ratio={sim_best / store_best:.4f}")


if __name__ == "__main__":
    main()
