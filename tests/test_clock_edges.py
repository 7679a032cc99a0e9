"""The date-sensitive behaviour at the clocks where calendars bite: the 1st of a month at
00:30, the last day of a month at 23:59, 29 February 2028, the first instant of a year and
mid-month. At each, one server (BCM_LOCAL_NOW pinned there) delivers a CUR 2.0 export in
AWS's layout, split into chunks, with one backfilled month, and a legacy CUR report; the
console's bill page and the CLI read it. The daily schedule is run across a month's end.

What must hold at every clock: the closed month is whole and invoiced, the open month
has no invoice and no line that starts after the clock, every period is delivered with a
manifest listing its chunks, and the console and CLI answer."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest

from bcm_local.billing.scenario.periods import add_months, month_start
from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.cur_support import csv_frame, definition, keys
from tests.dataexports_support import output, spec

CLOCKS = {
    "first-of-month-0030": datetime(2026, 6, 1, 0, 30, tzinfo=UTC),
    "last-day-2359": datetime(2026, 11, 30, 23, 59, tzinfo=UTC),
    "leap-day": datetime(2028, 2, 29, 12, 0, tzinfo=UTC),
    "new-year": datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
    "mid-month": datetime(2026, 5, 15, 12, 0, tzinfo=UTC),
}
BUCKET = "edges"
QUERY = (
    "SELECT identity_line_item_id, line_item_usage_start_date, line_item_usage_end_date, "
    "line_item_line_item_type, line_item_unblended_cost, bill_invoice_id, "
    "bill_billing_period_start_date FROM COST_AND_USAGE_REPORT"
)
HOURLY = {"COST_AND_USAGE_REPORT": {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE"}}
ENV = {
    "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1",
    "BCM_LOCAL_EXPORT_LAYOUT": "aws",
    "BCM_LOCAL_EXPORT_CHUNK_MB": "0.25",
}


@pytest.fixture(scope="module", params=list(CLOCKS), ids=list(CLOCKS))
def delivered(request: pytest.FixtureRequest) -> Iterator[tuple[datetime, ServerProcess, Any]]:
    now = CLOCKS[request.param]
    env = {**ENV, "BCM_LOCAL_NOW": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    with ServerProcess(env=env) as proc:
        s3 = make_client(proc.endpoint, "s3")
        s3.create_bucket(Bucket=BUCKET)
        body = spec(
            "edges",
            **{
                "DataQuery.QueryStatement": QUERY,
                "DataQuery.TableConfigurations": HOURLY,
                "DestinationConfigurations.S3Destination.S3Bucket": BUCKET,
                "DestinationConfigurations.S3Destination.S3OutputConfigurations": output(),
            },
        )
        make_client(proc.endpoint, "bcm-data-exports").create_export(Export=body)
        cur = make_client(proc.endpoint, "cur")
        cur.put_report_definition(ReportDefinition=definition("legacy", S3Bucket=BUCKET))
        yield now, proc, s3


def _labels(now: datetime) -> tuple[str, str]:
    current = month_start(now)
    return f"{add_months(current, -1):%Y-%m}", f"{current:%Y-%m}"


def _period_rows(s3: Any, label: str) -> tuple[Any, list[str], dict[str, Any]]:
    folder = f"focus/edges/data/BILLING_PERIOD={label}/"
    chunks = keys(s3, BUCKET, folder)
    manifest_key = f"focus/edges/metadata/BILLING_PERIOD={label}/edges-Manifest.json"
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read())
    tables = [
        pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()))
        for k in chunks
    ]
    rows = [r for t in tables for r in t.to_pylist()]
    return rows, chunks, manifest


def test_both_months_are_delivered_with_manifests(delivered: Any) -> None:
    now, _, s3 = delivered
    closed, current = _labels(now)
    folders = {k.split("/")[3] for k in keys(s3, BUCKET, "focus/edges/data/")}
    assert folders == {f"BILLING_PERIOD={closed}", f"BILLING_PERIOD={current}"}
    for label in (closed, current):
        _, chunks, manifest = _period_rows(s3, label)
        assert [f"s3://{BUCKET}/{k}" for k in chunks] == sorted(manifest["dataFiles"])
        start = datetime.strptime(label, "%Y-%m").replace(tzinfo=UTC)
        assert manifest["billingPeriod"] == {
            "start": f"{start:%Y%m%d}T000000.000Z",
            "end": f"{add_months(start, 1):%Y%m%d}T000000.000Z",
        }


def test_the_closed_month_is_whole_invoiced_and_chunked(delivered: Any) -> None:
    now, _, s3 = delivered
    closed, _ = _labels(now)
    rows, chunks, _ = _period_rows(s3, closed)
    assert len(chunks) > 1
    start = add_months(month_start(now), -1).replace(tzinfo=None)
    end = month_start(now).replace(tzinfo=None)
    usage = [r for r in rows if r["line_item_line_item_type"] == "Usage"]
    assert min(r["line_item_usage_start_date"] for r in usage) == start
    assert max(r["line_item_usage_end_date"] for r in usage) == end
    invoices = {r["bill_invoice_id"] for r in rows}
    assert len(invoices) == 1 and None not in invoices


def test_the_open_month_has_no_invoice_and_nothing_after_the_clock(delivered: Any) -> None:
    now, _, s3 = delivered
    _, current = _labels(now)
    rows, _, _ = _period_rows(s3, current)
    assert rows, "the open month holds the hour the clock is in"
    assert {r["bill_invoice_id"] for r in rows} == {None}
    naive = now.replace(tzinfo=None)
    assert max(r["line_item_usage_start_date"] for r in rows) <= naive
    usage_hours = {
        r["line_item_usage_start_date"] for r in rows if r["line_item_line_item_type"] == "Usage"
    }
    elapsed = int((now - month_start(now)) // timedelta(hours=1)) + 1
    assert len(usage_hours) == elapsed  # through the hour under way, not beyond


def test_legacy_cur_delivers_both_months(delivered: Any) -> None:
    now, _, s3 = delivered
    current = month_start(now)
    closed = add_months(current, -1)
    ranges = {k.split("/")[2] for k in keys(s3, BUCKET, "reports/legacy/")}
    expect = {
        f"{closed:%Y%m%d}-{current:%Y%m%d}",
        f"{current:%Y%m%d}-{add_months(current, 1):%Y%m%d}",
    }
    assert expect <= ranges
    latest = f"reports/legacy/{min(expect)}/legacy-Manifest.json"
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=latest)["Body"].read())
    frames = [csv_frame(s3, BUCKET, k) for k in manifest["reportKeys"]]
    assert sum(len(f) for f in frames) > 0
    assert {str(v) for f in frames for v in f["bill/InvoiceId"].unique()} != {"nan"}


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=60) as resp:
        return resp.status, resp.read()


def test_the_console_bill_page_and_its_json(delivered: Any) -> None:
    now, proc, _ = delivered
    closed, current = _labels(now)
    status, page = _get(proc.endpoint + "/_bcm_local/bill")
    assert status == 200 and b'id="bill"' in page
    for label in (closed, current):
        status, raw = _get(proc.endpoint + f"/_bcm_local/api/bill?period={label}")
        body = json.loads(raw)
        assert status == 200 and body["periods"] == [closed, current]
        assert body["days"][0] == f"{label}-01" and body["line_items"] > 0
    last_day = json.loads(_get(proc.endpoint + f"/_bcm_local/api/bill?period={current}")[1])
    assert last_day["days"][-1] == now.date().isoformat()


def _cli(proc: ServerProcess, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bcm_local", *args, "--endpoint", proc.endpoint],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_cli_reads_the_server(delivered: Any) -> None:
    now, proc, _ = delivered
    assert f"Clock: pinned at {now:%Y-%m-%dT%H:%M:%SZ}" in _cli(proc, "status")
    listed = json.loads(_cli(proc, "exports", "list", "--json"))
    assert [e["Export"]["Name"] for e in listed] == ["edges"]
    export = json.loads(_cli(proc, "exports", "get", "edges", "--json"))
    assert [e["ExecutionStatus"]["StatusCode"] for e in export["Executions"]] == [
        "DELIVERY_SUCCESS"
    ]
    assert export["ExportStatus"]["CreatedAt"].startswith(f"{now:%Y-%m-%d}")


def test_the_daily_schedule_crosses_the_month_end() -> None:
    """Pinned two seconds before a month ends, the daily job (every second here) first
    delivers the old month as the open one, then, after midnight, as a closed month beside
    the new one (the earlier closed month's files stay, as AWS leaves them)."""
    now = datetime(2027, 2, 28, 23, 59, 58, tzinfo=UTC)
    env = {
        "BCM_LOCAL_NOW": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE": "daily",
        "BCM_LOCAL_DAILY_INTERVAL_SECONDS": "1",
        "BCM_LOCAL_EXPORT_LAYOUT": "aws",
        "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1",
    }
    with ServerProcess(env=env) as proc:
        s3 = make_client(proc.endpoint, "s3")
        s3.create_bucket(Bucket=BUCKET)
        body = spec(
            "daily",
            **{
                "DataQuery.QueryStatement": QUERY,
                "DestinationConfigurations.S3Destination.S3Bucket": BUCKET,
                "DestinationConfigurations.S3Destination.S3OutputConfigurations": output(),
            },
        )
        make_client(proc.endpoint, "bcm-data-exports").create_export(Export=body)
        deadline = time.monotonic() + 60
        folders: set[str] = set()
        while time.monotonic() < deadline:
            folders = {k.split("/")[3] for k in keys(s3, BUCKET, "focus/daily/data/")}
            if "BILLING_PERIOD=2027-03" in folders:
                break
            time.sleep(0.2)
        # before midnight: January (closed) and February (open); after: February and March
        assert folders == {f"BILLING_PERIOD=2027-0{n}" for n in (1, 2, 3)}
        key = "focus/daily/data/BILLING_PERIOD=2027-02/daily-00001.snappy.parquet"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the run that closed February has rewritten it
            feb = pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))
            if None not in set(feb.column("bill_invoice_id").to_pylist()):
                break
            time.sleep(0.2)
        assert None not in set(feb.column("bill_invoice_id").to_pylist())
        assert max(feb.column("line_item_usage_end_date").to_pylist()) == datetime(2027, 3, 1)
