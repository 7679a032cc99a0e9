"""Meters of networking: NAT gateways, load balancers and data transfer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import NamedTuple

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.scenario.definition import Resource
from bcm_local.billing.usage.lines import UsageLine
from bcm_local.billing.usage.meter import Owner, money, usage_line


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
        description = f"${money(p)} {charge.per}"
        line = usage_line(
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
    yield usage_line(
        o,
        "AmazonEC2",
        "DataTransfer-Out-Bytes",
        "RunInstances",
        "GB",
        r.per_hour,
        p,
        f"${money(p)} per GB - first 10 TB / month data transfer out beyond the global free tier",
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
    yield usage_line(
        o,
        "AmazonEC2",
        "DataTransfer-Regional-Bytes",
        "InterZone-Out",
        "GB",
        r.per_hour * 0.4,
        p,
        f"${money(p)} per GB - regional data transfer - in/out/between EC2 AZs or using IPs or ELB",
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
