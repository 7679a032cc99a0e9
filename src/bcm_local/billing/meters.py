"""Meters of each resource kind: how one scenario resource becomes usage lines (compute
kinds here, the others in meters_more)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from bcm_local.billing import catalog, ids
from bcm_local.billing.scenario import Resource
from bcm_local.billing.usage import UsageLine

_FAMILY = {"t": "General purpose", "m": "General purpose", "c": "Compute optimized"}
_FAMILY |= {"r": "Memory optimized", "g": "GPU instance"}


@dataclass(frozen=True)
class Owner:
    """The resource's account, region and period facts the meters need."""

    account_id: str
    account_name: str
    region: catalog.Region
    start: datetime | None
    period_hours: float
    seed: int


def _line(
    o: Owner,
    product_code: str,
    usage: str,
    operation: str,
    unit: str,
    rate: float,
    price: float,
    description: str,
    family: str,
    **kw: object,
) -> UsageLine:
    service_code = str(kw.pop("service_code", product_code))
    name = catalog.SERVICES.get(service_code, catalog.SERVICES.get(product_code, ("", "", "")))[0]
    return UsageLine(
        account_id=o.account_id,
        account_name=o.account_name,
        product_code=product_code,
        service_code=service_code,
        service_name=name,
        usage_type=o.region.prefix + usage,
        operation=operation,
        unit=unit,
        rate=rate,
        price=price,
        list_price=price,
        description=description,
        product_family=family,
        region=o.region.code,
        start=o.start,
        sku=ids.sku(o.region.code, product_code, usage, operation),
        **kw,  # type: ignore[arg-type]
    )


def _money(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def ec2(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    base, vcpu, memory = catalog.EC2_TYPES[r.type]
    price = base * o.region.multiplier + (
        catalog.WINDOWS_EXTRA_PER_VCPU * vcpu if r.os == "Windows" else 0
    )
    iid = "i-0" + ids.hex_id(16, o.seed, o.account_id, r.name, i)
    yield _line(
        o,
        "AmazonEC2",
        f"BoxUsage:{r.type}",
        "RunInstances:0002" if r.os == "Windows" else "RunInstances",
        "Hrs",
        1.0,
        price,
        f"${_money(price)} per On Demand {r.os} {r.type} Instance Hour",
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


def ebs(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    kind = r.type or "gp3"
    price = catalog.PRICES.get(f"ebs_{kind}", 0.08) * o.region.multiplier
    yield _line(
        o,
        "AmazonEC2",
        f"EBS:VolumeUsage.{kind}",
        f"CreateVolume-{kind.capitalize()}",
        "GB-Mo",
        r.size_gb / o.period_hours,
        price,
        f"${_money(price)} per GB-month of {kind} provisioned storage",
        "Storage",
        az=f"{o.region.code}{'abc'[i % 3]}",
        resource_id="vol-0" + ids.hex_id(16, o.seed, o.account_id, r.name, i),
        resource_name=f"{r.name}-{i + 1}",
        resource_type="Volume",
        product={
            "volume_api_name": kind,
            "storage_media": "SSD-backed",
            "product_name": "Amazon Elastic Compute Cloud",
        },
    )


def rds(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    price = catalog.RDS_TYPES[r.type] * o.region.multiplier
    arn = f"arn:aws:rds:{o.region.code}:{o.account_id}:db:{r.name}"
    common = dict(
        resource_id=arn, resource_name=r.name, resource_type="DBInstance", az=f"{o.region.code}a"
    )
    yield _line(
        o,
        "AmazonRDS",
        f"InstanceUsage:{r.type}",
        "CreateDBInstance:0002",
        "Hrs",
        1.0,
        price,
        f"${_money(price)} per RDS {r.type} instance hour (or partial hour) running MySQL",
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
    yield _line(
        o,
        "AmazonRDS",
        "RDS:GP2-Storage",
        "CreateDBInstance:0002",
        "GB-Mo",
        r.size_gb / o.period_hours,
        storage,
        f"${_money(storage)} per GB-month of provisioned GP2 storage running MySQL",
        "Database Storage",
        **common,
    )


def lambda_(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    arn = f"arn:aws:lambda:{o.region.code}:{o.account_id}:function:{r.name}-{i + 1}"
    common = dict(resource_id=arn, resource_name=f"{r.name}-{i + 1}", resource_type="Function")
    gbs = catalog.PRICES["lambda_gbs"]
    yield _line(
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
    yield _line(
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


def bedrock(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    common = dict(
        resource_id=f"arn:aws:bedrock:{o.region.code}::foundation-model/{model}",
        resource_name=model,
        resource_type="FoundationModel",
        iam_principal=f"arn:aws:iam::{o.account_id}:role/{r.name}-service",
    )
    prefix = o.region.prefix or "USE1-"
    for usage, share, key in (
        ("input-tokens", 1.0, "bedrock_input"),
        ("output-tokens", 0.25, "bedrock_output"),
    ):
        p = catalog.PRICES[key]
        line = _line(
            o,
            "AmazonBedrock",
            f"Claude3Haiku-{usage}",
            "InvokeModelInference",
            "1K tokens",
            r.per_hour * share,
            p,
            f"${_money(p)} per 1K {usage} for Claude 3 Haiku",
            "Amazon Bedrock",
            **common,
        )
        yield replace(line, usage_type=prefix + f"Claude3Haiku-{usage}")
