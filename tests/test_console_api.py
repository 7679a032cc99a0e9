"""The console over plain HTTP: pages, the bill and summary JSON, downloads, account
selection and read-only-ness (the browser tests in test_console_browser.py drive the same
pages in Chromium)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from conftest import make_client
from console_support import (
    BROKEN,
    BUCKET,
    CSV,
    FOCUS,
    OTHER,
    OTHER_BUCKET,
    REPORT,
    SECRET,
    TAG,
    Totals,
    assert_close,
    focus_totals,
    get,
    get_json,
    populate,
    rerun,
    same_hour,
)

from bcm_local.testing import ServerProcess

PAGES = ("/", f"/exports/{FOCUS}", "/cur", "/bill", "/s3", f"/s3/{BUCKET}")


@pytest.fixture(scope="module")
def console() -> Iterator[str]:
    with ServerProcess() as proc:
        populate(proc.endpoint)
        yield proc.endpoint


def matched(endpoint: str, query: str = "", metric: str = "BilledCost") -> tuple[Totals, Any]:
    """A delivered export and the bill view computed in the same hour."""
    for _ in range(5):
        totals = focus_totals(endpoint, metric=metric)
        bill = get_json(f"{endpoint}/_bcm_local/api/bill{query}")
        if same_hour(totals.delivered_at, datetime.fromisoformat(bill["built_at"])):
            return totals, bill
        rerun(endpoint)  # an hour went by: a new export, and time for the bill's refresh
        time.sleep(0.5)
    raise AssertionError("could not get an export and a bill of the same hour")


def test_every_page_is_html_with_a_strict_content_security_policy(console: str) -> None:
    for path in PAGES:
        status, headers, body = get(console + "/_bcm_local" + path)
        assert status == 200, path
        assert headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert b"<!doctype html>" in body
        assert b"http://" not in body and b"https://" not in body  # nothing from elsewhere


def test_static_assets_are_served_by_the_emulator(console: str) -> None:
    for name, kind in (("chart.js", "text/javascript"), ("console.css", "text/css")):
        status, headers, body = get(f"{console}/_bcm_local/static/{name}")
        assert status == 200 and headers["content-type"].startswith(kind) and body
    assert get(f"{console}/_bcm_local/static/nope.js")[0] == 404


def test_the_console_is_read_only(console: str) -> None:
    before = get_json(console + "/_bcm_local/state")
    for path in (*PAGES, "/api/bill", "/api/summary", f"/exports/{BROKEN}"):
        assert get(console + "/_bcm_local" + path)[0] == 200
    assert get_json(console + "/_bcm_local/state") == before
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = get(console + "/_bcm_local/", method=method)
        assert status == 405 and headers["allow"] == "GET, HEAD"


def test_default_account_never_shows_another_accounts_data(console: str) -> None:
    mine = get(console + "/_bcm_local/")[2].decode()
    assert FOCUS in mine and CSV in mine and BROKEN in mine and SECRET not in mine
    assert OTHER_BUCKET not in get(console + "/_bcm_local/s3")[2].decode()
    assert get(f"{console}/_bcm_local/s3/{OTHER_BUCKET}")[0] == 404
    assert get(f"{console}/_bcm_local/exports/{SECRET}")[0] == 404
    other_bill = get_json(f"{console}/_bcm_local/api/bill?account={OTHER}")
    assert get_json(console + "/_bcm_local/api/bill")["account"] == "000000000000"
    assert other_bill["account"] == OTHER


def test_the_account_selector_shows_that_account_and_links_keep_it(console: str) -> None:
    theirs = get(f"{console}/_bcm_local/?account={OTHER}")[2].decode()
    assert SECRET in theirs and FOCUS not in theirs
    assert f"/_bcm_local/exports/{SECRET}?account={OTHER}" in theirs
    assert f"viewing account {OTHER}" in theirs
    assert get(f"{console}/_bcm_local/exports/{SECRET}?account={OTHER}")[0] == 200
    assert get(f"{console}/_bcm_local/?account=12345")[0] == 400


def test_export_page_shows_sql_executions_and_files(console: str) -> None:
    page = get(f"{console}/_bcm_local/exports/{FOCUS}")[2].decode()
    assert "SELECT * FROM FOCUS_1_2_AWS" in page and "DELIVERY_SUCCESS" in page
    assert "Primary View (the whole bill)" in page  # the billing view it reads
    assert "BusinessUnit" in page  # the scenario's cost category applies to it
    key = focus_totals(console).key
    assert f"/_bcm_local/download/{BUCKET}/{key}" in page
    broken = get(f"{console}/_bcm_local/exports/{BROKEN}")[2].decode()
    assert "DELIVERY_FAILURE" in broken and "INSUFFICIENT_PERMISSION" in broken
    assert "UNHEALTHY" in broken
    assert get(f"{console}/_bcm_local/exports/nope")[0] == 404


def test_download_returns_the_object_bytes(console: str) -> None:
    key = focus_totals(console).key
    status, headers, body = get(f"{console}/_bcm_local/download/{BUCKET}/{key}")
    s3 = make_client(console, "s3")
    assert status == 200 and body == s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert headers["content-disposition"].startswith("attachment;")
    assert get(f"{console}/_bcm_local/download/{OTHER_BUCKET}/x")[0] == 404
    assert get(f"{console}/_bcm_local/download/{BUCKET}/missing")[0] == 404


def test_bucket_browsing_by_folder(console: str) -> None:
    top = get(f"{console}/_bcm_local/s3/{BUCKET}")[2].decode()
    assert "prefix=exports%2F" in top and "prefix=notes%2F" in top and "prefix=cur%2F" in top
    notes = get(f"{console}/_bcm_local/s3/{BUCKET}?prefix=notes/")[2].decode()
    assert "readme.txt" in notes and f"/_bcm_local/download/{BUCKET}/notes/readme.txt" in notes


def test_cur_page_lists_report_definitions(console: str) -> None:
    page = get(console + "/_bcm_local/cur")[2].decode()
    assert REPORT in page and "textORcsv" in page and "RESOURCES" in page
    assert REPORT not in get(f"{console}/_bcm_local/cur?account={OTHER}")[2].decode()


def test_bill_json_matches_a_delivered_focus_export(console: str) -> None:
    totals, bill = matched(console)
    assert bill["metric"] == "BilledCost" and bill["currency"] == "USD"
    assert abs(bill["total"] - totals.total) < 2e-3
    services = {s["name"]: s for s in bill["services"]}
    assert set(services) == set(totals.by_service)
    for name, want in totals.by_service.items():
        assert_close(name, services[name]["total"], want)
        assert abs(sum(services[name]["daily"]) - services[name]["total"]) < 1e-6
        if name not in ("Amazon Simple Storage Service",):
            assert services[name]["line_items"] == totals.lines_by_service[name]
    accounts = {a["id"]: a["total"] for a in bill["accounts"]}
    assert set(accounts) == set(totals.by_account)
    for account, want in totals.by_account.items():
        assert abs(accounts[account] - want) < 2e-3
    days = dict(zip(bill["days"], bill["daily"], strict=True))
    for day, want in totals.by_day.items():
        assert abs(days[day] - want) < 2e-3, day


def test_bill_json_filters_by_tag_period_and_metric(console: str) -> None:
    totals, bill = matched(console, f"?tag={TAG[0]}={TAG[1]}")
    assert bill["tag"] == f"{TAG[0]}={TAG[1]}"
    assert TAG[1] in bill["tags"][TAG[0]]
    assert abs(bill["total"] - totals.tagged_total) < 1e-6
    assert 0 < bill["total"] < totals.total
    key_only = get_json(f"{console}/_bcm_local/api/bill?tag={TAG[0]}")
    assert key_only["total"] >= bill["total"]
    period = bill["periods"][-1]
    assert get_json(f"{console}/_bcm_local/api/bill?period={period}")["period"] == period
    assert get(f"{console}/_bcm_local/api/bill?period=1999-01")[0] == 400
    assert get(f"{console}/_bcm_local/api/bill?metric=Nope")[0] == 400
    effective, bill = matched(console, "?metric=EffectiveCost", metric="EffectiveCost")
    assert abs(bill["total"] - effective.total) < 2e-3


def test_summary_json_counts_what_the_emulator_holds(console: str) -> None:
    summary = get_json(console + "/_bcm_local/api/summary")
    assert summary["services"] == {
        "bcm-data-exports": "running",
        "cur": "running",
        "ce": "running",
        "billing": "running",
        "pricing": "running",
        "s3": "running",
    }
    mine = summary["account"]
    assert mine["id"] == "000000000000" and mine["exports"] == 3 and mine["cur_reports"] == 1
    assert mine["execution_states"].get("DELIVERY_FAILURE", 0) >= 1
    assert mine["buckets"] == 1 and mine["objects"] >= 3
    assert summary["totals"]["exports"] == 4 and summary["totals"]["accounts"] == 2
    assert summary["billing"]["scenario"] == "built-in"
    assert summary["billing"]["scenario_error"] is None
    theirs = get_json(f"{console}/_bcm_local/api/summary?account={OTHER}")["account"]
    assert theirs["exports"] == 1 and theirs["buckets"] == 1


def test_unknown_console_paths_are_404_json(console: str) -> None:
    status, headers, body = get(console + "/_bcm_local/nope")
    assert status == 404 and json.loads(body) == {"message": "Not Found"}
    assert headers["content-type"] == "application/json"
