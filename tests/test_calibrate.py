"""``zsim calibrate``: the fits recover known parameters from synthetic data exactly, and a quick
live calibration writes a profile that loads and holds plausible values.

Run the live test alone with ``python -m pytest tests/test_calibrate.py -m live`` (~20-30 s).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from zsim.analysis.calibrate import (
    MAX_COMMAND_DELAY_TICKS,
    WAKE_RATIO,
    command_interval,
    effective_trips,
    fit_app_costs,
    fit_gamma,
    fit_kernel_buffer,
    fit_line,
    fit_model,
    fit_shifted_exponential,
    fit_strands,
    ks_uniform,
    log_spread,
    lwm_accepted,
    plain,
    pooled_cv,
    solve_wakeups,
    throttle_period,
    unix_sndbuf,
)
from zsim.analysis.calibrate_bench import (
    Measurements,
    Plan,
    median_of,
    median_run,
    missed_runs,
    spread,
    wire_size,
)
from zsim.analysis.closed_forms import reqrep_rtt
from zsim.cli.calibrate import format_summary
from zsim.costs import CostModel, LinkCosts, SleepLateness
from zsim.profile import load_profile, save_profile

TSC_HZ = 2.1e9
INTERVAL = MAX_COMMAND_DELAY_TICKS / TSC_HZ  # 1.4286 ms


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-18)


# --- generic fits -----------------------------------------------------------------------------
def test_fit_line_recovers_an_exact_line() -> None:
    x = [12, 102, 1009, 10009, 100009]
    fit = fit_line(x, [0.15e-6 + 0.5e-9 * v for v in x])
    assert close(fit.intercept, 0.15e-6) and close(fit.slope, 0.5e-9)
    assert close(fit.r2, 1.0) and max(map(abs, fit.rel_residuals)) < 1e-9


def test_fit_line_never_returns_a_negative_slope() -> None:
    fit = fit_line([10, 100, 1000], [3e-6, 2e-6, 1e-6])
    assert fit.slope == 0.0 and 1e-6 < fit.intercept < 3e-6


def test_fit_app_costs_shares_the_byte_slope() -> None:
    sizes = [10, 100, 1000, 10000]
    sends = [(s, 20e-6 + 1.5e-9 * s) for s in sizes]
    recvs = [(s, 12e-6 + 1.5e-9 * s) for s in sizes]
    fit = fit_app_costs(sends, recvs)
    assert close(fit.send_s, 20e-6) and close(fit.recv_s, 12e-6) and close(fit.byte_s, 1.5e-9)
    assert close(fit.r2, 1.0)


# --- wake-ups from the round trip ---------------------------------------------------------------
# slow_joiner's publisher's send: app_send_s + app_record_s + 16 * app_byte_s of truth()
JOIN_SEND = 21e-6 + 3e-6 + 16 * 1.2e-9


def truth() -> CostModel:
    """A machine unlike the defaults in every fitted parameter."""
    return CostModel(
        app_send_s=21e-6, app_recv_s=13e-6, app_byte_s=1.2e-9, app_record_s=3e-6,
        command_post_s=2.5e-6, app_sleep_late_s=40e-6, app_sleep_late_cv=0.3,
        # at 10k msg/s the sleeps are short and end alike; at 500, as the scalar pair says
        app_sleep_late_by_length=(
            SleepLateness(sleep_s=1e-4 - 20e-6 - JOIN_SEND, late_s=20e-6, sd_s=1e-6),
            SleepLateness(sleep_s=2e-3 - 40e-6 - JOIN_SEND, late_s=40e-6, sd_s=12e-6)),
        app_start_late_s=140e-6, app_start_late_cv=0.35, app_mark_s=150e-6,
        io_wakeup_s=20e-6, io_wake_cpu_s=8e-6, cpu_cores=os.cpu_count() or 0,
        app_wakeup_s=WAKE_RATIO * 20e-6, engine_msg_s=0.15e-6, engine_byte_s=0.5e-9,
        command_interval_s=INTERVAL, io_strand_per_msg=1e-3, io_strand_s=2.5 * INTERVAL,
        app_drop_saving_s=2.2e-6, app_gil_wait_s=2e-3, app_gil_wait_sigma=2 / 1.349,
        tcp=LinkCosts(latency_s=5e-6, bandwidth_Bps=4e9, kernel_buffer_bytes=3_000_000,
                      connect_half_trips=30, bind_half_trips=31, handshake_jitter_s=300e-6),
        ipc=LinkCosts(latency_s=31e-6, bandwidth_Bps=4e9, kernel_buffer_bytes=unix_sndbuf(),
                      write_overhead_bytes=700,
                      connect_half_trips=12, bind_half_trips=13, handshake_jitter_s=100e-6),
    )


def test_solve_wakeups_recovers_wakeups_and_latencies() -> None:
    model = truth()
    rtt = {t: reqrep_rtt(model, t) for t in ("tcp", "ipc")}
    k = 2 + WAKE_RATIO
    fixed = {t: rtt[t] / 2 - k * model.io_wakeup_s - model.link(t).latency_s for t in rtt}
    fit = solve_wakeups(rtt, fixed, {"tcp": 5e-6, "ipc": 4e-6})
    assert fit.pinned_by == "tcp"  # its remainder is the smaller at default latency
    assert close(fit.io_s, 20e-6) and close(fit.app_s, WAKE_RATIO * 20e-6)
    assert close(fit.latency_s["tcp"], 5e-6) and close(fit.latency_s["ipc"], 31e-6)
    assert all(abs(r) < 1e-9 for r in fit.rtt_residuals.values())


def test_solve_wakeups_never_goes_negative() -> None:
    fit = solve_wakeups({"tcp": 10e-6}, {"tcp": 20e-6}, {"tcp": 5e-6})
    assert fit.io_s == 0.0 and fit.latency_s["tcp"] == 0.0


# --- buffers ------------------------------------------------------------------------------------
def test_fit_kernel_buffer_is_exact_when_every_size_agrees() -> None:
    wires = [wire_size(s) for s in (10, 100, 1000, 10000)]
    kernel = math.prod(wires)  # divisible by every wire size
    value, residuals = fit_kernel_buffer([(kernel // w, w) for w in wires])
    assert value == kernel and max(map(abs, residuals)) < 1e-12


def test_lwm_accepted_matches_libzmq_resumption_in_lwm_chunks() -> None:
    # measured on loopback: HWM 1000/1000, 10 kB messages, ~2.85 MB of kernel buffers: the
    # engine reads 1285 < 1500 messages, so the sender is told of only 1000 reads.
    assert lwm_accepted(2_850_000, 1000, 1000, wire_size(10000)) == 2000
    assert lwm_accepted(2_850_000, 10, 10, 102) == 10 + 5 * math.floor((10 + 2_850_000 / 102) / 5)
    assert lwm_accepted(1, 0, 1000, 12) == math.inf


# --- command throttle and join window -----------------------------------------------------------
def test_command_interval_and_throttle_period() -> None:
    assert close(command_interval(TSC_HZ), 3e6 / 2.1e9)
    assert close(throttle_period(INTERVAL, 10_000), 1.5e-3)  # 15th send after 1.43 ms
    assert close(throttle_period(INTERVAL, 2000), 1.5e-3)
    assert close(throttle_period(INTERVAL, 500), 2e-3)  # every send processes commands


def test_ks_uniform_of_a_perfect_grid() -> None:
    n = 50
    d, p = ks_uniform([(i + 0.5) / n for i in range(n)])
    assert close(d, 0.5 / n) and p > 0.99
    d, p = ks_uniform([0.0] * n)
    assert d == 1.0 and p < 1e-6


def standardized(n: int, ddof: int = 1) -> np.ndarray:
    """n points of mean 0 and standard deviation 1 (sample: ddof 1; population: ddof 0)."""
    z = np.linspace(-1, 1, n)
    return (z - z.mean()) / z.std(ddof=ddof)


def test_fit_shifted_exponential_recovers_shift_and_jitter() -> None:
    rng = np.random.default_rng(5)
    fit = fit_shifted_exponential(0.7e-3 + rng.exponential(0.3e-3, 4000))
    assert abs(fit.shift_s - 0.7e-3) < 0.02e-3 and abs(fit.jitter_s - 0.3e-3) < 0.02e-3
    assert fit.ks_p > 0.01
    # exact quartiles of shift 0.75 ms + Exp(0.25 ms), and one stray 16 ms handshake
    q1, q3 = 0.75e-3 + 0.25e-3 * math.log(4 / 3), 0.75e-3 + 0.25e-3 * math.log(4)
    exact = fit_shifted_exponential([q1] * 12 + [q3] * 11 + [16e-3])
    assert close(exact.jitter_s, 0.25e-3) and close(exact.shift_s, 0.75e-3)
    # a normal is not an exponential: the distance says so
    assert fit_shifted_exponential(1e-3 + 0.25e-3 * rng.standard_normal(4000)).ks_p < 1e-3
    assert fit_shifted_exponential([1e-3, 1e-3]) == fit_shifted_exponential([1e-3] * 3)


def test_fit_gamma_uses_the_body_of_the_samples() -> None:
    rng = np.random.default_rng(6)
    body = rng.gamma(2.0, 20e-6, 9900)  # mean 40 µs, cv 0.71
    mean, cv, trimmed = fit_gamma(np.concatenate([body, np.full(100, 5e-3)]))
    assert abs(mean - 40e-6) < 1.5e-6 and abs(cv - 0.707) < 0.05
    assert 0.01 <= trimmed <= 0.015  # the descheduled 1% (5 ms each) are left out
    exact = 40e-6 + 28e-6 * standardized(200, ddof=0)  # nothing beyond the fence: moments
    assert fit_gamma(exact) == pytest.approx((40e-6, 0.7, 0.0))


def test_effective_trips() -> None:
    # the connecting side's handshake in hops; the binding side the protocol's trips later
    assert effective_trips(6 * 40e-6, 40e-6, 6, 7) == (6, 7)
    assert effective_trips(1e-3, 40e-6, 6, 7) == (25, 26)
    assert effective_trips(1e-6, 40e-6, 4, 6) == (1, 3)  # the connect itself is a trip
    assert effective_trips(1e-3, 0.0, 4, 5) == (4, 5)


def test_missed_runs_and_the_strand_fit() -> None:
    assert missed_runs([True, False, False, True, False]) == [2, 1]
    assert missed_runs([True, True]) == [] and missed_runs([]) == []
    runs = [{"missed_runs": [1, 3], "received": 300.0, "io_wait_s": 0.004},
            {"missed_runs": [], "received": 100.0, "io_wait_s": 0.0}]
    per_msg, mean = fit_strands(runs, 1e-3)
    assert mean == pytest.approx(2e-3)  # the mean run: 2 intervals
    assert per_msg == pytest.approx(0.004 / 400 / 2e-3)  # the wait per message, in strands
    # no schedstat: the strands seen per message; none seen: one interval, the shortest
    nowait = [{**r, "io_wait_s": math.nan} for r in runs]
    assert fit_strands(nowait, 1e-3) == (pytest.approx(2 / 400), pytest.approx(2e-3))
    assert fit_strands([{"missed_runs": [], "received": 50.0, "io_wait_s": 1e-3}], 1e-3) == (
        pytest.approx(1e-3 / 50 / 1e-3), pytest.approx(1e-3))


def test_log_spread_is_the_log_iqr_over_a_normals() -> None:
    assert log_spread(np.exp([-2, -1, -1, 0, 0, 1, 1, 2])) == pytest.approx(2 / 1.349)
    assert log_spread([1.0, 2.0, 0.0]) == 0.0  # too few positive values


def test_pooled_cv_takes_each_run_against_its_own_workload() -> None:
    # every run 20% off its own workload's mean: the workloads' tenfold difference is no spread
    cv, dof = pooled_cv([[1.0, 1.2, 0.8], [10.0, 12.0, 8.0], [5.0], [3.0, math.nan]])
    assert (cv, dof) == (pytest.approx(math.sqrt(4 * 0.04 / 4)), 4)
    assert math.isnan(pooled_cv([[1.0], []])[0])


# --- the whole fit on synthetic measurements ----------------------------------------------------
def synthetic(model: CostModel) -> Measurements:
    """What a noise-free machine obeying ``model`` would measure (same layout as the bench)."""
    plan = Plan.make(quick=False)
    m = Measurements(plan, tsc={"hz": TSC_HZ, "source": "synthetic"},
                     probes=list(np.linspace(0, INTERVAL, 40)))
    for t in plan.app_transports:
        for s in plan.app_sizes:
            send = model.app_send_s + model.app_byte_s * s
            recv = model.app_recv_s + model.app_byte_s * s
            send_rec, recv_rec = send + model.app_record_s, recv + model.app_record_s
            # the wall clock holds a share lost to other threads (x 1.3); the fit takes the CPU
            m.app.append({"transport": t, "size": s, "count": 1000,
                          "send_bare_s": 1.3 * send, "recv_bare_s": 1.3 * recv,
                          "send": {"mean_s": 1.3 * send_rec, "p50_s": send_rec,
                                   "p90_s": send_rec},
                          "recv": {"mean_s": 1.3 * recv_rec, "p50_s": recv_rec,
                                   "p90_s": recv_rec},
                          "send_cpu_s": send, "recv_cpu_s": recv,
                          "send_recorded_cpu_s": send_rec, "recv_recorded_cpu_s": recv_rec})
    wake_io = 2 * (model.io_wake_cpu_s + model.engine_msg_s
                   + model.engine_byte_s * wire_size(100))
    m.posts = [{"idle_send_s": 1e-6, "woken_send_s": 1e-6 + model.command_post_s,
                "idle_io_cpu_s": 0.0, "woken_io_cpu_s": wake_io}]
    # strands of 2 and 3 intervals (mean 2.5 intervals), and an I/O thread's wait per message
    # written of io_strand_per_msg strands of that length (one run has none, one no credit)
    mean = 2.5 * INTERVAL
    written = model.app_send_s + model.app_record_s + model.app_byte_s * 10  # recorded, 10 B
    m.strands = [{"transport": "tcp", "seed": k, "intervals": 20, "missed_runs": runs,
                  "burst_s": 0.02, "cpu_s": 0.02, "received": 400.0,
                  "io_wait_s": 400 * model.io_strand_per_msg * mean * share,
                  "written_gap_s": written + 1e-6,  # posts included: not what is fitted
                  # a burst lasts its mean send; its median is below it (the fit takes the
                  # mean: a median would make the saving 0.5 µs too large)
                  "dropped_mean_gap_s": written - model.app_drop_saving_s + (k - 2) * 1e-7,
                  "dropped_gap_s": written - model.app_drop_saving_s - 5e-7 + (k - 2) * 1e-7}
                 for k, (runs, share) in enumerate([([2], 1.5), ([3, 2], 0.5), ([], 1.0),
                                                     ([3], 1.2), ([], 0.8)])]
    # inproc bursts whose lock waits are the model's median times e^-2 .. e^2: quartiles e^±1
    service = 0.5e-3
    for z in (-2, -1, -1, 0, 0, 1, 1, 2):
        wait = model.app_gil_wait_s * math.exp(z)
        m.gil.append({"burst_s": 0.5, "service_s": service, "parallel_would_take": 1000.0,
                      "taken_during_burst": 1000.0 * service / (wait + service)})
    for t in plan.transports:
        link = model.link(t)
        rtt = reqrep_rtt(model.recording(True), t)  # the RTT runs record messages
        m.rtt.append({"transport": t, "requests": 100, "mean_s": rtt, "p10_s": rtt,
                      "p50_s": rtt, "p90_s": rtt, "p99_s": rtt})
        for s in plan.cap_sizes:
            w = wire_size(s)
            m.capacity.append({"transport": t, "size": s, "sndhwm": 10, "rcvhwm": 10,
                               "accepted": 20 + link.kernel_buffer_bytes / w, "wire": w})
        for s in plan.engine_sizes:
            w = wire_size(s)
            m.engine.append({"transport": t, "size": s, "count": 1000, "wire": w,
                             "per_msg_s": model.engine_msg_s + model.engine_byte_s * w,
                             "bare_send_s": 1e-6})
        if t == "ipc":  # one message per write: each takes wire + overhead of the sndbuf
            for s in plan.spaced_sizes:
                w = wire_size(s)
                m.spaced.append({"transport": t, "size": s, "sndhwm": 10, "rcvhwm": 10,
                                 "accepted": 20 + link.kernel_buffer_bytes / (
                                     w + link.write_overhead_bytes),
                                 "wire": w, "limit": 20_000})
        m.join += join_samples(model, t)
    return m


# p10 and p90 of 11 samples are the 2nd and the 10th: these are ±1.2815, a normal's
RUN_SHAPE = 1.2815 * np.array([-1.5, -1, -0.8, -0.6, -0.3, 0, 0.3, 0.6, 0.8, 1, 1.5])


def join_samples(model: CostModel, transport: str, n: int = 24) -> list[dict]:
    """slow_joiner runs, n at 10k msg/s and n at 500, whose handshakes have exactly the
    quartiles of the model's shift + exponential, whose nodes start late with exactly the
    model's mean and spread, whose marks lead by app_mark_s plus a send, and whose paced sends
    are late by the model's mean with its spread in each run: app_sleep_late_s/_cv at 500 msg/s
    (the 10k runs must not enter those), the first app_sleep_late_by_length point at 10k."""
    link = model.link(transport)
    # the handshakes' quartiles are exactly the model's shift + exponential
    quartiles = [math.log(4 / 3)] * n + [math.log(4)] * n
    # population moments: the transports' copies pool into the same mean and spread
    start = model.app_start_late_s * (1 + model.app_start_late_cv * standardized(4 * n, 0))
    late = model.app_sleep_late_s * (1 + model.app_sleep_late_cv * RUN_SHAPE)
    short = model.app_sleep_late_by_length[0]  # the 10k msg/s sleeps
    late_10k = short.late_s + short.sd_s * RUN_SHAPE
    shake = link.connect_half_trips * (link.latency_s + model.io_wakeup_s)
    send = model.app_send_s + model.app_record_s + model.app_byte_s * 16
    out = []
    for k in range(2 * n):
        rate = 500.0 if k % 2 else 10_000.0
        out.append({"transport": transport, "rate": rate, "seed": k, "window_s": 2e-3,
                    "lost": 2e-3 * rate, "lost_over_rate_s": 2e-3,
                    "handshake_s": shake + link.handshake_jitter_s * quartiles[k],
                    "start_late_s": start[2 * k:2 * k + 2].tolist(),
                    "mark_lead_s": model.app_mark_s + send,
                    "sleep_late_s": (late if rate <= 2000 else late_10k).tolist()})
    return out


def test_fit_model_recovers_every_fitted_parameter() -> None:
    model = truth()
    fitted, fit = fit_model(synthetic(model))
    for name in ("app_send_s", "app_recv_s", "app_byte_s", "app_record_s", "command_post_s",
                 "app_sleep_late_s", "app_sleep_late_cv", "app_mark_s",
                 "app_start_late_s", "app_start_late_cv", "io_wake_cpu_s", "cpu_cores",
                 "app_gil_wait_s", "app_gil_wait_sigma",
                 "io_strand_per_msg", "io_strand_s", "app_drop_saving_s",
                 "engine_msg_s",
                 "engine_byte_s",
                 "io_wakeup_s", "app_wakeup_s", "command_interval_s"):
        assert close(getattr(fitted, name), getattr(model, name), 1e-6), name
    # a noise-free line measured at the plan's sizes: the per-size table is that line
    assert [p.size_bytes for p in fitted.app_call_by_size] == list(Plan.make(False).app_sizes)
    for p in fitted.app_call_by_size:
        assert close(p.send_s, model.app_send_s + model.app_byte_s * p.size_bytes, 1e-6)
        assert close(p.recv_s, model.app_recv_s + model.app_byte_s * p.size_bytes, 1e-6)
    assert len(fitted.app_sleep_late_by_length) == 2
    for got, want in zip(fitted.app_sleep_late_by_length, model.app_sleep_late_by_length,
                         strict=True):
        for name in ("sleep_s", "late_s", "sd_s"):
            assert close(getattr(got, name), getattr(want, name), 1e-6), name
    for t in ("tcp", "ipc"):
        got, want = fitted.link(t), model.link(t)
        assert close(got.latency_s, want.latency_s, 1e-6), t
        assert abs(got.kernel_buffer_bytes - want.kernel_buffer_bytes) <= 1, t
        assert got.write_overhead_bytes == want.write_overhead_bytes, t
        assert got.write_charge == "overhead", t  # the synthetic fills hold a fixed overhead
        assert (got.connect_half_trips, got.bind_half_trips) == (
            want.connect_half_trips, want.bind_half_trips), t
        assert close(got.handshake_jitter_s, want.handshake_jitter_s, 1e-6), t
        assert fit["distributions"]["join_window"][t]["n"] == 48  # 24 at 10k, 24 at 500 msg/s
    assert fitted.command_phase == "first_send"
    # the synthetic bursts' dropped sends differ from run to run (app_costs has no repetitions)
    gaps = [r["dropped_gap_s"] for r in synthetic(model).strands]
    assert fitted.host_speed_cv == pytest.approx(np.std(gaps, ddof=1) / np.mean(gaps))
    assert set(fit["parameters"]) >= {"app_send_s", "tcp.kernel_buffer_bytes",
                                      "ipc.bind_half_trips", "command_interval_s"}
    for p in fit["parameters"].values():
        assert {"value", "default", "method", "quality", "data"} <= set(p)


def test_a_fitted_profile_round_trips_through_save_and_load(tmp_path: Path) -> None:
    model = truth()
    fitted, fit = fit_model(synthetic(model))
    fit = plain({**fit, "validation": {}, "wall_s": 1.0, "odd": (np.float64(np.inf), np.int64(3))})
    assert fit["odd"] == [None, 3]
    path = save_profile(tmp_path / "p.json", "synthetic", fitted, {"fit": fit})
    json.loads(path.read_text(), parse_constant=pytest.fail)  # strict JSON: no Infinity/NaN
    loaded = load_profile(str(path))
    assert loaded.model == fitted and loaded.meta["fit"]["parameters"]["app_send_s"]
    summary = format_summary(fitted, fit)
    assert all(name in summary for name in fit["parameters"])
    # bursts in which no strand was long enough to cost a credit: one interval, and a ratio
    # that is NaN (null once saved) does not break the summary
    quiet = synthetic(model)
    quiet.strands = [{**r, "missed_runs": []} for r in quiet.strands]
    fitted, fit = fit_model(quiet)
    assert fitted.io_strand_s == pytest.approx(INTERVAL)
    fit = plain(fit)
    assert fit["parameters"]["io_strand_s"]["quality"]["modelled_over_seen"] is None
    assert "strands seen 0 in 5 runs" in format_summary(fitted, fit)
    # no app_costs repetitions: their spread is unknown (null once saved), the bursts' is not
    cv = fitted.host_speed_cv
    assert f"app_costs -, bursts {cv:.2f}, 4 dof" in format_summary(fitted, fit)


# --- live ---------------------------------------------------------------------------------------
def _children() -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == os.getpid() and stat[0] != "Z":
                out.append(int(entry))
    return out


@pytest.mark.live
def test_quick_calibration_writes_a_plausible_profile(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds, wide enough for a loaded CI host and narrow enough to catch unit errors:
    - send/recv per call 0.5 µs-2 ms: at least a bare pyzmq call, at most a descheduled slice;
    - per byte < 50 ns (memcpy and the live driver's padding run at GB/s, not MB/s);
    - wake-ups in (0, 5 ms]: a REQ/REP round trip is µs to ms; latencies ≤ 5 ms;
    - engine per message 1 ns-100 µs, per byte < 100 ns (I/O threads move > 10 MB/s);
    - command interval 0.1-10 ms: 3e6 TSC ticks at 0.3-30 GHz;
    - kernel buffers 1 kB-256 MB (Linux socket buffer limits), trips ≥ 1."""
    from zsim.cli.calibrate import run_calibrate_command

    private = tmp_path / "tmp"  # the run's temporary files go here, and must be gone after
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    path = run_calibrate_command(tmp_path / "quick.json", quick=True, name="quick-test")
    assert _children() == [] and list(private.iterdir()) == []
    profile = load_profile(str(path))
    m, meta = profile.model, profile.meta
    assert profile.name == "quick-test" and meta["fit"]["quick"] is True
    assert meta["host"]["cpus"] and meta["versions"]["libzmq"] and meta["created"]
    steal = meta["fit"]["host_steal"]  # the host's steal share over the run (zsim.steal)
    assert steal is None or 0 <= steal < 1
    assert 0.5e-6 <= m.app_send_s <= 2e-3 and 0.5e-6 <= m.app_recv_s <= 2e-3
    assert 0 <= m.app_byte_s < 50e-9
    assert 0 < m.io_wakeup_s <= 5e-3 and 0 < m.app_wakeup_s <= 5e-3
    assert 1e-9 <= m.engine_msg_s <= 100e-6 and 0 <= m.engine_byte_s < 100e-9
    assert 0.1e-3 <= m.command_interval_s <= 10e-3
    for t in ("tcp", "ipc"):
        link = m.link(t)
        assert 0 <= link.latency_s <= 5e-3
        assert 1_000 <= link.kernel_buffer_bytes <= 256_000_000
        assert link.bind_half_trips >= 1 and 0 <= link.connect_half_trips < link.bind_half_trips
        # the link latency is fitted so that the closed form gives the live round trip, so
        # only the simulation's round trip under the fitted model is evidence here
        rtt = meta["fit"]["validation"]["rtt"][t]
        assert math.isclose(rtt["sim_s"], rtt["live_s"], rel_tol=0.05)


def test_median_of_takes_each_figure_over_the_runs() -> None:
    runs = [{"transport": "tcp", "size": 10, "send_bare_s": x, "send": {"mean_s": 2 * x}}
            for x in (3e-6, 1e-6, 9e-6)]
    got = median_of(runs)
    assert got == {"transport": "tcp", "size": 10, "send_bare_s": 3e-6,
                   "send": {"mean_s": 6e-6}}


def test_median_run_keeps_one_measured_run_whole() -> None:
    # three spaced fills, one disturbed (writes coalesced): the middle one is kept as measured
    fills = [{"size": 100, "accepted": a, "wire": 102} for a in (300, 425, 305)]
    assert median_run(fills, "accepted") == {"size": 100, "accepted": 305, "wire": 102}
    assert median_run(fills[:1], "accepted") is fills[0]


def test_spread_cuts_items_into_even_runs() -> None:
    assert spread("abc", 6) == [[], ["a"], [], ["b"], [], ["c"]]
    assert spread(list(range(7)), 3) == [[0, 1], [2, 3], [4, 5, 6]]
    assert spread([], 2) == [[], []]


def test_host_samples_are_spread_across_the_calibration(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """The bursts, lock probes and round trips, which the host's speed, its interpreter lock
    and wake-ups are fitted to, go between the other measurements from the start to the end,
    not in one stretch; every measurement still runs once and reports one step."""
    import zsim.analysis.calibrate_bench as bench

    order: list[str] = []

    def fake(name: str, value: object) -> object:
        def run(*args: object, **_kw: object) -> object:
            order.append(f"{name} {args[0]}" if name in ("rtt", "capacity", "engine") else name)
            return value() if callable(value) else value
        return run

    monkeypatch.setattr(bench, "tsc_hz", fake("tsc", {"hz": TSC_HZ}))
    monkeypatch.setattr(bench, "command_probe", fake("probe", []))
    monkeypatch.setattr(bench, "post_probe", fake("post", {}))
    monkeypatch.setattr(bench, "app_costs", fake("app", lambda: {"x": 1.0}))
    monkeypatch.setattr(bench, "gil_probe", fake("gil", []))
    monkeypatch.setattr(bench, "join", fake("join", None))
    monkeypatch.setattr(bench, "capacity", fake("capacity", {}))
    monkeypatch.setattr(bench, "spaced_capacity", fake("spaced", lambda: {"accepted": 1}))
    monkeypatch.setattr(bench, "engine", fake("engine", lambda: {"per_msg_s": 1.0}))
    monkeypatch.setattr(bench, "strands", fake("burst", {}))
    monkeypatch.setattr(bench, "rtt", fake("rtt", lambda: {"transport": "?"}))
    monkeypatch.setattr(bench, "one_way", fake("one_way", {}))
    plan = Plan()
    steps: list[str] = []
    m = bench.run_benchmarks(plan, steps.append)
    assert len(steps) == plan.steps() and steps[-1] == "done"
    assert len(m.strands) == plan.strand_runs and len(m.rtt) == 2 * plan.rtt_runs
    assert order.count("gil") == plan.gil_runs
    for kind in ("burst", "gil", "rtt tcp", "rtt ipc"):
        at = [k for k, name in enumerate(order) if name == kind]
        # from the first fifth of the calibration to its last tenth, never two in a row
        assert at[0] < len(order) / 5 and at[-1] > len(order) * 0.9, kind
        assert all(b - a > 1 for a, b in itertools.pairwise(at)), kind
    others = [name for name in order if name.split()[0] not in ("burst", "gil", "rtt")]
    assert others[:4] == ["tsc", "probe", "post", "post"] and others[-1] == "engine ipc"


def test_the_per_size_table_keeps_what_the_line_misses() -> None:
    # live, a send costs a step more from 10 B to 1 kB than a line through 10 B-10 kB gives
    m = synthetic(truth())
    for row in m.app:
        if row["size"] == 1000:
            row["send_cpu_s"] += 2e-6
    fitted, fit = fit_model(m)
    line = truth().app_send_s + truth().app_byte_s * 1000
    assert close(fitted.call_cost(1000)[0], line + 2e-6, 1e-6)
    assert close(fitted.call_cost(10)[0], truth().call_cost(10)[0], 1e-6)
    # the line's own fit does not see it as a step: its error at 1 kB is recorded
    errors = fit["parameters"]["app_call_by_size"]["quality"]["line_rel_error_send_recv"]
    assert errors[1000][0] < -0.05
    # the probes' written sends (10 B, 16 B) are unchanged, and so is what they fit
    assert close(fitted.app_drop_saving_s, truth().app_drop_saving_s, 1e-6)
