"""The same seed, scenario, settings and clock give byte-identical data files.

Two fresh servers (two processes) with the same BCM_LOCAL_NOW run the same calls: a
bucket, then Data Exports of CUR 2.0 (Parquet, and gzipped CSV), FOCUS 1.2 and a large
hourly CUR 2.0 with resources (the run writer's share), and legacy CUR reports in CSV and
Parquet. Every data file of the seed's (floci) layout and of AWS's layout must have the
same bytes in both runs. Keys may differ only in execution and assembly ids, manifests
only in those ids, legacy CUR's reportId and timestamps."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from bcm_local.delivery.runs.writer import MIN_ROWS
from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.cur_support import ATHENA, definition, keys
from tests.dataexports_support import output, spec

BUCKET = "same-bytes"
CLOCK = "2026-10-27T15:00:00Z"
# execution and assembly ids (UUIDs) and legacy CUR's reportId (a digest of when the
# report was created)
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64}")
_STAMP = re.compile(r"\d{8}T\d{6}(\.\d+)?Z|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
EXPORTS: dict[str, dict[str, Any]] = {
    "cur-parquet": {"DataQuery.QueryStatement": "SELECT * FROM COST_AND_USAGE_REPORT"},
    "cur-csv": {
        "DataQuery.QueryStatement": "SELECT * FROM COST_AND_USAGE_REPORT",
        "DestinationConfigurations.S3Destination.S3OutputConfigurations": output(
            Format="TEXT_OR_CSV", Compression="GZIP"
        ),
    },
    "focus": {"DataQuery.QueryStatement": "SELECT * FROM FOCUS_1_2_AWS"},
    "hourly": {
        "DataQuery.QueryStatement": "SELECT * FROM COST_AND_USAGE_REPORT",
        "DataQuery.TableConfigurations": {
            "COST_AND_USAGE_REPORT": {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE"}
        },
    },
}


def _deliver(layout: str) -> tuple[dict[str, str], dict[str, str]]:
    """(data files, manifests) by key with run ids blanked: their sha256, their text with
    ids and timestamps blanked."""
    env = {
        "BCM_LOCAL_NOW": CLOCK,
        "BCM_LOCAL_EXPORT_LAYOUT": layout,
        "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1",
        "BCM_LOCAL_BILLING_SCALE": "3",
        "BCM_LOCAL_EXPORT_CHUNK_MB": "4",
    }
    with ServerProcess(env=env) as proc:
        s3 = make_client(proc.endpoint, "s3")
        s3.create_bucket(Bucket=BUCKET)
        bde = make_client(proc.endpoint, "bcm-data-exports")
        for name, changes in EXPORTS.items():
            path = "DestinationConfigurations.S3Destination.S3Bucket"
            bde.create_export(Export=spec(name, **{path: BUCKET, **changes}))
        cur = make_client(proc.endpoint, "cur")
        cur.put_report_definition(ReportDefinition=definition("legacy-csv", S3Bucket=BUCKET))
        pq = definition("legacy-pq", S3Bucket=BUCKET, TimeUnit="HOURLY", **ATHENA)
        cur.put_report_definition(ReportDefinition=pq)
        data: dict[str, str] = {}
        manifests: dict[str, str] = {}
        for key in keys(s3, BUCKET):
            raw = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            blank = _ID.sub("<id>", key)
            if key.endswith(".json"):
                manifests[blank] = _STAMP.sub("<time>", _ID.sub("<id>", raw.decode()))
            elif key.endswith((".parquet", ".csv.gz", ".gz")):
                data[blank] = hashlib.sha256(raw).hexdigest()
        return data, manifests


@pytest.mark.parametrize("layout", ["floci", "aws"])
def test_two_processes_deliver_the_same_bytes(layout: str) -> None:
    first, first_manifests = _deliver(layout)
    second, second_manifests = _deliver(layout)
    assert len(first) >= 6
    assert any("legacy-pq" in k for k in first) and any("legacy-csv" in k for k in first)
    assert first == second
    assert first_manifests == second_manifests


def test_the_hourly_export_is_large_enough_for_the_run_writer() -> None:
    """The `hourly` export above is written by the run writer, not only by COPY."""
    from datetime import datetime

    from bcm_local import settings
    from bcm_local.billing import bill, tables

    con = bill.connect()
    try:
        env = {"BCM_LOCAL_BILLING_SCALE": "3", "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1"}
        now = datetime.fromisoformat(CLOCK.replace("Z", "+00:00"))
        props = {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE"}
        data = bill.open_dataset(con, settings.load(env=env), "000000000000", now, "HOURLY")
        data.focus(data.periods[-1])
        sql = tables.table_sql(data, tables.CUR2, props)
        (count,) = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    finally:
        con.close()
    assert count >= MIN_ROWS
