"""Shared by tests/test_console_*.py and tests/test_cli_*.py: a server holding exports,
executions (good and failed), a legacy CUR report and two accounts, and the bill's totals
computed independently from a delivered FOCUS export."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from conftest import make_client

from bcm_local import testing

OTHER = "111111111111"
BUCKET, OTHER_BUCKET = "console-billing", "console-other"
FOCUS = "focus-daily"
CSV = "cur-csv"
BROKEN = "broken"
SECRET = "secret-export"
REPORT = "legacy-report"
TAG = ("team", "data")


def export_body(name: str, query: str, bucket: str = BUCKET, csv: bool = False) -> dict[str, Any]:
    fmt = "TEXT_OR_CSV" if csv else "PARQUET"
    return testing.export_body(name, query, bucket=bucket, prefix="exports", fmt=fmt)


def populate(endpoint: str) -> None:
    """Account 000000000000: a FOCUS export, a CSV CUR 2.0 export, an export whose bucket
    does not exist (UNHEALTHY), a legacy CUR report, a bucket with a note. Account
    111111111111: its own bucket and export."""
    s3 = make_client(endpoint, "s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="notes/readme.txt", Body=b"hello from the console test")
    exports = make_client(endpoint, "bcm-data-exports")
    exports.create_export(Export=export_body(FOCUS, "SELECT * FROM FOCUS_1_2_AWS"))
    cur2 = "SELECT line_item_product_code, line_item_unblended_cost FROM COST_AND_USAGE_REPORT"
    exports.create_export(Export=export_body(CSV, cur2, csv=True))
    exports.create_export(Export=export_body(BROKEN, "SELECT * FROM FOCUS_1_2_AWS", "no-such"))
    make_client(endpoint, "cur").put_report_definition(
        ReportDefinition={
            "ReportName": REPORT,
            "TimeUnit": "DAILY",
            "Format": "textORcsv",
            "Compression": "GZIP",
            "AdditionalSchemaElements": ["RESOURCES"],
            "S3Bucket": BUCKET,
            "S3Prefix": "cur",
            "S3Region": "us-east-1",
            "RefreshClosedReports": True,
            "ReportVersioning": "OVERWRITE_REPORT",
        }
    )
    make_client(endpoint, "s3", OTHER).create_bucket(Bucket=OTHER_BUCKET)
    make_client(endpoint, "bcm-data-exports", OTHER).create_export(
        Export=export_body(SECRET, "SELECT * FROM FOCUS_1_2_AWS", OTHER_BUCKET)
    )


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def get_json(url: str) -> Any:
    status, _, body = get(url)
    assert status == 200, body
    return json.loads(body)


@dataclass
class Totals:
    """Sums of one delivered FOCUS export, by the bill view's groupings."""

    key: str
    delivered_at: datetime
    total: float
    by_service: dict[str, float]
    lines_by_service: dict[str, int]
    by_account: dict[str, float]
    by_day: dict[str, float]
    tagged_total: float  # rows tagged TAG


def focus_totals(endpoint: str, name: str = FOCUS, metric: str = "BilledCost") -> Totals:
    """Read the export's file back through S3 with pyarrow and sum it in Python."""
    import pyarrow.parquet as pq

    s3 = make_client(endpoint, "s3")
    (obj,) = [
        o
        for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"exports/{name}/")["Contents"]
        if o["Key"].endswith(".parquet")
    ]
    data = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
    rows = pq.read_table(io.BytesIO(data)).to_pylist()
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    lines: dict[str, int] = defaultdict(int)
    tagged = 0.0
    for row in rows:
        cost = row[metric]
        sums["service"][row["ServiceName"]] += cost
        sums["account"][row["SubAccountId"]] += cost
        sums["day"][row["ChargePeriodStart"].date().isoformat()] += cost
        lines[row["ServiceName"]] += 1
        if (TAG[0], TAG[1]) in (row["Tags"] or []):
            tagged += cost
    return Totals(
        obj["Key"],
        obj["LastModified"].astimezone(UTC),
        sum(sums["service"].values()),
        dict(sums["service"]),
        dict(lines),
        dict(sums["account"]),
        dict(sums["day"]),
        tagged,
    )


def rerun(endpoint: str, name: str = FOCUS) -> None:
    """A new execution of the export (UpdateExport with its own definition)."""
    client = make_client(endpoint, "bcm-data-exports")
    arn = f"arn:aws:bcm-data-exports:us-east-1:000000000000:export/{name}"
    export = client.get_export(ExportArn=arn)["Export"]
    export.pop("ExportArn")
    client.update_export(ExportArn=arn, Export=export)


def same_hour(a: datetime, b: datetime) -> bool:
    """The bill of the current month covers the hours up to `now`: an export and a bill
    view compare only when computed in the same hour."""
    return a.astimezone(UTC).strftime("%Y%m%d%H") == b.astimezone(UTC).strftime("%Y%m%d%H")


# Usage of the account's own buckets changes as files are written and read (the bill view is
# computed a moment after the export), and Support is a percentage of the whole bill; every
# other service must agree to the micro-dollar.
LIVE = {"Amazon Simple Storage Service", "AWS Support (Business)"}


def assert_close(service: str, got: float, want: float) -> None:
    tolerance = 1e-3 if service in LIVE else 1e-6
    assert abs(got - want) <= tolerance, (service, got, want)
