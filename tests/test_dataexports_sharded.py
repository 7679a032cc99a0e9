"""A server that writes Data Exports deliveries as shards on a process pool
(BCM_LOCAL_EXPORT_WORKERS, BCM_LOCAL_EXPORT_SHARDS): the files read back from its S3 hold
the rows a server writing in its own process delivers, cost categories included, and
the server keeps answering while the shards are written."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bcm_local.testing import ServerProcess, export_body
from tests.conftest import make_client

ACCOUNT = "123456789012"
BUCKET = "sharded-billing"
ENV = {
    "BCM_LOCAL_EXPORT_LAYOUT": "aws",
    "BCM_LOCAL_BILLING_SCALE": "3",
    "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1",
}
SHARDED = {"BCM_LOCAL_EXPORT_WORKERS": "2", "BCM_LOCAL_EXPORT_SHARDS": "2"}
TABLES = {"COST_AND_USAGE_REPORT": {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE"}}
TEAM = {
    "Name": "Team",
    "RuleVersion": "CostCategoryExpression.v1",
    "Rules": [
        {
            "Value": "storage",
            "Rule": {"Dimensions": {"Key": "SERVICE_CODE", "Values": ["AmazonS3"]}},
        }
    ],
    "DefaultValue": "other",
}


def deliver(server: ServerProcess, folder: Path) -> list[str]:
    """The export's files, as the server's S3 has them, downloaded under `folder`."""
    s3 = make_client(server.endpoint, "s3", ACCOUNT)
    s3.create_bucket(Bucket=BUCKET)
    make_client(server.endpoint, "ce", ACCOUNT).create_cost_category_definition(**TEAM)
    bde = make_client(server.endpoint, "bcm-data-exports", ACCOUNT)
    arn = bde.create_export(Export=export_body("cur", bucket=BUCKET, prefix="p", tables=TABLES))[
        "ExportArn"
    ]
    [run] = bde.list_executions(ExportArn=arn)["Executions"]
    assert run["ExecutionStatus"]["StatusCode"] == "DELIVERY_SUCCESS", run
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    for key in keys:
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    return keys


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path, list[str]]:
    found: list[Any] = []
    for name, env in (("plain", ENV), ("sharded", {**ENV, **SHARDED})):
        folder = tmp_path_factory.mktemp(name)
        with ServerProcess(env=env) as server:
            found += [folder, deliver(server, folder)]
    return found[0], found[1], found[2], found[3]


def rows(folder: Path, period: str) -> str:
    # the emulator's own bucket is billed by its requests, which differ by a few between
    # two servers; every other row must be equal
    return (
        f"(SELECT * FROM '{folder}/p/cur/data/BILLING_PERIOD={period}/*.parquet' "
        f"WHERE line_item_resource_id IS DISTINCT FROM '{BUCKET}')"
    )


def test_a_sharded_server_delivers_the_rows_of_an_unsharded_one(
    both: tuple[Path, list[str], Path, list[str]],
) -> None:
    plain, plain_keys, sharded, sharded_keys = both
    for period in ("2026-04", "2026-05"):
        names = [k.rsplit("/", 1)[1] for k in sharded_keys if f"={period}/" in k]
        assert names == [
            "cur-00001-00001.snappy.parquet",
            "cur-00002-00001.snappy.parquet",
            "cur-Manifest.json",
        ]
        a, b = rows(plain, period), rows(sharded, period)
        for x, y in ((a, b), (b, a)):
            assert duckdb.sql(f"SELECT count(*) FROM ({x} EXCEPT ALL {y})").fetchall() == [(0,)]
        teams = duckdb.sql(f"SELECT DISTINCT cost_category['Team'] FROM {b} ORDER BY 1").fetchall()
        # a category made now applies from the open month on
        assert teams == ([("other",), ("storage",)] if period == "2026-05" else [(None,)])
    assert len(plain_keys) == len(sharded_keys) - 2


def test_the_server_answers_while_its_shards_are_written(tmp_path: Path) -> None:
    env = {**ENV, **SHARDED, "BCM_LOCAL_BILLING_SCALE": "40"}
    with ServerProcess(env=env) as server:
        make_client(server.endpoint, "s3", ACCOUNT).create_bucket(Bucket=BUCKET)
        bde = make_client(server.endpoint, "bcm-data-exports", ACCOUNT)
        body = export_body("big", bucket=BUCKET, prefix="p", tables=TABLES)
        creating = threading.Thread(target=lambda: bde.create_export(Export=body))
        creating.start()
        seen: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            listed = bde.list_exports()["Exports"]
            if listed:
                runs = bde.list_executions(ExportArn=listed[0]["ExportArn"])["Executions"]
                status = runs[0]["ExecutionStatus"]["StatusCode"] if runs else ""
                if status == "DELIVERY_IN_PROCESS":
                    # another account's call, answered while the delivery runs
                    other = make_client(server.endpoint, "bcm-data-exports", "111111111111")
                    assert other.list_exports()["Exports"] == []
                    runs = bde.list_executions(ExportArn=listed[0]["ExportArn"])["Executions"]
                    seen.append(runs[0]["ExecutionStatus"]["StatusCode"])
                    break
            time.sleep(0.05)
        creating.join(timeout=300)
        assert seen == ["DELIVERY_IN_PROCESS"]  # still running after the other call returned
        [run] = bde.list_executions(ExportArn=listed[0]["ExportArn"])["Executions"]
        assert run["ExecutionStatus"]["StatusCode"] == "DELIVERY_SUCCESS"
