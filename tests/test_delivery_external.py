"""Delivery to an external S3-compatible endpoint (BCM_LOCAL_DELIVERY_S3_ENDPOINT).

Two real servers: `ext` stands in for MinIO or a real bucket, `main` is configured to
deliver there. Exports and legacy reports created on `main` land in `ext`'s buckets and
are read back from `ext` with boto3 and pyarrow; `main`'s own S3 stays empty."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq
import pytest

from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.cur_support import csv_frame, definition, manifest, reports
from tests.dataexports_support import output, spec

EXT_ACCOUNT = "222222222222"  # the external endpoint's credentials (its account)
OTHER = "333333333333"
BUCKET = "external-billing"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with ServerProcess() as ext:
        env = {
            "BCM_LOCAL_DELIVERY_S3_ENDPOINT": ext.endpoint,
            "BCM_LOCAL_DELIVERY_S3_ACCESS_KEY_ID": EXT_ACCOUNT,
            "BCM_LOCAL_DELIVERY_S3_SECRET_ACCESS_KEY": "not-checked",
            "BCM_LOCAL_DELIVERY_S3_PART_MB": "5",
            "BCM_LOCAL_EXPORT_LAYOUT": "aws",
            "BCM_LOCAL_BILLING_SCALE": "5",
            "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1",  # a full month, whatever today's date
        }
        with ServerProcess(env=env) as main:
            s3 = make_client(ext.endpoint, "s3", EXT_ACCOUNT)
            s3.create_bucket(Bucket=BUCKET)
            make_client(ext.endpoint, "s3", OTHER).create_bucket(Bucket="not-yours")
            yield main, ext


@pytest.fixture(scope="module")
def ext_s3(servers: tuple[ServerProcess, ServerProcess]) -> Any:
    return make_client(servers[1].endpoint, "s3", EXT_ACCOUNT)


def _keys(s3: Any, prefix: str) -> list[str]:
    found = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in found)


def _run(bde: Any, body: dict[str, Any]) -> dict[str, Any]:
    arn = bde.create_export(Export=body)["ExportArn"]
    [run] = bde.list_executions(ExportArn=arn)["Executions"]
    return dict(run["ExecutionStatus"])


def test_data_export_lands_in_the_external_bucket(
    servers: tuple[ServerProcess, ServerProcess], ext_s3: Any
) -> None:
    main, _ = servers
    bde = make_client(main.endpoint, "bcm-data-exports")
    query = "SELECT line_item_usage_account_id, line_item_unblended_cost FROM COST_AND_USAGE_REPORT"
    body = spec(
        "to-ext",
        **{
            "DataQuery.QueryStatement": query,
            "DestinationConfigurations.S3Destination.S3Bucket": BUCKET,
            "DestinationConfigurations.S3Destination.S3Prefix": "exports",
        },
    )
    assert _run(bde, body)["StatusCode"] == "DELIVERY_SUCCESS"
    keys = _keys(ext_s3, "exports/to-ext/")
    data = [k for k in keys if k.endswith(".snappy.parquet")]
    manifests = [k for k in keys if k.endswith("-Manifest.json")]
    assert len(data) == len(manifests) == 2 and all("/data/BILLING_PERIOD=" in k for k in data)
    table = pq.read_table(io.BytesIO(ext_s3.get_object(Bucket=BUCKET, Key=data[0])["Body"].read()))
    assert table.column_names == ["line_item_usage_account_id", "line_item_unblended_cost"]
    assert table.num_rows > 0 and sum(table.column("line_item_unblended_cost").to_pylist()) > 0
    listed = json.loads(ext_s3.get_object(Bucket=BUCKET, Key=manifests[0])["Body"].read())
    assert listed["dataFiles"] == [f"s3://{BUCKET}/{data[0]}"]
    # nothing went to the built-in S3 of the delivering server
    assert make_client(main.endpoint, "s3").list_buckets()["Buckets"] == []


def test_large_files_go_up_in_parts(
    servers: tuple[ServerProcess, ServerProcess], ext_s3: Any
) -> None:
    main, _ = servers
    bde = make_client(main.endpoint, "bcm-data-exports")
    body = spec(
        "big",
        **{
            "DataQuery.QueryStatement": "SELECT * FROM COST_AND_USAGE_REPORT",
            "DataQuery.TableConfigurations": {
                "COST_AND_USAGE_REPORT": {
                    "TIME_GRANULARITY": "HOURLY",
                    "INCLUDE_RESOURCES": "TRUE",
                }
            },
            "DestinationConfigurations.S3Destination.S3Bucket": BUCKET,
            "DestinationConfigurations.S3Destination.S3Prefix": "big",
            "DestinationConfigurations.S3Destination.S3OutputConfigurations": output(
                Format="TEXT_OR_CSV", Compression="GZIP"
            ),
        },
    )
    assert _run(bde, body)["StatusCode"] == "DELIVERY_SUCCESS"
    closed, _current = [k for k in _keys(ext_s3, "big/big/data/") if k.endswith(".csv.gz")]
    head = ext_s3.head_object(Bucket=BUCKET, Key=closed)
    assert head["ContentLength"] > 5 << 20
    assert head["ETag"].strip('"').rpartition("-")[2].isdigit()  # a multipart upload's ETag
    assert head["ContentType"] == "application/gzip"


def test_missing_or_foreign_bucket_fails_the_run(servers: tuple[ServerProcess, ...]) -> None:
    main, _ = servers
    bde = make_client(main.endpoint, "bcm-data-exports")
    for name, bucket in (("no-bucket", "does-not-exist"), ("foreign", "not-yours")):
        body = spec(name, **{"DestinationConfigurations.S3Destination.S3Bucket": bucket})
        status = _run(bde, body)
        assert status["StatusCode"] == "DELIVERY_FAILURE"
        assert status["StatusReason"] == "INSUFFICIENT_PERMISSION"


def test_legacy_report_lands_in_the_external_bucket(
    servers: tuple[ServerProcess, ServerProcess], ext_s3: Any
) -> None:
    main, _ = servers
    cur = make_client(main.endpoint, "cur")
    cur.put_report_definition(
        ReportDefinition=definition("ext-report", S3Bucket=BUCKET, S3Prefix="legacy")
    )
    assert reports(cur)["ext-report"]["ReportStatus"]["lastStatus"] == "SUCCESS"
    keys = _keys(ext_s3, "legacy/ext-report/")
    closed, _current = [k for k in keys if k.count("/") == 3 and k.endswith("-Manifest.json")]
    found = manifest(ext_s3, BUCKET, closed)
    frame = csv_frame(ext_s3, BUCKET, found["reportKeys"][0])
    assert "lineItem/UnblendedCost" in frame.columns and len(frame) > 0
    assert "aws-programmatic-access-test-object" in _keys(ext_s3, "aws-")
    for name, bucket, status in (
        ("gone", "does-not-exist", "ERROR_NO_BUCKET"),
        ("theirs", "not-yours", "ERROR_PERMISSIONS"),
    ):
        cur.put_report_definition(ReportDefinition=definition(name, S3Bucket=bucket))
        assert reports(cur)[name]["ReportStatus"]["lastStatus"] == status
