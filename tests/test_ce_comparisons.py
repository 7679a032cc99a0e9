"""GetCostAndUsageComparisons and GetCostComparisonDrivers against a real server with
three months of history: every amount equals GetCostAndUsage MONTHLY of the same month,
filter and group (asked of the same server); drivers sum to the differences; paging;
every validation error."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bcm_local.billing.queries.comparisons import Sums
from bcm_local.billing.queries.drivers import parts
from bcm_local.testing import ServerProcess
from tests.conftest import NO_RETRY, make_client

ACCOUNT = "123456789012"
# the suite's clock is 2026-05-27 (tests/conftest.py); 3 months back: Feb to May 2026
FEB = {"Start": "2026-02-01", "End": "2026-03-01"}
MAR = {"Start": "2026-03-01", "End": "2026-04-01"}
APR = {"Start": "2026-04-01", "End": "2026-05-01"}
MAY = {"Start": "2026-05-01", "End": "2026-06-01"}
NOT_TAX = {"Not": {"Dimensions": {"Key": "SERVICE", "Values": ["Tax"]}}}
DOCUMENTED_TYPES = {
    "BUNDLED_DISCOUNT", "CREDIT", "OUT_OF_CYCLE_CHARGE", "REFUND", "RECURRING_RESERVATION_FEE",
    "RESERVATION_USAGE", "RI_VOLUME_DISCOUNT", "SAVINGS_PLAN_USAGE",
    "SAVINGS_PLAN_RECURRING_FEE", "SUPPORT_FEE", "TAX", "UPFRONT_RESERVATION_FEE",
    "USAGE_CHANGE", "COMMITMENT",
}  # fmt: skip
OWN_TYPES = {"RATE_CHANGE", "NEW_USAGE", "REMOVED_USAGE"}
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def history() -> Iterator[ServerProcess]:
    with ServerProcess(env={"BCM_LOCAL_BILLING_BACKFILL_MONTHS": "3"}) as proc:
        yield proc


@pytest.fixture(scope="module")
def ce(history: ServerProcess) -> Any:
    return make_client(history.endpoint, "ce", access_key=ACCOUNT)


@pytest.fixture(scope="module")
def raw_ce(history: ServerProcess) -> Any:
    """A client that sends what it is given (no client-side checks)."""
    config = NO_RETRY.merge(Config(parameter_validation=False))
    return make_client(history.endpoint, "ce", access_key=ACCOUNT, config=config)


def _request(
    metric: str, baseline: dict[str, str], comparison: dict[str, str], **kw: Any
) -> dict[str, Any]:
    params = {
        "BaselineTimePeriod": baseline,
        "ComparisonTimePeriod": comparison,
        "MetricForComparison": metric,
    }
    return params | {k: v for k, v in kw.items() if v is not None}


def _all_pages(call: Any, member: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token = None
    while True:
        page = call(**params, **({"NextPageToken": token} if token else {}))
        out += page[member]
        token = page.get("NextPageToken")
        if not token:
            return out


def _keys_of(selector: dict[str, Any] | None) -> tuple[str, ...]:
    """GetCostAndUsage's group Keys for a selector (the same values, TAG as key$value)."""
    if selector is None:
        return ()
    leaves = selector.get("And", [selector])
    keys = []
    for leaf in leaves:
        ((root, body),) = leaf.items()
        value = "" if body["MatchOptions"] == ["ABSENT"] else body["Values"][0]
        keys.append(value if root == "Dimensions" else f"{body['Key']}${value}")
    return tuple(keys)


def _monthly(
    ce: Any, metric: str, month: dict[str, str], group_by: Any, filter_: Any
) -> tuple[dict[tuple[str, ...], dict[str, str]], dict[str, str]]:
    """GetCostAndUsage MONTHLY of one month: ({keys: metric value}, total)."""
    params: dict[str, Any] = {"TimePeriod": month, "Granularity": "MONTHLY", "Metrics": [metric]}
    if filter_:
        params["Filter"] = filter_
    total = ce.get_cost_and_usage(**params)["ResultsByTime"][0]["Total"][metric]
    groups: dict[tuple[str, ...], dict[str, str]] = {}
    if group_by:
        for entry in _all_pages(ce.get_cost_and_usage, "ResultsByTime", **params, GroupBy=group_by):
            for g in entry["Groups"]:
                groups[tuple(g["Keys"])] = g["Metrics"][metric]
    return groups, total


def _close(a: str | float, b: str | float) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=TOLERANCE)


def _zero() -> dict[str, str]:
    return {"Amount": "0", "Unit": ""}


CASES = [
    ("UnblendedCost", FEB, APR, None, None),
    ("UnblendedCost", MAR, APR, [{"Type": "DIMENSION", "Key": "SERVICE"}], None),
    ("AmortizedCost", APR, MAY, [{"Type": "DIMENSION", "Key": "SERVICE"}], NOT_TAX),
    (
        "NetUnblendedCost",
        MAY,
        MAR,
        [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "TAG", "Key": "team"}],
        None,
    ),
    ("UsageQuantity", MAR, MAY, [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}], NOT_TAX),
    ("BlendedCost", FEB, MAR, [{"Type": "TAG", "Key": "env"}], NOT_TAX),
]


@pytest.mark.parametrize(("metric", "baseline", "comparison", "group_by", "filter_"), CASES)
def test_comparisons_equal_monthly_cost_and_usage(
    ce: Any, metric: str, baseline: Any, comparison: Any, group_by: Any, filter_: Any
) -> None:
    params = _request(metric, baseline, comparison, GroupBy=group_by, Filter=filter_)
    answer = ce.get_cost_and_usage_comparisons(**params)
    found = answer["CostAndUsageComparisons"]
    groups0, total0 = _monthly(ce, metric, baseline, group_by, filter_)
    groups1, total1 = _monthly(ce, metric, comparison, group_by, filter_)
    total = answer["TotalCostAndUsage"][metric]
    assert _close(total["BaselineTimePeriodAmount"], total0["Amount"])
    assert _close(total["ComparisonTimePeriodAmount"], total1["Amount"])
    assert _close(total["Difference"], float(total1["Amount"]) - float(total0["Amount"]))
    assert found, "the bill has lines in both months"
    if not group_by:
        assert len(found) == 1 and "CostAndUsageSelector" not in found[0]
        assert found[0]["Metrics"] == answer["TotalCostAndUsage"]
        return
    keys = [_keys_of(c["CostAndUsageSelector"]) for c in found]
    assert set(keys) == set(groups0) | set(groups1)  # every group either month has
    for key, c in zip(keys, found, strict=True):
        value = c["Metrics"][metric]
        b, m = groups0.get(key, _zero()), groups1.get(key, _zero())
        assert _close(value["BaselineTimePeriodAmount"], b["Amount"]), key
        assert _close(value["ComparisonTimePeriodAmount"], m["Amount"]), key
        assert _close(value["Difference"], float(m["Amount"]) - float(b["Amount"])), key
        if metric != "UsageQuantity" or (b["Unit"] and m["Unit"] and b["Unit"] == m["Unit"]):
            assert value["Unit"] in {b["Unit"], m["Unit"]}, key
    sizes = [abs(float(c["Metrics"][metric]["Difference"])) for c in found]
    assert sizes == sorted(sizes, reverse=True)  # the largest change first
    assert _close(
        sum(float(c["Metrics"][metric]["Difference"]) for c in found), total["Difference"]
    )


def test_a_selector_is_a_filter_for_its_group(ce: Any) -> None:
    """GetCostAndUsage filtered by a comparison's selector (and the request's filter)
    answers the comparison's amounts."""
    group_by = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "TAG", "Key": "team"}]
    params = _request("UnblendedCost", MAR, APR, GroupBy=group_by, Filter=NOT_TAX)
    found = ce.get_cost_and_usage_comparisons(**params)["CostAndUsageComparisons"]
    for c in found[:4]:
        where = {"And": [NOT_TAX, c["CostAndUsageSelector"]]}
        value = c["Metrics"]["UnblendedCost"]
        for month, member in (
            (MAR, "BaselineTimePeriodAmount"),
            (APR, "ComparisonTimePeriodAmount"),
        ):
            _, total = _monthly(ce, "UnblendedCost", month, None, where)
            assert _close(total["Amount"], value[member]), c["CostAndUsageSelector"]


DRIVER_CASES = [
    ("UnblendedCost", MAR, APR, None, None),
    ("AmortizedCost", FEB, MAY, None, NOT_TAX),
    ("NetAmortizedCost", APR, MAR, [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}], None),
    ("UsageQuantity", MAR, MAY, [{"Type": "DIMENSION", "Key": "SERVICE"}], None),
]


@pytest.mark.parametrize(("metric", "baseline", "comparison", "group_by", "filter_"), DRIVER_CASES)
def test_drivers_sum_to_the_difference(
    ce: Any, metric: str, baseline: Any, comparison: Any, group_by: Any, filter_: Any
) -> None:
    params = _request(metric, baseline, comparison, GroupBy=group_by, Filter=filter_)
    found = _all_pages(ce.get_cost_comparison_drivers, "CostComparisonDrivers", **params)
    assert found
    by_usage = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]
    keys_by = [*(group_by or []), *(g for g in by_usage if g not in (group_by or []))]
    grouped = len(keys_by) <= 2  # GetCostAndUsage groups by two keys at most
    if grouped:
        groups0, _ = _monthly(ce, metric, baseline, keys_by, filter_)
        groups1, _ = _monthly(ce, metric, comparison, keys_by, filter_)
    overall = 0.0
    for n, d in enumerate(found):
        total = d["Metrics"][metric]
        key = _keys_of(d["CostSelector"])
        if grouped:
            b = float(groups0.get(key, _zero())["Amount"])
            m = float(groups1.get(key, _zero())["Amount"])
        elif n < 4:  # the selector as a filter
            where = {"And": [filter_, d["CostSelector"]]} if filter_ else d["CostSelector"]
            b = float(_monthly(ce, metric, baseline, None, where)[1]["Amount"])
            m = float(_monthly(ce, metric, comparison, None, where)[1]["Amount"])
        else:
            b = float(total["BaselineTimePeriodAmount"])
            m = float(total["ComparisonTimePeriodAmount"])
        assert _close(total["BaselineTimePeriodAmount"], b), key
        assert _close(total["ComparisonTimePeriodAmount"], m), key
        parts_sum = 0.0
        for driver in d["CostDrivers"]:
            assert driver["Type"] in DOCUMENTED_TYPES | OWN_TYPES
            value = driver["Metrics"][metric]
            low = float(value["BaselineTimePeriodAmount"])
            high = float(value["ComparisonTimePeriodAmount"])
            assert _close(value["Difference"], high - low)
            parts_sum += float(value["Difference"])
        assert _close(parts_sum, total["Difference"]), key
        overall += float(total["Difference"])
    if grouped:  # every selector that changed is there
        changed = {
            k
            for k in set(groups0) | set(groups1)
            if not _close(groups0.get(k, _zero())["Amount"], groups1.get(k, _zero())["Amount"])
        }
        assert changed <= {_keys_of(d["CostSelector"]) for d in found}
    every = ce.get_cost_and_usage_comparisons(**params)["TotalCostAndUsage"][metric]
    assert _close(overall, every["Difference"])


def test_usage_change_is_at_the_baseline_rate(ce: Any) -> None:
    """On the bill's own lines: USAGE_CHANGE moves the baseline amount by the change of
    usage at the baseline rate; RATE_CHANGE takes it from there to the comparison."""
    params = _request("UnblendedCost", FEB, MAY)
    found = _all_pages(ce.get_cost_comparison_drivers, "CostComparisonDrivers", **params)
    kinds = {x["Type"] for d in found for x in d["CostDrivers"]}
    assert {"USAGE_CHANGE", "RATE_CHANGE"} <= kinds  # the bill has both (tiers move rates)
    checked = 0
    for d in found:
        by_type = {x["Type"]: x["Metrics"] for x in d["CostDrivers"]}
        usage = by_type.get("USAGE_CHANGE")
        if usage is None or float(usage["UsageQuantity"]["BaselineTimePeriodAmount"]) == 0:
            continue
        cost, quantity = usage["UnblendedCost"], usage["UsageQuantity"]
        rate = float(cost["BaselineTimePeriodAmount"]) / float(quantity["BaselineTimePeriodAmount"])
        expected = float(quantity["ComparisonTimePeriodAmount"]) * rate
        assert _close(cost["ComparisonTimePeriodAmount"], expected)
        if "RATE_CHANGE" in by_type:
            rate_change = by_type["RATE_CHANGE"]["UnblendedCost"]
            assert _close(rate_change["BaselineTimePeriodAmount"], expected)
        checked += 1
    assert checked


def _sums(b: float, c: float, u0: float, u1: float, n0: int = 1, n1: int = 1) -> Sums:
    return Sums(b, c, u0, u1, n0, n1, frozenset({"Hrs"}))


@pytest.mark.parametrize(
    "s",
    [
        _sums(10.0, 18.0, 5.0, 6.0),  # more usage, higher rate
        _sums(12.5, 3.0, 25.0, 10.0),  # less usage, lower rate
        _sums(7.0, 7.0, 2.0, 3.5),  # usage up, rate down, same amount
    ],
)
def test_usage_splits_into_usage_and_rate_change(s: Sums) -> None:
    r0, r1 = s.baseline / s.baseline_usage, s.comparison / s.comparison_usage
    found = {kind: high - low for kind, low, high in parts("USAGE", s)}
    assert math.isclose(found["USAGE_CHANGE"], (s.comparison_usage - s.baseline_usage) * r0)
    assert math.isclose(found["RATE_CHANGE"], (r1 - r0) * s.comparison_usage)
    assert math.isclose(sum(found.values()), s.difference)


def test_new_removed_and_charges_are_whole() -> None:
    new = _sums(0.0, 4.0, 0.0, 2.0, n0=0)
    removed = _sums(4.0, 0.0, 2.0, 0.0, n1=0)
    no_rate = _sums(3.0, 5.0, 0.0, 1.0)
    tax = _sums(3.0, 5.0, 0.0, 0.0)
    assert [(k, high - low) for k, low, high in parts("USAGE", new)] == [("NEW_USAGE", 4.0)]
    assert [(k, high - low) for k, low, high in parts("USAGE", removed)] == [
        ("REMOVED_USAGE", -4.0)
    ]
    assert [(k, high - low) for k, low, high in parts("USAGE", no_rate)] == [("USAGE_CHANGE", 2.0)]
    assert [(k, high - low) for k, low, high in parts("TAX", tax)] == [("TAX", 2.0)]


def test_paging(ce: Any) -> None:
    group_by = [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}]
    params = _request("UnblendedCost", MAR, APR, GroupBy=group_by)
    whole = ce.get_cost_and_usage_comparisons(**params)
    assert "NextPageToken" not in whole and len(whole["CostAndUsageComparisons"]) > 3
    first = ce.get_cost_and_usage_comparisons(**params, MaxResults=3)
    assert len(first["CostAndUsageComparisons"]) == 3 and first["NextPageToken"]
    paged = _all_pages(
        ce.get_cost_and_usage_comparisons, "CostAndUsageComparisons", **params, MaxResults=3
    )
    assert paged == whole["CostAndUsageComparisons"]
    second = ce.get_cost_and_usage_comparisons(
        **params, MaxResults=3, NextPageToken=first["NextPageToken"]
    )
    assert second["TotalCostAndUsage"] == whole["TotalCostAndUsage"]  # the total on every page
    drivers = _request("UnblendedCost", MAR, APR)
    ten = _all_pages(ce.get_cost_comparison_drivers, "CostComparisonDrivers", **drivers)
    two = _all_pages(
        ce.get_cost_comparison_drivers, "CostComparisonDrivers", **drivers, MaxResults=2
    )
    assert two == ten and len(ten) > 2
    page = ce.get_cost_comparison_drivers(**drivers)
    assert len(page["CostComparisonDrivers"]) == min(10, len(ten))
    with pytest.raises(ClientError) as err:  # a token of another request
        ce.get_cost_and_usage_comparisons(
            **_request("BlendedCost", MAR, APR, GroupBy=group_by),
            MaxResults=3,
            NextPageToken=first["NextPageToken"],
        )
    assert err.value.response["Error"]["Code"] == "RequestChangedException"


OPERATIONS = ("get_cost_and_usage_comparisons", "get_cost_comparison_drivers")
GOOD = _request("UnblendedCost", MAR, APR)
INVALID = [
    {"BaselineTimePeriod": {"Start": "2026-03-02", "End": "2026-04-01"}},
    {"BaselineTimePeriod": {"Start": "2026-03-01", "End": "2026-03-31"}},
    {"BaselineTimePeriod": {"Start": "2026-02-01", "End": "2026-04-01"}},
    {"ComparisonTimePeriod": {"Start": "2026-04-15", "End": "2026-05-15"}},
    {"ComparisonTimePeriod": {"Start": "2026/04/01", "End": "2026/05/01"}},
    {"ComparisonTimePeriod": {"Start": "2026-06-01", "End": "2026-07-01"}},  # after this month
    {"BaselineTimePeriod": {"Start": "2025-03-01", "End": "2025-04-01"}},  # 14 months back
    {"MetricForComparison": "Cost"},
    {"GroupBy": [{"Type": "DIMENSION", "Key": "NOT_A_DIMENSION"}]},
    {"GroupBy": [{"Type": "LABEL", "Key": "SERVICE"}]},
    {"GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}] * 2},
    {"GroupBy": [{"Type": "TAG", "Key": k} for k in ("a", "b", "c")]},
    {"Filter": {"Dimensions": {"Key": "SERVICE", "Values": ["x"]}, "Tags": {"Key": "team"}}},
    {"Filter": {"And": [{"Dimensions": {"Key": "SERVICE", "Values": ["x"]}}]}},
    {"MaxResults": 0},
]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("change", INVALID)
def test_validation_errors(raw_ce: Any, operation: str, change: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as err:
        getattr(raw_ce, operation)(**(GOOD | change))
    assert err.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize(
    ("operation", "most"),
    [("get_cost_and_usage_comparisons", 2000), ("get_cost_comparison_drivers", 10)],
)
def test_max_results_limits(raw_ce: Any, operation: str, most: int) -> None:
    assert getattr(raw_ce, operation)(**GOOD, MaxResults=most)
    with pytest.raises(ClientError) as err:
        getattr(raw_ce, operation)(**GOOD, MaxResults=most + 1)
    assert err.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_errors_of_the_bill_the_view_and_the_token(raw_ce: Any, operation: str) -> None:
    call = getattr(raw_ce, operation)
    before = {"BaselineTimePeriod": {"Start": "2026-01-01", "End": "2026-02-01"}}  # 4 months back
    other_view = {"BillingViewArn": "arn:aws:billing::999999999999:billingview/primary"}
    cases = [
        (before, "DataUnavailableException"),
        (other_view, "AccessDeniedException"),
        ({"NextPageToken": "not-a-token"}, "InvalidNextTokenException"),
    ]
    for change, code in cases:
        with pytest.raises(ClientError) as err:
            call(**(GOOD | change))
        assert err.value.response["Error"]["Code"] == code, change
