"""Cost allocation tags (`ce`) on a real server with boto3: the bill's tag keys listed with
their status, deactivation taking a tag out of the current month of later deliveries and
of Cost Explorer, a backfill taking it out of past months too, and AWS's errors."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bcm_local.testing import ServerProcess, export_body
from tests import ce_support as cs
from tests.conftest import code_of, make_client


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env=cs.ENV) as running:
        yield running


def _deliver(server: ServerProcess, name: str) -> pa.Table:
    s3 = make_client(server.endpoint, "s3", cs.ACCOUNT)
    s3.create_bucket(Bucket=name)
    body = export_body(name, bucket=name, prefix="cur2")
    make_client(server.endpoint, "bcm-data-exports", cs.ACCOUNT).create_export(Export=body)
    listed = s3.list_objects_v2(Bucket=name, Prefix="cur2/").get("Contents", [])
    parts = [
        pq.read_table(io.BytesIO(s3.get_object(Bucket=name, Key=o["Key"])["Body"].read()))
        for o in listed
        if o["Key"].endswith(".parquet")
    ]
    assert parts, listed
    return pa.concat_tables(parts)


def _months_with(table: pa.Table, tag: str) -> set[str]:
    """The months whose rows carry `tag` in CUR 2.0's resource_tags and tags columns."""
    found = set()
    rows = zip(
        table.column("line_item_usage_start_date").to_pylist(),
        table.column("resource_tags").to_pylist(),
        table.column("tags").to_pylist(),
        strict=True,
    )
    for start, resource_tags, tags in rows:
        if f"user_{tag}" in dict(resource_tags or {}) or f"resourceTags/{tag}" in dict(tags or {}):
            found.add(f"{start:%Y-%m}")
    return found


def test_the_bills_tags_are_listed_active(ce: Any) -> None:
    listed = ce.list_cost_allocation_tags()["CostAllocationTags"]
    keys = {t["TagKey"]: t for t in listed}
    assert {"team", "env"} <= set(keys)
    assert keys["team"]["Type"] == "UserDefined" and keys["team"]["Status"] == "Active"
    assert keys["team"]["LastUsedDate"] == "2026-05-01T00:00:00Z"
    page = ce.list_cost_allocation_tags(MaxResults=1)
    assert len(page["CostAllocationTags"]) == 1 and page["NextToken"]
    rest = ce.list_cost_allocation_tags(NextToken=page["NextToken"])["CostAllocationTags"]
    assert [t["TagKey"] for t in page["CostAllocationTags"] + rest] == [t["TagKey"] for t in listed]
    only = ce.list_cost_allocation_tags(TagKeys=["team"], Type="UserDefined")
    assert [t["TagKey"] for t in only["CostAllocationTags"]] == ["team"]
    assert ce.list_cost_allocation_tags(Status="Inactive")["CostAllocationTags"] == []
    assert code_of(ce.list_cost_allocation_tags, NextToken="forged") == "InvalidNextTokenException"


def test_deactivation_then_backfill(server: ServerProcess, ce: Any) -> None:
    before = _deliver(server, "tags-before")
    assert _months_with(before, "env") == {"2026-03", "2026-04", "2026-05"}
    answer = ce.update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[
            {"TagKey": "env", "Status": "Inactive"},
            {"TagKey": "no-such-tag", "Status": "Active"},
        ]
    )
    assert [e["TagKey"] for e in answer["Errors"]] == ["no-such-tag"]
    env = ce.list_cost_allocation_tags(TagKeys=["env"])["CostAllocationTags"][0]
    assert env["Status"] == "Inactive" and env["LastUpdatedDate"].startswith("2026-05-27T")
    # the current month of later deliveries and of Cost Explorer loses it; past months keep it
    after = _deliver(server, "tags-after")
    assert _months_with(after, "env") == {"2026-03", "2026-04"}
    assert _months_with(after, "team") == {"2026-03", "2026-04", "2026-05"}
    may = {"Start": "2026-05-01", "End": "2026-05-27"}
    assert "env" not in ce.get_tags(TimePeriod=may)["Tags"]
    assert "env" in ce.get_tags(TimePeriod={"Start": "2026-03-01", "End": "2026-04-01"})["Tags"]
    grouped = ce.get_cost_and_usage(
        TimePeriod=may,
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "TAG", "Key": "env"}],
    )["ResultsByTime"][0]["Groups"]
    assert [g["Keys"] for g in grouped] == [["env$"]]
    # a backfill applies the change from its month on
    made = ce.start_cost_allocation_tag_backfill(BackfillFrom="2026-04-01T00:00:00Z")
    assert made["BackfillRequest"]["BackfillStatus"] == "SUCCEEDED"
    filled = _deliver(server, "tags-filled")
    assert _months_with(filled, "env") == {"2026-03"}
    history = ce.list_cost_allocation_tag_backfill_history()["BackfillRequests"]
    assert [h["BackfillFrom"] for h in history] == ["2026-04-01T00:00:00Z"]
    assert (
        code_of(ce.start_cost_allocation_tag_backfill, BackfillFrom="2026-03-01T00:00:00Z")
        == "BackfillLimitExceededException"  # one a day
    )
    # reactivated: back in the current month
    ce.update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[{"TagKey": "env", "Status": "Active"}]
    )
    assert "env" in ce.get_tags(TimePeriod=may)["Tags"]


def test_backfill_dates_are_checked(ce: Any) -> None:
    for bad in ("2026-04-02T00:00:00Z", "2026-06-01T00:00:00Z", "2025-01-01T00:00:00Z"):
        assert code_of(ce.start_cost_allocation_tag_backfill, BackfillFrom=bad) == (
            "ValidationException"
        )


def test_statuses_survive_a_restart(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path, env=cs.ENV) as running:
        make_client(running.endpoint, "ce", cs.ACCOUNT).update_cost_allocation_tags_status(
            CostAllocationTagsStatus=[{"TagKey": "team", "Status": "Inactive"}]
        )
    with ServerProcess(data_dir=tmp_path, env=cs.ENV) as running:
        client = make_client(running.endpoint, "ce", cs.ACCOUNT)
        team = client.list_cost_allocation_tags(TagKeys=["team"])["CostAllocationTags"][0]
        assert team["Status"] == "Inactive"
        span = {"Start": "2026-05-01", "End": "2026-05-27"}
        assert "team" not in client.get_tags(TimePeriod=span)["Tags"]
