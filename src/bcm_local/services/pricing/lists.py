"""Price lists: one per service code, region and publication (offers.Publication), in USD,
named by AWS's ARN form `arn:aws:pricing:::price-list/aws/<service>/USD/<version>/<region>`
and downloadable as JSON or CSV (files.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bcm_local.billing.prices import Product
from bcm_local.runtime import Context
from bcm_local.services.pricing.offers import CURRENCY, Publication, invalid, offers
from bcm_local.wire.errors import AwsError

FILE_FORMATS = ("json", "csv")
_ARN = re.compile(
    r"^arn:aws:pricing:::price-list/aws/([A-Za-z0-9]+)/([A-Z]{3})/(\d{14})/([a-z0-9-]+)$"
)


@dataclass(frozen=True)
class PriceList:
    service: str
    region: str
    publication: Publication
    products: tuple[Product, ...]  # the service's products in the region

    @property
    def arn(self) -> str:
        return (
            f"arn:aws:pricing:::price-list/aws/{self.service}/{CURRENCY}/"
            f"{self.publication.version}/{self.region}"
        )

    def element(self) -> dict[str, Any]:
        """The ListPriceLists entry."""
        return {
            "PriceListArn": self.arn,
            "RegionCode": self.region,
            "CurrencyCode": CURRENCY,
            "FileFormats": list(FILE_FORMATS),
        }


def moment(value: object) -> datetime:
    """EffectiveDate as sent: epoch seconds (the JSON protocol's timestamps) or ISO 8601."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str):
            text = value.strip()
            if text.replace(".", "", 1).isdigit():
                return datetime.fromtimestamp(float(text), UTC)
            found = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise invalid(f"EffectiveDate {value!r} is not a timestamp.")


def _service(ctx: Context, code: str) -> tuple[Product, ...]:
    found = offers(ctx).get(code)
    if found is None:
        raise AwsError("ResourceNotFoundException", f"Could not find the service {code}.")
    return found


def price_lists(
    ctx: Context, service: str, effective: datetime, currency: str, region: str | None
) -> list[PriceList]:
    """The service's price lists in effect at `effective`, by region (another currency
    than USD, or a region without the service's products, has none)."""
    products = _service(ctx, service)
    publication = Publication.effective(effective, ctx.clock.now())
    regions = sorted({p.region for p in products})
    if currency != CURRENCY:
        return []
    return [
        PriceList(service, code, publication, tuple(p for p in products if p.region == code))
        for code in regions
        if region in (None, code)
    ]


def find(ctx: Context, arn: str) -> PriceList:
    """The price list an ARN names; ResourceNotFoundException when there is none."""
    parts = _ARN.match(arn)
    missing = AwsError("ResourceNotFoundException", f"Could not find the price list {arn}.")
    if parts is None:
        raise missing
    service, currency, version, region = parts.groups()
    publication = Publication.of_version(version, ctx.clock.now())
    if currency != CURRENCY or publication is None or service not in offers(ctx):
        raise missing
    found = price_lists(ctx, service, publication.at, currency, region)
    if not found:
        raise missing
    return found[0]


def file_format(value: str) -> str:
    chosen = value.lower()
    if chosen not in FILE_FORMATS:
        raise invalid(f"FileFormat {value} is not one of: {', '.join(FILE_FORMATS)}.")
    return chosen
