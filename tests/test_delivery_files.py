"""Delivered files: both layouts and both overwrite modes, formats, manifests, permissions."""

from __future__ import annotations

import gzip
import io
import json
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from billing_support import (
    ACCOUNT,
    BUCKET,
    NOW,
    OTHER,
    deliver,
    expected_schema,
    export,
    keys,
    raw,
    read_parquet,
    runtime,
)

from bcm_local.delivery.exports import DeliveryError
from bcm_local.objects.backend import s3_backend

FOCUS_ALL = "SELECT * FROM FOCUS_1_2_AWS"
FOLDER = "focus/focus-monthly"


def test_floci_overwrite_report_keeps_one_file() -> None:
    with runtime() as rt:
        body = export(FOCUS_ALL)
        for run in ("run-1", "run-2", "run-3"):
            assert deliver(rt, body, run) == [f"{FOLDER}/{run}.parquet"]
        assert keys(rt, FOLDER + "/") == [f"{FOLDER}/run-3.parquet"]
        table = read_parquet(rt, f"{FOLDER}/run-3.parquet")
        assert table.schema.equals(expected_schema("FOCUS_1_2_AWS"))


def test_floci_create_new_report_keeps_every_run() -> None:
    with runtime() as rt:
        body = export(FOCUS_ALL, overwrite="CREATE_NEW_REPORT")
        other = export(FOCUS_ALL, name="focus-monthly-2")
        deliver(rt, other, "other-run")
        for run in ("run-1", "run-2"):
            deliver(rt, body, run)
        assert keys(rt, FOLDER + "/") == [f"{FOLDER}/run-1.parquet", f"{FOLDER}/run-2.parquet"]
        # overwriting one export never touches another export's folder
        deliver(rt, export(FOCUS_ALL), "run-3")
        assert keys(rt, "focus/focus-monthly-2/") == ["focus/focus-monthly-2/other-run.parquet"]


def test_same_seed_gives_identical_bytes() -> None:
    contents = []
    for _ in range(2):
        with runtime() as rt:
            for fmt in ("PARQUET", "TEXT_OR_CSV"):
                (key,) = deliver(rt, export("SELECT * FROM COST_AND_USAGE_REPORT", fmt=fmt))
                contents.append(raw(rt, key))
    assert contents[0] == contents[2] and contents[1] == contents[3]
    with runtime(BCM_LOCAL_BILLING_SEED="43") as rt:
        (key,) = deliver(rt, export("SELECT * FROM COST_AND_USAGE_REPORT"))
        assert raw(rt, key) != contents[0]


def test_csv_gzip_is_readable_by_pandas_and_duckdb(tmp_path: Path) -> None:
    with runtime() as rt:
        (key,) = deliver(rt, export(FOCUS_ALL, fmt="TEXT_OR_CSV"))
        assert key.endswith(".csv.gz")
        data = raw(rt, key)
        frame = pd.read_csv(io.BytesIO(data), compression="gzip")
        assert list(frame.columns) == [f.name for f in expected_schema("FOCUS_1_2_AWS")]
        path = tmp_path / "download.csv.gz"
        path.write_bytes(data)
        count = duckdb.sql(f"SELECT count(*) FROM read_csv('{path}')").fetchall()[0][0]
        assert count == len(frame)
        (pkey,) = deliver(rt, export(FOCUS_ALL, name="as-parquet"), "parquet-run")
        parquet = read_parquet(rt, pkey)
        assert len(frame) == parquet.num_rows
        assert frame["BilledCost"].sum() == pytest.approx(
            sum(parquet.column("BilledCost").to_pylist())
        )
        tags = [json.loads(t) for t in frame["Tags"].dropna()]
        assert all(isinstance(t, dict) for t in tags) and any(t.get("team") for t in tags)
        assert frame["ChargePeriodStart"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00\.000Z").all()
        assert gzip.decompress(data).startswith(b"AvailabilityZone,BilledCost,")


def test_aws_layout_overwrite_report_with_chunks_and_manifest() -> None:
    env = {"BCM_LOCAL_EXPORT_LAYOUT": "aws", "BCM_LOCAL_EXPORT_CHUNK_MB": "0.05"}
    with runtime(**env) as rt:
        body = export(
            "SELECT * FROM COST_AND_USAGE_REPORT",
            tables={"COST_AND_USAGE_REPORT": {"TIME_GRANULARITY": "HOURLY"}},
        )
        written = deliver(rt, body, "exec-1")
        data_dir = f"{FOLDER}/data/BILLING_PERIOD=2026-05/"
        chunks = [k for k in written if k.startswith(data_dir)]
        assert len(chunks) > 2
        assert chunks == [
            f"{data_dir}focus-monthly-{n:05d}.snappy.parquet" for n in range(1, len(chunks) + 1)
        ]
        manifest_key = f"{FOLDER}/metadata/BILLING_PERIOD=2026-05/focus-monthly-Manifest.json"
        assert written[-1] == manifest_key  # written after the data
        manifest = json.loads(raw(rt, manifest_key))
        assert manifest["executionId"] == "exec-1"
        assert manifest["billingPeriod"] == {
            "start": "20260501T000000.000Z",
            "end": "20260601T000000.000Z",
        }
        assert manifest["dataFiles"] == [f"s3://{BUCKET}/{k}" for k in chunks]
        schema = expected_schema("COST_AND_USAGE_REPORT")
        assert [c["name"] for c in manifest["columns"]] == schema.names
        total = sum(read_parquet(rt, k).num_rows for k in chunks)
        assert all(read_parquet(rt, k).schema.equals(schema) for k in chunks)
        # a smaller run overwrites the partition; surplus old chunks are emptied
        body["DataQuery"]["QueryStatement"] += " LIMIT 10"
        smaller = deliver(rt, body, "exec-2")
        assert f"{data_dir}focus-monthly-00001.snappy.parquet" in smaller
        assert keys(rt, data_dir) == chunks
        sizes = [read_parquet(rt, k).num_rows for k in chunks]
        assert sizes[0] == 10 and sum(sizes[1:]) == 0 and total > 10
        assert json.loads(raw(rt, manifest_key))["dataFiles"] == [f"s3://{BUCKET}/{chunks[0]}"]


def test_aws_layout_create_new_report_folders_and_latest_manifest() -> None:
    with runtime(BCM_LOCAL_EXPORT_LAYOUT="aws") as rt:
        body = export(FOCUS_ALL, fmt="TEXT_OR_CSV", overwrite="CREATE_NEW_REPORT")
        first = deliver(rt, body, "exec-1")
        second = deliver(rt, body, "exec-2", NOW + timedelta(hours=1))
        stamp1, stamp2 = "20260517T103000Z-exec-1", "20260517T113000Z-exec-2"
        part = "BILLING_PERIOD=2026-05"
        assert first == [
            f"{FOLDER}/data/{part}/{stamp1}/focus-monthly-00001.csv.gz",
            f"{FOLDER}/metadata/{part}/{stamp1}/focus-monthly-Manifest.json",
            f"{FOLDER}/metadata/{part}/focus-monthly-Manifest.json",
        ]
        assert second[0] == f"{FOLDER}/data/{part}/{stamp2}/focus-monthly-00001.csv.gz"
        assert len(keys(rt, f"{FOLDER}/data/")) == 2
        latest = json.loads(raw(rt, f"{FOLDER}/metadata/{part}/focus-monthly-Manifest.json"))
        assert latest["executionId"] == "exec-2"
        assert latest["compression"] == "GZIP"


def test_backfilled_months_are_delivered() -> None:
    env = {"BCM_LOCAL_BILLING_BACKFILL_MONTHS": "2"}
    with runtime(BCM_LOCAL_EXPORT_LAYOUT="aws", **env) as rt:
        written = deliver(rt, export(FOCUS_ALL))
        months = sorted({k.split("BILLING_PERIOD=")[1][:7] for k in written})
        assert months == ["2026-03", "2026-04", "2026-05"]
        for key in (k for k in written if k.endswith(".parquet")):
            month = key.split("BILLING_PERIOD=")[1][:7]
            starts = {
                d.strftime("%Y-%m")
                for d in read_parquet(rt, key).column("BillingPeriodStart").to_pylist()
            }
            assert starts == {month}
    with runtime(**env) as rt:
        (key,) = deliver(rt, export(FOCUS_ALL))
        starts = {d.month for d in read_parquet(rt, key).column("BillingPeriodStart").to_pylist()}
        assert starts == {3, 4, 5}


def test_bucket_problems_are_insufficient_permission() -> None:
    with runtime() as rt:
        s3_backend(rt).create_bucket(OTHER, "not-mine", "us-east-1")
        cases = [
            export(FOCUS_ALL, bucket="no-such-bucket"),
            export(FOCUS_ALL, bucket="not-mine"),
            export(FOCUS_ALL, owner=OTHER),
        ]
        for body in cases:
            with pytest.raises(DeliveryError) as caught:
                deliver(rt, body)
            assert caught.value.reason == "INSUFFICIENT_PERMISSION"
        assert keys(rt) == []
        # the named owner is the bucket's owner: delivered into that account's bucket
        (key,) = deliver(rt, export(FOCUS_ALL, bucket="not-mine", owner=OTHER))
        assert [k for k, _ in s3_backend(rt).list_keys("not-mine")] == [key]
        assert ACCOUNT != OTHER


def test_an_invalid_stored_query_fails_internally() -> None:
    with runtime() as rt, pytest.raises(DeliveryError) as caught:
        deliver(rt, export("SELECT nope FROM FOCUS_1_2_AWS"))
    assert caught.value.reason == "INTERNAL_FAILURE"


@pytest.mark.parametrize(
    "table",
    [
        "COST_OPTIMIZATION_RECOMMENDATIONS",
        "COST_AND_USAGE_DASHBOARD",
        "CARBON_EMISSIONS",
        "FOCUS_1_0_AWS",
    ],
)
def test_every_table_delivers_its_declared_schema(table: str) -> None:
    with runtime() as rt:
        (key,) = deliver(rt, export(f"SELECT * FROM {table}"))
        found = read_parquet(rt, key)
        assert found.schema.equals(expected_schema(table)) and found.num_rows > 0
