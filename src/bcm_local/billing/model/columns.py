"""Usage lines as columns: the `raw_lines` table the model replicates and expands."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from bcm_local.billing import catalog
from bcm_local.billing.charges import Placed
from bcm_local.billing.scenario import ids
from bcm_local.billing.scenario.periods import Period
from bcm_local.billing.usage import containers

# product attributes with columns of their own (the others go to product_map)
_PRODUCT_COLUMNS = (
    "from_location",
    "from_location_type",
    "from_region_code",
    "to_location",
    "to_location_type",
    "to_region_code",
)
# string columns of `lines` (stored as ENUMs; values come from the lines themselves)
STRING_COLUMNS = [
    "payer_id",
    "payer_name",
    "account_id",
    "account_name",
    "product_code",
    "service_code",
    "service_name",
    "service_category",
    "service_subcategory",
    "usage_type",
    "operation",
    "unit",
    "region",
    "region_name",
    "az",
    "resource_id",
    "resource_name",
    "resource_type",
    "line_item_type",
    "description",
    "product_family",
    "sku",
    "rate_code",
    "rate_id",
    "instance_type",
    "instance_family",
    "pricing_term",
    "purchase_option",
    "lease_contract_length",
    "offering_class",
    "tax_type",
    "bill_type",
    "legal_entity",
    "iam_principal",
    "cr_arn",
    "cr_status",
    "cr_type",
    "rate_str",
    "list_rate_str",
    "net_rate_str",
    *_PRODUCT_COLUMNS,
    "location_type",
    "invoice_id",
    "sp_arn",
    "sp_term",
    "sp_payment",
    "sp_family",
    "sp_region",
    "sp_start",
    "sp_end",
    "ri_arn",
    "ri_start",
    "ri_end",
    "ri_subscription",
    "ri_count",
    "ri_units",
    "ri_az",
    "pricing_category",
    "commitment_type",
    "commitment_category",
    "commitment_status",
    "charge_category",
    "charge_frequency",
    "charge_class",
    "sku_meter",
    "commitment_id",
    "commitment_unit",
    "pattern",
    "split_parent",
]
NUMBER_COLUMNS = [
    "u",
    "c",
    "pub",
    "sp_eff",
    "ri_eff",
    "ri_amort",
    "ri_recur",
    "edp",
    "month_factor",
    "month_aux",
    "nf",
    "sp_rate",
    "sp_commitment",
    "sp_period",
    "ri_unused",
    "ri_unused_recurring",
    "ri_unused_amortized",
    "ri_amortized_period",
    "ri_recurring_period",
    "ri_upfront_value",
    "lp",
    *(f"split_{name}" for name in containers.FIELDS),
]
# cur_tags: CUR 2.0 resource_tags; cur_all_tags(_iam): CUR 2.0 `tags` (resource tags, cost
# categories and, with INCLUDE_IAM_PRINCIPAL_DATA, IAM principal tags), keys prefixed with
# their source as AWS's tags column does; focus_tags: FOCUS Tags
MAP_COLUMNS = (
    "product_map",
    "cur_tags",
    "focus_tags",
    "cost_category",
    "cur_all_tags",
    "cur_all_tags_iam",
)
# map columns stored with another column's key/value ENUM types (one key type per export
# column, whichever variant a table property picks)
SHARED_MAP_TYPES = {"cur_all_tags": "cur_all_tags_iam"}
PRINCIPAL_TAG_PREFIX = "iamPrincipal/"
_USAGE_TYPES = ("Usage", "SavingsPlanCoveredUsage", "DiscountedUsage")


def cur_tag_key(key: str) -> str:
    """CUR 2.0 resource_tags key of a user tag: `user_` + the key in snake case."""
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return "user_" + re.sub(r"[^0-9a-zA-Z]+", "_", snake).strip("_").lower()


def _charge(line_type: str, bill_type: str) -> tuple[str, str, str | None]:
    """FOCUS ChargeCategory, ChargeFrequency, ChargeClass of a line item type."""
    if line_type in _USAGE_TYPES or line_type == "SavingsPlanNegation":
        return "Usage", "Usage-Based", None
    if line_type == "Tax":
        return "Tax", "Recurring", None
    if line_type == "Credit":
        return "Credit", "One-Time", None
    if line_type == "Refund":
        return "Credit", "One-Time", "Correction"
    if line_type in ("RIFee", "SavingsPlanRecurringFee"):
        return "Purchase", "Recurring", None
    if line_type == "Fee" and bill_type != "Purchase":
        return "Purchase", "Recurring", None
    return "Purchase", "One-Time", None


def _meter(usage_type: str, region: catalog.Region | None) -> str | None:
    """FOCUS SkuMeter: the usage type without its region prefix and size suffix."""
    if not usage_type:
        return None
    if region and region.prefix and usage_type.startswith(region.prefix):
        usage_type = usage_type[len(region.prefix) :]
    return usage_type.split(":")[0]


def _money(value: float) -> str:
    return f"{value:.10f}".rstrip("0").rstrip(".") if value else "0.0"


def columns_of(
    placed: list[Placed],
    period: Period,
    payer: tuple[str, str],
    pks: dict[tuple[str, int], int],
    categories: dict[str, dict[str, str]],
    edp: float,
    seed: int,
) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {
        name: [] for name in (*STRING_COLUMNS, *NUMBER_COLUMNS, *MAP_COLUMNS)
    }
    for name in (
        "period",
        "pk",
        "h0",
        "h1",
        "replicable",
        "line_key",
        "period_start",
        "period_end",
    ):
        cols[name] = []
    # a line's id counts only its like (same account, usage, resource, type, operation), so
    # it does not move when other lines come or go (a new bucket, a fee)
    seen: Counter[tuple[Any, ...]] = Counter()
    for p in placed:
        line = p.line
        like = (
            line.account_id,
            line.usage_type,
            line.resource_id,
            line.line_item_type,
            line.operation,
        )
        seen[like] += 1
        _append(cols, p, seen[like], period, payer, pks, categories, edp, seed)
    return cols


def _append(
    cols: dict[str, list[Any]],
    p: Placed,
    n: int,
    period: Period,
    payer: tuple[str, str],
    pks: dict[tuple[str, int], int],
    categories: dict[str, dict[str, str]],
    edp: float,
    seed: int,
) -> None:
    line = p.line
    c = line.commitment
    kind = str(c.get("kind", ""))
    once = line.pattern == "once"
    region = catalog.REGIONS.get(line.region or "")
    code = line.service_code if line.service_code in catalog.SERVICES else line.product_code
    category, subcategory = catalog.focus_categories(code, line.product_family)
    h0, h1 = (0, period.active_hours) if once else (p.h0, p.h1)
    cost = (line.amount or 0.0) if once else line.rate * line.price
    charge, frequency, charge_class = _charge(line.line_item_type, line.bill_type)
    rate_code = catalog.rate_code(line.sku) if line.sku else None
    values: dict[str, Any] = {
        "payer_id": payer[0],
        "payer_name": payer[1],
        "account_id": line.account_id,
        "account_name": line.account_name,
        "product_code": line.product_code,
        "service_code": line.service_code,
        "service_name": line.service_name,
        "service_category": category,
        "service_subcategory": subcategory,
        "usage_type": line.usage_type or None,
        "operation": line.operation or None,
        "unit": line.unit or None,
        "region": line.region,
        "region_name": region.name if region else None,
        "az": line.az,
        "resource_id": line.resource_id,
        "resource_name": line.resource_name,
        "resource_type": line.resource_type,
        "line_item_type": line.line_item_type,
        "description": line.description,
        "product_family": line.product_family or None,
        "sku": line.sku or None,
        "rate_code": rate_code,
        "rate_id": ids.number(10, line.sku, line.pricing_term) if line.sku else None,
        "instance_type": line.instance_type,
        "instance_family": line.instance_family,
        "pricing_term": line.pricing_term or None,
        "purchase_option": line.purchase_option,
        "lease_contract_length": line.lease_contract_length,
        "offering_class": line.offering_class,
        "tax_type": line.tax_type,
        "bill_type": line.bill_type,
        "legal_entity": line.legal_entity,
        "iam_principal": line.iam_principal,
        "cr_arn": line.capacity_reservation_arn,
        "cr_status": line.capacity_reservation_status,
        "cr_type": line.capacity_reservation_type,
        "rate_str": None if once else _money(line.price),
        "list_rate_str": None if once else _money(line.list_price),
        "net_rate_str": None if once else _money(line.price * (1 - edp / 100)),
        "location_type": "AWS Region" if region else None,
        "invoice_id": period.invoice_id,
        "sp_arn": c.get("arn") if kind.startswith("sp") else None,
        "sp_term": c.get("term") if kind.startswith("sp") else None,
        "sp_payment": c.get("payment") if kind.startswith("sp") else None,
        "sp_family": (c.get("family") or None) if kind.startswith("sp") else None,
        "sp_region": line.region if kind.startswith("sp") else None,
        "sp_start": "2025-01-01T00:00:00Z" if kind.startswith("sp") else None,
        "sp_end": "2027-01-01T00:00:00Z" if kind.startswith("sp") else None,
        "ri_arn": c.get("arn") if kind.startswith("ri") else None,
        "ri_start": c.get("start") if kind.startswith("ri") else None,
        "ri_end": c.get("end") if kind.startswith("ri") else None,
        "ri_subscription": c.get("subscription") if kind.startswith("ri") else None,
        "ri_count": str(c["count"]) if kind == "ri_fee" else None,
        "ri_units": _money(float(c["reserved"])) if kind == "ri_fee" else None,
        "ri_az": None,
        # FOCUS PricingCategory: a commitment's lines (covered usage, its fees) are
        # Committed, other usage and purchases Standard, tax and credits have none
        "pricing_category": "Committed"
        if kind
        else ("Standard" if charge in ("Usage", "Purchase") else None),
        "commitment_type": (
            "Compute Savings Plan" if kind.startswith("sp") else "Reserved Instance"
        )
        if kind
        else None,
        "commitment_category": ("Spend" if kind.startswith("sp") else "Usage") if kind else None,
        "commitment_status": "Used" if kind in ("sp", "ri") else None,
        "commitment_id": c.get("arn") if kind else None,
        "commitment_unit": ("USD" if kind.startswith("sp") else "Hours") if kind else None,
        "lp": None if once else line.list_price,
        "pattern": line.pattern,
        "charge_category": charge,
        "charge_frequency": frequency,
        "charge_class": charge_class,
        "sku_meter": _meter(line.usage_type, region) if line.sku else None,
        "u": line.rate,
        "c": cost,
        "pub": 0.0 if once else line.rate * line.list_price,
        "sp_eff": line.rate * float(c["rate"]) if kind == "sp" else 0.0,
        "ri_eff": line.rate * float(c["effective"]) if kind == "ri" else 0.0,
        "ri_amort": line.rate * float(c["amortized"]) if kind == "ri" else 0.0,
        "ri_recur": line.rate * float(c["recurring"]) if kind == "ri" else 0.0,
        "edp": -cost * edp / 100 if line.line_item_type in _USAGE_TYPES else 0.0,
        "month_factor": 1.0 if once else float(p.hourly.sum()),
        "month_aux": float(p.aux.sum()) if p.aux is not None else 0.0,
        "nf": line.normalization_factor,
        "sp_rate": float(c["rate"]) if kind == "sp" else None,
        "sp_commitment": float(c["commitment"]) if kind == "sp_fee" else None,
        "sp_period": float(c["commitment"]) * period.active_hours if kind == "sp_fee" else None,
        "ri_unused": c.get("unused"),
        "ri_unused_recurring": c.get("unused_recurring"),
        "ri_unused_amortized": c.get("unused_amortized"),
        "ri_amortized_period": c.get("amortized_period"),
        "ri_recurring_period": c.get("recurring_period"),
        "ri_upfront_value": float(c["upfront"]) * float(c["count"])
        if kind.startswith("ri")
        else None,
        "product_map": {k: v for k, v in line.product.items() if k not in _PRODUCT_COLUMNS},
        "cur_tags": {cur_tag_key(k): v for k, v in sorted(line.tags.items()) if k != "Name"},
        "cost_category": categories.get(line.account_id, {}),
        **_tag_maps(line, categories.get(line.account_id, {})),
        "period": period.index,
        "pk": pks[(line.pattern, line.variant)],
        "h0": h0,
        "h1": h1,
        "replicable": line.replicable,
        "period_start": period.start,
        "period_end": period.end,
        "line_key": ids.hex_id(
            36,
            seed,
            period.index,
            n,
            line.account_id,
            line.usage_type,
            line.resource_id or "",
            line.line_item_type,
            line.operation,
        ),
    }
    for key in _PRODUCT_COLUMNS:
        values[key] = line.product.get(key)
    values["split_parent"] = line.split_parent
    for name in containers.FIELDS:
        values[f"split_{name}"] = line.split.get(name)
    for name, value in values.items():
        cols[name].append(value)


def _tag_maps(line: Any, categories: dict[str, str]) -> dict[str, dict[str, str]]:
    principal = {PRINCIPAL_TAG_PREFIX + k: v for k, v in sorted(line.principal_tags.items())}
    tags = {f"resourceTags/{k}": v for k, v in sorted(line.tags.items()) if k != "Name"}
    tags |= {f"costCategory/{k}": v for k, v in sorted(categories.items())}
    return {
        "focus_tags": dict(sorted(line.tags.items())) | principal,
        "cur_all_tags": tags,
        "cur_all_tags_iam": tags | principal,
    }
