"""The public price list: every product the bill's meters can charge, in every region of
the catalog, at the public on-demand rate the bill charges for it.

This is not a second table of prices. Each product is what a meter of billing/usage yields
for a resource of its kind, type and operating system (for every instance and database
type of the catalog, the EBS volume types it prices and those the scenario names), plus a
capacity reservation's idle instances; so a product's SKU, unit and rate are the bill's
`product_sku`, `pricing_unit` and `pricing_public_on_demand_rate` (CUR 2.0) by
construction. The Price List API (services/pricing) answers from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from bcm_local.billing import catalog
from bcm_local.billing.scenario.definition import Resource, Scenario
from bcm_local.billing.usage import commitments
from bcm_local.billing.usage.lines import UsageLine
from bcm_local.billing.usage.meter import Owner
from bcm_local.billing.usage.synthetic import BUILDERS

_NOBODY = ("000000000000", "price-list")  # the meters want an owner; products have none
_TYPED = ("ec2", "rds", "ebs")  # kinds whose products depend on the resource's type


@dataclass(frozen=True)
class Product:
    """One SKU: a usage type and operation of a service in a region, and its rate."""

    sku: str
    service_code: str  # the Price List's service code (product servicecode)
    family: str  # productFamily
    region: str
    usage_type: str
    operation: str
    unit: str
    price: float  # public on-demand rate per unit, USD
    description: str
    attributes: tuple[tuple[str, str], ...]  # AWS's attribute names, sorted

    def attribute(self, name: str) -> str | None:
        return next((v for k, v in self.attributes if k == name), None)


def products(scenario: Scenario) -> tuple[Product, ...]:
    """Every product, ordered by service code, region, usage type, operation and SKU."""
    volumes = (r.type or "gp3" for r in scenario.resources if r.kind == "ebs")
    return _products(tuple(dict.fromkeys((*catalog.EBS_VOLUME_TYPES, *volumes))))


def by_service(scenario: Scenario) -> dict[str, tuple[Product, ...]]:
    """The products of each service code, the codes in order."""
    found: dict[str, list[Product]] = {}
    for product in products(scenario):
        found.setdefault(product.service_code, []).append(product)
    return {code: tuple(items) for code, items in found.items()}


@cache
def _products(volume_types: tuple[str, ...]) -> tuple[Product, ...]:
    found: dict[str, Product] = {}
    for line in _lines(volume_types):
        if line.sku and line.sku not in found:
            found[line.sku] = _product(line)
    return tuple(
        sorted(
            found.values(),
            key=lambda p: (p.service_code, p.region, p.usage_type, p.operation, p.sku),
        )
    )


def _templates(volume_types: tuple[str, ...]) -> Iterator[Resource]:
    """One resource of each kind, type and operating system the meters price."""
    for instance_type in catalog.EC2_TYPES:
        for system in catalog.OPERATING_SYSTEMS:
            yield Resource("ec2", type=instance_type, os=system)
    for db_type in catalog.RDS_TYPES:
        yield Resource("rds", type=db_type)
    for volume_type in volume_types:
        yield Resource("ebs", type=volume_type)
    for kind in BUILDERS:
        if kind not in _TYPED:
            yield Resource(kind)


def _lines(volume_types: tuple[str, ...]) -> Iterator[UsageLine]:
    for region in catalog.REGIONS.values():
        owner = Owner(*_NOBODY, region, None, catalog.HOURS_PER_MONTH, 0)
        for template in _templates(volume_types):
            yield from BUILDERS[template.kind](owner, template, 0)
        for instance_type in catalog.EC2_TYPES:
            az = f"{region.code}a"
            yield commitments.unused_box(_NOBODY, region.code, instance_type, 1.0, az, "")


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _product(line: UsageLine) -> Product:
    region = catalog.region(line.region or "us-east-1")
    attributes = {
        "servicecode": line.service_code,
        "servicename": catalog.SERVICES[line.service_code][0],
        "usagetype": line.usage_type,
        "operation": line.operation,
        "regionCode": region.code,
        "location": region.name,
        "locationType": "AWS Region",
    }
    if line.instance_type:
        attributes["instanceType"] = line.instance_type
    if line.instance_family:
        attributes["instanceFamily"] = line.instance_family
    if line.service_code == "AmazonEC2" and line.instance_type:  # AWS's instance hours
        unused = line.capacity_reservation_status == "Unused"
        attributes["capacitystatus"] = "UnusedCapacityReservation" if unused else "Used"
    for key, value in line.product.items():
        if key != "product_name":  # the CUR's name for what the price list calls servicename
            attributes[_camel(key)] = value
    return Product(
        sku=line.sku,
        service_code=line.service_code,
        family=line.product_family,
        region=region.code,
        usage_type=line.usage_type,
        operation=line.operation,
        unit=line.unit,
        price=line.list_price,
        description=line.description,
        attributes=tuple(sorted(attributes.items())),
    )
