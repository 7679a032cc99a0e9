"""Billing views (`billing`) on a real server with boto3: the primary view, custom views
and their source views, tags, AWS's errors, persistence; and Cost Explorer through a view,
which answers exactly the slice of the delivered CUR 2.0 file the view lets through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bcm_local.testing import ServerProcess, export_body
from tests import ce_support as cs
from tests.conftest import code_of, make_client

PRIMARY = f"arn:aws:billing::{cs.ACCOUNT}:billingview/primary"


@pytest.fixture(scope="module")
def bill() -> Iterator[cs.Delivered]:
    with ServerProcess(env=cs.ENV) as server:
        yield cs.Delivered(server)


@pytest.fixture(scope="module")
def billing(bill: cs.Delivered) -> Any:
    return make_client(bill.server.endpoint, "billing", cs.ACCOUNT)


def _accounts(bill: cs.Delivered) -> list[str]:
    return sorted({r.dims["LINKED_ACCOUNT"] for r in bill.rows})


def test_the_primary_view_is_always_there(billing: Any) -> None:
    view = billing.get_billing_view(arn=PRIMARY)["billingView"]
    assert view["billingViewType"] == "PRIMARY" and view["ownerAccountId"] == cs.ACCOUNT
    listed = billing.list_billing_views()["billingViews"]
    assert listed[0]["arn"] == PRIMARY


def test_custom_views_live_and_die_as_in_aws(billing: Any) -> None:
    made = billing.create_billing_view(
        name="team one",
        description="accounts of team one",
        sourceViews=[PRIMARY],
        dataFilterExpression={"tags": {"key": "team", "values": ["storefront"]}},
        resourceTags=[{"key": "owner", "value": "finops"}],
    )
    arn = made["arn"]
    assert arn.startswith(f"arn:aws:billing::{cs.ACCOUNT}:billingview/custom-")
    view = billing.get_billing_view(arn=arn)["billingView"]
    assert view["name"] == "team one" and view["billingViewType"] == "CUSTOM"
    assert view["sourceViewCount"] == 1 and view["derivedViewCount"] == 0
    assert view["dataFilterExpression"] == {"tags": {"key": "team", "values": ["storefront"]}}
    assert billing.list_tags_for_resource(resourceArn=arn)["resourceTags"] == [
        {"key": "owner", "value": "finops"}
    ]
    child = billing.create_billing_view(name="child", sourceViews=[arn])["arn"]
    assert billing.get_billing_view(arn=arn)["billingView"]["derivedViewCount"] == 1
    assert billing.list_source_views_for_billing_view(arn=child)["sourceViews"] == [arn]
    names = billing.list_billing_views(names=[{"searchOption": "STARTS_WITH", "searchValue": "te"}])
    assert [v["arn"] for v in names["billingViews"]] == [arn]
    custom = billing.list_billing_views(billingViewTypes=["CUSTOM"], maxResults=1)
    assert len(custom["billingViews"]) == 1 and custom["nextToken"]
    rest = billing.list_billing_views(billingViewTypes=["CUSTOM"], nextToken=custom["nextToken"])
    assert {v["arn"] for v in custom["billingViews"] + rest["billingViews"]} >= {arn, child}

    billing.update_billing_view(arn=arn, name="team one renamed")
    assert billing.get_billing_view(arn=arn)["billingView"]["name"] == "team one renamed"
    billing.associate_source_views(arn=child, sourceViews=[PRIMARY])
    assert len(billing.list_source_views_for_billing_view(arn=child)["sourceViews"]) == 2
    billing.disassociate_source_views(arn=child, sourceViews=[PRIMARY])
    assert code_of(billing.associate_source_views, arn=arn, sourceViews=[child]) == (
        "ValidationException"  # a cycle
    )
    assert code_of(billing.delete_billing_view, arn=arn) == "ConflictException"  # child uses it
    billing.delete_billing_view(arn=child)
    billing.delete_billing_view(arn=arn)
    assert code_of(billing.get_billing_view, arn=arn) == "ResourceNotFoundException"


def test_errors_are_aws_s(billing: Any) -> None:
    other = "arn:aws:billing::999999999999:billingview/primary"
    assert code_of(billing.get_billing_view, arn=other) == "AccessDeniedException"
    assert code_of(billing.create_billing_view, name="x", sourceViews=[other]) == (
        "AccessDeniedException"
    )
    missing = f"arn:aws:billing::{cs.ACCOUNT}:billingview/custom-nope"
    assert code_of(billing.create_billing_view, name="x", sourceViews=[missing]) == (
        "ResourceNotFoundException"
    )
    assert code_of(billing.create_billing_view, name="bad/name", sourceViews=[PRIMARY]) == (
        "ValidationException"
    )
    assert code_of(billing.delete_billing_view, arn=PRIMARY) == "ValidationException"
    assert code_of(billing.update_billing_view, arn=PRIMARY, name="mine") == "ValidationException"
    backwards = {"timeRange": {"beginDateInclusive": 1780000000, "endDateInclusive": 1770000000}}
    assert code_of(
        billing.create_billing_view, name="x", sourceViews=[PRIMARY], dataFilterExpression=backwards
    ) == ("ValidationException")
    with pytest.raises(ClientError) as caught:
        billing.create_billing_view(name="bad/name", sourceViews=[PRIMARY])
    assert caught.value.response["Error"]["Message"]


def test_cost_explorer_through_a_view_is_the_views_slice_of_the_file(
    bill: cs.Delivered, billing: Any
) -> None:
    accounts = _accounts(bill)
    assert len(accounts) >= 2
    allowed = accounts[:1]
    arn = billing.create_billing_view(
        name="one account",
        sourceViews=[PRIMARY],
        dataFilterExpression={"dimensions": {"key": "LINKED_ACCOUNT", "values": allowed}},
    )["arn"]
    span = {"Start": f"{bill.first:%Y-%m-%d}", "End": "2026-05-27"}
    groups = [
        {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
        {"Type": "DIMENSION", "Key": "SERVICE"},
    ]
    request = {
        "TimePeriod": span,
        "Granularity": "MONTHLY",
        "Metrics": list(cs.METRICS),
        "GroupBy": groups,
        "Filter": cs.NOT_BUCKETS,
    }
    got = cs.answered(bill.ce, **request, BillingViewArn=arn)
    in_view = {
        "And": [cs.NOT_BUCKETS, {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": allowed}}]
    }
    want = cs.expected(
        bill.rows, bill.first, cs.parse_time("2026-05-27"), "MONTHLY", in_view, groups
    )
    assert set(got) == set(want)
    for key, sums in want.items():
        for metric in cs.METRICS:
            assert abs(got[key][metric] - sums[metric]) < 5e-7, (key, metric)
    assert {keys[0] for _, keys in got} == set(allowed)
    values = bill.ce.get_dimension_values(
        TimePeriod=span, Dimension="LINKED_ACCOUNT", BillingViewArn=arn
    )["DimensionValues"]
    assert [v["Value"] for v in values] == allowed

    # a view on the view, narrowed by a tag; then the first view is narrowed itself
    tagged = billing.create_billing_view(
        name="one account storefront",
        sourceViews=[arn],
        dataFilterExpression={"tags": {"key": "team", "values": ["storefront"]}},
    )["arn"]
    narrow = {"And": [in_view, {"Tags": {"Key": "team", "Values": ["storefront"]}}]}
    got = cs.answered(bill.ce, **request, BillingViewArn=tagged)
    want = cs.expected(
        bill.rows, bill.first, cs.parse_time("2026-05-27"), "MONTHLY", narrow, groups
    )
    assert set(got) == set(want) and want
    billing.update_billing_view(
        arn=arn,
        dataFilterExpression={"dimensions": {"key": "LINKED_ACCOUNT", "values": accounts[1:2]}},
    )
    moved = cs.answered(bill.ce, **request, BillingViewArn=arn)  # not a kept answer of before
    assert {keys[0] for _, keys in moved} == set(accounts[1:2])
    assert (
        code_of(
            bill.ce.get_cost_and_usage,
            **request,
            BillingViewArn=f"arn:aws:billing::{cs.ACCOUNT}:billingview/custom-gone",
        )
        == "ResourceNotFoundException"
    )
    assert (
        code_of(
            bill.ce.get_cost_and_usage,
            **request,
            BillingViewArn="arn:aws:billing::999999999999:billingview/primary",
        )
        == "AccessDeniedException"
    )


def test_views_survive_a_restart(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path, env=cs.ENV) as server:
        client = make_client(server.endpoint, "billing", cs.ACCOUNT)
        arn = client.create_billing_view(
            name="kept",
            sourceViews=[PRIMARY],
            dataFilterExpression={"costCategories": {"key": "BusinessUnit", "values": ["Retail"]}},
            resourceTags=[{"key": "k", "value": "v"}],
        )["arn"]
    with ServerProcess(data_dir=tmp_path, env=cs.ENV) as server:
        client = make_client(server.endpoint, "billing", cs.ACCOUNT)
        view = client.get_billing_view(arn=arn)["billingView"]
        assert view["name"] == "kept"
        assert view["dataFilterExpression"]["costCategories"]["values"] == ["Retail"]
        assert client.list_tags_for_resource(resourceArn=arn)["resourceTags"] == [
            {"key": "k", "value": "v"}
        ]


def _delivered_rows(bill: cs.Delivered, prefix: str) -> list[cs.Row]:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    s3 = make_client(bill.server.endpoint, "s3", cs.ACCOUNT)
    listed = s3.list_objects_v2(Bucket=cs.BUCKET, Prefix=prefix).get("Contents", [])
    parts = [
        pq.read_table(io.BytesIO(s3.get_object(Bucket=cs.BUCKET, Key=o["Key"])["Body"].read()))
        for o in listed
        if o["Key"].endswith(".parquet")
    ]
    assert parts, listed
    return cs.rows_of(pa.concat_tables(parts))


def test_an_export_through_a_view_holds_the_slice_ce_answers(
    bill: cs.Delivered, billing: Any
) -> None:
    accounts = _accounts(bill)
    allowed = accounts[-1:]
    arn = billing.create_billing_view(
        name="export slice",
        sourceViews=[PRIMARY],
        dataFilterExpression={"dimensions": {"key": "LINKED_ACCOUNT", "values": allowed}},
    )["arn"]
    tables = {"COST_AND_USAGE_REPORT": {"INCLUDE_RESOURCES": "TRUE", "BILLING_VIEW_ARN": arn}}
    body = export_body("through-view", bucket=cs.BUCKET, prefix="viewed", tables=tables)
    make_client(bill.server.endpoint, "bcm-data-exports", cs.ACCOUNT).create_export(Export=body)
    rows = _delivered_rows(bill, "viewed/")
    assert rows and {r.dims["LINKED_ACCOUNT"] for r in rows} == set(allowed)
    whole = [r for r in bill.rows if r.dims["LINKED_ACCOUNT"] in allowed]
    assert len(rows) == len(whole)  # the view's export is the whole bill's rows of the slice
    groups = [{"Type": "DIMENSION", "Key": "SERVICE"}]
    end = cs.parse_time("2026-05-27")
    request = {
        "TimePeriod": {"Start": f"{bill.first:%Y-%m-%d}", "End": "2026-05-27"},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost", "AmortizedCost"],
        "GroupBy": groups,
        "Filter": cs.NOT_BUCKETS,
        "BillingViewArn": arn,
    }
    got = cs.answered(bill.ce, **request)
    want = cs.expected(rows, bill.first, end, "MONTHLY", cs.NOT_BUCKETS, groups)
    assert set(got) == set(want)
    for key, sums in want.items():
        for metric in ("UnblendedCost", "AmortizedCost"):
            assert abs(got[key][metric] - sums[metric]) < 5e-7, (key, metric)


def test_a_legacy_report_takes_no_custom_view(bill: cs.Delivered, billing: Any) -> None:
    """The CUR model's BillingViewArn pattern allows view ids of up to 31 characters (the
    primary and billing group views), so a custom view's ARN is refused there, as in AWS;
    a billing group's view (Billing Conductor is not emulated) is the whole bill."""
    arn = billing.create_billing_view(name="not for cur", sourceViews=[PRIMARY])["arn"]
    cur = make_client(bill.server.endpoint, "cur", cs.ACCOUNT)
    report = {
        "ReportName": "viewed-report",
        "TimeUnit": "MONTHLY",
        "Format": "textORcsv",
        "Compression": "GZIP",
        "AdditionalSchemaElements": [],
        "S3Bucket": cs.BUCKET,
        "S3Prefix": "viewed-cur",
        "S3Region": "us-east-1",
        "RefreshClosedReports": True,
        "ReportVersioning": "OVERWRITE_REPORT",
    }
    assert code_of(
        cur.put_report_definition, ReportDefinition={**report, "BillingViewArn": arn}
    ) == ("ValidationException")
    group = f"arn:aws:billing::{cs.ACCOUNT}:billingview/billing-group-123456789012"
    cur.put_report_definition(ReportDefinition={**report, "BillingViewArn": group})
    view = billing.get_billing_view(arn=group)["billingView"]
    assert view["billingViewType"] == "BILLING_GROUP"
    status = {
        r["ReportName"]: r.get("ReportStatus", {})
        for r in cur.describe_report_definitions()["ReportDefinitions"]
    }
    assert status["viewed-report"].get("lastStatus") == "SUCCESS"
