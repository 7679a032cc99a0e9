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

from bcm_local.billing.scenario.default import DEFAULT_SCENARIO
from bcm_local.billing.scenario.periods import add_months
from bcm_local.testing import ServerProcess
from tests import anomalies_support as sa
from tests import ce_support as cs
from tests.conftest import make_client, run_cli

OTHER = "210987654321"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(data_dir=tmp_path_factory.mktemp("anomalies"), env=cs.ENV) as running:
        yield running


@pytest.fixture(scope="module")
def services(ce: Any) -> str:
    arn: str = ce.create_anomaly_monitor(
        AnomalyMonitor=sa.SERVICE_MONITOR, ResourceTags=[{"Key": "team", "Value": "finops"}]
    )["MonitorArn"]
    return arn


def test_the_scenario_spike_is_an_anomaly_with_its_root_causes(ce: Any, services: str) -> None:
    service = sa.service_of_spike(ce)
    account, account_name = sa.account_of_spike(ce)
    found = [a for a in sa.anomalies(ce, services) if a["DimensionValue"] == service]
    spiked = [
        a for a in found if a["AnomalyStartDate"] <= sa.SPIKE_DAY.isoformat() <= a["AnomalyEndDate"]
    ]
    assert len(spiked) == 1
    anomaly = spiked[0]
    assert anomaly["AnomalyStartDate"] == anomaly["AnomalyEndDate"] == sa.SPIKE_DAY.isoformat()
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
    value_windows = sa.windows(sa.daily(ce, sa.every(sa.USAGE, sa.dim("SERVICE", service)))[""])
    for cause in causes:
        leaves = [("SERVICE", "Service"), ("REGION", "Region"), ("LINKED_ACCOUNT", "LinkedAccount")]
        where = sa.every(
            sa.USAGE,
            *(sa.dim(k, cause[m]) for k, m in leaves),
            sa.dim("USAGE_TYPE", cause["UsageType"]),
        )
        combo = sa.daily(ce, where).get("", {})
        _, window = value_windows[sa.SPIKE_DAY]
        expected = statistics.median(combo.get(d, 0.0) for d in window)
        assert cause["Impact"]["Contribution"] == pytest.approx(
            combo[sa.SPIKE_DAY] - expected, abs=0.006
        )


def test_every_service_anomaly_is_the_method_redone_on_daily_costs(ce: Any, services: str) -> None:
    """All of them, not only the spike: the same anomalies, nothing more, nothing less."""
    series = sa.daily(ce, sa.USAGE, "SERVICE")
    expected = {(v, r["start"]): r for v, s in series.items() for r in sa.redone(s)}
    got = {
        (a["DimensionValue"], date.fromisoformat(a["AnomalyStartDate"])): a
        for a in sa.anomalies(ce, services)
    }
    assert got.keys() == expected.keys()
    assert len(got) >= 2
    for key, anomaly in got.items():
        sa.same(anomaly, expected[key])
    listed = ce.get_anomaly_monitors(MonitorArnList=[services])["AnomalyMonitors"][0]
    assert listed["DimensionalValueCount"] == sum(1 for s in series.values() if any(s.values()))
    assert listed["LastEvaluatedDate"] == (sa.TODAY - timedelta(days=1)).isoformat()


def test_custom_and_other_dimensional_monitors(ce: Any) -> None:
    account, _ = sa.account_of_spike(ce)
    custom = ce.create_anomaly_monitor(
        AnomalyMonitor={
            "MonitorName": "data account",
            "MonitorType": "CUSTOM",
            "MonitorSpecification": {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [account]}},
        }
    )["MonitorArn"]
    redone = sa.redone(sa.daily(ce, sa.every(sa.USAGE, sa.dim("LINKED_ACCOUNT", account)))[""])
    found = sa.anomalies(ce, custom)
    assert [a["AnomalyStartDate"] for a in found] == [
        r["start"].isoformat() for r in reversed(redone)
    ]
    assert sa.SPIKE_DAY.isoformat() in [a["AnomalyStartDate"] for a in found]
    for anomaly, run in zip(found, reversed(redone), strict=True):
        assert "DimensionValue" not in anomaly
        sa.same(anomaly, run)
    by_account = ce.create_anomaly_monitor(
        AnomalyMonitor={
            "MonitorName": "accounts",
            "MonitorType": "DIMENSIONAL",
            "MonitorDimension": "LINKED_ACCOUNT",
        }
    )["MonitorArn"]
    series = sa.daily(ce, sa.USAGE, "LINKED_ACCOUNT")
    got = {(a["DimensionValue"], a["AnomalyStartDate"]) for a in sa.anomalies(ce, by_account)}
    assert got == {(v, r["start"].isoformat()) for v, s in series.items() for r in sa.redone(s)}
    assert (account, sa.SPIKE_DAY.isoformat()) in got
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
        for a in sa.anomalies(ce, by_team)
        if a["AnomalyStartDate"] == sa.SPIKE_DAY.isoformat()
    }
    assert teams == {"data"}  # the spiked resource's team tag
    for arn in (custom, by_account, by_team):
        ce.delete_anomaly_monitor(MonitorArn=arn)


def test_monitor_crud_and_tags(ce: Any, services: str) -> None:
    listed = ce.get_anomaly_monitors(MonitorArnList=[services])["AnomalyMonitors"][0]
    assert {k: listed[k] for k in sa.SERVICE_MONITOR} == sa.SERVICE_MONITOR
    assert listed["CreationDate"] == listed["LastUpdatedDate"] == sa.TODAY.isoformat()
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
        lambda: ce.get_anomalies(MonitorArn=arn, DateInterval={"StartDate": sa.FIRST.isoformat()}),
    ):
        with pytest.raises(ce.exceptions.UnknownMonitorException):
            call()
    with pytest.raises(ce.exceptions.ResourceNotFoundException):
        ce.list_tags_for_resource(ResourceArn=arn)


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
        AnomalySubscription=sa.subscription([services], ThresholdExpression=expression),
        ResourceTags=[{"Key": "owner", "Value": "finops"}],
    )["SubscriptionArn"]
    second = ce.create_anomaly_subscription(
        AnomalySubscription=sa.subscription([services], Threshold=25.0)
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
            "MonitorSpecification": sa.dim("REGION", "eu-west-1"),
        }
    )["MonitorArn"]
    both = ce.create_anomaly_subscription(
        AnomalySubscription=sa.subscription([services, extra], Threshold=1.0)
    )["SubscriptionArn"]
    alone = ce.create_anomaly_subscription(
        AnomalySubscription=sa.subscription([extra], Threshold=1.0)
    )["SubscriptionArn"]
    ce.delete_anomaly_monitor(MonitorArn=extra)
    (kept,) = ce.get_anomaly_subscriptions(SubscriptionArnList=[both])["AnomalySubscriptions"]
    assert kept["MonitorArnList"] == [services]
    with pytest.raises(ce.exceptions.UnknownSubscriptionException):
        ce.get_anomaly_subscriptions(SubscriptionArnList=[alone])
    ce.delete_anomaly_subscription(SubscriptionArn=both)


def test_feedback_and_filters(ce: Any, services: str) -> None:
    found = sa.anomalies(ce, services)
    spike = next(a for a in found if a["AnomalyStartDate"] == sa.SPIKE_DAY.isoformat())
    assert all("Feedback" not in a for a in found)
    assert (
        ce.provide_anomaly_feedback(AnomalyId=spike["AnomalyId"], Feedback="PLANNED_ACTIVITY")[
            "AnomalyId"
        ]
        == spike["AnomalyId"]
    )
    since = {"StartDate": sa.FIRST.isoformat()}
    (given,) = sa.all_anomalies(ce, DateInterval=since, Feedback="PLANNED_ACTIVITY")
    assert given == {**spike, "Feedback": "PLANNED_ACTIVITY"}
    assert sa.all_anomalies(ce, DateInterval=since, Feedback="YES") == []
    impacts = sorted(a["Impact"]["TotalImpact"] for a in found)
    middle = impacts[len(impacts) // 2]
    for operator, test in (
        ("GREATER_THAN", lambda x: x > middle),
        ("GREATER_THAN_OR_EQUAL", lambda x: x >= middle),
        ("LESS_THAN", lambda x: x < middle),
        ("LESS_THAN_OR_EQUAL", lambda x: x <= middle),
        ("EQUAL", lambda x: x == middle),
    ):
        got = sa.all_anomalies(
            ce, DateInterval=since, TotalImpact={"NumericOperator": operator, "StartValue": middle}
        )
        assert sorted(a["Impact"]["TotalImpact"] for a in got) == [x for x in impacts if test(x)], (
            operator
        )
    between = {"NumericOperator": "BETWEEN", "StartValue": impacts[0], "EndValue": middle}
    assert len(sa.all_anomalies(ce, DateInterval=since, TotalImpact=between)) == sum(
        x <= middle for x in impacts
    )
    # the interval selects by AnomalyEndDate
    month = {
        "StartDate": sa.SPIKE_DAY.replace(day=1).isoformat(),
        "EndDate": (
            add_months(cs.parse_time(cs.NOW), -sa.SPIKE["months_back"] + 1).date() - timedelta(1)
        ).isoformat(),
    }
    in_month = sa.all_anomalies(ce, DateInterval=month)
    assert in_month and all(
        month["StartDate"] <= a["AnomalyEndDate"] <= month["EndDate"] for a in in_month
    )
    assert {a["AnomalyId"] for a in in_month} == {
        a["AnomalyId"] for a in found if a["AnomalyEndDate"] <= month["EndDate"]
    }
    ce.provide_anomaly_feedback(AnomalyId=spike["AnomalyId"], Feedback="YES")
    assert [a["AnomalyId"] for a in sa.all_anomalies(ce, DateInterval=since, Feedback="YES")] == [
        spike["AnomalyId"]
    ]


def test_paging(ce: Any, services: str) -> None:
    since = {"StartDate": sa.FIRST.isoformat()}
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
                "MonitorSpecification": sa.dim("REGION", "us-east-1"),
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
        f"StartDate={sa.FIRST.isoformat()}",
        env={"AWS_ACCESS_KEY_ID": cs.ACCOUNT},
    )
    assert out["Anomalies"] == sa.anomalies(ce, services)


def test_records_and_ids_survive_a_restart(server: ServerProcess, ce: Any, services: str) -> None:
    """Last: it restarts the module's server on its data directory."""
    subscription = ce.create_anomaly_subscription(
        AnomalySubscription=sa.subscription([services], Threshold=5.0)
    )["SubscriptionArn"]
    before = sa.anomalies(ce, services)
    spike = next(a for a in before if a["AnomalyStartDate"] == sa.SPIKE_DAY.isoformat())
    ce.provide_anomaly_feedback(AnomalyId=spike["AnomalyId"], Feedback="NO")
    before = sa.anomalies(ce, services)
    monitors = ce.get_anomaly_monitors()["AnomalyMonitors"]
    subscriptions = ce.get_anomaly_subscriptions()["AnomalySubscriptions"]
    server.stop()
    server.start()
    again = make_client(server.endpoint, "ce", cs.ACCOUNT)
    assert again.get_anomaly_monitors()["AnomalyMonitors"] == monitors
    assert again.get_anomaly_subscriptions()["AnomalySubscriptions"] == subscriptions
    assert subscription in [s["SubscriptionArn"] for s in subscriptions]
    assert sa.anomalies(again, services) == before  # the same ids, feedback kept
    assert again.list_tags_for_resource(ResourceArn=services)["ResourceTags"] == [
        {"Key": "team", "Value": "finops"}
    ]


def test_a_scenario_without_spikes_has_no_anomaly_on_that_day(tmp_path: Path) -> None:
    import json

    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({**DEFAULT_SCENARIO, "spikes": []}))
    with ServerProcess(env={**cs.ENV, "BCM_LOCAL_BILLING_SCENARIO": str(plain)}) as running:
        client = make_client(running.endpoint, "ce", cs.ACCOUNT)
        arn = client.create_anomaly_monitor(AnomalyMonitor=sa.SERVICE_MONITOR)["MonitorArn"]
        days = {a["AnomalyStartDate"] for a in sa.anomalies(client, arn)}
        assert sa.SPIKE_DAY.isoformat() not in days
