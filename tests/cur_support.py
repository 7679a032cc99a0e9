"""Shared by the tests/test_cur_*.py modules: report bodies, errors, reading deliveries,
tenants (an account with its own bucket)."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client

_accounts = itertools.count(100000000001)


def fresh_account() -> str:
    return str(next(_accounts))


def definition(name: str, **changes: Any) -> dict[str, Any]:
    """A valid textORcsv/GZIP report; a change to None removes the member."""
    base: dict[str, Any] = {
        "ReportName": name,
        "TimeUnit": "DAILY",
        "Format": "textORcsv",
        "Compression": "GZIP",
        "AdditionalSchemaElements": ["RESOURCES"],
        "S3Bucket": "cur-bucket",
        "S3Prefix": "reports",
        "S3Region": "us-east-1",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


PARQUET = {"Format": "Parquet", "Compression": "Parquet"}
ATHENA = {**PARQUET, "AdditionalArtifacts": ["ATHENA"], "ReportVersioning": "OVERWRITE_REPORT"}


def error_of(call: Callable[..., Any], **kw: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call(**kw)
    err = info.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def reports(cur: Any) -> dict[str, dict[str, Any]]:
    pages = cur.get_paginator("describe_report_definitions").paginate()
    return {r["ReportName"]: r for p in pages for r in p["ReportDefinitions"]}


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for p in pages for o in p.get("Contents", []))


def body(s3: Any, bucket: str, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def manifest(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(body(s3, bucket, key))
    return found


def csv_frame(s3: Any, bucket: str, key: str) -> Any:
    """A delivered CSV data file as a pandas DataFrame."""
    import pandas as pd

    raw = body(s3, bucket, key)
    if key.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            (name,) = zf.namelist()
            raw = zf.read(name)
    else:
        raw = gzip.decompress(raw)
    return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)


def parquet_table(s3: Any, bucket: str, key: str) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(body(s3, bucket, key)))


class Tenant:
    """One account with its own bucket, `<label>-<account>`, and clients."""

    def __init__(self, endpoint: str, label: str = "cur") -> None:
        self.account = fresh_account()
        self.bucket = f"{label}-{self.account}"
        self.cur = make_client(endpoint, "cur", self.account)
        self.s3 = make_client(endpoint, "s3", self.account)
        self.s3.create_bucket(Bucket=self.bucket)

    def put(self, name: str, **changes: Any) -> dict[str, Any]:
        report = definition(name, S3Bucket=self.bucket, **changes)
        self.cur.put_report_definition(ReportDefinition=report)
        return reports(self.cur)[name]

    def modify(self, name: str, **changes: Any) -> dict[str, Any]:
        report = definition(name, S3Bucket=self.bucket, **changes)
        self.cur.modify_report_definition(ReportName=name, ReportDefinition=report)
        return reports(self.cur)[name]

    def objects(self, prefix: str = "") -> list[str]:
        return keys(self.s3, self.bucket, prefix)

    def manifest(self, key: str) -> dict[str, Any]:
        return manifest(self.s3, self.bucket, key)
