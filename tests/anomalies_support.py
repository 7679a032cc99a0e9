"""Shared by tests/test_ce_anomalies.py: docs/ce-anomalies.md's method redone in plain
Python (statistics.median) on GetCostAndUsage's daily figures, and the default scenario's
spike as Cost Explorer names it."""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from typing import Any

import pytest

from bcm_local.billing.queries import anomalies as method
from bcm_local.billing.scenario.default import DEFAULT_SCENARIO
from bcm_local.billing.scenario.periods import add_months
from tests import ce_support as cs

TODAY = cs.parse_time(cs.NOW).date()
FIRST = add_months(cs.parse_time(cs.NOW).replace(day=1, hour=0, minute=0, second=0), -2).date()
SPIKE = DEFAULT_SCENARIO["spikes"][0]
SPIKE_DAY = (
    add_months(cs.parse_time(cs.NOW), -SPIKE["months_back"]).date().replace(day=SPIKE["day"])
)
SERVICE_MONITOR: dict[str, Any] = {
    "MonitorName": "services",
    "MonitorType": "DIMENSIONAL",
    "MonitorDimension": "SERVICE",
}
USAGE: dict[str, Any] = {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(method.RECORD_TYPES)}}


def all_anomalies(ce: Any, **request: Any) -> list[dict[str, Any]]:
    """GetAnomalies, every page."""
    found, token = [], None
    while True:
        page = ce.get_anomalies(**request, **({"NextPageToken": token} if token else {}))
        found += page["Anomalies"]
        token = page.get("NextPageToken")
        if not token:
            return found


def anomalies(ce: Any, monitor: str) -> list[dict[str, Any]]:
    """Every anomaly of one monitor in the bill."""
    return all_anomalies(ce, MonitorArn=monitor, DateInterval={"StartDate": FIRST.isoformat()})


def every(*leaves: dict[str, Any]) -> dict[str, Any]:
    """The Expression that matches all of `leaves`."""
    return {"And": list(leaves)} if len(leaves) > 1 else leaves[0]


def dim(key: str, value: str) -> dict[str, Any]:
    return {"Dimensions": {"Key": key, "Values": [value]}}


def daily(ce: Any, where: dict[str, Any], group: str | None = None) -> dict[str, dict[date, float]]:
    """Each group's (or the one series') usage net unblended cost per day, from
    GetCostAndUsage DAILY over the bill's complete days."""
    request: dict[str, Any] = {
        "TimePeriod": {"Start": FIRST.isoformat(), "End": TODAY.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [method.METRIC],
        "Filter": where,
    }
    if group:
        request["GroupBy"] = [{"Type": "DIMENSION", "Key": group}]
    out: dict[str, dict[date, float]] = {}
    for (start, keys), metrics in cs.answered(ce, **request).items():
        name = keys[0] if keys else ""
        out.setdefault(name, {})[start.date()] = metrics[method.METRIC]
    return out


DAYS = [FIRST + timedelta(days=i) for i in range((TODAY - FIRST).days)]


def windows(series: dict[date, float]) -> dict[date, tuple[float, list[date]]]:
    """Per evaluated day: its cost and the days of its baseline (docs/ce-anomalies.md)."""
    costs = [series.get(d, 0.0) for d in DAYS]
    first = next((i for i, c in enumerate(costs) if c != 0), len(costs))
    out = {}
    for i in range(first, len(DAYS)):
        history = DAYS[max(first, i - method.BASELINE_DAYS) : i]
        if len(history) >= method.MIN_HISTORY:
            out[DAYS[i]] = (costs[i], history)
    return out


def scored(cost: float, history: list[float]) -> tuple[float, float]:
    """(expected cost, modified z-score) of a day from its baseline days' costs."""
    expected = statistics.median(history)
    mad = statistics.median(abs(x - expected) for x in history)
    scale = max(mad, method.SCALE_FLOOR * abs(expected), 0.01)
    return expected, 0.6745 * (cost - expected) / scale


def redone(series: dict[date, float]) -> list[dict[str, Any]]:
    """The anomalies of one series: runs of consecutive anomalous days."""
    runs: list[dict[str, Any]] = []
    for day, (cost, window) in windows(series).items():
        expected, score = scored(cost, [series.get(d, 0.0) for d in window])
        if score < method.THRESHOLD or cost - expected < method.MIN_IMPACT:
            continue
        if runs and runs[-1]["end"] == day - timedelta(days=1):
            run = runs[-1]
        else:
            run = {"start": day, "actual": 0.0, "expected": 0.0, "scores": [], "impacts": []}
            runs.append(run)
        run["end"] = day
        run["actual"] += cost
        run["expected"] += expected
        run["scores"].append(score)
        run["impacts"].append(cost - expected)
    return runs


def same(got: dict[str, Any], run: dict[str, Any]) -> None:
    """The API's anomaly is the redone run, to the cent (amounts) and 0.01 (scores)."""
    impact = got["Impact"]
    assert got["AnomalyStartDate"] == run["start"].isoformat()
    assert got["AnomalyEndDate"] == run["end"].isoformat()
    assert impact["TotalActualSpend"] == pytest.approx(run["actual"], abs=0.006)
    assert impact["TotalExpectedSpend"] == pytest.approx(run["expected"], abs=0.006)
    assert impact["TotalImpact"] == pytest.approx(run["actual"] - run["expected"], abs=0.006)
    assert impact["MaxImpact"] == pytest.approx(max(run["impacts"]), abs=0.006)
    percentage = (run["actual"] - run["expected"]) / run["expected"] * 100
    assert impact["TotalImpactPercentage"] == pytest.approx(percentage, abs=0.006)
    assert got["AnomalyScore"]["MaxScore"] == pytest.approx(max(run["scores"]), abs=0.006)
    assert got["AnomalyScore"]["CurrentScore"] == pytest.approx(run["scores"][-1], abs=0.006)


def service_of_spike(ce: Any) -> str:
    """CE's name of the spiked service (its SERVICE for the scenario's product code)."""
    found = cs.answered(
        ce,
        TimePeriod={"Start": SPIKE_DAY.isoformat(), "End": (SPIKE_DAY + timedelta(1)).isoformat()},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        Filter=dim("SERVICE_CODE", SPIKE["service"]),
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
    )
    (name,) = {keys[0] for _, keys in found}
    return name


def account_of_spike(ce: Any) -> tuple[str, str]:
    """(id, name) of the spiked account, by its name in the scenario."""
    (name,) = [
        a["name"]
        for a in DEFAULT_SCENARIO["organization"]["accounts"]
        if a["key"] == SPIKE["account"]
    ]
    values = ce.get_dimension_values(
        TimePeriod={"Start": FIRST.isoformat(), "End": TODAY.isoformat()},
        Dimension="LINKED_ACCOUNT",
    )["DimensionValues"]
    (found,) = [v["Value"] for v in values if v["Attributes"].get("description") == name]
    return found, name


def subscription(monitors: list[str], **changes: Any) -> dict[str, Any]:
    """A CreateAnomalySubscription body: one email subscriber, daily."""
    return {
        "MonitorArnList": monitors,
        "Subscribers": [{"Address": "finops@example.com", "Type": "EMAIL"}],
        "Frequency": "DAILY",
        "SubscriptionName": "finops",
        **changes,
    }
