"""The meter toolkit: who owns a resource (`Owner`) and how one usage line of a meter is
made (`usage_line`, with its service name and SKU from the catalog). The meters themselves are
one module per resource family: compute, storage, database, network, monitoring, ai."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.usage.lines import UsageLine


@dataclass(frozen=True)
class Owner:
    """The resource's account, region and period facts the meters need."""

    account_id: str
    account_name: str
    region: catalog.Region
    start: datetime | None
    period_hours: float
    seed: int


def usage_line(
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


def money(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")
