"""Cost Anomaly Detection's errors on a real server: AWS's error codes with status 400
(never a 500) for invalid monitors, subscriptions, GetAnomalies requests and feedback,
unknown monitors and tokens, and the quotas (LimitExceededException)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bcm_local.testing import ServerProcess
from tests import anomalies_support as sa
from tests import ce_support as cs
from tests.conftest import make_client, status_of


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env=cs.ENV) as running:
        yield running


@pytest.fixture(scope="module")
def services(ce: Any) -> str:
    arn: str = ce.create_anomaly_monitor(AnomalyMonitor=sa.SERVICE_MONITOR)["MonitorArn"]
    return arn


def test_errors_are_aws_errors(ce: Any, services: str) -> None:
    unknown = f"arn:aws:ce::{cs.ACCOUNT}:anomalymonitor/00000000-0000-0000-0000-000000000000"
    since = {"StartDate": sa.FIRST.isoformat()}
    bad_monitors = [
        {"MonitorName": "x", "MonitorType": "DIMENSIONAL"},
        {**sa.SERVICE_MONITOR, "MonitorSpecification": sa.dim("REGION", "us-east-1")},
        {"MonitorName": "x", "MonitorType": "CUSTOM"},
        {
            "MonitorName": "x",
            "MonitorType": "CUSTOM",
            "MonitorDimension": "SERVICE",
            "MonitorSpecification": sa.dim("REGION", "x"),
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
        assert status_of(lambda m=monitor: ce.create_anomaly_monitor(AnomalyMonitor=m)) == (
            "ValidationException",
            400,
        ), monitor
    assert (
        status_of(lambda: ce.create_anomaly_monitor(AnomalyMonitor=sa.SERVICE_MONITOR))[0]
        == "LimitExceededException"
    )
    leaf = {
        "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
        "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
        "Values": ["10"],
    }
    bad_subscriptions = [
        sa.subscription([services]),
        sa.subscription([services], Threshold=1.0, ThresholdExpression={"Dimensions": leaf}),
        sa.subscription([services], ThresholdExpression={"Dimensions": {**leaf, "Key": "SERVICE"}}),
        sa.subscription(
            [services], ThresholdExpression={"Dimensions": {**leaf, "MatchOptions": ["EQUALS"]}}
        ),
        sa.subscription(
            [services], ThresholdExpression={"Dimensions": {**leaf, "Values": ["1e11"]}}
        ),
        sa.subscription([services], ThresholdExpression={"Not": {"Dimensions": leaf}}),
        sa.subscription([services], Threshold=1.0, Frequency="IMMEDIATE"),
        sa.subscription(
            [services],
            Threshold=1.0,
            Subscribers=[{"Address": f"arn:aws:sns:us-east-1:{cs.ACCOUNT}:t", "Type": "SNS"}],
        ),
        sa.subscription(
            [services],
            Threshold=1.0,
            Subscribers=[{"Address": f"u{i}@example.com", "Type": "EMAIL"} for i in range(11)],
        ),
        sa.subscription([], Threshold=1.0),
    ]
    for body in bad_subscriptions:
        assert status_of(lambda b=body: ce.create_anomaly_subscription(AnomalySubscription=b)) == (
            "ValidationException",
            400,
        ), body
    assert (
        status_of(
            lambda: ce.create_anomaly_subscription(
                AnomalySubscription=sa.subscription([unknown], Threshold=1.0)
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
        assert status_of(lambda r=request: ce.get_anomalies(**r)) == ("ValidationException", 400), (
            request
        )
    assert status_of(lambda: ce.provide_anomaly_feedback(AnomalyId="nope", Feedback="YES")) == (
        "ValidationException",
        400,
    )
    assert (
        status_of(lambda: ce.get_anomalies(DateInterval=since, NextPageToken="forged"))[0]
        == "InvalidNextTokenException"
    )


def test_customer_managed_monitors_stop_at_the_quota(server: ServerProcess) -> None:
    quota = make_client(server.endpoint, "ce", "333333333333")
    spec = {
        "MonitorName": "m",
        "MonitorType": "CUSTOM",
        "MonitorSpecification": sa.dim("REGION", "us-east-1"),
    }
    for _ in range(500):
        quota.create_anomaly_monitor(AnomalyMonitor=spec)
    assert (
        status_of(lambda: quota.create_anomaly_monitor(AnomalyMonitor=spec))[0]
        == "LimitExceededException"
    )
    quota.create_anomaly_monitor(AnomalyMonitor=sa.SERVICE_MONITOR)  # AWS managed ones are apart
