"""Meters of storage: EBS volumes and S3 buckets of the scenario."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.scenario.definition import Resource
from bcm_local.billing.usage.lines import UsageLine
from bcm_local.billing.usage.meter import Owner, money, usage_line


def ebs(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    kind = r.type or "gp3"
    price = catalog.PRICES.get(f"ebs_{kind}", 0.08) * o.region.multiplier
    yield usage_line(
        o,
        "AmazonEC2",
        f"EBS:VolumeUsage.{kind}",
        f"CreateVolume-{kind.capitalize()}",
        "GB-Mo",
        r.size_gb / o.period_hours,
        price,
        f"${money(price)} per GB-month of {kind} provisioned storage",
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
    yield usage_line(
        o,
        "AmazonS3",
        "TimedStorage-ByteHrs",
        "StandardStorage",
        "GB-Mo",
        r.size_gb / o.period_hours,
        price,
        f"${money(price)} per GB - first 50 TB / month of storage used",
        "Storage",
        **common,
    )
    for usage, op, share, key, fam in (
        ("Requests-Tier1", "PutObject", 0.2, "s3_tier1", "API Request"),
        ("Requests-Tier2", "GetObject", 0.8, "s3_tier2", "API Request"),
    ):
        p = catalog.PRICES[key] * o.region.multiplier
        yield replace(
            usage_line(
                o,
                "AmazonS3",
                usage,
                op,
                "Requests",
                r.per_hour * share,
                p,
                f"${money(p * 1000)} per 1,000 {op} requests",
                fam,
                **common,
            ),
            pattern="web",
        )
