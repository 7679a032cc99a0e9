"""Cost Anomaly Detection on a real server with the default bill (three months, the clock
pinned): monitors, subscriptions, GetAnomalies and feedback through boto3 and the AWS CLI.

The anomalies are checked against docs/ce-anomalies.md's method redone here in plain
Python on GetCostAndUsage's daily figures (statistics.median, not DuckDB): the same days
are anomalous, with the same actual and expected spend, scores and root-cause
contributions. The spike comes from the default scenario (billing/scenario/default.py);
nothing here knows its numbers.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bcm_local.billing.queries import anomalies as method
from bcm_local.billing.scenario.default import DEFAULT_SCENARIO
from bcm_local.billing.scenario.periods import add_months
from bcm_local.testing import ServerProcess
from tests import ce_support as cs
from tests.conftest import make_client, run_cli

TODAY = cs.parse_time(cs.NOW).date()
FIRST = add_months(cs.parse_time(cs.NOW).replace(day=1, hour=0, minute=0, second=0), -2).date()
SPIKE = DEFAULT_SCENARIO["spikes"][0]
SPIKE_DAY = (
    add_months(cs.parse_time(cs.NOW), -SPIKE["months_back"]).date().replace(day=SPIKE["day"])
)
USAGE: dict[str, Any] = {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(method.RECORD_TYPES)}}
SERVICE_MONITOR = {
    "MonitorName": "services",
    "MonitorType": "DIMENSIONAL",
    "MonitorDimension": "SERVICE",
}
OTHER = "210987654321"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(data_dir=tmp_path_factory.mktemp("anomalies"), env=cs.ENV) as running:
        yield running


@pytest.fixture(scope="module")
def ce(server: ServerProcess) -> Any:
    return make_client(server.endpoint, "ce", cs.ACCOUNT)


@pytest.fixture(scope="module")
def services(ce: Any) -> str:
    arn: str = ce.create_anomaly_monitor(
        AnomalyMonitor=SERVICE_MONITOR, ResourceTags=[{"Key": "team", "Value": "finops"}]
    )["MonitorArn"]
    return arn


def _all(ce: Any, **request: Any) -> list[dict[str, Any]]:
    found, token = [], None
    while True:
        page = ce.get_anomalies(**request, **({"NextPageToken": token} if token else {}))
        found += page["Anomalies"]
        token = page.get("NextPageToken")
        if not token:
            return found


def _anomalies(ce: Any, monitor: str) -> list[dict[str, Any]]:
    return _all(ce, MonitorArn=monitor, DateInterval={"StartDate": FIRST.isoformat()})


def _and(*leaves: dict[str, Any]) -> dict[str, Any]:
    return {"And": list(leaves)} if len(leaves) > 1 else leaves[0]


def _dim(key: str, value: str) -> dict[str, Any]:
    return {"Dimensions": {"Key": key, "Values": [value]}}


def _daily(
    ce: Any, where: dict[str, Any], group: str | None = None
) -> dict[str, dict[date, float]]:
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


def _windows(series: dict[date, float]) -> dict[date, tuple[float, list[date]]]:
    """Per evaluated day: its cost and the days of its baseline (docs/ce-anomalies.md)."""
    costs = [series.get(d, 0.0) for d in DAYS]
    first = next((i for i, c in enumerate(costs) if c != 0), len(costs))
    out = {}
    for i in range(first, len(DAYS)):
        history = DAYS[max(first, i - method.BASELINE_DAYS) : i]
        if len(history) >= method.MIN_HISTORY:
            out[DAYS[i]] = (costs[i], history)
    return out


def _score(cost: float, history: list[float]) -> tuple[float, float]:
    expected = statistics.median(history)
    mad = statistics.median(abs(x - expected) for x in history)
    scale = max(mad, method.SCALE_FLOOR * abs(expected), 0.01)
    return expected, 0.6745 * (cost - expected) / scale


def _redone(series: dict[date, float]) -> list[dict[str, Any]]:
    """The anomalies of one series: runs of consecutive anomalous days."""
    runs: list[dict[str, Any]] = []
    for day, (cost, window) in _windows(series).items():
        expected, score = _score(cost, [series.get(d, 0.0) for d in window])
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


def _same(got: dict[str, Any], run: dict[str, Any]) -> None:
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


def _service_of_spike(ce: Any) -> str:
    """CE's name of the spiked service (its SERVICE for the scenario's product code)."""
    found = cs.answered(
        ce,
        TimePeriod={"Start": SPIKE_DAY.isoformat(), "End": (SPIKE_DAY + timedelta(1)).isoformat()},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        Filter=_dim("SERVICE_CODE", SPIKE["service"]),
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
    )
    (name,) = {keys[0] for _, keys in found}
    return name


def _account_of_spike(ce: Any) -> tuple[str, str]:
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


def test_the_scenario_spike_is_an_anomaly_with_its_root_causes(ce: Any, services: str) -> None:
    service = _service_of_spike(ce)
    account, account_name = _account_of_spike(ce)
    found = [a for a in _anomalies(ce, services) if a["DimensionValue"] == service]
    spiked = [
        a for a in found if a["AnomalyStartDate"] <= SPIKE_DAY.isoformat() <= a["AnomalyEndDate"]
    ]
    assert len(spiked) == 1
    anomaly = spiked[0]
    assert anomaly["AnomalyStartDate"] == anomaly["AnomalyEndDate"] == SPIKE_DAY.isoformat()
    assert anomaly["MonitorArn"] == services
    assert anomaly["Impact"]["TotalImpactPercentage"] > 100  # a spike, not noise
    causes = anomaly["RootCauses"]
    assert causes, anomaly
    assert all(c["Service"] == service and c["LinkedAccount"] == account for c in causes)
    assert all(c["LinkedAccountName"] == account_name for c in causes)
    contributions = [c["Impact"]["Contribution"] for c in causes]
    assert contributions == sorted(contributions, reverse=True) and min(contributions) > 0
    assert sum(contributions) == pytest.approx(anomaly["Impact"]["TotalImpact"], rel=0.05)
    # each contribution: the combination's own cost over its own median on the same days
    value_windows = _windows(_daily(ce, _and(USAGE, _dim("SERVICE", service)))[""])
    for cause in causes:
        leaves = [("SERVICE", "Service"), ("REGION", "Region"), ("LINKED_ACCOUNT", "LinkedAccount")]
        where = _and(
            USAGE, *(_dim(k, cause[m]) for k, m in leaves), _dim("USAGE_TYPE", cause["UsageType"])
        )
        combo = _daily(ce, where).get("", {})
        _, window = value_windows[SPIKE_DAY]
        expected = statistics.median(combo.get(d, 0.0) for d in window)
        assert cause["Impact"]["Contribution"] == pytest.approx(
            combo[SPIKE_DAY] - expected, abs=0.006
        )


def test_every_service_anomaly_is_the_method_redone_on_daily_costs(ce: Any, services: str) -> None:
    """All of them, not only the spike: the same anomalies, nothing more, nothing less."""
    series = _daily(ce, USAGE, "SERVICE")
    expected = {(v, r["start"]): r for v, s in series.items() for r in _redone(s)}
    got = {
        (a["DimensionValue"], date.fromisoformat(a["AnomalyStartDate"])): a
        for a in _anomalies(ce, services)
    }
    assert got.keys() == expected.keys()
    assert len(got) >= 2
    for key, anomaly in got.items():
        _same(anomaly, expected[key])
    listed = ce.get_anomaly_monitors(MonitorArnList=[services])["AnomalyMonitors"][0]
    assert listed["DimensionalValueCount"] == sum(1 for s in series.values() if any(s.values()))
    assert listed["LastEvaluatedDate"] == (TODAY - timedelta(days=1)).isoformat()


def test_custom_and_other_dimensional_monitors(ce: Any) -> None:
    account, _ = _account_of_spike(ce)
    custom = ce.create_anomaly_monitor(
        AnomalyMonitor={
            "MonitorName": "data account",
            "MonitorType": "CUSTOM",
            "MonitorSpecification": {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [account]}},
        }
    )["MonitorArn"]
    redone = _redone(_daily(ce, _and(USAGE, _dim("LINKED_ACCOUNT", account)))[""])
    found = _anomalies(ce, custom)
    assert [a["AnomalyStartDate"] for a in found] == [
        r["start"].isoformat() for r in reversed(redone)
    ]
    assert SPIKE_DAY.isoformat() in [a["AnomalyStartDate"] for a in found]
    for anomaly, run in zip(found, reversed(redone), strict=True):
        assert "DimensionValue" not in anomaly
        _same(anomaly, run)
    by_account = ce.create_anomaly_monitor(
        AnomalyMonitor={
            "MonitorName": "accounts",
            "MonitorType": "DIMENSIONAL",
            "MonitorDimension": "LINKED_ACCOUNT",
        }
    )["MonitorArn"]
    series = _daily(ce, USAGE, "LINKED_ACCOUNT")
    got = {(a["DimensionValue"], a["AnomalyStartDate"]) for a in _anomalies(ce, by_account)}
    assert got == {(v, r["start"].isoformat()) for v, s in series.items() for r in _redone(s)}
    assert (account, SPIKE_DAY.isoformat()) in got
    by_team = ce.create_anomaly_monitor(
        AnomalyMonitor={
            "MonitorName": "teams",
            "MonitorType": "DIMENSIONAL",
            "MonitorDimension": "TAG",
            "MonitorSpecification": {"Tags": {"Key": "team"}},
        }
    )["MonitorArn"]
    teams = {
        a["DimensionValue"]
        for a in _anomalies(ce, by_team)
        if a["AnomalyStartDate"] == SPIKE_DAY.isoformat()
    }
    assert teams == {"data"}  # the spiked resource's team tag
    for arn in (custom, by_account, by_team):
        ce.delete_anomaly_monitor(MonitorArn=arn)


def test_monitor_crud_and_tags(ce: Any, services: str) -> None:
    listed = ce.get_anomaly_monitors(MonitorArnList=[services])["AnomalyMonitors"][0]
    assert {k: listed[k] for k in SERVICE_MONITOR} == SERVICE_MONITOR
    assert listed["CreationDate"] == listed["LastUpdatedDate"] == TODAY.isoformat()
    assert ce.list_tags_for_resource(ResourceArn=services)["ResourceTags"] == [
        {"Key": "team", "Value": "finops"}
    ]
    spec = {"Tags": {"Key": "env", "Values": ["prod"]}}
    arn = ce.create_anomaly_monitor(
        AnomalyMonitor={
            "MonitorName": "prod",
            "MonitorType": "CUSTOM",
            "MonitorSpecification": spec,
        }
    )["MonitorArn"]
    ce.update_anomaly_monitor(MonitorArn=arn, MonitorName="production")
    ce.tag_resource(
        ResourceArn=arn, ResourceTags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    ce.untag_resource(ResourceArn=arn, ResourceTagKeys=["a"])
    assert ce.list_tags_for_resource(ResourceArn=arn)["ResourceTags"] == [
        {"Key": "b", "Value": "2"}
    ]
    (got,) = ce.get_anomaly_monitors(MonitorArnList=[arn])["AnomalyMonitors"]
    assert got["MonitorName"] == "production" and got["MonitorSpecification"] == spec
    assert "DimensionalValueCount" not in got and "MonitorDimension" not in got
    everything = [m["MonitorArn"] for m in ce.get_anomaly_monitors()["AnomalyMonitors"]]
    assert everything[:1] == [services] and arn in everything
    ce.delete_anomaly_monitor(MonitorArn=arn)
    for call in (
        lambda: ce.get_anomaly_monitors(MonitorArnList=[arn]),
        lambda: ce.update_anomaly_monitor(MonitorArn=arn, MonitorName="x"),
        lambda: ce.delete_anomaly_monitor(MonitorArn=arn),
        lambda: ce.get_anomalies(MonitorArn=arn, DateInterval={"StartDate": FIRST.isoformat()}),
    ):
        with pytest.raises(ce.exceptions.UnknownMonitorException):
            call()
    with pytest.raises(ce.exceptions.ResourceNotFoundException):
        ce.list_tags_for_resource(ResourceArn=arn)


def _subscription(monitors: list[str], **changes: Any) -> dict[str, Any]:
    return {
        "MonitorArnList": monitors,
        "Subscribers": [{"Address": "finops@example.com", "Type": "EMAIL"}],
        "Frequency": "DAILY",
        "SubscriptionName": "finops",
        **changes,
    }


def test_subscription_crud(ce: Any, services: str) -> None:
    expression = {
        "Or": [
            {
                "Dimensions": {
                    "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                    "Values": ["100"],
                }
            },
            {
                "Dimensions": {
                    "Key": "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
                    "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                    "Values": ["50"],
                }
            },
        ]
    }
    first = ce.create_anomaly_subscription(
        AnomalySubscription=_subscription([services], ThresholdExpression=expression),
        ResourceTags=[{"Key": "owner", "Value": "finops"}],
    )["SubscriptionArn"]
    second = ce.create_anomaly_subscription(
        AnomalySubscription=_subscription([services], Threshold=25.0)
    )["SubscriptionArn"]
    (one,) = ce.get_anomaly_subscriptions(SubscriptionArnList=[first])["AnomalySubscriptions"]
    assert one["ThresholdExpression"] == expression and "Threshold" not in one
    assert one["AccountId"] == cs.ACCOUNT and one["MonitorArnList"] == [services]
    assert one["Subscribers"] == [
        {"Address": "finops@example.com", "Type": "EMAIL", "Status": "CONFIRMED"}
    ]
    (two,) = ce.get_anomaly_subscriptions(SubscriptionArnList=[second])["AnomalySubscriptions"]
    absolute = two["ThresholdExpression"]["Dimensions"]
    assert two["Threshold"] == 25.0 and absolute["Key"] == "ANOMALY_TOTAL_IMPACT_ABSOLUTE"
    assert absolute["Values"] == ["25"] and absolute["MatchOptions"] == ["GREATER_THAN_OR_EQUAL"]
    by_monitor = ce.get_anomaly_subscriptions(MonitorArn=services)["AnomalySubscriptions"]
    assert [s["SubscriptionArn"] for s in by_monitor] == [first, second]
    topic = f"arn:aws:sns:us-east-1:{cs.ACCOUNT}:anomalies"
    ce.update_anomaly_subscription(
        SubscriptionArn=second,
        Frequency="IMMEDIATE",
        Subscribers=[{"Address": topic, "Type": "SNS"}],
        ThresholdExpression=expression["Or"][0],
        SubscriptionName="pager",
    )
    (two,) = ce.get_anomaly_subscriptions(SubscriptionArnList=[second])["AnomalySubscriptions"]
    assert (two["Frequency"], two["SubscriptionName"]) == ("IMMEDIATE", "pager")
    assert two["ThresholdExpression"] == expression["Or"][0] and "Threshold" not in two
    assert two["Subscribers"][0]["Address"] == topic
    assert ce.list_tags_for_resource(ResourceArn=first)["ResourceTags"] == [
        {"Key": "owner", "Value": "finops"}
    ]
    ce.delete_anomaly_subscription(SubscriptionArn=second)
    with pytest.raises(ce.exceptions.UnknownSubscriptionException):
        ce.get_anomaly_subscriptions(SubscriptionArnList=[second])
    with pytest.raises(ce.exceptions.UnknownSubscriptionException):
        ce.update_anomaly_subscription(SubscriptionArn=second, SubscriptionName="x")
    with pytest.raises(ce.exceptions.UnknownSubscriptionException):
        ce.delete_anomaly_subscription(SubscriptionArn=second)
    # a deleted monitor leaves the subscriptions; one naming nothing else goes with it
    extra = ce.create_anomaly_monitor(
        AnomalyMonitor={
            "MonitorName": "x",
            "MonitorType": "CUSTOM",
            "MonitorSpecification": _dim("REGION", "eu-west-1"),
        }
    )["MonitorArn"]
    both = ce.create_anomaly_subscription(
        AnomalySubscription=_subscription([services, extra], Threshold=1.0)
    )["SubscriptionArn"]
    alone = ce.create_anomaly_subscription(
        AnomalySubscription=_subscription([extra], Threshold=1.0)
    )["SubscriptionArn"]
    ce.delete_anomaly_monitor(MonitorArn=extra)
    (kept,) = ce.get_anomaly_subscriptions(SubscriptionArnList=[both])["AnomalySubscriptions"]
    assert kept["MonitorArnList"] == [services]
    with pytest.raises(ce.exceptions.UnknownSubscriptionException):
        ce.get_anomaly_subscriptions(SubscriptionArnList=[alone])
    ce.delete_anomaly_subscription(SubscriptionArn=both)


def test_feedback_and_filters(ce: Any, services: str) -> None:
    found = _anomalies(ce, services)
    spike = next(a for a in found if a["AnomalyStartDate"] == SPIKE_DAY.isoformat())
    assert all("Feedback" not in a for a in found)
    assert (
        ce.provide_anomaly_feedback(AnomalyId=spike["AnomalyId"], Feedback="PLANNED_ACTIVITY")[
            "AnomalyId"
        ]
        == spike["AnomalyId"]
    )
    since = {"StartDate": FIRST.isoformat()}
    (given,) = _all(ce, DateInterval=since, Feedback="PLANNED_ACTIVITY")
    assert given == {**spike, "Feedback": "PLANNED_ACTIVITY"}
    assert _all(ce, DateInterval=since, Feedback="YES") == []
    impacts = sorted(a["Impact"]["TotalImpact"] for a in found)
    middle = impacts[len(impacts) // 2]
    for operator, test in (
        ("GREATER_THAN", lambda x: x > middle),
        ("GREATER_THAN_OR_EQUAL", lambda x: x >= middle),
        ("LESS_THAN", lambda x: x < middle),
        ("LESS_THAN_OR_EQUAL", lambda x: x <= middle),
        ("EQUAL", lambda x: x == middle),
    ):
        got = _all(
            ce, DateInterval=since, TotalImpact={"NumericOperator": operator, "StartValue": middle}
        )
        assert sorted(a["Impact"]["TotalImpact"] for a in got) == [x for x in impacts if test(x)], (
            operator
        )
    between = {"NumericOperator": "BETWEEN", "StartValue": impacts[0], "EndValue": middle}
    assert len(_all(ce, DateInterval=since, TotalImpact=between)) == sum(
        x <= middle for x in impacts
    )
    # the interval selects by AnomalyEndDate
    month = {
        "StartDate": SPIKE_DAY.replace(day=1).isoformat(),
        "EndDate": (
            add_months(cs.parse_time(cs.NOW), -SPIKE["months_back"] + 1).date() - timedelta(1)
        ).isoformat(),
    }
    in_month = _all(ce, DateInterval=month)
    assert in_month and all(
        month["StartDate"] <= a["AnomalyEndDate"] <= month["EndDate"] for a in in_month
    )
    assert {a["AnomalyId"] for a in in_month} == {
        a["AnomalyId"] for a in found if a["AnomalyEndDate"] <= month["EndDate"]
    }
    ce.provide_anomaly_feedback(AnomalyId=spike["AnomalyId"], Feedback="YES")
    assert [a["AnomalyId"] for a in _all(ce, DateInterval=since, Feedback="YES")] == [
        spike["AnomalyId"]
    ]


def test_paging(ce: Any, services: str) -> None:
    since = {"StartDate": FIRST.isoformat()}
    whole = ce.get_anomalies(DateInterval=since)["Anomalies"]
    assert len(whole) >= 3
    pages, token = [], None
    while True:
        page = ce.get_anomalies(
            DateInterval=since, MaxResults=2, **({"NextPageToken": token} if token else {})
        )
        assert len(page["Anomalies"]) <= 2
        pages += page["Anomalies"]
        token = page.get("NextPageToken")
        if not token:
            break
    assert pages == whole
    ends = [a["AnomalyEndDate"] for a in whole]
    assert ends == sorted(ends, reverse=True)
    token = ce.get_anomalies(DateInterval=since, MaxResults=1)["NextPageToken"]
    with pytest.raises(ce.exceptions.InvalidNextTokenException):
        ce.get_anomalies(DateInterval=since, MaxResults=1, Feedback="NO", NextPageToken=token)
    other = make_client(ce.meta.endpoint_url, "ce", OTHER)
    made = [
        other.create_anomaly_monitor(
            AnomalyMonitor={
                "MonitorName": f"m{i}",
                "MonitorType": "CUSTOM",
                "MonitorSpecification": _dim("REGION", "us-east-1"),
            }
        )["MonitorArn"]
        for i in range(5)
    ]
    listed, token = [], None
    while True:
        page = other.get_anomaly_monitors(
            MaxResults=2, **({"NextPageToken": token} if token else {})
        )
        listed += [m["MonitorArn"] for m in page["AnomalyMonitors"]]
        token = page.get("NextPageToken")
        if not token:
            break
    assert listed == made
    assert services not in listed  # accounts see their own monitors only
    for arn in made:
        other.delete_anomaly_monitor(MonitorArn=arn)


def _code(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]


def test_errors_are_aws_errors(ce: Any, services: str) -> None:
    unknown = f"arn:aws:ce::{cs.ACCOUNT}:anomalymonitor/00000000-0000-0000-0000-000000000000"
    since = {"StartDate": FIRST.isoformat()}
    bad_monitors = [
        {"MonitorName": "x", "MonitorType": "DIMENSIONAL"},
        {**SERVICE_MONITOR, "MonitorSpecification": _dim("REGION", "us-east-1")},
        {"MonitorName": "x", "MonitorType": "CUSTOM"},
        {
            "MonitorName": "x",
            "MonitorType": "CUSTOM",
            "MonitorDimension": "SERVICE",
            "MonitorSpecification": _dim("REGION", "x"),
        },
        {
            "MonitorName": "x",
            "MonitorType": "CUSTOM",
            "MonitorSpecification": {"Dimensions": {"Key": "NOPE", "Values": ["x"]}},
        },
        {
            "MonitorName": "x",
            "MonitorType": "CUSTOM",
            "MonitorSpecification": {
                "Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [str(i) for i in range(11)]}
            },
        },
        {"MonitorName": "x", "MonitorType": "DIMENSIONAL", "MonitorDimension": "TAG"},
    ]
    for monitor in bad_monitors:
        assert _code(lambda m=monitor: ce.create_anomaly_monitor(AnomalyMonitor=m)) == (
            "ValidationException",
            400,
        ), monitor
    assert (
        _code(lambda: ce.create_anomaly_monitor(AnomalyMonitor=SERVICE_MONITOR))[0]
        == "LimitExceededException"
    )
    leaf = {
        "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
        "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
        "Values": ["10"],
    }
    bad_subscriptions = [
        _subscription([services]),
        _subscription([services], Threshold=1.0, ThresholdExpression={"Dimensions": leaf}),
        _subscription([services], ThresholdExpression={"Dimensions": {**leaf, "Key": "SERVICE"}}),
        _subscription(
            [services], ThresholdExpression={"Dimensions": {**leaf, "MatchOptions": ["EQUALS"]}}
        ),
        _subscription([services], ThresholdExpression={"Dimensions": {**leaf, "Values": ["1e11"]}}),
        _subscription([services], ThresholdExpression={"Not": {"Dimensions": leaf}}),
        _subscription([services], Threshold=1.0, Frequency="IMMEDIATE"),
        _subscription(
            [services],
            Threshold=1.0,
            Subscribers=[{"Address": f"arn:aws:sns:us-east-1:{cs.ACCOUNT}:t", "Type": "SNS"}],
        ),
        _subscription(
            [services],
            Threshold=1.0,
            Subscribers=[{"Address": f"u{i}@example.com", "Type": "EMAIL"} for i in range(11)],
        ),
        _subscription([], Threshold=1.0),
    ]
    for body in bad_subscriptions:
        assert _code(lambda b=body: ce.create_anomaly_subscription(AnomalySubscription=b)) == (
            "ValidationException",
            400,
        ), body
    assert (
        _code(
            lambda: ce.create_anomaly_subscription(
                AnomalySubscription=_subscription([unknown], Threshold=1.0)
            )
        )[0]
        == "UnknownMonitorException"
    )
    for request in (
        {"DateInterval": {"StartDate": "2026-05-10", "EndDate": "2026-05-01"}},
        {"DateInterval": {"StartDate": "2026-13-40"}},
        {"DateInterval": since, "TotalImpact": {"NumericOperator": "BETWEEN", "StartValue": 1.0}},
        {
            "DateInterval": since,
            "TotalImpact": {"NumericOperator": "BETWEEN", "StartValue": 5.0, "EndValue": 1.0},
        },
        {"DateInterval": since, "MaxResults": 0},
    ):
        assert _code(lambda r=request: ce.get_anomalies(**r)) == ("ValidationException", 400), (
            request
        )
    assert _code(lambda: ce.provide_anomaly_feedback(AnomalyId="nope", Feedback="YES")) == (
        "ValidationException",
        400,
    )
    assert (
        _code(lambda: ce.get_anomalies(DateInterval=since, NextPageToken="forged"))[0]
        == "InvalidNextTokenException"
    )


def test_customer_managed_monitors_stop_at_the_quota(server: ServerProcess) -> None:
    quota = make_client(server.endpoint, "ce", "333333333333")
    spec = {
        "MonitorName": "m",
        "MonitorType": "CUSTOM",
        "MonitorSpecification": _dim("REGION", "us-east-1"),
    }
    for _ in range(500):
        quota.create_anomaly_monitor(AnomalyMonitor=spec)
    assert (
        _code(lambda: quota.create_anomaly_monitor(AnomalyMonitor=spec))[0]
        == "LimitExceededException"
    )
    quota.create_anomaly_monitor(AnomalyMonitor=SERVICE_MONITOR)  # AWS managed ones are apart


def test_the_aws_cli_lists_the_same_anomalies(
    server: ServerProcess, ce: Any, services: str
) -> None:
    out = run_cli(
        server.endpoint,
        "ce",
        "get-anomalies",
        "--monitor-arn",
        services,
        "--date-interval",
        f"StartDate={FIRST.isoformat()}",
        env={"AWS_ACCESS_KEY_ID": cs.ACCOUNT},
    )
    assert out["Anomalies"] == _anomalies(ce, services)


def test_records_and_ids_survive_a_restart(server: ServerProcess, ce: Any, services: str) -> None:
    """Last: it restarts the module's server on its data directory."""
    subscription = ce.create_anomaly_subscription(
        AnomalySubscription=_subscription([services], Threshold=5.0)
    )["SubscriptionArn"]
    before = _anomalies(ce, services)
    spike = next(a for a in before if a["AnomalyStartDate"] == SPIKE_DAY.isoformat())
    ce.provide_anomaly_feedback(AnomalyId=spike["AnomalyId"], Feedback="NO")
    before = _anomalies(ce, services)
    monitors = ce.get_anomaly_monitors()["AnomalyMonitors"]
    subscriptions = ce.get_anomaly_subscriptions()["AnomalySubscriptions"]
    server.stop()
    server.start()
    again = make_client(server.endpoint, "ce", cs.ACCOUNT)
    assert again.get_anomaly_monitors()["AnomalyMonitors"] == monitors
    assert again.get_anomaly_subscriptions()["AnomalySubscriptions"] == subscriptions
    assert subscription in [s["SubscriptionArn"] for s in subscriptions]
    assert _anomalies(again, services) == before  # the same ids, feedback kept
    assert again.list_tags_for_resource(ResourceArn=services)["ResourceTags"] == [
        {"Key": "team", "Value": "finops"}
    ]


def test_a_scenario_without_spikes_has_no_anomaly_on_that_day(tmp_path: Path) -> None:
    import json

    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({**DEFAULT_SCENARIO, "spikes": []}))
    with ServerProcess(env={**cs.ENV, "BCM_LOCAL_BILLING_SCENARIO": str(plain)}) as running:
        client = make_client(running.endpoint, "ce", cs.ACCOUNT)
        arn = client.create_anomaly_monitor(AnomalyMonitor=SERVICE_MONITOR)["MonitorArn"]
        days = {a["AnomalyStartDate"] for a in _anomalies(client, arn)}
        assert SPIKE_DAY.isoformat() not in days
