"""Every kind of report.html (run, comparison, sweep, check-model) rendered in headless
Chromium: the page loads under its own Content-Security-Policy without a console message,
holds its tables and images, and every image decodes to a non-empty picture.

Without Chromium these tests skip, unless the environment variable CI is set (.ci/run sets it
and installs Chromium): then they fail, so that CI never passes by skipping them."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from zsim.analysis import report
from zsim.analysis.compare import compare
from zsim.analysis.html_rebuild import rebuild
from zsim.catalog import scenario_path
from zsim.cli.app import main
from zsim.records import RunResult, combine_reps
from zsim.scenario import load_scenario
from zsim.scenario.model import Scenario
from zsim.seeds import Stratum
from zsim.sim import simulate

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000"]
IMG = re.compile(r"<img\b")
TABLE = re.compile(r"<table\b")

# A probe for the copy the browser loads: after the load event it writes, into the DOM, each
# image's decoded size and every error the page raised. The report's own CSP forbids scripts,
# so the probe's copy drops that meta tag; the untouched page is loaded under it too.
PROBE = """<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message || e.type)), true);
window.addEventListener("load", () => {
  const out = {images: [...document.images].map(i => [i.complete, i.naturalWidth,
                                                       i.naturalHeight]),
               tables: document.querySelectorAll("table").length, errors: window.__errors};
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""
PROBE_OUT = re.compile(r'<pre id="probe">(.*?)</pre>', re.S)


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("headless Chromium is missing, and CI is set: the report check must run "
                        "(.ci/run installs it: apt-get install -y chromium)")
        pytest.skip("headless Chromium not installed (Debian: apt-get install chromium)")
    return CHROMIUM


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def sim_runner(sc: Scenario, seed: int, stratum: Stratum) -> RunResult:
    return simulate(sc, seed=seed, stratum=stratum)


def _cli(*args: str) -> None:
    main(list(args))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """kind → a result directory with its report.html."""
    root = tmp_path_factory.mktemp("html")
    pipeline = load_scenario(scenario_path("pipeline"))
    out: dict[str, Path] = {}
    simulate(pipeline, seed=1).save(root / "run")
    combine_reps([simulate(pipeline, seed=s) for s in (1, 2)]).save(root / "run-reps")
    for name in ("run", "run-reps"):
        rebuild(root / name)
        out[name] = root / name
    out["comparison"] = report.write_report(compare(pipeline, 2, 0, sim_runner, None),
                                            root / "comparison")
    shutil.copytree(out["comparison"], root / "comparison-rebuilt")
    rebuild(root / "comparison-rebuilt")
    out["comparison-rebuilt"] = root / "comparison-rebuilt"
    path = str(scenario_path("pipeline"))
    _cli("sweep", path, "--grid", "workers=1,2,4", "--reps", "3", "--jobs", "1",
         "--deadline", "makespan_s<=2.5", "--out", str(root / "sweep-1d"))
    _cli("sweep", path, "--grid", "workers=1,2", "--grid", "transport=tcp,ipc", "--reps", "2",
         "--jobs", "1", "--deadline", "sink.makespan_s>=2", "--out", str(root / "sweep-2d"))
    _cli("check-model", "--quick", "--no-live", "--only", "reqrep", "--no-track-host",
         "--out", str(root / "check-model"))
    for name in ("sweep-1d", "sweep-2d", "check-model"):
        out[name] = root / name
    return out


# what each page must show (the DOM text), besides its images and tables
EXPECTED = {
    "run": ["Metrics", "makespan_s", "Parameters", "Run timeline"],
    "run-reps": ["Metrics", "sd", "Parameters", "Run timeline"],
    "comparison": ["How to read this report", "Closed-form assumptions",
                   "Run timeline, sim and live side by side"],
    "comparison-rebuilt": ["How to read this report", "Closed-form assumptions",
                           "Run timeline, sim and live side by side"],
    "sweep-1d": ["Summary", "p95", "P(makespan_s&lt;=2.5)", "Wilson"],
    "sweep-2d": ["Summary", "transport", "P(sink.makespan_s&gt;=2)"],
    "check-model": ["Results", "rtt_mean_s"],
}


def test_every_report_is_self_contained(reports: dict[str, Path]) -> None:
    for kind, out in reports.items():
        page = (out / "report.html").read_text()
        assert not re.search(r"""(src|href)=["']?(https?:|//)|url\(""", page), kind
        assert "Content-Security-Policy" in page, kind


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_report_renders_in_headless_chromium(
    kind: str, reports: dict[str, Path], chromium: str, tmp_path: Path
) -> None:
    out = reports[kind]
    page = (out / "report.html").read_text()
    # the untouched page, under its own CSP: it loads, and the console stays silent
    dom = run_chromium(chromium, tmp_path / "p1", "--dump-dom", (out / "report.html").as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert len(IMG.findall(dom.stdout)) == len(IMG.findall(page))
    assert TABLE.findall(dom.stdout) or "<pre" in dom.stdout, kind
    for text in EXPECTED[kind]:
        assert text in dom.stdout, (kind, text)
    # the probed copy: every image decoded, nothing raised
    probed = tmp_path / "probe.html"
    probed.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
                      .replace("</head>", PROBE + "</head>", 1))
    done = run_chromium(chromium, tmp_path / "p2", "--dump-dom", probed.as_uri())
    found = PROBE_OUT.search(done.stdout)
    assert found, done.stderr[-2000:]
    probe = json.loads(html.unescape(found.group(1)))
    assert probe["errors"] == []
    assert len(probe["images"]) == len(IMG.findall(page))
    assert all(ok and w > 0 and h > 0 for ok, w, h in probe["images"]), probe["images"]
    assert probe["tables"] == len(TABLE.findall(page))
    if kind.startswith("sweep"):
        assert probe["images"] and probe["tables"] >= 2  # plots, the facts and the summary


@pytest.mark.parametrize("kind", ["comparison", "sweep-1d"])
def test_report_screenshot_is_not_blank(
    kind: str, reports: dict[str, Path], chromium: str, tmp_path: Path
) -> None:
    shot = tmp_path / "shot.png"
    done = run_chromium(chromium, tmp_path / "p", f"--screenshot={shot}",
                        "--window-size=1200,2000", (reports[kind] / "report.html").as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 200  # text, tables and plots, not a blank page


def test_the_check_fails_on_a_broken_report(chromium: str, tmp_path: Path) -> None:
    """The probe sees what a broken page does: an image that does not decode, and a fetch
    its CSP refuses (a console message), so the checks above can fail."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    "content=\"default-src 'none'; img-src data:\"></head><body>"
                    '<img src="data:image/png;base64,bm90IGEgcG5n" alt="x">'
                    '<img src="https://example.invalid/a.png" alt="y"></body></html>')
    dom = run_chromium(chromium, tmp_path / "p1", "--dump-dom", page.as_uri())
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    probed = tmp_path / "probe.html"
    probed.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "",
                             page.read_text()).replace("</head>", PROBE + "</head>", 1))
    done = run_chromium(chromium, tmp_path / "p2", "--dump-dom", probed.as_uri())
    found = PROBE_OUT.search(done.stdout)
    assert found, done.stderr[-2000:]
    images = json.loads(html.unescape(found.group(1)))["images"]
    assert not all(ok and w > 0 and h > 0 for ok, w, h in images), images
