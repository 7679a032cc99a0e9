"""Cost Explorer's amounts are the export's: for hypothesis-drawn intervals, filters and
groupings, every GetCostAndUsage figure equals the same aggregation over the CUR 2.0 file
the same server delivered, read back from its S3 (tests/ce_support.py recomputes it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bcm_local.testing import ServerProcess
from tests import ce_support as cs

TOLERANCE = 1e-6  # CE writes 10 decimals; sums of the same doubles in another order


@pytest.fixture(scope="module")
def bill() -> Iterator[cs.Delivered]:
    with ServerProcess(env=cs.ENV) as server:
        yield cs.Delivered(server)


def _close(
    want: dict[Any, dict[str, float]], got: dict[Any, dict[str, float]], metrics: list[str]
) -> None:
    assert set(got) == set(want), (sorted(set(got) ^ set(want), key=str)[:5], len(got), len(want))
    for key, sums in want.items():
        for m in metrics:
            assert abs(got[key][m] - sums[m]) <= TOLERANCE, (key, m, got[key][m], sums[m])


GROUP_DIMENSIONS = (
    "SERVICE",
    "LINKED_ACCOUNT",
    "REGION",
    "USAGE_TYPE",
    "OPERATION",
    "RECORD_TYPE",
    "AZ",
    "INSTANCE_TYPE",
    "PURCHASE_TYPE",
    "USAGE_TYPE_GROUP",
    "PLATFORM",
    "TENANCY",
    "LEGAL_ENTITY_NAME",
)
GROUPS = [{"Type": "DIMENSION", "Key": k} for k in GROUP_DIMENSIONS] + [
    {"Type": "TAG", "Key": "team"},
    {"Type": "TAG", "Key": "env"},
    {"Type": "COST_CATEGORY", "Key": "BusinessUnit"},
]
COMPARES = ["STARTS_WITH", "ENDS_WITH", "CONTAINS", "GREATER_THAN_OR_EQUAL"]


def pools(rows: list[cs.Row]) -> dict[str, list[str]]:
    """The values found in the file, by dimension, tag key and cost category."""
    found: dict[str, set[str]] = {}
    for r in rows:
        for key in GROUP_DIMENSIONS:
            found.setdefault(key, set()).add(r.dims[key])
        for key, value in r.tags.items():
            found.setdefault(f"tag:{key}", set()).add(value)
        for key, value in r.categories.items():
            found.setdefault(f"category:{key}", set()).add(value)
    return {k: sorted(v) for k, v in found.items()}


@st.composite
def leaves(draw: Any, values: dict[str, list[str]]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Dimensions", "Dimensions", "Tags", "CostCategories"]))
    options: list[str] = []
    if draw(st.booleans()):
        options.append(draw(st.sampled_from(COMPARES)))
    if draw(st.booleans()):
        options.append(draw(st.sampled_from(["CASE_SENSITIVE", "CASE_INSENSITIVE"])))
    if kind == "Dimensions":
        key = draw(st.sampled_from(GROUP_DIMENSIONS))
        pool = values[key]
        if draw(st.integers(0, 9)) == 0:
            options = ["ABSENT"]
    else:
        key = draw(st.sampled_from(["team", "env"])) if kind == "Tags" else "BusinessUnit"
        pool = [*values[f"tag:{key}" if kind == "Tags" else f"category:{key}"], ""]
        if draw(st.integers(0, 6)) == 0:
            options = ["ABSENT"]
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    if options and options[0] in COMPARES:  # a prefix, suffix or part of a value
        chosen = [draw(st.sampled_from([v[:3], v[-3:], v[1:4], v.upper()])) for v in chosen]
    leaf: dict[str, Any] = {"Key": key, "Values": chosen}
    if options:
        leaf["MatchOptions"] = options
    return {kind: leaf}


def expressions(values: dict[str, list[str]]) -> Any:
    return st.recursive(
        leaves(values),
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: {"And": xs}),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: {"Or": xs}),
            inner.map(lambda x: {"Not": x}),
        ),
        max_leaves=4,
    )


def _request(bill: cs.Delivered, data: Any) -> tuple[dict[str, Any], Any]:
    days = (bill.now - bill.first).days
    first = data.draw(st.integers(0, days - 1), label="start day")
    length = data.draw(st.integers(1, 70), label="length")
    start = bill.day(first)
    end = min(start + timedelta(days=length), bill.now.replace(hour=0) + timedelta(days=1))
    granularity = data.draw(st.sampled_from(["DAILY", "MONTHLY"]))
    groups = data.draw(st.lists(st.sampled_from(GROUPS), max_size=2, unique_by=str))
    expr = data.draw(st.none() | expressions(pools(bill.kept)), label="filter")
    metrics = data.draw(st.lists(st.sampled_from(cs.METRICS), min_size=1, max_size=3, unique=True))
    full = {"And": [expr, cs.NOT_BUCKETS]} if expr else cs.NOT_BUCKETS
    request: dict[str, Any] = {
        "TimePeriod": {"Start": f"{start:%Y-%m-%d}", "End": f"{end:%Y-%m-%d}"},
        "Granularity": granularity,
        "Metrics": metrics,
        "Filter": full,
    }
    if groups:
        request["GroupBy"] = groups
    return request, (start, end, granularity, expr, groups)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_amount_equals_the_delivered_file(bill: cs.Delivered, data: Any) -> None:
    request, (start, end, granularity, expr, groups) = _request(bill, data)
    want = cs.expected(bill.kept, start, end, granularity, expr, groups)
    got = cs.answered(bill.ce, **request)
    if not groups:  # every bucket has a Total; the file only the buckets with lines
        for key in [k for k in got if k not in want]:
            assert all(abs(v) <= TOLERANCE for v in got[key].values()), (key, got[key])
            del got[key]
    _close(want, got, request["Metrics"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_groups_sum_to_the_total(bill: cs.Delivered, data: Any) -> None:
    request, _ = _request(bill, data)
    request.pop("GroupBy", None)
    totals = cs.answered(bill.ce, **request)
    group = data.draw(st.sampled_from(GROUPS))
    grouped = cs.answered(bill.ce, **request, GroupBy=[group])
    for (start, _), sums in totals.items():
        for m, total in sums.items():
            parts = sum(v[m] for (s, _), v in grouped.items() if s == start)
            assert abs(parts - total) <= TOLERANCE * 10, (start, m, parts, total)


def test_the_whole_bill_by_service_and_month(bill: cs.Delivered) -> None:
    """One plain question, answered for every metric: nothing filtered but the buckets."""
    end = bill.now.replace(hour=0) + timedelta(days=1)
    request = {
        "TimePeriod": {"Start": f"{bill.first:%Y-%m-%d}", "End": f"{end:%Y-%m-%d}"},
        "Granularity": "MONTHLY",
        "Metrics": list(cs.METRICS),
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "Filter": cs.NOT_BUCKETS,
    }
    want = cs.expected(bill.kept, bill.first, end, "MONTHLY", None, request["GroupBy"])
    got = cs.answered(bill.ce, **request)
    _close(want, got, list(cs.METRICS))
    assert len({k[0] for k in got}) == 3  # two closed months and the open one
    services = {k[1][0] for k in got}
    assert {"Amazon Elastic Compute Cloud - Compute", "EC2 - Other", "Tax"} <= services


def test_the_bucket_lines_are_what_moves(bill: cs.Delivered) -> None:
    """Why the comparisons leave the bucket lines out: they are the emulator's own S3, whose
    requests (these tests' reads among them) are billed."""
    assert any(r.tags.get("created-by") == "bcm-local" for r in bill.rows)
    assert {r.dims["SERVICE"] for r in bill.rows if r.tags.get("created-by")} == {
        "Amazon Simple Storage Service"
    }
