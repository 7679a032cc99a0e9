"""COST_AND_USAGE_DASHBOARD: the daily cost and usage summary behind the Cost and Usage
Dashboard, summed from the model's rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bcm_local.billing.tables.schema import Table, columns_of
from bcm_local.billing.tables.sql import AMORTIZED, USAGE_TYPES, const, select_list

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset

NAME = "COST_AND_USAGE_DASHBOARD"
s, d, t, i, b = "string", "double", "timestamp", "int", "boolean"
ms = "map<string,string>"

_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("amortized_cost", d, "", "Cost with upfront and recurring commitment fees spread over usage."),
    ("availability_zone", s, "", "Availability zone of the usage."),
    ("billing_entity", s, "", "AWS or AWS Marketplace."),
    ("billing_period", t, "", "Start of the billing period."),
    ("charge_category", s, "", "Running_usage for usage line items, Non_Usage otherwise."),
    ("charge_type", s, "", "Line item type."),
    ("current_generation", s, "", "Whether the instance type is of the current generation."),
    ("database_engine", s, "", "Database engine of the instance, e.g. PostgreSQL or Oracle."),
    ("instance_type", s, "", "Instance type."),
    ("instance_type_family", s, "", "Instance family."),
    ("legal_entity", s, "", "Seller of record."),
    ("line_item_description", s, "", "Description of the charge."),
    ("linked_account_id", s, "", "Account that used the resource."),
    ("linked_account_name", s, "", "Name of the account that used the resource."),
    ("net_amortized_cost", d, "", "Amortized cost after discounts."),
    ("net_unblended_cost", d, "", "Unblended cost after discounts."),
    ("operation", s, "", "AWS operation."),
    ("payer_account_id", s, "", "Paying account."),
    ("payer_account_name", s, "", "Name of the paying account."),
    ("pricing_unit", s, "", "Unit of the usage."),
    ("product_code", s, "", "Code of the product."),
    ("product_family", s, "", "Product family."),
    ("product_name", s, "", "Display name of the service."),
    ("public_cost", d, "", "Cost at public on-demand prices."),
    ("purchase_option", s, "", "On Demand, Savings Plans, Reserved or Spot."),
    ("region", s, "", "Region code."),
    ("ri_sp_arn", s, "", "ARN of the Savings Plan or reservation that covers the usage."),
    ("unblended_cost", d, "", "Unblended cost."),
    ("usage_date", t, "", "Day of the usage."),
    ("usage_quantity", d, "", "Amount of usage."),
    ("usage_type", s, "", "Usage type."),
)

TABLE = Table(
    NAME,
    "Daily cost and usage summary that feeds the Cost and Usage Dashboard.",
    columns_of(_COLUMNS),
)

_DASHBOARD: dict[str, str] = {
    "amortized_cost": AMORTIZED,
    "availability_zone": "az",
    "billing_entity": const("AWS"),
    "billing_period": "bp_start",
    "charge_category": (
        f"CASE WHEN line_item_type IN {USAGE_TYPES} THEN {const('Running_usage')} "
        f"ELSE {const('Non_Usage')} END"
    ),
    "charge_type": "line_item_type",
    "instance_type": "instance_type",
    "instance_type_family": "split_part(instance_type::VARCHAR, '.', 1)",
    "legal_entity": "legal_entity",
    "line_item_description": "description",
    "linked_account_id": "account_id",
    "linked_account_name": "account_name",
    "net_amortized_cost": f"({AMORTIZED}) + k * edp",
    "net_unblended_cost": "k * (c + edp)",
    "operation": "operation",
    "payer_account_id": "payer_id",
    "payer_account_name": "payer_name",
    "pricing_unit": "unit",
    "product_code": "product_code",
    "product_family": "product_family",
    "product_name": "service_name",
    "public_cost": "k * pub",
    "purchase_option": (
        "CASE WHEN sp_arn IS NOT NULL THEN 'Savings Plans' WHEN ri_arn IS NOT NULL THEN 'Reserved' "
        "WHEN line_item_type = 'Usage' THEN 'On Demand' END"
    ),
    "region": "region",
    "ri_sp_arn": "commitment_id",
    "unblended_cost": "k * c",
    "usage_date": "date_trunc('day', start_ts)",
    "usage_quantity": "k * u",
    "usage_type": "usage_type",
}
_DASHBOARD_SUMS = {"amortized_cost", "net_amortized_cost", "net_unblended_cost", "public_cost"}
_DASHBOARD_SUMS |= {"unblended_cost", "usage_quantity"}


def _product(data: Dataset, key: str) -> str | None:
    typed = data.map_key("product_map", key)
    return None if typed is None else f"map_extract_value(product_map, {typed})"


def sql(data: Dataset, props: dict[str, str]) -> str:
    exprs = dict(_DASHBOARD)
    for key in ("current_generation", "database_engine"):
        if (found := _product(data, key)) is not None:
            exprs[key] = found
    inner = f"SELECT {select_list(TABLE, props, exprs)} FROM li"
    outer = [
        f'sum("{c.name}") AS "{c.name}"' if c.name in _DASHBOARD_SUMS else f'"{c.name}"'
        for c in TABLE.columns_for(props)
    ]
    return f"SELECT {', '.join(outer)} FROM ({inner}) GROUP BY ALL ORDER BY ALL"
