"""Executions and emission: the seed's examples, the three emit modes, restarts, recovery.

The module's server runs the default emit mode, `synchronous`."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bcm_local.store import Store
from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.dataexports_support import (
    EMIT_MODE,
    OFF,
    SEED_ARN,
    SEED_CLI_EXPORT,
    error,
    s3_ready,
    spec,
    wait_for,
)

BUCKET = "DestinationConfigurations.S3Destination.S3Bucket"
DAILY_FAST = {EMIT_MODE: "daily", "BCM_LOCAL_DAILY_INTERVAL_SECONDS": "0.5"}


@pytest.fixture
def s3(client: Callable[..., Any]) -> Any:
    s3 = client("s3")
    if not s3_ready(s3):
        pytest.skip("the built-in S3 is not available yet")
    return s3


def make_bucket(s3: Any, name: str) -> None:
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as err:
        if err.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


def parquet_rows(s3: Any, bucket: str, key: str) -> int:
    import pyarrow.parquet as pq

    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    rows: int = pq.read_table(io.BytesIO(data)).num_rows
    return rows


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return [o["Key"] for o in found]


def statuses(bde: Any, arn: str) -> list[str]:
    return [
        e["ExecutionStatus"]["StatusCode"] for e in bde.list_executions(ExportArn=arn)["Executions"]
    ]


def test_seed_cli_example(cli: Callable[..., Any], client: Callable[..., Any], s3: Any) -> None:
    make_bucket(s3, "my-billing")
    client("bcm-data-exports").delete_export(ExportArn=SEED_ARN)
    created = cli("bcm-data-exports", "create-export", "--export", SEED_CLI_EXPORT)
    assert created == {"ExportArn": SEED_ARN}
    listed = cli("bcm-data-exports", "list-exports")
    assert SEED_ARN in [e["ExportArn"] for e in listed["Exports"]]
    runs = cli(
        "bcm-data-exports",
        "list-executions",
        "--export-arn",
        "arn:aws:bcm-data-exports:us-east-1:000000000000:export/focus-monthly",
    )
    [run] = runs["Executions"]
    assert run["ExecutionStatus"]["StatusCode"] == "DELIVERY_SUCCESS"
    # s3://<S3Bucket>/<S3Prefix>/<Name>/<runId>.parquet, as the seed documents
    artifact = f"focus/focus-monthly/{run['ExecutionId']}.parquet"
    assert keys(s3, "my-billing", "focus/focus-monthly/") == [artifact]
    assert parquet_rows(s3, "my-billing", artifact) > 0


def test_seed_boto3_example(
    server: ServerProcess,
    client: Callable[..., Any],
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_bucket(s3, "my-billing")
    client("bcm-data-exports").delete_export(ExportArn=SEED_ARN)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    # -- the seed's example, verbatim (endpoint_url points at this test's server) --
    import boto3

    client = boto3.client(
        "bcm-data-exports",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
    )
    resp = client.create_export(
        Export={
            "Name": "focus-monthly",
            "DataQuery": {"QueryStatement": "SELECT * FROM COST_AND_USAGE_REPORT"},
            "DestinationConfigurations": {
                "S3Destination": {
                    "S3Bucket": "my-billing",
                    "S3Prefix": "focus",
                    "S3Region": "us-east-1",
                    "S3OutputConfigurations": {
                        "Format": "PARQUET",
                        "Compression": "PARQUET",
                        "OutputType": "CUSTOM",
                        "Overwrite": "OVERWRITE_REPORT",
                    },
                }
            },
            "RefreshCadence": {"Frequency": "SYNCHRONOUS"},
        }
    )
    print(resp["ExportArn"])
    # -- end of the example --
    assert capsys.readouterr().out.strip() == SEED_ARN
    assert statuses(client, SEED_ARN) == ["DELIVERY_SUCCESS"]
    status = client.get_export(ExportArn=SEED_ARN)["ExportStatus"]
    assert status["StatusCode"] == "HEALTHY" and "LastRefreshedAt" in status


def test_failed_then_successful_delivery(client: Callable[..., Any], s3: Any) -> None:
    account = "121212121212"
    bde = client("bcm-data-exports", access_key=account)
    bucket = f"lifecycle-{account}"
    arn = bde.create_export(Export=spec("lifecycle", **{BUCKET: bucket}))["ExportArn"]
    [first] = bde.list_executions(ExportArn=arn)["Executions"]
    failed = bde.get_execution(ExportArn=arn, ExecutionId=first["ExecutionId"])
    status = failed["ExecutionStatus"]
    assert (status["StatusCode"], status["StatusReason"]) == (
        "DELIVERY_FAILURE",
        "INSUFFICIENT_PERMISSION",
    )
    assert status["CreatedAt"] <= status["CompletedAt"] <= status["LastUpdatedAt"]
    export_status = bde.get_export(ExportArn=arn)["ExportStatus"]
    assert (export_status["StatusCode"], export_status["StatusReason"]) == (
        "UNHEALTHY",
        "INSUFFICIENT_PERMISSION",
    )
    assert "LastRefreshedAt" not in export_status

    client("s3", access_key=account).create_bucket(Bucket=bucket)
    bde.update_export(ExportArn=arn, Export=spec("lifecycle", Description="v2", **{BUCKET: bucket}))
    runs = bde.list_executions(ExportArn=arn)["Executions"]
    assert [r["ExecutionStatus"]["StatusCode"] for r in runs] == [
        "DELIVERY_FAILURE",
        "DELIVERY_SUCCESS",
    ]
    second = bde.get_execution(ExportArn=arn, ExecutionId=runs[1]["ExecutionId"])
    assert "StatusReason" not in second["ExecutionStatus"]
    assert second["Export"]["Description"] == "v2"
    assert "Description" not in failed["Export"]  # each run keeps the export it ran with
    assert second["Export"]["ExportArn"] == arn
    healthy = bde.get_export(ExportArn=arn)["ExportStatus"]
    assert healthy["StatusCode"] == "HEALTHY" and "StatusReason" not in healthy
    assert healthy["LastRefreshedAt"] >= second["ExecutionStatus"]["CreatedAt"]


def test_focus_export_delivers_the_focus_schema(client: Callable[..., Any], s3: Any) -> None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    account = "242424242424"
    bucket = f"focus-{account}"
    make_bucket(client("s3", access_key=account), bucket)
    bde = client("bcm-data-exports", access_key=account)
    query = {"DataQuery.QueryStatement": "SELECT * FROM FOCUS_1_2_AWS", BUCKET: bucket}
    arn = bde.create_export(Export=spec("focus-all", **query))["ExportArn"]
    [run] = bde.list_executions(ExportArn=arn)["Executions"]
    assert run["ExecutionStatus"]["StatusCode"] == "DELIVERY_SUCCESS"
    owner_s3 = client("s3", access_key=account)
    body = owner_s3.get_object(Bucket=bucket, Key=f"focus/focus-all/{run['ExecutionId']}.parquet")
    table = pq.read_table(io.BytesIO(body["Body"].read()))
    schema = bde.get_table(TableName="FOCUS_1_2_AWS")["Schema"]
    assert table.column_names == [c["Name"] for c in schema]
    assert table.num_rows > 0 and table.column("BilledCost").null_count == 0
    assert pc.sum(table.column("BilledCost")).as_py() > 0


def test_bucket_of_another_account_is_refused(client: Callable[..., Any], s3: Any) -> None:
    bucket = "owned-by-131313131313"
    make_bucket(client("s3", access_key="131313131313"), bucket)
    bde = client("bcm-data-exports", access_key="141414141414")
    arn = bde.create_export(Export=spec("foreign", **{BUCKET: bucket}))["ExportArn"]
    [run] = bde.list_executions(ExportArn=arn)["Executions"]
    assert run["ExecutionStatus"]["StatusReason"] == "INSUFFICIENT_PERMISSION"


def test_missing_bucket_fails_the_run_not_the_call(client: Callable[..., Any]) -> None:
    bde = client("bcm-data-exports", access_key="151515151515")
    arn = bde.create_export(Export=spec("no-bucket", **{BUCKET: "no-such-bucket-151515"}))[
        "ExportArn"
    ]
    assert statuses(bde, arn) == ["DELIVERY_FAILURE"]
    assert bde.get_export(ExportArn=arn)["ExportStatus"]["StatusCode"] == "UNHEALTHY"


def test_each_create_and_update_makes_exactly_one_execution(client: Callable[..., Any]) -> None:
    bde = client("bcm-data-exports", access_key="161616161616")
    arn = bde.create_export(Export=spec("counted"))["ExportArn"]
    assert len(statuses(bde, arn)) == 1
    bde.update_export(ExportArn=arn, Export=spec("counted", Description="a"))
    bde.update_export(ExportArn=arn, Export=spec("counted", Description="b"))
    runs = bde.list_executions(ExportArn=arn)["Executions"]
    assert len(runs) == 3 and len({r["ExecutionId"] for r in runs}) == 3
    page = bde.list_executions(ExportArn=arn, MaxResults=2)
    rest = bde.list_executions(ExportArn=arn, NextToken=page["NextToken"])
    assert page["Executions"] + rest["Executions"] == runs


def test_delete_removes_the_executions(client: Callable[..., Any]) -> None:
    bde = client("bcm-data-exports", access_key="171717171717")
    arn = bde.create_export(Export=spec("gone"))["ExportArn"]
    [old] = bde.list_executions(ExportArn=arn)["Executions"]
    bde.delete_export(ExportArn=arn)
    assert error(bde.list_executions, ExportArn=arn)["Code"] == "ResourceNotFoundException"
    assert bde.create_export(Export=spec("gone"))["ExportArn"] == arn
    runs = bde.list_executions(ExportArn=arn)["Executions"]
    assert len(runs) == 1 and runs[0]["ExecutionId"] != old["ExecutionId"]
    err = error(bde.get_execution, ExportArn=arn, ExecutionId=old["ExecutionId"])
    assert err["ResourceType"] == "Execution"


def test_off_mode_runs_nothing_and_writes_nothing() -> None:
    with ServerProcess(env=OFF) as proc:
        s3 = make_client(proc.endpoint, "s3")
        bde = make_client(proc.endpoint, "bcm-data-exports")
        has_s3 = s3_ready(s3)
        if has_s3:
            s3.create_bucket(Bucket="my-billing")
        arn = bde.create_export(Export=spec("quiet"))["ExportArn"]
        bde.update_export(ExportArn=arn, Export=spec("quiet", Description="x"))
        assert bde.list_executions(ExportArn=arn)["Executions"] == []
        assert bde.get_export(ExportArn=arn)["ExportStatus"]["StatusCode"] == "HEALTHY"
        if has_s3:
            assert keys(s3, "my-billing") == []


def test_daily_mode_does_not_run_on_create_or_update() -> None:
    with ServerProcess(env={EMIT_MODE: "daily"}) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        arn = bde.create_export(Export=spec("later"))["ExportArn"]
        bde.update_export(ExportArn=arn, Export=spec("later", Description="x"))
        assert bde.list_executions(ExportArn=arn)["Executions"] == []


def test_daily_mode_runs_every_export_of_every_account() -> None:
    with ServerProcess(env=DAILY_FAST) as proc:
        a = make_client(proc.endpoint, "bcm-data-exports", "181818181818")
        b = make_client(proc.endpoint, "bcm-data-exports", "191919191919")
        arn_a = a.create_export(Export=spec("tick"))["ExportArn"]
        arn_b = b.create_export(Export=spec("tock"))["ExportArn"]
        wait_for(lambda: len(statuses(a, arn_a)) >= 2)
        wait_for(lambda: len(statuses(b, arn_b)) >= 1)
        done = wait_for(lambda: [s for s in statuses(a, arn_a) if s.startswith("DELIVERY_")])
        assert set(done) <= {"DELIVERY_SUCCESS", "DELIVERY_FAILURE"}


def test_exports_and_executions_survive_restart(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        tags = [{"Key": "team", "Value": "finops"}]
        arn = bde.create_export(Export=spec("kept"), ResourceTags=tags)["ExportArn"]
        bde.create_export(Export=spec("kept-too"))
        export = bde.get_export(ExportArn=arn)
        runs = bde.list_executions(ExportArn=arn)["Executions"]
        run = bde.get_execution(ExportArn=arn, ExecutionId=runs[0]["ExecutionId"])
        token = bde.list_exports(MaxResults=1)["NextToken"]
    with ServerProcess(data_dir=tmp_path) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        assert bde.get_export(ExportArn=arn)["Export"] == export["Export"]
        assert bde.get_export(ExportArn=arn)["ExportStatus"] == export["ExportStatus"]
        assert bde.list_executions(ExportArn=arn)["Executions"] == runs
        again = bde.get_execution(ExportArn=arn, ExecutionId=runs[0]["ExecutionId"])
        assert again["ExecutionStatus"] == run["ExecutionStatus"]
        assert again["Export"] == run["Export"]
        assert bde.list_tags_for_resource(ResourceArn=arn)["ResourceTags"] == tags
        assert [e["ExportName"] for e in bde.list_exports(NextToken=token)["Exports"]] == [
            "kept-too"
        ]
        assert error(bde.create_export, Export=spec("kept"))["Code"] == "ValidationException"


def test_daily_schedule_resumes_after_restart(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path, env=OFF) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        arn = bde.create_export(Export=spec("resumed"))["ExportArn"]
        assert statuses(bde, arn) == []
    with ServerProcess(data_dir=tmp_path, env=DAILY_FAST) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        wait_for(lambda: statuses(bde, arn))


def test_interrupted_execution_is_failed_at_start(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path, env=OFF) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        arn = bde.create_export(Export=spec("crashed"))["ExportArn"]
        export = bde.get_export(ExportArn=arn)["Export"]
    # what a crash in the middle of a delivery leaves behind
    store = Store(tmp_path / "state.sqlite3")
    now = time.time()
    status = {"StatusCode": "DELIVERY_IN_PROCESS", "CreatedAt": now, "LastUpdatedAt": now}
    record = {"ExecutionId": "interrupted", "ExecutionStatus": status, "Export": export}
    store.put("executions", f"000000000000::{arn}::interrupted", record)
    store.close()
    with ServerProcess(data_dir=tmp_path, env=OFF) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        run = bde.get_execution(ExportArn=arn, ExecutionId="interrupted")["ExecutionStatus"]
        assert (run["StatusCode"], run["StatusReason"]) == ("DELIVERY_FAILURE", "INTERNAL_FAILURE")
        assert "CompletedAt" in run
        status_now = bde.get_export(ExportArn=arn)["ExportStatus"]
        assert (status_now["StatusCode"], status_now["StatusReason"]) == (
            "UNHEALTHY",
            "INTERNAL_FAILURE",
        )


def test_query_that_became_invalid_is_a_query_failure(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path, env=OFF) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        arn = bde.create_export(Export=spec("star"))["ExportArn"]  # SELECT *: fine by default
    strict = {**DAILY_FAST, "BCM_LOCAL_STRICT_SQL": "true"}  # ...refused, as AWS does
    with ServerProcess(data_dir=tmp_path, env=strict) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        wait_for(lambda: "QUERY_FAILURE" in statuses(bde, arn))
        [run, *_] = bde.list_executions(ExportArn=arn)["Executions"]
        assert run["ExecutionStatus"]["StatusReason"] == "INTERNAL_FAILURE"
        assert bde.get_export(ExportArn=arn)["ExportStatus"]["StatusCode"] == "UNHEALTHY"
