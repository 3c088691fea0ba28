"""The interpreter lock's parameters fitted by simulating the lock probe (``refine_gil``)."""

from __future__ import annotations

from zsim.analysis import calibrate as cal
from zsim.analysis.calibrate_bench import Measurements, Plan, burst_share
from zsim.catalog import scenario_path
from zsim.costs import CostModel
from zsim.scenario import load_scenario
from zsim.seeds import Stratum
from zsim.sim import simulate

# the calibration's probe, shortened: 1000 sends instead of 3000
PROBE = {"transport": "inproc", "hwm": 20, "count": 1000, "size": 10, "service": 0.0005}
RUNS = 8


def _probe_runs(truth: CostModel) -> Measurements:
    """Probe runs of a host whose lock is ``truth``'s: the model's own runs, on seeds the fit
    does not use (it simulates seeds 0..RUNS-1)."""
    sc = load_scenario(scenario_path("slow_subscriber"), PROBE).model_copy(
        update={"model": truth})
    m = Measurements(Plan())
    m.gil = [{**burst_share(simulate(sc, seed=1000 + k, stratum=Stratum(1, k, RUNS)).events,
                            PROBE["service"]), "overrides": PROBE} for k in range(RUNS)]
    return m


def test_the_lock_is_fitted_until_its_simulated_probe_matches() -> None:
    truth = CostModel(app_send_s=14e-6, app_gil_wait_s=0.4e-3, app_gil_wait_sigma=0.5,
                      app_gil_signal_s=4e-6)
    m = _probe_runs(truth)
    params: dict = {}
    wait, sigma = cal._fit_gil(m, truth, params)
    start = truth.model_copy(update={"app_gil_wait_s": wait, "app_gil_wait_sigma": sigma,
                                     "app_gil_signal_s": 0.0})
    fitted = cal.refine_gil(start, m, params)
    q = params["app_gil_signal_s"]["quality"]
    # without the signal the simulated bursts are 10% short; after the fit both figures are
    # the live ones (the share to the bisection's last step)
    assert q["closed_form_sim_burst_s"] < 0.92 * q["live_mean_burst_s"]
    assert abs(q["sim_mean_share"] / q["live_mean_share"] - 1) < 0.02
    assert abs(q["sim_mean_burst_s"] / q["live_mean_burst_s"] - 1) < 0.01
    # and the host's lock is found again, to what eight runs on other seeds allow
    assert abs(fitted.app_gil_signal_s / truth.app_gil_signal_s - 1) < 0.10
    assert abs(fitted.app_gil_wait_s / truth.app_gil_wait_s - 1) < 0.20
    assert params["app_gil_wait_s"]["value"] == fitted.app_gil_wait_s
    assert params["app_gil_wait_s"]["closed_form"] == wait


def test_without_a_probe_the_lock_keeps_its_defaults() -> None:
    params: dict = {}
    model = CostModel(app_gil_wait_s=1e-3)
    assert cal.refine_gil(model, Measurements(Plan()), params) == model
    assert params["app_gil_signal_s"]["value"] == 0.0
