"""Meters of storage, database, network, monitoring and security kinds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import NamedTuple

from bcm_local.billing import catalog, ids
from bcm_local.billing.meters import Owner, _line, _money, bedrock, ebs, ec2, lambda_, rds
from bcm_local.billing.scenario import Resource
from bcm_local.billing.usage import UsageLine


def s3(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    bucket = f"{r.name}-{i + 1}" if r.count > 1 else r.name
    common = dict(
        resource_id=bucket,
        resource_name=bucket,
        resource_type="Bucket",
        product={
            "storage_class": "General Purpose",
            "product_name": "Amazon Simple Storage Service",
        },
    )
    price = catalog.PRICES["s3_standard"] * o.region.multiplier
    yield _line(
        o,
        "AmazonS3",
        "TimedStorage-ByteHrs",
        "StandardStorage",
        "GB-Mo",
        r.size_gb / o.period_hours,
        price,
        f"${_money(price)} per GB - first 50 TB / month of storage used",
        "Storage",
        **common,
    )
    for usage, op, share, key, fam in (
        ("Requests-Tier1", "PutObject", 0.2, "s3_tier1", "API Request"),
        ("Requests-Tier2", "GetObject", 0.8, "s3_tier2", "API Request"),
    ):
        p = catalog.PRICES[key] * o.region.multiplier
        yield replace(
            _line(
                o,
                "AmazonS3",
                usage,
                op,
                "Requests",
                r.per_hour * share,
                p,
                f"${_money(p * 1000)} per 1,000 {op} requests",
                fam,
                **common,
            ),
            pattern="web",
        )


def dynamodb(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    arn = f"arn:aws:dynamodb:{o.region.code}:{o.account_id}:table/{r.name}"
    common = dict(resource_id=arn, resource_name=r.name, resource_type="Table")
    for usage, share, key in (
        ("WriteRequestUnits", 0.2, "ddb_write"),
        ("ReadRequestUnits", 0.8, "ddb_read"),
    ):
        p = catalog.PRICES[key] * o.region.multiplier
        yield _line(
            o,
            "AmazonDynamoDB",
            usage,
            "PayPerRequestThroughput",
            usage,
            r.per_hour * share,
            p,
            f"${_money(p * 1e6)} per million {usage}",
            "Amazon DynamoDB PayPerRequest Throughput",
            **common,
        )
    p = catalog.PRICES["ddb_storage"] * o.region.multiplier
    yield replace(
        _line(
            o,
            "AmazonDynamoDB",
            "TimedStorage-ByteHrs",
            "StandardStorage",
            "GB-Mo",
            r.size_gb / o.period_hours,
            p,
            f"${_money(p)} per GB-Month of storage used",
            "Database Storage",
            **common,
        ),
        pattern="growth",
    )


def nat(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    nid = "nat-0" + ids.hex_id(16, o.seed, o.account_id, r.name, i)
    arn = f"arn:aws:ec2:{o.region.code}:{o.account_id}:natgateway/{nid}"
    common = dict(
        resource_id=arn,
        resource_name=f"{r.name}-{i + 1}",
        resource_type="NatGateway",
        az=f"{o.region.code}{'abc'[i % 3]}",
    )
    yield from _hours_and_usage(
        o,
        r,
        ("AmazonEC2", "NatGateway", "NAT Gateway"),
        _Charge("NatGateway-Hours", "Hrs", "nat_hours", "per NAT Gateway Hour"),
        _Charge("NatGateway-Bytes", "GB", "nat_bytes", "per GB Data Processed by NAT Gateways"),
        **common,
    )


def alb(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    arn = (
        f"arn:aws:elasticloadbalancing:{o.region.code}:{o.account_id}:loadbalancer/app/"
        f"{r.name}/{ids.hex_id(16, o.seed, r.name, i)}"
    )
    common = dict(resource_id=arn, resource_name=r.name, resource_type="LoadBalancer")
    yield from _hours_and_usage(
        o,
        r,
        ("AWSELB", "LoadBalancing:Application", "Load Balancer-Application"),
        _Charge(
            "LoadBalancerUsage",
            "Hrs",
            "alb_hours",
            "per Application LoadBalancer-hour (or partial hour)",
        ),
        _Charge(
            "LCUUsage",
            "LCU-Hrs",
            "alb_lcu",
            "per used Application load balancer capacity unit-hour (or partial hour)",
        ),
        **common,
    )


class _Charge(NamedTuple):
    usage: str  # usage type
    unit: str
    price: str  # key of catalog.PRICES
    per: str  # the description after "$<price> "


def _hours_and_usage(
    o: Owner,
    r: Resource,
    product: tuple[str, str, str],
    hours: _Charge,
    usage: _Charge,
    **common: str,
) -> Iterator[UsageLine]:
    """A resource billed for each hour it exists (a flat line) and for what it processes
    (r.per_hour); `product` is the product code, operation and product family."""
    code, operation, family = product
    for charge, rate in ((hours, 1.0), (usage, r.per_hour)):
        p = catalog.PRICES[charge.price] * o.region.multiplier
        description = f"${_money(p)} {charge.per}"
        line = _line(
            o, code, charge.usage, operation, charge.unit, rate, p, description, family, **common
        )
        yield replace(line, pattern="flat") if charge is hours else line


def data_transfer(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    where = {
        "from_location": o.region.name,
        "from_location_type": "AWS Region",
        "from_region_code": o.region.code,
    }
    p = catalog.PRICES["dt_out"]
    yield _line(
        o,
        "AmazonEC2",
        "DataTransfer-Out-Bytes",
        "RunInstances",
        "GB",
        r.per_hour,
        p,
        f"${_money(p)} per GB - first 10 TB / month data transfer out beyond the global free tier",
        "Data Transfer",
        service_code="AWSDataTransfer",
        product={
            **where,
            "to_location": "External",
            "to_location_type": "Other",
            "transfer_type": "AWS Outbound",
        },
    )
    p = catalog.PRICES["dt_regional"]
    yield _line(
        o,
        "AmazonEC2",
        "DataTransfer-Regional-Bytes",
        "InterZone-Out",
        "GB",
        r.per_hour * 0.4,
        p,
        f"${_money(p)} per GB - regional data transfer - in/out/between EC2 AZs or using IPs or "
        "ELB",
        "Data Transfer",
        service_code="AWSDataTransfer",
        product={
            **where,
            "to_location": o.region.name,
            "to_location_type": "AWS Region",
            "to_region_code": o.region.code,
            "transfer_type": "IntraRegion",
        },
    )


def cloudwatch(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    if i > 0:
        return  # count is the number of metrics of one log group/namespace
    p = catalog.PRICES["cw_metrics"]
    yield _line(
        o,
        "AmazonCloudWatch",
        "CW:MetricMonitorUsage",
        "MetricStorage",
        "Metrics",
        r.count / o.period_hours,
        p,
        f"${_money(p)} per metric-month - first 10,000 metrics",
        "Metric",
    )
    p = catalog.PRICES["cw_logs"]
    arn = f"arn:aws:logs:{o.region.code}:{o.account_id}:log-group:{r.name}"
    yield _line(
        o,
        "AmazonCloudWatch",
        "DataProcessing-Bytes",
        "PutLogEvents",
        "GB",
        r.per_hour,
        p,
        f"${_money(p)} per GB custom log data ingested",
        "Data Payload",
        resource_id=arn,
        resource_name=r.name,
        resource_type="LogGroup",
    )


def kms(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    key = ids.uuid_of(o.seed, o.account_id, r.name, i)
    p = catalog.PRICES["kms_key"]
    yield _line(
        o,
        "awskms",
        "KMS-Keys",
        "CreateKey",
        "Keys",
        1.0 / o.period_hours,
        p,
        f"${_money(p)} per customer master key (CMK) per month",
        "Encryption Key",
        resource_id=f"arn:aws:kms:{o.region.code}:{o.account_id}:key/{key}",
        resource_name=f"{r.name}-{i + 1}",
        resource_type="Key",
    )


BUILDERS: dict[str, Callable[[Owner, Resource, int], Iterator[UsageLine]]] = {
    "ec2": ec2,
    "ebs": ebs,
    "s3": s3,
    "rds": rds,
    "lambda": lambda_,
    "dynamodb": dynamodb,
    "nat": nat,
    "alb": alb,
    "data_transfer": data_transfer,
    "cloudwatch": cloudwatch,
    "kms": kms,
    "bedrock": bedrock,
}
