"""GetRightsizingRecommendation (`ce`) on a real server with boto3: the same EC2 instances,
actions and estimated monthly savings as the COST_OPTIMIZATION_RECOMMENDATIONS export of
the same bill, read back from the emulated S3."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from bcm_local.testing import ServerProcess, export_body
from tests import ce_support as cs
from tests.conftest import make_client

TYPES = {"Stop": "TERMINATE", "Rightsize": "MODIFY", "MigrateToGraviton": "MODIFY"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env=cs.ENV) as running:
        yield running


@pytest.fixture(scope="module")
def exported(server: ServerProcess) -> list[dict[str, Any]]:
    """The export's Ec2Instance recommendations, every action."""
    s3 = make_client(server.endpoint, "s3", cs.ACCOUNT)
    s3.create_bucket(Bucket="recos")
    tables = {"COST_OPTIMIZATION_RECOMMENDATIONS": {"INCLUDE_ALL_RECOMMENDATIONS": "TRUE"}}
    body = export_body(
        "recos",
        "SELECT * FROM COST_OPTIMIZATION_RECOMMENDATIONS",
        bucket="recos",
        prefix="recos",
        tables=tables,
    )
    make_client(server.endpoint, "bcm-data-exports", cs.ACCOUNT).create_export(Export=body)
    listed = s3.list_objects_v2(Bucket="recos", Prefix="recos/")["Contents"]
    rows: list[dict[str, Any]] = []
    for o in listed:
        if o["Key"].endswith(".parquet"):
            raw = s3.get_object(Bucket="recos", Key=o["Key"])["Body"].read()
            rows += pq.read_table(io.BytesIO(raw)).to_pylist()
    return [r for r in rows if r["current_resource_type"] == "Ec2Instance"]


def _best(rows: list[dict[str, Any]], actions: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["action_type"] not in actions:
            continue
        key = r["resource_arn"]
        saving = r["estimated_monthly_savings_after_discount"]
        if key not in best or saving > best[key]["estimated_monthly_savings_after_discount"]:
            best[key] = r
    return best


def _all(ce: Any, **kw: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    found, token, first = [], None, None
    while True:
        page = ce.get_rightsizing_recommendation(
            Service="AmazonEC2", **kw, **({"NextPageToken": token} if token else {})
        )
        first = first or page
        found += page["RightsizingRecommendations"]
        token = page.get("NextPageToken")
        if not token:
            return found, first


@pytest.mark.parametrize(
    ("target", "actions"),
    [
        ("SAME_INSTANCE_FAMILY", ("Stop", "Rightsize")),
        ("CROSS_INSTANCE_FAMILY", ("Stop", "Rightsize", "MigrateToGraviton")),
    ],
)
def test_the_recommendations_are_the_exports(
    server: ServerProcess, exported: list[dict[str, Any]], target: str, actions: tuple[str, ...]
) -> None:
    ce = make_client(server.endpoint, "ce", cs.ACCOUNT)
    config = {"RecommendationTarget": target, "BenefitsConsidered": True}
    found, first = _all(ce, Configuration=config, PageSize=2)
    best = _best(exported, actions)
    assert best and len(found) == len(best)
    by_id = {r["resource_arn"].rsplit("/", 1)[-1]: r for r in best.values()}
    total = 0.0
    for rec in found:
        row = by_id[rec["CurrentInstance"]["ResourceId"]]
        assert rec["AccountId"] == row["account_id"]
        assert rec["RightsizingType"] == TYPES[row["action_type"]]
        saving = row["estimated_monthly_savings_after_discount"]
        total += saving
        if rec["RightsizingType"] == "TERMINATE":
            got = float(rec["TerminateRecommendationDetail"]["EstimatedMonthlySavings"])
        else:
            (instance,) = rec["ModifyRecommendationDetail"]["TargetInstances"]
            got = float(instance["EstimatedMonthlySavings"])
            summary = row["recommended_resource_summary"]
            assert instance["ResourceDetails"]["EC2ResourceDetails"]["InstanceType"] == summary
        assert got == pytest.approx(saving, abs=1e-6)
    summary = first["Summary"]
    assert int(summary["TotalRecommendationCount"]) == len(best)
    assert float(summary["EstimatedTotalMonthlySavingsAmount"]) == pytest.approx(total, abs=1e-6)


def test_a_filter_and_errors(server: ServerProcess, exported: list[dict[str, Any]]) -> None:
    ce = make_client(server.endpoint, "ce", cs.ACCOUNT)
    account = sorted({r["account_id"] for r in exported})[0]
    only = {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [account]}}
    found, _ = _all(ce, Filter=only)
    assert found and {r["AccountId"] for r in found} == {account}
    with pytest.raises(ClientError) as caught:
        ce.get_rightsizing_recommendation(Service="AmazonRDS")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
