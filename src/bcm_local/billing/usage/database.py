"""Meters of databases: RDS instances with their storage, DynamoDB tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from bcm_local.billing import catalog
from bcm_local.billing.scenario.definition import Resource
from bcm_local.billing.usage.lines import UsageLine
from bcm_local.billing.usage.meter import Owner, money, usage_line


def rds(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    price = catalog.RDS_TYPES[r.type] * o.region.multiplier
    arn = f"arn:aws:rds:{o.region.code}:{o.account_id}:db:{r.name}"
    common = dict(
        resource_id=arn, resource_name=r.name, resource_type="DBInstance", az=f"{o.region.code}a"
    )
    yield usage_line(
        o,
        "AmazonRDS",
        f"InstanceUsage:{r.type}",
        "CreateDBInstance:0002",
        "Hrs",
        1.0,
        price,
        f"${money(price)} per RDS {r.type} instance hour (or partial hour) running MySQL",
        "Database Instance",
        instance_type=r.type,
        normalization_factor=catalog.size_factor(r.type),
        product={
            "database_engine": "MySQL",
            "deployment_option": "Single-AZ",
            "current_generation": catalog.current_generation(r.type),
        },
        **common,
    )
    storage = catalog.PRICES["rds_storage"] * o.region.multiplier
    yield usage_line(
        o,
        "AmazonRDS",
        "RDS:GP2-Storage",
        "CreateDBInstance:0002",
        "GB-Mo",
        r.size_gb / o.period_hours,
        storage,
        f"${money(storage)} per GB-month of provisioned GP2 storage running MySQL",
        "Database Storage",
        **common,
    )


def dynamodb(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    arn = f"arn:aws:dynamodb:{o.region.code}:{o.account_id}:table/{r.name}"
    common = dict(resource_id=arn, resource_name=r.name, resource_type="Table")
    for usage, share, key in (
        ("WriteRequestUnits", 0.2, "ddb_write"),
        ("ReadRequestUnits", 0.8, "ddb_read"),
    ):
        p = catalog.PRICES[key] * o.region.multiplier
        yield usage_line(
            o,
            "AmazonDynamoDB",
            usage,
            "PayPerRequestThroughput",
            usage,
            r.per_hour * share,
            p,
            f"${money(p * 1e6)} per million {usage}",
            "Amazon DynamoDB PayPerRequest Throughput",
            **common,
        )
    p = catalog.PRICES["ddb_storage"] * o.region.multiplier
    yield replace(
        usage_line(
            o,
            "AmazonDynamoDB",
            "TimedStorage-ByteHrs",
            "StandardStorage",
            "GB-Mo",
            r.size_gb / o.period_hours,
            p,
            f"${money(p)} per GB-Month of storage used",
            "Database Storage",
            **common,
        ),
        pattern="growth",
    )
