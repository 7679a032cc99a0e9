"""The console in a real headless browser: Debian's Chromium driven by Playwright.

Each page is loaded, the bill's charts must render with the totals of a delivered FOCUS
export (read back with pyarrow), an export is followed to its files and one is downloaded.
Set BCM_LOCAL_SCREENSHOTS=1 to refresh the screenshots in docs/ (`make screenshots`).
Skipped, with the reason, when Playwright or Chromium is missing (`.ci/run` installs both).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from conftest import make_client
from console_support import (
    BROKEN,
    BUCKET,
    FOCUS,
    OTHER,
    REPORT,
    SECRET,
    TAG,
    assert_close,
    focus_totals,
    populate,
    rerun,
    same_hour,
)

from bcm_local.testing import ServerProcess

CHROMIUM = os.environ.get("BCM_LOCAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS = Path(__file__).resolve().parents[1] / "docs"

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def console() -> Iterator[str]:
    with ServerProcess() as proc:
        populate(proc.endpoint)
        yield proc.endpoint


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as err:  # a broken Chromium install
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {err}")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, console: str, tmp_path: Path) -> Iterator[Any]:
    """A page that fails the test on a script error or a request to another host."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda err: problems.append(f"script error: {err}"))
    host = urlparse(console).netloc

    def check(request: Any) -> None:
        if urlparse(request.url).netloc != host:
            problems.append(f"request outside the emulator: {request.url}")

    tab.on("request", check)
    yield tab
    context.close()
    assert not problems


def shoot(page: Any, name: str, tmp_path: Path) -> None:
    target = DOCS if os.environ.get("BCM_LOCAL_SCREENSHOTS") else tmp_path
    path = target / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def open_bill(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready]")
    assert page.get_attribute("body", "data-ready") == "true"


def chart_totals(page: Any, chart: str) -> dict[str, float]:
    legend = page.locator(f"#{chart} .legend li")
    return {
        legend.nth(n).get_attribute("data-series"): float(legend.nth(n).get_attribute("data-total"))
        for n in range(legend.count())
    }


def segment_sum(page: Any, chart: str) -> float:
    values = page.eval_on_selector_all(
        f"#{chart} rect.segment", "rects => rects.map(r => Number(r.dataset.value))"
    )
    return float(sum(values))


def test_exports_page_follows_an_export_to_its_files(
    page: Any, console: str, tmp_path: Path
) -> None:
    page.goto(console + "/_bcm_local/")
    rows = page.locator("#exports tbody tr")
    assert rows.count() == 3
    assert SECRET not in page.content()
    broken = page.locator("#exports tr", has_text=BROKEN)
    assert broken.locator("[data-status]").inner_text() == "UNHEALTHY"
    assert broken.locator("[data-reason]").inner_text() == "INSUFFICIENT_PERMISSION"
    shoot(page, "exports", tmp_path)

    page.click(f"a.export:text-is('{FOCUS}')")
    page.wait_for_url(f"**/_bcm_local/exports/{FOCUS}")
    assert page.inner_text("#sql") == "SELECT * FROM FOCUS_1_2_AWS"
    assert page.locator("#executions [data-status='DELIVERY_SUCCESS']").count() >= 1
    shoot(page, "export", tmp_path)

    key = focus_totals(console).key
    link = page.locator("#files a.file", has_text=key)
    with page.expect_download() as info:
        link.click()
    saved = tmp_path / "download.parquet"
    info.value.save_as(saved)
    s3 = make_client(console, "s3")
    assert saved.read_bytes() == s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    page.goto(f"{console}/_bcm_local/exports/{BROKEN}")
    failed = page.locator("#executions [data-status='DELIVERY_FAILURE']")
    assert failed.count() >= 1
    assert page.locator("#executions [data-reason]").first.inner_text() == (
        "INSUFFICIENT_PERMISSION"
    )


def test_bill_charts_render_the_totals_of_a_delivered_export(
    page: Any, console: str, tmp_path: Path
) -> None:
    for _ in range(5):
        totals = focus_totals(console)
        open_bill(page, console + "/_bcm_local/bill")
        built = page.evaluate(
            "fetch('/_bcm_local/api/bill').then(r => r.json()).then(b => b.built_at)"
        )
        if same_hour(totals.delivered_at, datetime.fromisoformat(built)):
            break
        rerun(console)  # an hour went by: a new export, and time for the bill's refresh
        time.sleep(0.5)
    by_service = chart_totals(page, "chart-service")
    assert set(by_service) == set(totals.by_service)
    for name, want in totals.by_service.items():
        assert_close(name, by_service[name], want)
    by_account = chart_totals(page, "chart-account")
    assert {name.split()[0] for name in by_account} == set(totals.by_account)
    for chart in ("chart-service", "chart-account"):
        drawn = float(page.get_attribute(f"#{chart} svg", "data-total"))
        assert abs(drawn - totals.total) < 2e-3
        assert abs(segment_sum(page, chart) - totals.total) < 2e-3
        assert page.locator(f"#{chart} rect.segment").count() > 20
    shown = page.inner_text("#bill-total strong").replace("$", "").replace(",", "")
    assert abs(float(shown) - totals.total) < 0.011
    day_rows = page.locator("#table-day tbody tr")
    assert day_rows.count() >= len(totals.by_day)
    first_day = min(totals.by_day)
    value = page.get_attribute(f"#table-day tr[data-key='{first_day}']", "data-value")
    assert abs(float(value) - totals.by_day[first_day]) < 2e-3
    shoot(page, "bill", tmp_path)


def test_bill_filters_by_tag_through_the_form(page: Any, console: str) -> None:
    totals = focus_totals(console)
    open_bill(page, console + "/_bcm_local/bill")
    page.select_option("#filter-tag", f"{TAG[0]}={TAG[1]}")
    page.wait_for_url(f"**tag={TAG[0]}%3D{TAG[1]}**")
    page.wait_for_selector("body[data-ready]")
    drawn = float(page.get_attribute("#chart-service svg", "data-total"))
    assert abs(drawn - totals.tagged_total) < 1e-6
    assert page.inner_text("#bill-tag strong") == f"{TAG[0]}={TAG[1]}"
    periods = page.eval_on_selector_all("#filter-period option", "o => o.map(x => x.value)")
    assert periods and all(len(p) == 7 for p in periods)


def _ce_groups(console: str, request: dict[str, Any]) -> dict[str, float]:
    """boto3's GetCostAndUsage of the page's own request: totals per group."""
    ce, found, token = make_client(console, "ce"), {}, None
    while True:
        answer = ce.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
        for entry in answer["ResultsByTime"]:
            for grp in entry["Groups"]:
                amount = float(grp["Metrics"][request["Metrics"][0]]["Amount"])
                found[grp["Keys"][0]] = found.get(grp["Keys"][0], 0.0) + amount
        token = answer.get("NextPageToken")
        if not token:
            return found


def _page_request(page: Any) -> dict[str, Any]:
    shown = page.inner_text("#ce-request")
    request: dict[str, Any] = json.loads(shown.split("--cli-input-json '", 1)[1].rstrip("'"))
    return request


def test_cost_explorer_page_draws_what_ce_answers(page: Any, console: str, tmp_path: Path) -> None:
    open_bill(page, console + "/_bcm_local/ce?granularity=DAILY")
    want = _ce_groups(console, _page_request(page))
    drawn = chart_totals(page, "ce-chart")
    assert drawn and page.locator("#ce-chart rect.segment").count() >= len(drawn)
    for name, total in drawn.items():
        if not name.startswith("Other ("):  # the chart folds the smallest groups
            assert_close(name, total, want[name])
    assert abs(sum(drawn.values()) - sum(want.values())) < 2e-3
    assert abs(segment_sum(page, "ce-chart") - sum(want.values())) < 2e-3
    assert page.locator("#ce-table tbody tr").count() == len(want)
    shoot(page, "cost-explorer", tmp_path)
    groups = page.eval_on_selector_all("#ce-group option", "o => o.map(x => x.value)")
    assert {"SERVICE", "LINKED_ACCOUNT", "REGION", "USAGE_TYPE", f"TAG:{TAG[0]}"} <= set(groups)
    assert "CC:BusinessUnit" in groups  # the scenario's cost category
    views = page.eval_on_selector_all("#ce-view option", "o => o.map(x => x.textContent)")
    assert views[0] == "View: Primary View"
    assert page.locator("#ce-categories strong").inner_text() == "BusinessUnit"
    page.select_option("#ce-group", "LINKED_ACCOUNT")
    page.wait_for_url("**group=LINKED_ACCOUNT**")
    page.wait_for_selector("body[data-ready]")
    accounts = chart_totals(page, "ce-chart")
    assert accounts and all(len(a) == 12 and a.isdigit() for a in accounts)
    assert abs(sum(accounts.values()) - sum(want.values())) < 2e-3
    request = _page_request(page)
    assert request["GroupBy"] == [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]
    assert request["Granularity"] == "DAILY"  # the form keeps the other choices


def test_s3_pages_browse_and_download(page: Any, console: str, tmp_path: Path) -> None:
    page.goto(console + "/_bcm_local/s3")
    assert page.locator("#buckets a.bucket").all_inner_texts() == [BUCKET]
    shoot(page, "s3", tmp_path)
    page.click(f"a.bucket:text-is('{BUCKET}')")
    page.click("a.folder:text-is('notes/')")
    page.wait_for_url("**prefix=notes%2F**")
    shoot(page, "bucket", tmp_path)
    with page.expect_download() as info:
        page.click("a.file:text-is('readme.txt')")
    saved = tmp_path / "readme.txt"
    info.value.save_as(saved)
    assert saved.read_bytes() == b"hello from the console test"


def test_cur_page_and_account_selector(page: Any, console: str, tmp_path: Path) -> None:
    page.goto(console + "/_bcm_local/cur")
    assert page.locator("#reports .report").all_inner_texts() == [REPORT]
    shoot(page, "cur", tmp_path)
    page.goto(console + "/_bcm_local/")
    page.fill("#account", OTHER)
    page.click("form.account button")
    page.wait_for_url(f"**account={OTHER}**")
    assert page.locator("a.export").all_inner_texts() == [SECRET]
    page.click("nav a:text-is('Bill')")  # the navigation keeps the selected account
    page.wait_for_selector("body[data-ready]")
    assert f"account={OTHER}" in page.url
    assert page.get_attribute("body", "data-account") == OTHER


def test_json_endpoints_in_the_browser(page: Any, console: str) -> None:
    page.goto(console + "/_bcm_local/")
    summary = page.evaluate("fetch('/_bcm_local/api/summary').then(r => r.json())")
    assert summary["account"]["exports"] == 3 and summary["services"]["s3"] == "running"
    bill = page.evaluate(f"fetch('/_bcm_local/api/bill?account={OTHER}').then(r => r.json())")
    assert bill["account"] == OTHER and bill["total"] > 0
