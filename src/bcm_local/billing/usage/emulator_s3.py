"""Usage of the emulator's own S3 buckets: stored bytes and requests, at public prices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.usage.lines import UsageContext, UsageLine, account_directory


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def bucket_stats(runtime: Any, account_id: str) -> tuple[Any, ...]:
    """The account's buckets in the emulator's S3 (none without a runtime, or with S3 off)."""
    if runtime is None or not getattr(runtime.config, "s3_enabled", True):
        return ()
    from bcm_local.objects.backend import s3_backend

    return tuple(s3_backend(runtime).bucket_stats(account_id))


class S3BucketsEnumerator:
    """Storage (TimedStorage-ByteHrs) and requests (Tier1: PUT/LIST, Tier2: GET) of every
    bucket the account owns, from the bucket's creation on; requests are spread evenly
    over the bucket's life."""

    name = "s3-buckets"

    def enumerate(self, ctx: UsageContext) -> Iterator[UsageLine]:
        found = (
            ctx.buckets if ctx.buckets is not None else bucket_stats(ctx.runtime, ctx.account_id)
        )
        name = account_directory(ctx)["payer"][1]
        period_hours = (ctx.period_end - ctx.period_start) / timedelta(hours=1)
        for stats in found:
            created = datetime.fromtimestamp(float(stats.created), UTC)
            if created >= ctx.period_end or created > ctx.now:
                continue
            region = catalog.REGIONS.get(stats.region)
            multiplier = region.multiplier if region else 1.0
            # requests spread over the hours the bucket has lived, through the hour under
            # way as the bill counts them (whole hours, not seconds: the same clock,
            # settings and requests give the same figures, and they sum to the requests)
            life = float((_hour(ctx.now) - _hour(created)) // timedelta(hours=1) + 1)
            common = dict(
                region=stats.region,
                resource_id=stats.name,
                resource_name=stats.name,
                resource_type="Bucket",
                start=max(created, ctx.period_start),
                replicable=False,
                tags={"created-by": "bcm-local"},
                product={"storage_class": "General Purpose"},
            )
            prefix = region.prefix if region else ""
            price = catalog.PRICES["s3_standard"] * multiplier
            meters = (
                (
                    "TimedStorage-ByteHrs",
                    "StandardStorage",
                    "GB-Mo",
                    stats.total_bytes / 2**30 / period_hours,
                    price,
                    "Storage",
                ),
                (
                    "Requests-Tier1",
                    "PutObject",
                    "Requests",
                    (stats.put_requests + stats.list_requests) / life,
                    catalog.PRICES["s3_tier1"] * multiplier,
                    "API Request",
                ),
                (
                    "Requests-Tier2",
                    "GetObject",
                    "Requests",
                    stats.get_requests / life,
                    catalog.PRICES["s3_tier2"] * multiplier,
                    "API Request",
                ),
            )
            for usage, operation, unit, rate, unit_price, family in meters:
                if rate <= 0:
                    continue
                yield UsageLine(
                    ctx.account_id,
                    name,
                    "AmazonS3",
                    "AmazonS3",
                    catalog.SERVICES["AmazonS3"][0],
                    prefix + usage,
                    operation,
                    unit,
                    float(rate),
                    unit_price,
                    unit_price,
                    f"${unit_price:.10f}".rstrip("0")
                    + f" per {unit} ({usage}) of bucket {stats.name}",
                    family,
                    sku=ids.sku(stats.region, "AmazonS3", usage, operation),
                    **common,
                )
