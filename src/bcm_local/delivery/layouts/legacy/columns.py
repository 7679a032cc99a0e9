"""Legacy CUR columns from CUR 2.0 ones: `line_item_unblended_cost` -> `lineItem/UnblendedCost`.

CUR 2.0 named its columns by snake-casing the legacy ones, so the legacy name of a CUR 2.0
column is recovered from its category prefix and its words; the few legacy names that are
not PascalCase (pricing/term, product/instanceType, ...) follow their category's rule. The
CUR 2.0 maps become one legacy column per key found in the data (`product/<attribute>`,
`resourceTags/user:<key>`, `costCategory/<name>`, `discount/<Name>`), and the columns legacy
CUR never had (account names, IAM principal, capacity reservations, `tags`) are left out.
Parquet (Athena) names are the legacy names snake-cased again, as AWS does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bcm_local.billing.tables.types import DOUBLE, TIMESTAMP, TIMESTAMP_MS, is_map

# CUR 2.0 prefix -> legacy category, in legacy CUR's column order
CATEGORIES = (
    ("identity_", "identity"),
    ("bill_", "bill"),
    ("line_item_", "lineItem"),
    ("product_", "product"),
    ("pricing_", "pricing"),
    ("reservation_", "reservation"),
    ("savings_plan_", "savingsPlan"),
    ("discount_", "discount"),
    ("split_line_item_", "splitLineItem"),
)
MAP_CATEGORIES = {
    "product": "product",
    "discount": "discount",
    "resource_tags": "resourceTags",
    "cost_category": "costCategory",
}
_ORDER = [c for _, c in CATEGORIES] + ["resourceTags", "costCategory"]
NOT_IN_LEGACY = frozenset(
    {
        "bill_payer_account_name",
        "line_item_usage_account_name",
        "line_item_iam_principal",
        "line_item_user_identifier",
        "capacity_reservation_capacity_reservation_arn",
        "capacity_reservation_capacity_reservation_status",
        "capacity_reservation_capacity_reservation_type",
        "tags",
    }
)
# Legacy names that are camelCase rather than PascalCase (the rest of their category is Pascal).
_CAMEL = {"pricing": {"currency", "term", "unit", "public_on_demand_cost", "public_on_demand_rate"}}
_PASCAL_PRODUCT = {"product_name"}
# Legacy CUR's own order inside a category, where it is not alphabetical.
_LEADING = [
    "identity/LineItemId",
    "identity/TimeInterval",
    "bill/InvoiceId",
    "bill/InvoicingEntity",
    "bill/BillingEntity",
    "bill/BillType",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/Operation",
    "lineItem/AvailabilityZone",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/NormalizationFactor",
    "lineItem/NormalizedUsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedRate",
    "lineItem/UnblendedCost",
    "lineItem/BlendedRate",
    "lineItem/BlendedCost",
    "lineItem/LineItemDescription",
    "lineItem/TaxType",
    "lineItem/LegalEntity",
    "product/ProductName",
    "pricing/RateCode",
    "pricing/RateId",
    "pricing/currency",
    "pricing/publicOnDemandCost",
    "pricing/publicOnDemandRate",
    "pricing/term",
    "pricing/unit",
]
_RANK = {name: i for i, name in enumerate(_LEADING)}
_REQUIRED_STRINGS = {
    "identity/LineItemId",
    "bill/BillType",
    "bill/PayerAccountId",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/ProductCode",
    "lineItem/CurrencyCode",
}
_REQUIRED_NUMBERS = {"lineItem/UsageAmount", "lineItem/UnblendedCost", "lineItem/BlendedCost"}


@dataclass(frozen=True)
class LegacyColumn:
    category: str
    name: str
    aws_type: str  # the CUR 2.0 (table dictionary) type of the value
    source: str  # SQL expression over the CUR 2.0 rows

    @property
    def header(self) -> str:
        return f"{self.category}/{self.name}"

    @property
    def parquet_name(self) -> str:
        return snake(self.header)

    @property
    def manifest_type(self) -> str:
        """The type names AWS's legacy manifests use."""
        if self.header == "identity/TimeInterval":
            return "Interval"
        if self.aws_type in (TIMESTAMP, TIMESTAMP_MS):
            return "DateTime"
        if self.aws_type == DOUBLE or self.name.endswith("Rate"):
            return "BigDecimal" if self.header in _REQUIRED_NUMBERS else "OptionalBigDecimal"
        return "String" if self.header in _REQUIRED_STRINGS else "OptionalString"

    def manifest_entry(self, parquet: bool) -> dict[str, str]:
        name = self.parquet_name if parquet else self.name
        return {"category": self.category, "name": name, "type": self.manifest_type}


def snake(name: str) -> str:
    """AWS's Athena column names: `lineItem/UnblendedCost` -> `line_item_unblended_cost`."""
    spaced = re.sub(r"([A-Z])", r"_\1", name).lower()
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", spaced)).strip("_")


def _pascal(words: str) -> str:
    """`unblended_cost` -> `UnblendedCost`; single letters join up: `a_r_n` -> `ARN`."""
    return "".join(w[:1].upper() + w[1:] for w in words.split("_") if w)


def _camel(words: str) -> str:
    pascal = _pascal(words)
    return pascal[:1].lower() + pascal[1:]


def _word_name(category: str, words: str) -> str:
    if category == "product":
        return _pascal(words) if words in _PASCAL_PRODUCT else _camel(words)
    if words in _CAMEL.get(category, ()):
        return _camel(words)
    return _pascal(words)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def plain_column(name: str, aws_type: str) -> LegacyColumn | None:
    """The legacy column of a CUR 2.0 scalar column, or None if legacy CUR lacks it."""
    if name in NOT_IN_LEGACY:
        return None
    for prefix, category in CATEGORIES:
        if name.startswith(prefix):
            words = name[len(prefix) :]
            return LegacyColumn(category, _word_name(category, words), aws_type, _quote(name))
    return None


def map_key_name(category: str, key: str) -> str:
    if category == "resourceTags":
        if ":" in key:
            return key
        for origin in ("user", "aws"):
            if key.startswith(origin + "_"):
                return f"{origin}:{key[len(origin) + 1 :]}"
        return f"user:{key}"
    if category == "costCategory":
        return key
    return _word_name(category, key) if "_" in key or key.islower() else key


def map_columns(column: str, aws_type: str, keys: list[str]) -> list[LegacyColumn]:
    category = MAP_CATEGORIES.get(column)
    if category is None:
        return []
    value_type = aws_type[len("map<string,") : -1]
    return [
        LegacyColumn(
            category,
            map_key_name(category, key),
            value_type,
            f"element_at({_quote(column)}, {_literal(key)})[1]",
        )
        for key in keys
    ]


def legacy_columns(
    cur2: list[tuple[str, str]], map_keys: dict[str, list[str]]
) -> list[LegacyColumn]:
    """Legacy columns, in legacy order, of CUR 2.0 columns (name, type) whose maps hold
    `map_keys`; a map key that repeats a scalar column's legacy name is dropped."""
    found: dict[str, LegacyColumn] = {}
    for name, aws_type in cur2:
        if not is_map(aws_type):
            col = plain_column(name, aws_type)
            if col is not None:
                found.setdefault(col.header, col)
    for name, aws_type in cur2:
        if is_map(aws_type) and name not in NOT_IN_LEGACY:
            for col in map_columns(name, aws_type, sorted(map_keys.get(name, []))):
                found.setdefault(col.header, col)
    return sorted(found.values(), key=_position)


def _position(col: LegacyColumn) -> tuple[Any, ...]:
    return (_ORDER.index(col.category), _RANK.get(col.header, len(_RANK)), col.name.lower())
