"""The offers the Price List API serves: the bill's products by service code, their
publication, and each product as AWS's price list document (GetProducts' PriceList items
and the price list files share `terms`).

Publication: the catalog's prices do not change, but AWS publishes price lists over time,
so the emulator publishes one on the first instant of every month of its clock (UTC). The
one in effect at an instant is that month's; the current one is the clock's month's. Its
version is the publication instant as AWS writes it (`20260501000000`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bcm_local.billing import catalog, prices
from bcm_local.billing.scenario.files import scenario_of
from bcm_local.billing.scenario.periods import month_start
from bcm_local.runtime import Context
from bcm_local.wire.errors import AwsError

FORMAT_VERSION = "aws_v1"
CURRENCY = "USD"
_VERSION = "%Y%m%d%H%M%S"


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", f"Input Parameters are invalid. {message}")


def not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message)


@dataclass(frozen=True)
class Publication:
    """One published price list: its instant (the first of a month, UTC)."""

    at: datetime

    @property
    def version(self) -> str:
        return self.at.strftime(_VERSION)

    @property
    def date(self) -> str:
        return self.at.strftime("%Y-%m-%dT%H:%M:%SZ")

    @classmethod
    def effective(cls, moment: datetime, now: datetime) -> Publication:
        """The price list in effect at `moment` (none is newer than the current one)."""
        return cls(month_start(min(moment, now)))

    @classmethod
    def of_version(cls, version: str, now: datetime) -> Publication | None:
        """The publication a version names, if it was published by `now`."""
        try:
            at = datetime.strptime(version, _VERSION).replace(tzinfo=UTC)
        except ValueError:
            return None
        return cls(at) if at == month_start(at) and at <= now else None


def current(ctx: Context) -> Publication:
    now = ctx.clock.now()
    return Publication.effective(now, now)


def offers(ctx: Context) -> dict[str, tuple[prices.Product, ...]]:
    """The products of every service code, from the scenario the bill is built from."""
    return prices.by_service(scenario_of(str(ctx.config.billing_scenario)))


def service(ctx: Context, code: str) -> tuple[prices.Product, ...]:
    """A service's products; InvalidParameterException for an empty code,
    NotFoundException for one without products."""
    if not code:
        raise invalid("serviceCode cannot be null or empty")
    found = offers(ctx).get(code)
    if found is None:
        raise not_found(f"Could not find the service {code}.")
    return found


def format_version(value: str | None) -> str:
    if value not in (None, FORMAT_VERSION):
        raise invalid(f"Unsupported formatVersion {value}; the supported one is {FORMAT_VERSION}.")
    return FORMAT_VERSION


def attribute_names(products: tuple[prices.Product, ...]) -> list[str]:
    return sorted({name for p in products for name, _ in p.attributes})


def usd(amount: float) -> str:
    """A price as AWS's price lists write it: ten decimals."""
    return f"{amount:.10f}"


def on_demand(p: prices.Product, pub: Publication) -> dict[str, Any]:
    """The product's OnDemand terms: one term with one price dimension (the bill's
    pricing_rate_code)."""
    term = f"{p.sku}.{catalog.ON_DEMAND_TERM}"
    rate = catalog.rate_code(p.sku)
    dimension = {
        "unit": p.unit,
        "endRange": "Inf",
        "description": p.description,
        "appliesTo": [],
        "rateCode": rate,
        "beginRange": "0",
        "pricePerUnit": {CURRENCY: usd(p.price)},
    }
    return {
        term: {
            "priceDimensions": {rate: dimension},
            "sku": p.sku,
            "effectiveDate": pub.date,
            "offerTermCode": catalog.ON_DEMAND_TERM,
            "termAttributes": {},
        }
    }


def product_entry(p: prices.Product) -> dict[str, Any]:
    return {"productFamily": p.family, "attributes": dict(p.attributes), "sku": p.sku}


def document(p: prices.Product, pub: Publication) -> dict[str, Any]:
    """A GetProducts PriceList item (before it is written as a JSON string)."""
    return {
        "product": product_entry(p),
        "serviceCode": p.service_code,
        "terms": {"OnDemand": on_demand(p, pub)},
        "version": pub.version,
        "publicationDate": pub.date,
    }
