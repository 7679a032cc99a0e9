"""Cost Explorer's API beside the amounts: shapes, paging, the other read operations,
hourly and resource-level data, and AWS's errors, against a real server (boto3 and the
AWS CLI); figures are compared with the delivered CUR 2.0 file (tests/ce_support.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bcm_local.server.json_serializer import Serializer
from bcm_local.testing import ServerProcess
from bcm_local.wire.model import load
from benchmarks import loadgen
from tests import ce_support as cs
from tests.conftest import make_client, run_cli

SMALL_PAGES = {**cs.ENV, "BCM_LOCAL_CE_PAGE_SIZE": "7", "BCM_LOCAL_CE_REQUESTS_PER_SECOND": "0"}


@pytest.fixture(scope="module")
def bill() -> Iterator[cs.Delivered]:
    with ServerProcess(env=SMALL_PAGES) as server:
        yield cs.Delivered(server)


def _span(start: Any, end: Any) -> dict[str, str]:
    return {"Start": f"{start:%Y-%m-%d}", "End": f"{end:%Y-%m-%d}"}


def _error(call: Any, **kw: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kw)
    err = caught.value.response["Error"]
    return err["Code"], err["Message"]


def _month(bill: cs.Delivered) -> dict[str, str]:
    return _span(bill.first, bill.day(31).replace(day=1))


def test_pages_hold_at_most_the_page_size_and_add_up(bill: cs.Delivered) -> None:
    groups = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "TAG", "Key": "team"}]
    request = {
        "TimePeriod": _span(bill.day(3), bill.day(9)),
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": groups,
        "Filter": cs.NOT_BUCKETS,
    }
    pages, token = [], None
    while True:
        page = bill.ce.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
        pages.append(page)
        token = page.get("NextPageToken")
        if not token:
            break
    assert len(pages) > 3
    assert all(sum(len(e["Groups"]) for e in p["ResultsByTime"]) <= 7 for p in pages)
    assert all(p["GroupDefinitions"] == groups for p in pages)
    want = cs.expected(bill.kept, bill.day(3), bill.day(9), "DAILY", None, groups)
    got = cs.answered(bill.ce, **request)
    assert set(got) == set(want)
    assert all(abs(got[k]["UnblendedCost"] - v["UnblendedCost"]) < 1e-6 for k, v in want.items())


def test_a_token_is_bound_to_its_request(bill: cs.Delivered) -> None:
    request = {
        "TimePeriod": _month(bill),
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    token = bill.ce.get_cost_and_usage(**request)["NextPageToken"]
    changed = {**request, "Metrics": ["BlendedCost"]}
    code, _ = _error(bill.ce.get_cost_and_usage, **changed, NextPageToken=token)
    assert code == "RequestChangedException"
    code, _ = _error(bill.ce.get_cost_and_usage, **request, NextPageToken="bm90LWEtdG9rZW4=")
    assert code == "InvalidNextTokenException"
    again = bill.ce.get_cost_and_usage(**request, NextPageToken=token)
    assert again["ResultsByTime"]


def test_answers_follow_the_output_shape_exactly(bill: cs.Delivered) -> None:
    """The kept answers are written without the model's serializer; it would change
    nothing in them."""
    serialize = Serializer(load("ce"))
    calls = {
        "GetCostAndUsageResponse": bill.ce.get_cost_and_usage(
            TimePeriod=_month(bill),
            Granularity="MONTHLY",
            Metrics=["UnblendedCost", "UsageQuantity"],
            GroupBy=[{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
        ),
        "GetDimensionValuesResponse": bill.ce.get_dimension_values(
            TimePeriod=_month(bill), Dimension="USAGE_TYPE"
        ),
        "GetTagsResponse": bill.ce.get_tags(TimePeriod=_month(bill)),
    }
    for shape, answer in calls.items():
        answer.pop("ResponseMetadata")
        assert serialize(shape, answer) == answer


def test_linked_accounts_carry_their_names(bill: cs.Delivered) -> None:
    answer = bill.ce.get_cost_and_usage(
        TimePeriod=_month(bill),
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
    )
    names = {a["Value"]: a["Attributes"]["description"] for a in answer["DimensionValueAttributes"]}
    from_file = {
        r["line_item_usage_account_id"]: r["line_item_usage_account_name"]
        for r in bill.table.select(
            ["line_item_usage_account_id", "line_item_usage_account_name"]
        ).to_pylist()
    }
    assert names == from_file
    assert {g["Keys"][0] for e in answer["ResultsByTime"] for g in e["Groups"]} == set(names)


def test_estimated_is_the_open_month(bill: cs.Delivered) -> None:
    end = bill.now.replace(hour=0) + timedelta(days=1)
    answer = bill.ce.get_cost_and_usage(
        TimePeriod=_span(bill.first, end), Granularity="MONTHLY", Metrics=["UnblendedCost"]
    )
    flags = [(e["TimePeriod"]["Start"], e["Estimated"]) for e in answer["ResultsByTime"]]
    assert [f for _, f in flags] == [False, False, True], flags
    assert flags[-1][0] == f"{bill.now:%Y-%m}-01"


def test_dimension_values_are_the_files(bill: cs.Delivered) -> None:
    span = _month(bill)
    start, end = cs.parse_time(span["Start"]), cs.parse_time(span["End"])
    rows = [r for r in bill.rows if start <= r.t < end]
    for dimension in ("SERVICE", "REGION", "USAGE_TYPE", "RECORD_TYPE", "OPERATION"):
        values = []
        token = None
        while True:
            extra = {"NextPageToken": token} if token else {}
            page = bill.ce.get_dimension_values(TimePeriod=span, Dimension=dimension, **extra)
            values += [v["Value"] for v in page["DimensionValues"]]
            token = page.get("NextPageToken")
            if not token:
                break
        assert values == sorted({r.dims[dimension] for r in rows} - {""}), dimension
    units = bill.ce.get_dimension_values(TimePeriod=span, Dimension="USAGE_TYPE")
    by_type = {v["Value"]: v["Attributes"]["unit"] for v in units["DimensionValues"]}
    assert by_type["BoxUsage:m5.xlarge"] == "Hrs"


def test_dimension_values_search_sort_page_and_context(bill: cs.Delivered) -> None:
    span = _month(bill)
    found = bill.ce.get_dimension_values(
        TimePeriod=span, Dimension="SERVICE", SearchString="compute"
    )
    start, end = cs.parse_time(span["Start"]), cs.parse_time(span["End"])
    services = {r.dims["SERVICE"] for r in bill.rows if start <= r.t < end}
    assert {v["Value"] for v in found["DimensionValues"]} == {
        s for s in services if "compute" in s.lower()
    }
    assert "Amazon Elastic Compute Cloud - Compute" in services
    ranked = bill.ce.get_dimension_values(
        TimePeriod=span,
        Dimension="SERVICE",
        SortBy=[{"Key": "UnblendedCost", "SortOrder": "DESCENDING"}],
    )["DimensionValues"]
    costs = cs.answered(
        bill.ce,
        TimePeriod=span,
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
    )
    by_service = {k[1][0]: v["UnblendedCost"] for k, v in costs.items()}
    order = [v["Value"] for v in ranked]
    assert order == sorted(by_service, key=lambda s: (-by_service[s], s))
    first = bill.ce.get_dimension_values(
        TimePeriod=span, Dimension="SERVICE", MaxResults=2, SortBy=[{"Key": "UnblendedCost"}]
    )
    assert first["ReturnSize"] == 2 and first["TotalSize"] == len(order)
    assert [v["Value"] for v in first["DimensionValues"]] == order[:2]
    assert first["NextPageToken"]
    plans = bill.ce.get_dimension_values(
        TimePeriod=span, Dimension="SAVINGS_PLAN_ARN", Context="SAVINGS_PLANS"
    )["DimensionValues"]
    assert plans and all(":savingsplan/" in v["Value"] for v in plans)
    code, message = _error(
        bill.ce.get_dimension_values, TimePeriod=span, Dimension="SERVICE", Context="SAVINGS_PLANS"
    )
    assert code == "ValidationException" and "SAVINGS_PLANS" in message


def test_tags_are_the_files(bill: cs.Delivered) -> None:
    span = _month(bill)
    start, end = cs.parse_time(span["Start"]), cs.parse_time(span["End"])
    rows = [r for r in bill.rows if start <= r.t < end]
    keys = bill.ce.get_tags(TimePeriod=span)["Tags"]
    assert keys == sorted({k for r in rows for k in r.tags})
    teams = bill.ce.get_tags(TimePeriod=span, TagKey="team")["Tags"]
    assert teams == sorted({r.tags["team"] for r in rows if "team" in r.tags})
    some = bill.ce.get_tags(TimePeriod=span, TagKey="team", SearchString=teams[0][:3])["Tags"]
    assert teams[0] in some and all(teams[0][:3].lower() in t.lower() for t in some)


def test_with_resources_breaks_the_same_cost_down(bill: cs.Delivered) -> None:
    day = bill.now.replace(hour=0) - timedelta(days=3)
    ec2 = {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Elastic Compute Cloud - Compute"]}}
    span = _span(day, day + timedelta(days=2))
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for entry in cs.all_results(
        bill.ce,
        resources=True,
        TimePeriod=span,
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        Filter=ec2,
        GroupBy=[{"Type": "DIMENSION", "Key": "RESOURCE_ID"}],
    ):
        by_resource.setdefault(entry["TimePeriod"]["Start"], []).extend(entry["Groups"])
    total = bill.ce.get_cost_and_usage(
        TimePeriod=span, Granularity="DAILY", Metrics=["UnblendedCost"], Filter=ec2
    )
    assert len(by_resource) == len(total["ResultsByTime"]) == 2
    for whole in total["ResultsByTime"]:
        parts = by_resource[whole["TimePeriod"]["Start"]]
        summed = sum(float(g["Metrics"]["UnblendedCost"]["Amount"]) for g in parts)
        assert abs(summed - float(whole["Total"]["UnblendedCost"]["Amount"])) < 1e-6
        assert any(g["Keys"][0].startswith("i-") for g in parts)
    old = _span(day - timedelta(days=20), day)
    code, message = _error(
        bill.ce.get_cost_and_usage_with_resources,
        TimePeriod=old,
        Granularity="DAILY",
        Filter=ec2,
    )
    assert code == "ValidationException" and "14 days" in message


def test_hourly_sums_to_daily(bill: cs.Delivered) -> None:
    day = bill.now.replace(hour=0) - timedelta(days=2)
    hours = list(
        cs.all_results(
            bill.ce,
            TimePeriod={
                "Start": f"{day:%Y-%m-%dT%H:%M:%SZ}",
                "End": f"{day + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}",
            },
            Granularity="HOURLY",
            Metrics=["UnblendedCost"],
            Filter=cs.NOT_BUCKETS,
        )
    )
    assert len(hours) == 24 and hours[0]["TimePeriod"]["Start"].endswith("T00:00:00Z")
    daily = bill.ce.get_cost_and_usage(
        TimePeriod=_span(day, day + timedelta(days=1)),
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        Filter=cs.NOT_BUCKETS,
    )["ResultsByTime"][0]
    summed = sum(float(h["Total"]["UnblendedCost"]["Amount"]) for h in hours)
    assert abs(summed - float(daily["Total"]["UnblendedCost"]["Amount"])) < 1e-6


def test_validation_errors(bill: cs.Delivered) -> None:
    month = _month(bill)
    base = {"TimePeriod": month, "Granularity": "DAILY", "Metrics": ["UnblendedCost"]}
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"TimePeriod": {"Start": month["End"], "End": month["Start"]}},
            "ValidationException",
            "before end",
        ),
        (
            {"TimePeriod": {"Start": "2026-02-30", "End": month["End"]}},
            "ValidationException",
            "not a valid date",
        ),
        ({"Metrics": ["Cost"]}, "ValidationException", "not valid"),
        (
            {"GroupBy": [{"Type": "DIMENSION", "Key": k} for k in ("SERVICE", "REGION", "AZ")]},
            "ValidationException",
            "up to 2",
        ),
        ({"GroupBy": [{"Type": "DIMENSION", "Key": "COLOUR"}]}, "ValidationException", "COLOUR"),
        (
            {"GroupBy": [{"Type": "DIMENSION", "Key": "RESOURCE_ID"}]},
            "ValidationException",
            "RESOURCE_ID",
        ),
        ({"Granularity": "HOURLY"}, "ValidationException", "14 days"),
        (
            {"TimePeriod": {"Start": "2020-01-01", "End": "2020-02-01"}},
            "DataUnavailableException",
            "2020-01-01",
        ),
        (
            {"TimePeriod": {"Start": "2030-01-01", "End": "2030-02-01"}},
            "ValidationException",
            "current date",
        ),
        (
            {
                "Filter": {
                    "Dimensions": {"Key": "SERVICE", "Values": ["x"]},
                    "Tags": {"Key": "team", "Values": ["x"]},
                }
            },
            "ValidationException",
            "more than one root",
        ),
        (
            {"Filter": {"And": [{"Dimensions": {"Key": "SERVICE", "Values": ["x"]}}]}},
            "ValidationException",
            "at least 2",
        ),
        (
            {"BillingViewArn": "arn:aws:billing::123456789012:billingview/custom-x"},
            "ResourceNotFoundException",
            "custom-x",
        ),
    ]
    for change, code, part in cases:
        got, message = _error(bill.ce.get_cost_and_usage, **{**base, **change})
        assert (got, part.lower() in message.lower()) == (code, True), (change, got, message)
    primary = f"arn:aws:billing::{cs.ACCOUNT}:billingview/primary"
    assert bill.ce.get_cost_and_usage(**base, BillingViewArn=primary)["ResultsByTime"]


def test_with_resources_needs_a_filter_on_the_wire(bill: cs.Delivered) -> None:
    """botocore checks required members itself; the server checks them too."""
    body = json.dumps({"TimePeriod": _month(bill), "Granularity": "DAILY"}).encode()
    raw = loadgen.json_call(
        bill.server.endpoint,
        "AWSInsightsIndexService.GetCostAndUsageWithResources",
        body,
        "ce",
    )
    status, _ = loadgen.once(bill.server.endpoint, raw)
    assert status == 400


def test_the_aws_cli_gets_the_same_answer(bill: cs.Delivered) -> None:
    span = _month(bill)
    args = [
        "ce",
        "get-cost-and-usage",
        "--time-period",
        f"Start={span['Start']},End={span['End']}",
        "--granularity",
        "MONTHLY",
        "--metrics",
        "UnblendedCost",
        "--group-by",
        "Type=DIMENSION,Key=SERVICE",
    ]
    env = {"AWS_ACCESS_KEY_ID": cs.ACCOUNT}
    entries: list[dict[str, Any]] = []
    token: list[str] = []
    while True:  # the CLI does not page Cost Explorer by itself
        out = run_cli(bill.server.endpoint, *args, *token, env=env)
        entries += out["ResultsByTime"]
        if not out.get("NextPageToken"):
            break
        token = ["--next-page-token", out["NextPageToken"]]
    sdk = cs.answered(
        bill.ce,
        TimePeriod=span,
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
    )
    cli = {
        g["Keys"][0]: float(g["Metrics"]["UnblendedCost"]["Amount"])
        for e in entries
        for g in e["Groups"]
    }
    assert cli == {k[1][0]: v["UnblendedCost"] for k, v in sdk.items()}


def test_rate_limit_and_hourly_switch() -> None:
    env = {**cs.ENV, "BCM_LOCAL_CE_REQUESTS_PER_SECOND": "1", "BCM_LOCAL_CE_HOURLY": "false"}
    with ServerProcess(env=env) as server:
        ce = make_client(server.endpoint, "ce", cs.ACCOUNT)
        request = {
            "TimePeriod": {"Start": "2026-05-20", "End": "2026-05-21"},
            "Granularity": "DAILY",
            "Metrics": ["UnblendedCost"],
        }
        ce.get_cost_and_usage(**request)  # builds the bill (over a second)
        ce.get_cost_and_usage(**request)
        assert _error(ce.get_cost_and_usage, **request)[0] == "LimitExceededException"
    env = {**cs.ENV, "BCM_LOCAL_CE_HOURLY": "false"}
    with ServerProcess(env=env) as server:
        ce = make_client(server.endpoint, "ce", cs.ACCOUNT)
        code, message = _error(
            ce.get_cost_and_usage,
            TimePeriod={"Start": "2026-05-25T00:00:00Z", "End": "2026-05-25T05:00:00Z"},
            Granularity="HOURLY",
            Metrics=["UnblendedCost"],
        )
        assert code == "ValidationException" and "BCM_LOCAL_CE_HOURLY" in message


def _listed_dimensions(context: str) -> list[str]:
    """The dimensions AWS's own model documents for a GetDimensionValues context."""
    import re

    doc = load("ce").shape("GetDimensionValuesRequest")["members"]["Context"]["documentation"]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", doc))
    part = re.split(rf"context to {context} ?, you can use the following dimensions", text)[1]
    part = re.split(r"If you set the context to", part)[0]
    return re.findall(
        r"\b([A-Z][A-Z_]+[A-Z]) (?:\(Utilization only\) |\(Coverage only\) )?- ", part
    )


def test_every_documented_dimension_is_answered(bill: cs.Delivered) -> None:
    """Every dimension AWS lists for COST_AND_USAGE maps to the bill (PRODUCT_ATTRIBUTE,
    Bedrock's product attributes, is the one left out, see the README)."""
    listed = _listed_dimensions("COST_AND_USAGE")
    assert {"SERVICE", "USAGE_TYPE_GROUP", "RECORD_TYPE", "RESOURCE_ID"} <= set(listed)
    day = bill.now.replace(hour=0) - timedelta(days=2)
    span = _span(day, day + timedelta(days=1))
    answered = {}
    for dimension in listed:
        if dimension == "PRODUCT_ATTRIBUTE":
            continue
        answer = bill.ce.get_dimension_values(TimePeriod=span, Dimension=dimension)
        answered[dimension] = answer["TotalSize"]
    assert answered["SERVICE"] > 5 and answered["RESOURCE_ID"] > 5
    for context in ("RESERVATIONS", "SAVINGS_PLANS"):
        for dimension in _listed_dimensions(context):
            if dimension in ("SCOPE", "TAG"):
                continue  # utilization and coverage (issue 20)
            bill.ce.get_dimension_values(TimePeriod=span, Dimension=dimension, Context=context)
