"""COST_AND_USAGE_REPORT (CUR 2.0): its columns, its table properties (GetTable) and its
SELECT over the model.

A column's condition names the table property that adds it ("" = always present):
INCLUDE_RESOURCES, INCLUDE_SPLIT_COST_ALLOCATION_DATA, INCLUDE_CAPACITY_RESERVATION_DATA,
INCLUDE_IAM_PRINCIPAL_DATA, or "!INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY" for the discount
columns that manual-discount compatibility removes: the 125 long-standing columns plus the
newer capacity-reservation, IAM-principal, user-identifier and `tags` columns, 131 in all.
Without INCLUDE_RESOURCES the rows are summed over resources (MEASURES are summed).
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from bcm_local.billing.tables.schema import (
    Table,
    billing_view,
    columns_of,
    flag,
    granularity,
)
from bcm_local.billing.tables.sql import ROWS, Source, const, discount_expr, select_list

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset

NAME = "COST_AND_USAGE_REPORT"


def _columns() -> tuple[tuple[str, str, str, str], ...]:
    """The column dictionary (cur2_columns.tsv: name, AWS type, condition, description)."""
    text = resources.files(__package__).joinpath("cur2_columns.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    return tuple((r[0], r[1], r[2], r[3]) for r in rows)


TABLE = Table(
    NAME,
    "Cost and Usage Report 2.0: the most detailed cost and usage data, a fixed schema "
    "with nested product, tag, discount and cost category maps.",
    columns_of(_columns()),
    (
        granularity("DAILY"),
        flag(
            "INCLUDE_RESOURCES",
            "Adds line_item_resource_id and breaks usage down by resource.",
        ),
        flag(
            "INCLUDE_SPLIT_COST_ALLOCATION_DATA",
            "Adds the split_line_item_* columns for container workloads (ECS, EKS).",
        ),
        flag(
            "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY",
            "Removes the discount and discount_total_discount columns (manual discounts "
            "appear as separate line items).",
        ),
        flag(
            "INCLUDE_CAPACITY_RESERVATION_DATA",
            "Adds the capacity_reservation_* columns.",
        ),
        flag("INCLUDE_IAM_PRINCIPAL_DATA", "Adds line_item_iam_principal."),
        billing_view(),
    ),
)

_SP = "sp_arn IS NOT NULL"
_RI = "ri_arn IS NOT NULL"
_SP_EFFECTIVE = "CASE WHEN sp_rate IS NOT NULL THEN k * sp_eff END"

EXPRESSIONS: dict[str, str] = {
    "bill_bill_type": "bill_type",
    "bill_billing_entity": const("AWS"),
    "bill_billing_period_end_date": "bp_end",
    "bill_billing_period_start_date": "bp_start",
    "bill_invoice_id": "invoice_id",
    "bill_invoicing_entity": const("Amazon Web Services, Inc."),
    "bill_payer_account_id": "payer_id",
    "bill_payer_account_name": "payer_name",
    "capacity_reservation_capacity_reservation_arn": "cr_arn",
    "capacity_reservation_capacity_reservation_status": "cr_status",
    "capacity_reservation_capacity_reservation_type": "cr_type",
    "cost_category": "cost_category",
    "discount_total_discount": "k * edp",
    "identity_line_item_id": "line_item_id",
    "identity_time_interval": "interval",
    "line_item_availability_zone": "az",
    "line_item_blended_cost": "k * c",
    "line_item_blended_rate": "rate_str",
    "line_item_currency_code": const("USD"),
    "line_item_iam_principal": "iam_principal",
    "line_item_legal_entity": "legal_entity",
    "line_item_line_item_description": "description",
    "line_item_line_item_type": "line_item_type",
    "line_item_net_unblended_cost": "k * (c + edp)",
    "line_item_net_unblended_rate": "net_rate_str",
    "line_item_normalization_factor": "nf",
    "line_item_normalized_usage_amount": "k * u * nf",
    "line_item_operation": "operation",
    "line_item_product_code": "product_code",
    "line_item_resource_id": "resource_id",
    "line_item_tax_type": "tax_type",
    "line_item_unblended_cost": "k * c",
    "line_item_unblended_rate": "rate_str",
    "line_item_usage_account_id": "account_id",
    "line_item_usage_account_name": "account_name",
    "line_item_usage_amount": "k * u",
    "line_item_usage_end_date": "end_ts",
    "line_item_usage_start_date": "start_ts",
    "line_item_usage_type": "usage_type",
    "pricing_currency": const("USD"),
    "pricing_lease_contract_length": "lease_contract_length",
    "pricing_offering_class": "offering_class",
    "pricing_public_on_demand_cost": "k * pub",
    "pricing_public_on_demand_rate": "list_rate_str",
    "pricing_purchase_option": "purchase_option",
    "pricing_rate_code": "rate_code",
    "pricing_rate_id": "rate_id",
    "pricing_term": "pricing_term",
    "pricing_unit": "unit",
    "product": "product_map",
    "product_from_location": "from_location",
    "product_from_location_type": "from_location_type",
    "product_from_region_code": "from_region_code",
    "product_instance_family": "instance_family",
    "product_instance_type": "instance_type",
    "product_location": "region_name",
    "product_location_type": "location_type",
    "product_operation": "operation",
    "product_pricing_unit": "unit",
    "product_product_family": "product_family",
    "product_region_code": "region",
    "product_servicecode": "service_code",
    "product_sku": "sku",
    "product_to_location": "to_location",
    "product_to_location_type": "to_location_type",
    "product_to_region_code": "to_region_code",
    "product_usagetype": "usage_type",
    "reservation_amortized_upfront_cost_for_usage": f"CASE WHEN {_RI} THEN k * ri_amort END",
    "reservation_amortized_upfront_fee_for_billing_period": "ri_amortized_period",
    "reservation_effective_cost": f"CASE WHEN {_RI} THEN k * ri_eff END",
    "reservation_end_time": "ri_end",
    "reservation_modification_status": f"CASE WHEN {_RI} THEN {const('Original')} END",
    "reservation_net_amortized_upfront_cost_for_usage": f"CASE WHEN {_RI} THEN k * ri_amort END",
    "reservation_net_amortized_upfront_fee_for_billing_period": "ri_amortized_period",
    "reservation_net_effective_cost": f"CASE WHEN {_RI} THEN k * ri_eff END",
    "reservation_net_recurring_fee_for_usage": f"CASE WHEN {_RI} THEN k * ri_recur END",
    "reservation_net_unused_amortized_upfront_fee_for_billing_period": "ri_unused_amortized",
    "reservation_net_unused_recurring_fee": "ri_unused_recurring",
    "reservation_net_upfront_value": "ri_upfront_value",
    "reservation_number_of_reservations": "ri_count",
    "reservation_recurring_fee_for_usage": f"CASE WHEN {_RI} THEN k * ri_recur END",
    "reservation_reservation_a_r_n": "ri_arn",
    "reservation_start_time": "ri_start",
    "reservation_subscription_id": "ri_subscription",
    "reservation_total_reserved_units": "ri_units",
    "reservation_unused_amortized_upfront_fee_for_billing_period": "ri_unused_amortized",
    "reservation_unused_quantity": "ri_unused",
    "reservation_unused_recurring_fee": "ri_unused_recurring",
    "reservation_upfront_value": "ri_upfront_value",
    "resource_tags": "cur_tags",
    "savings_plan_amortized_upfront_commitment_for_billing_period": "0.0 * sp_commitment",
    "savings_plan_end_time": "sp_end",
    "savings_plan_instance_type_family": "sp_family",
    "savings_plan_net_amortized_upfront_commitment_for_billing_period": "0.0 * sp_commitment",
    "savings_plan_net_recurring_commitment_for_billing_period": "sp_period",
    "savings_plan_net_savings_plan_effective_cost": _SP_EFFECTIVE,
    "savings_plan_offering_type": f"CASE WHEN {_SP} THEN {const('ComputeSavingsPlans')} END",
    "savings_plan_payment_option": "sp_payment",
    "savings_plan_purchase_term": "sp_term",
    "savings_plan_recurring_commitment_for_billing_period": "sp_period",
    "savings_plan_region": "sp_region",
    "savings_plan_savings_plan_a_r_n": "sp_arn",
    "savings_plan_savings_plan_effective_cost": _SP_EFFECTIVE,
    "savings_plan_savings_plan_rate": "sp_rate",
    "savings_plan_start_time": "sp_start",
    "savings_plan_total_commitment_to_date": "CASE WHEN sp_commitment IS NOT NULL THEN k * c END",
    "savings_plan_used_commitment": "CASE WHEN sp_commitment IS NOT NULL THEN aux END",
    # split cost allocation records (li_split; null on every other row)
    "split_line_item_actual_usage": "k * split_actual",
    "split_line_item_net_split_cost": "k * split_net_cost",
    "split_line_item_net_unused_cost": "k * split_net_unused",
    "split_line_item_parent_resource_id": "split_parent",
    "split_line_item_public_on_demand_split_cost": "k * split_od_cost",
    "split_line_item_public_on_demand_unused_cost": "k * split_od_unused",
    "split_line_item_reserved_usage": "CASE WHEN split_parent IS NOT NULL THEN k * u END",
    "split_line_item_split_cost": "k * split_cost",
    "split_line_item_split_usage": "k * split_alloc",
    "split_line_item_split_usage_ratio": "split_ratio",
    "split_line_item_unused_cost": "k * split_unused",
}
_SPLIT = "INCLUDE_SPLIT_COST_ALLOCATION_DATA"

# summed when INCLUDE_RESOURCES=FALSE aggregates resources away
MEASURES = frozenset(
    c.name
    for c in TABLE.columns
    if c.type == "double"
    and c.name
    not in (
        "line_item_normalization_factor",
        "savings_plan_savings_plan_rate",
        "discount_bundled_discount",
    )
    and not c.name.endswith("for_billing_period")
    and not c.name.endswith("_fee")
    and "upfront_value" not in c.name
    and ("unused" not in c.name or c.name.startswith("split_line_item_"))
)


def expressions(data: Dataset, props: dict[str, str]) -> dict[str, str]:
    tags = "cur_all_tags_iam" if props["INCLUDE_IAM_PRINCIPAL_DATA"] == "TRUE" else "cur_all_tags"
    return {**EXPRESSIONS, "discount": discount_expr(data), "tags": tags}


def sql(data: Dataset, props: dict[str, str], src: Source = ROWS) -> str:
    exprs = expressions(data, props)
    source = src.li
    if props[_SPLIT] == "TRUE":
        source = f"(SELECT * FROM {src.li} UNION ALL SELECT * FROM {src.li_split})"
    if props["INCLUDE_RESOURCES"] == "TRUE":
        return f"SELECT\n  {select_list(TABLE, props, exprs, src)}\nFROM {source}"
    full = {**props, "INCLUDE_RESOURCES": "TRUE"}
    inner = f"SELECT\n  {select_list(TABLE, full, exprs)},\n  k * edp AS __edp\nFROM {source}"
    outer = []
    for col in TABLE.columns_for(props):
        name = f'"{col.name}"'
        if col.name in MEASURES:
            outer.append(f"sum({name}) AS {name}")
        elif col.name == "identity_line_item_id":
            outer.append(f"min({name}) AS {name}")
        elif col.name == "discount" and data.edp:
            total = 'sum("__edp")'
            outer.append(
                f"CASE WHEN {total} <> 0 THEN map([{const('edp_discount')}], [{total}]) "
                f"ELSE MAP {{}}::MAP(VARCHAR, DOUBLE) END AS {name}"
            )
        else:
            outer.append(name)
    return (
        f"SELECT {', '.join(outer)} FROM ({inner}) GROUP BY ALL "
        'ORDER BY "line_item_usage_start_date", "identity_line_item_id"'
    )
