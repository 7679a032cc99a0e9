"""Meters of monitoring and security: CloudWatch logs and metrics, KMS keys."""

from __future__ import annotations

from collections.abc import Iterator

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.scenario.definition import Resource
from bcm_local.billing.usage.lines import UsageLine
from bcm_local.billing.usage.meter import Owner, money, usage_line


def cloudwatch(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    if i > 0:
        return  # count is the number of metrics of one log group/namespace
    p = catalog.PRICES["cw_metrics"]
    yield usage_line(
        o,
        "AmazonCloudWatch",
        "CW:MetricMonitorUsage",
        "MetricStorage",
        "Metrics",
        r.count / o.period_hours,
        p,
        f"${money(p)} per metric-month - first 10,000 metrics",
        "Metric",
    )
    p = catalog.PRICES["cw_logs"]
    arn = f"arn:aws:logs:{o.region.code}:{o.account_id}:log-group:{r.name}"
    yield usage_line(
        o,
        "AmazonCloudWatch",
        "DataProcessing-Bytes",
        "PutLogEvents",
        "GB",
        r.per_hour,
        p,
        f"${money(p)} per GB custom log data ingested",
        "Data Payload",
        resource_id=arn,
        resource_name=r.name,
        resource_type="LogGroup",
    )


def kms(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    key = ids.uuid_of(o.seed, o.account_id, r.name, i)
    p = catalog.PRICES["kms_key"]
    yield usage_line(
        o,
        "awskms",
        "KMS-Keys",
        "CreateKey",
        "Keys",
        1.0 / o.period_hours,
        p,
        f"${money(p)} per customer master key (CMK) per month",
        "Encryption Key",
        resource_id=f"arn:aws:kms:{o.region.code}:{o.account_id}:key/{key}",
        resource_name=f"{r.name}-{i + 1}",
        resource_type="Key",
    )
