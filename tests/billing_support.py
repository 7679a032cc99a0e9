"""Shared by tests/test_billing_*.py and tests/test_delivery_*.py: a real Runtime with the
built-in S3, a fixed clock, export bodies, and readers for what a delivery wrote."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bcm_local import settings
from bcm_local.billing import bill, tables
from bcm_local.billing.model.build import Dataset
from bcm_local.billing.tables.types import arrow_type
from bcm_local.delivery.exports import deliver_export
from bcm_local.objects.backend import s3_backend
from bcm_local.runtime import Runtime
from bcm_local.testing import export_body

ACCOUNT = "000000000000"
OTHER = "111111111111"
NOW = datetime(2026, 5, 17, 10, 30, tzinfo=UTC)  # a Sunday; the spike is on the 12th
BUCKET = "my-billing"


@contextmanager
def runtime(**env: str) -> Iterator[Runtime]:
    """A Runtime (in memory) with settings from `env` (BCM_LOCAL_* names) and a bucket."""
    rt = Runtime(settings.load(env=env))
    try:
        s3_backend(rt).create_bucket(ACCOUNT, BUCKET, "us-east-1")
        yield rt
    finally:
        rt.close()


def export(
    query: str = "SELECT * FROM COST_AND_USAGE_REPORT",
    *,
    name: str = "focus-monthly",
    owner: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`export_body` as stored, with its ARN; `owner` is the destination's S3BucketOwner."""
    body = export_body(name, query, **options)
    if owner is not None:
        body["DestinationConfigurations"]["S3Destination"]["S3BucketOwner"] = owner
    arn = f"arn:aws:bcm-data-exports:us-east-1:{ACCOUNT}:export/{name}"
    return {"ExportArn": arn, **body}


def deliver(
    rt: Runtime, body: dict[str, Any], run: str = "run-1", now: datetime = NOW
) -> list[str]:
    return deliver_export(rt, ACCOUNT, copy.deepcopy(body), run, now.timestamp())


def keys(rt: Runtime, prefix: str = "") -> list[str]:
    return [k for k, _ in s3_backend(rt).list_keys(BUCKET, prefix)]


def raw(rt: Runtime, key: str, bucket: str = BUCKET) -> bytes:
    found = s3_backend(rt).read_object(bucket, key)
    assert found is not None, key
    return found


def read_parquet(rt: Runtime, key: str) -> pa.Table:
    return pq.read_table(io.BytesIO(raw(rt, key)))


def run_parquet(
    rt: Runtime, query: str, configs: dict[str, dict[str, str]] | None = None
) -> pa.Table:
    """Deliver `query` in the floci layout and read the one file back."""
    (key,) = deliver(rt, export(query, tables=configs))
    return read_parquet(rt, key)


def expected_schema(table: str, props: dict[str, str] | None = None) -> pa.Schema:
    described = tables.get_table(table, props)["Schema"]
    assert isinstance(described, list)
    return pa.schema([pa.field(c["Name"], arrow_type(c["Type"])) for c in described])


def dataset(granularity: str = "DAILY", now: datetime = NOW, **env: str) -> Dataset:
    """The model alone (no S3): a DuckDB connection with the bill built in it."""
    con = bill.connect()
    return bill.open_dataset(con, settings.load(env=env), ACCOUNT, now, granularity)


def view(data: Dataset, name: str, table: str, props: dict[str, str] | None = None) -> str:
    """Create view `name` over the table's rows; returns the name."""
    data.con.execute(f"CREATE OR REPLACE VIEW {name} AS {tables.table_sql(data, table, props)}")
    return name


def fetch(data: Dataset, sql: str) -> list[tuple[Any, ...]]:
    return list(data.con.execute(sql).fetchall())


def scalar(data: Dataset, sql: str) -> Any:
    return data.con.execute(sql).fetchone()[0]
