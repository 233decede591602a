"""The report in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`
packages; `.ci/run` installs them) opens every page from disk with every host name unresolvable,
so a page that reached for the network would log an error. Each page must load without a console
error, every chart must render marks, no page may overflow a phone's width, and a full-page
screenshot of each is saved into the test's temporary folder (its path is printed).

Selenium is pointed at the Debian driver explicitly and runs offline (SE_OFFLINE), so Selenium
Manager never downloads a browser or a driver. Without Chromium the test is skipped on a
developer's machine and fails in CI (env CI set), saying what to install.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from olx_spark.config import Config
from olx_spark.report import build_report
from olx_spark.transform import dbt_schema
from tests.report_fixtures import full_marts, write_marts

pytestmark = pytest.mark.spark

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDE, NARROW = 1280, 400
# Charts expected on each page of the fixture report.
EXPECTED_CHARTS = {
    "index.html": 2,
    "courses/course-v1_MITx_T.01_2024_T1.html": 13,
    "courses/MITx_Quiet_2024.html": 0,
}

# Per chart: whether Plotly drew it (its SVG) and how many marks (points, bars, slices, lines,
# heat map) it drew.
CHART_STATE = """
return Array.from(document.querySelectorAll('.plotly-graph-div')).map(function (gd) {
  return {
    id: gd.id,
    svg: gd.querySelectorAll('svg.main-svg').length,
    traces: gd._fullData ? gd._fullData.length : 0,
    marks: gd.querySelectorAll('.point, .slice, .hm, path.js-line, .js-fill').length
  };
});
"""


# Redraw every chart at the new width, and say when all are done.
RESIZE = """
var done = arguments[arguments.length - 1];
var charts = Array.from(document.querySelectorAll('.plotly-graph-div'));
Promise.all(charts.map(function (gd) { return Plotly.Plots.resize(gd); }))
  .then(function () { setTimeout(done, 200); }, function () { done(); });
"""


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    driver = shutil.which("chromedriver") or (
        CHROMEDRIVER if Path(CHROMEDRIVER).is_file() else None
    )
    if chromium and driver:
        return chromium, driver
    message = (
        "headless Chromium is needed for the report's browser test: install Debian's packages "
        "with `apt-get install chromium chromium-driver` (.ci/run does this when they are missing)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium, driver_path = _browser_paths()
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WIDE},900",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: a CDN request would fail loudly
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def _wait_for_charts(driver: Any, expected: int) -> list[dict[str, Any]]:
    from selenium.webdriver.support.ui import WebDriverWait

    def drawn(d: Any) -> list[dict[str, Any]] | bool:
        state = d.execute_script(CHART_STATE)
        done = len(state) == expected and all(c["svg"] and c["marks"] for c in state)
        return (
            state
            if done and d.execute_script("return document.readyState") == "complete"
            else False
        )

    try:
        return WebDriverWait(driver, 30, poll_frequency=0.25).until(drawn)
    except Exception:
        return driver.execute_script(CHART_STATE)


def _screenshot(driver: Any, path: Path, width: int) -> int:
    """A full-page PNG at `width` CSS pixels; returns the page's scroll width."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.execute_async_script(RESIZE)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    scroll_width = int(driver.execute_script("return document.documentElement.scrollWidth"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return scroll_width


def test_every_page_renders_in_chromium(
    browser: Any, spark: Any, config: Config, tmp_path: Path
) -> None:
    write_marts(spark, dbt_schema(config, "marts"), full_marts())
    out = tmp_path / "report"
    build_report(spark, config, out)
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert pages == sorted(EXPECTED_CHARTS)
    shots = tmp_path / "screenshots"
    shots.mkdir()

    for page in pages:
        browser.get((out / page).as_uri())
        charts = _wait_for_charts(browser, EXPECTED_CHARTS[page])
        assert len(charts) == EXPECTED_CHARTS[page], (page, charts)
        for chart in charts:
            assert chart["svg"] and chart["traces"] and chart["marks"], (page, chart)
        name = page.replace("/", "_").removesuffix(".html")
        assert _screenshot(browser, shots / f"{name}.png", WIDE) <= WIDE, page
        narrow = _screenshot(browser, shots / f"{name}-narrow.png", NARROW)
        assert narrow <= NARROW, f"{page} overflows a {NARROW}px screen ({narrow}px wide)"
        assert (shots / f"{name}.png").stat().st_size > 10_000
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, (page, errors)
        # The links of the page lead to files of the report.
        for href in browser.execute_script(
            "return Array.from(document.querySelectorAll('a[href]'))"
            ".map(function (a) { return a.getAttribute('href'); });"
        ):
            if not href.startswith("#"):
                assert ((out / page).parent / href).resolve().is_file(), (page, href)
    print(f"\nreport screenshots: {shots}")


def test_without_chromium_ci_fails_and_a_developer_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.report.test_report_browser as me

    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setattr(me, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(me, "CHROMEDRIVER", "/nonexistent/chromedriver")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium chromium-driver"):
        _browser_paths()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium chromium-driver"):
        _browser_paths()
