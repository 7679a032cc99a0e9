"""End to end through the server: exports created with boto3 deliver files whose content
the billing model defines; read back through the emulated S3."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from billing_support import expected_schema
from botocore.exceptions import ClientError
from conftest import make_client

from bcm_local.testing import ServerProcess, export_body


def _latest_key(s3: Any, bucket: str, prefix: str) -> str:
    found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    assert found, prefix
    return str(max(found, key=lambda o: o["LastModified"])["Key"])


def _get(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.fixture(scope="module")
def aws_server() -> Iterator[ServerProcess]:
    env = {"BCM_LOCAL_EXPORT_LAYOUT": "aws", "BCM_LOCAL_STRICT_SQL": "true"}
    with ServerProcess(env=env) as proc:
        yield proc


def test_cur_export_parquet_has_the_table_schema(client: Callable[..., Any]) -> None:
    s3, bde = client("s3"), client("bcm-data-exports")
    s3.create_bucket(Bucket="my-billing")
    configs = {"COST_AND_USAGE_REPORT": {"INCLUDE_RESOURCES": "TRUE", "TIME_GRANULARITY": "HOURLY"}}
    arn = bde.create_export(
        Export=export_body("cur2", "SELECT * FROM COST_AND_USAGE_REPORT", tables=configs)
    )["ExportArn"]
    [run] = bde.list_executions(ExportArn=arn)["Executions"]
    assert run["ExecutionStatus"]["StatusCode"] == "DELIVERY_SUCCESS"
    key = f"focus/cur2/{run['ExecutionId']}.parquet"
    table = pq.read_table(io.BytesIO(_get(s3, "my-billing", key)))
    assert table.schema.equals(
        expected_schema("COST_AND_USAGE_REPORT", configs["COST_AND_USAGE_REPORT"])
    )
    described = bde.get_table(
        TableName="COST_AND_USAGE_REPORT", TableProperties=configs["COST_AND_USAGE_REPORT"]
    )
    assert [c["Name"] for c in described["Schema"]] == table.schema.names
    assert sum(table.column("line_item_unblended_cost").to_pylist()) > 0
    assert len(set(table.column("identity_line_item_id").to_pylist())) == table.num_rows


def test_focus_csv_export_with_a_projection(client: Callable[..., Any]) -> None:
    s3, bde = client("s3"), client("bcm-data-exports")
    s3.create_bucket(Bucket="focus-csv")
    query = (
        "SELECT ServiceName AS service, BilledCost, Tags.team AS team, ChargePeriodStart "
        "FROM FOCUS_1_2_AWS WHERE ChargeCategory = 'Usage'"
    )
    body = export_body(
        "focus-csv",
        query,
        fmt="TEXT_OR_CSV",
        bucket="focus-csv",
        tables={"FOCUS_1_2_AWS": {"TIME_GRANULARITY": "HOURLY"}},
    )
    bde.create_export(Export=body)
    key = _latest_key(s3, "focus-csv", "focus/focus-csv/")
    assert key.endswith(".csv.gz")
    frame = pd.read_csv(io.BytesIO(_get(s3, "focus-csv", key)), compression="gzip")
    assert list(frame.columns) == ["service", "BilledCost", "team", "ChargePeriodStart"]
    assert "Amazon Elastic Compute Cloud" in set(frame["service"])
    assert {"storefront", "data"} <= set(frame["team"].dropna())
    assert frame["ChargePeriodStart"].str.endswith(":00:00.000Z").all()


def test_query_errors_are_validation_exceptions(client: Callable[..., Any]) -> None:
    bde = client("bcm-data-exports")
    cases = {
        "SELECT FROM WHERE": "Invalid QueryStatement",
        "SELECT nope FROM FOCUS_1_2_AWS": "not a subset of the table FOCUS_1_2_AWS",
        "SELECT x FROM NOT_A_TABLE": "NOT_A_TABLE",
    }
    for n, (query, message) in enumerate(cases.items()):
        with pytest.raises(ClientError) as caught:
            bde.create_export(Export=export_body(f"bad-{n}", query))
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        assert message in caught.value.response["Error"]["Message"]


def test_buckets_used_through_the_api_are_billed(client: Callable[..., Any]) -> None:
    s3, bde = client("s3"), client("bcm-data-exports")
    s3.create_bucket(Bucket="busy-bucket")
    for n in range(5):
        s3.put_object(Bucket="busy-bucket", Key=f"k{n}", Body=b"x" * 100_000)
        s3.get_object(Bucket="busy-bucket", Key=f"k{n}")
    query = (
        "SELECT SkuMeter, ConsumedQuantity, BilledCost FROM FOCUS_1_2_AWS "
        "WHERE ResourceId = 'busy-bucket'"
    )
    bde.create_export(Export=export_body("busy", query, bucket="busy-bucket"))
    key = _latest_key(s3, "busy-bucket", "focus/busy/")
    table = pq.read_table(io.BytesIO(_get(s3, "busy-bucket", key))).to_pandas()
    usage = table.groupby("SkuMeter")["ConsumedQuantity"].sum()
    assert usage["TimedStorage-ByteHrs"] > 0
    assert usage["Requests-Tier1"] > 0 and usage["Requests-Tier2"] > 0


def test_aws_layout_and_strict_sql_through_the_server(aws_server: ServerProcess) -> None:
    s3 = make_client(aws_server.endpoint, "s3")
    bde = make_client(aws_server.endpoint, "bcm-data-exports")
    s3.create_bucket(Bucket="aws-layout")
    with pytest.raises(ClientError) as caught:
        bde.create_export(
            Export=export_body("strict", "SELECT * FROM FOCUS_1_2_AWS", bucket="aws-layout")
        )
    assert caught.value.response["Error"]["Message"] == "Invalid QueryStatement"
    query = "SELECT BilledCost, ServiceName FROM FOCUS_1_2_AWS"
    arn = bde.create_export(
        Export=export_body("laid-out", query, bucket="aws-layout", prefix="exports/")
    )["ExportArn"]
    [run] = bde.list_executions(ExportArn=arn)["Executions"]
    found = [o["Key"] for o in s3.list_objects_v2(Bucket="aws-layout")["Contents"]]
    data = [k for k in found if "/data/" in k]
    meta = [k for k in found if "/metadata/" in k]
    assert len(data) == 1 and data[0].startswith("exports/laid-out/data/BILLING_PERIOD=")
    assert data[0].endswith("/laid-out-00001.snappy.parquet")
    manifest = json.loads(_get(s3, "aws-layout", meta[0]))
    assert manifest["executionId"] == run["ExecutionId"]
    assert manifest["columns"] == [
        {"name": "BilledCost", "type": "double"},
        {"name": "ServiceName", "type": "string"},
    ]
    assert manifest["dataFiles"] == [f"s3://aws-layout/{data[0]}"]
