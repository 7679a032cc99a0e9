"""Meters of compute: EC2 instances (with their Windows licence) and Lambda functions."""

from __future__ import annotations

from collections.abc import Iterator

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.scenario.definition import Resource
from bcm_local.billing.usage.lines import UsageLine
from bcm_local.billing.usage.meter import Owner, money, usage_line

_FAMILY = {"t": "General purpose", "m": "General purpose", "c": "Compute optimized"}
_FAMILY |= {"r": "Memory optimized", "g": "GPU instance"}


def ec2(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    base, vcpu, memory = catalog.EC2_TYPES[r.type]
    price = base * o.region.multiplier + (
        catalog.WINDOWS_EXTRA_PER_VCPU * vcpu if r.os == "Windows" else 0
    )
    iid = "i-0" + ids.hex_id(16, o.seed, o.account_id, r.name, i)
    yield usage_line(
        o,
        "AmazonEC2",
        f"BoxUsage:{r.type}",
        "RunInstances:0002" if r.os == "Windows" else "RunInstances",
        "Hrs",
        1.0,
        price,
        f"${money(price)} per On Demand {r.os} {r.type} Instance Hour",
        "Compute Instance",
        az=f"{o.region.code}{'abc'[i % 3]}",
        resource_id=iid,
        resource_name=f"{r.name}-{i + 1}",
        resource_type="Instance",
        instance_type=r.type,
        instance_family=_FAMILY.get(r.type[0], "General purpose"),
        normalization_factor=catalog.size_factor(r.type),
        product={
            "vcpu": str(vcpu),
            "memory": f"{memory:g} GiB",
            "operating_system": r.os,
            "tenancy": "Shared",
            "current_generation": catalog.current_generation(r.type),
            "product_name": "Amazon Elastic Compute Cloud",
        },
    )


def lambda_(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    arn = f"arn:aws:lambda:{o.region.code}:{o.account_id}:function:{r.name}-{i + 1}"
    common = dict(resource_id=arn, resource_name=f"{r.name}-{i + 1}", resource_type="Function")
    gbs = catalog.PRICES["lambda_gbs"]
    yield usage_line(
        o,
        "AWSLambda",
        "Lambda-GB-Second",
        "Invoke",
        "Lambda-GB-Second",
        r.per_hour * 0.1,
        gbs,
        "AWS Lambda - Total Compute - US East (N. Virginia)",
        "Serverless",
        **common,
    )
    req = catalog.PRICES["lambda_requests"]
    yield usage_line(
        o,
        "AWSLambda",
        "Request",
        "Invoke",
        "Requests",
        r.per_hour,
        req,
        "AWS Lambda - Total Requests",
        "Serverless",
        **common,
    )
