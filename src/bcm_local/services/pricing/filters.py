"""GetProducts' Filters: every filter must match (AND).

A filter's Field is `ServiceCode`, `productFamily`, `sku` or an attribute name, spelled
exactly; Value is compared as it is (case-sensitive):

- TERM_MATCH and EQUALS: the field's value is Value;
- CONTAINS: the field's value contains Value;
- ANY_OF: the field's value is one of Value's comma-separated values;
- NONE_OF: it is none of them (a product without the field matches).

A product without the field matches no filter but NONE_OF, as AWS returns no products
for an attribute the service does not have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bcm_local.billing.prices import Product
from bcm_local.services.pricing.offers import invalid

Test = Callable[[Product], bool]
_FIELDS: dict[str, Callable[[Product], str]] = {
    "ServiceCode": lambda p: p.service_code,
    "productFamily": lambda p: p.family,
    "sku": lambda p: p.sku,
}


def _value(p: Product, field: str) -> str | None:
    found = _FIELDS.get(field)
    return found(p) if found else p.attribute(field)


def _values(text: str) -> frozenset[str]:
    values = [part.strip() for part in text.split(",")]
    if not all(values):
        raise invalid(f"The filter value {text!r} has an empty item.")
    return frozenset(values)


def _test(spec: dict[str, Any]) -> Test:
    kind, field, want = spec["Type"], spec["Field"], spec["Value"]
    if kind in ("TERM_MATCH", "EQUALS"):
        return lambda p: _value(p, field) == want
    if kind == "CONTAINS":
        return lambda p: want in (_value(p, field) or "")  # Value is never empty (model)
    listed = _values(want)
    if kind == "ANY_OF":
        return lambda p: _value(p, field) in listed
    return lambda p: _value(p, field) not in listed  # NONE_OF (the model allows no other)


def compile_filters(specs: list[dict[str, Any]] | None) -> Test:
    """One test for all the filters (checked before any product is read)."""
    tests = [_test(spec) for spec in specs or []]
    return lambda p: all(test(p) for test in tests)
