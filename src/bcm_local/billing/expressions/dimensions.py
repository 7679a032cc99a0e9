"""Cost Explorer's dimensions as data: each one's SQL over the CUR 2.0 columns, the
contexts it belongs to, whether it can group, and where its values come from.

SERVICE and USAGE_TYPE_GROUP are CE's own spellings, read from service_names.tsv and
usage_type_groups.tsv (each row says its source). A line without a value gets CE's
placeholder where CE has one (NoRegion, NoUsageType, NoOperation, NoAZ), otherwise "".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

COST_AND_USAGE = "COST_AND_USAGE"
RESERVATIONS = "RESERVATIONS"
SAVINGS_PLANS = "SAVINGS_PLANS"
_ALL = (COST_AND_USAGE,)


@dataclass(frozen=True)
class Dimension:
    name: str
    sql: str  # over the CUR 2.0 columns (VARCHAR, never NULL)
    source: str
    contexts: tuple[str, ...] = _ALL
    groups: bool = True  # a GroupBy key of GetCostAndUsage
    filters: bool = True  # a Filter key of GetCostAndUsage


def _text(column: str, missing: str = "") -> str:
    return f"coalesce(NULLIF(CAST({column} AS VARCHAR), ''), '{missing}')"


def _product(key: str) -> str:
    return f"coalesce(CAST(product['{key}'] AS VARCHAR), '')"


def _rows(name: str) -> list[list[str]]:
    text = resources.files(__package__).joinpath(name).read_text("utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@cache
def service_sql() -> str:
    """SERVICE: CE's name of the line's service (service_names.tsv, first match)."""
    whens = []
    for code, line_type, usage, name, _ in _rows("service_names.tsv"):
        test = [] if code == "*" else [f"line_item_product_code = {_quote(code)}"]
        if line_type:
            test.append(f"line_item_line_item_type = {_quote(line_type)}")
        if usage:
            test.append(f"regexp_matches(coalesce(line_item_usage_type, ''), {_quote(usage)})")
        whens.append(f"WHEN {' AND '.join(test)} THEN {_quote(name)}")
    return f"CASE {' '.join(whens)} ELSE {_text('line_item_product_code')} END"


@cache
def usage_type_group_sql() -> str:
    """USAGE_TYPE_GROUP (usage_type_groups.tsv, first match; "" when none matches)."""
    whens = [
        f"WHEN line_item_product_code = {_quote(code)} AND "
        f"regexp_matches(coalesce(line_item_usage_type, ''), {_quote(usage)}) "
        f"THEN {_quote(group)}"
        for code, usage, group, _ in _rows("usage_type_groups.tsv")
    ]
    return f"CASE {' '.join(whens)} ELSE '' END"


_PURCHASE_TYPE = (
    "CASE WHEN line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'SavingsPlanNegation', "
    "'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee') THEN 'Savings Plans' "
    "WHEN line_item_line_item_type IN ('DiscountedUsage', 'RIFee') "
    "OR (line_item_line_item_type = 'Fee' AND reservation_reservation_a_r_n IS NOT NULL) THEN "
    "CASE WHEN pricing_offering_class = 'convertible' THEN 'Convertible Reserved Instances' "
    "ELSE 'Standard Reserved Instances' END "
    "WHEN regexp_matches(coalesce(line_item_usage_type, ''), '(^|-)SpotUsage') "
    "THEN 'Spot Instances' "
    "ELSE 'On Demand Instances' END"
)

DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension(
            "AZ",
            _text("line_item_availability_zone", "NoAZ"),
            "line_item_availability_zone",
            (COST_AND_USAGE, RESERVATIONS),
        ),
        Dimension(
            "INSTANCE_TYPE",
            _text("product_instance_type"),
            "product_instance_type",
            (COST_AND_USAGE, RESERVATIONS),
        ),
        Dimension(
            "INSTANCE_TYPE_FAMILY",
            "coalesce(regexp_extract(CAST(product_instance_type AS VARCHAR), "
            "'^(db\\.|cache\\.)?[a-z0-9-]+'), '')",
            "product_instance_type up to its size (m5.large: m5)",
            (COST_AND_USAGE, SAVINGS_PLANS),
        ),
        Dimension(
            "LINKED_ACCOUNT",
            _text("line_item_usage_account_id"),
            "line_item_usage_account_id (its name is the description attribute)",
            (COST_AND_USAGE, RESERVATIONS, SAVINGS_PLANS),
        ),
        Dimension(
            "LINKED_ACCOUNT_NAME",
            _text("line_item_usage_account_name"),
            "line_item_usage_account_name",
            groups=False,
        ),
        Dimension("PAYER_ACCOUNT", _text("bill_payer_account_id"), "bill_payer_account_id"),
        Dimension("OPERATION", _text("line_item_operation", "NoOperation"), "line_item_operation"),
        Dimension(
            "PURCHASE_TYPE",
            _PURCHASE_TYPE,
            "line_item_line_item_type, pricing_offering_class and the usage type",
        ),
        Dimension(
            "REGION",
            _text("product_region_code", "NoRegion"),
            "product_region_code",
            (COST_AND_USAGE, RESERVATIONS, SAVINGS_PLANS),
        ),
        Dimension("SERVICE", service_sql(), "service_names.tsv"),
        Dimension(
            "SERVICE_CODE", _text("line_item_product_code"), "line_item_product_code", groups=False
        ),
        Dimension(
            "USAGE_TYPE", _text("line_item_usage_type", "NoUsageType"), "line_item_usage_type"
        ),
        Dimension("USAGE_TYPE_GROUP", usage_type_group_sql(), "usage_type_groups.tsv"),
        Dimension(
            "RECORD_TYPE",
            _text("line_item_line_item_type"),
            "line_item_line_item_type (the console's charge types)",
        ),
        Dimension("OPERATING_SYSTEM", _product("operating_system"), "product.operating_system"),
        Dimension(
            "TENANCY", _product("tenancy"), "product.tenancy", (COST_AND_USAGE, RESERVATIONS)
        ),
        Dimension(
            "PLATFORM",
            "CASE WHEN product['operating_system'] = 'Linux' THEN 'Linux/UNIX' "
            f"ELSE {_product('operating_system')} END",
            "product.operating_system, Linux as Linux/UNIX (EC2's platform names)",
            (COST_AND_USAGE, RESERVATIONS),
        ),
        Dimension(
            "SUBSCRIPTION_ID", _text("reservation_subscription_id"), "reservation_subscription_id"
        ),
        Dimension("LEGAL_ENTITY_NAME", _text("line_item_legal_entity"), "line_item_legal_entity"),
        Dimension(
            "DEPLOYMENT_OPTION",
            _product("deployment_option"),
            "product.deployment_option",
            (COST_AND_USAGE, RESERVATIONS),
        ),
        Dimension("DATABASE_ENGINE", _product("database_engine"), "product.database_engine"),
        Dimension(
            "CACHE_ENGINE",
            _product("cache_engine"),
            "product.cache_engine",
            (COST_AND_USAGE, RESERVATIONS),
        ),
        Dimension("BILLING_ENTITY", _text("bill_billing_entity"), "bill_billing_entity"),
        Dimension("INVOICING_ENTITY", _text("bill_invoicing_entity"), "bill_invoicing_entity"),
        Dimension(
            "RESERVATION_ID",
            "coalesce(regexp_extract(CAST(reservation_reservation_a_r_n AS VARCHAR), "
            "'[^:/]+$'), '')",
            "the last part of reservation_reservation_a_r_n",
        ),
        Dimension(
            "SAVINGS_PLAN_ARN",
            _text("savings_plan_savings_plan_a_r_n"),
            "savings_plan_savings_plan_a_r_n",
            (COST_AND_USAGE, SAVINGS_PLANS),
        ),
        Dimension(
            "SAVINGS_PLANS_TYPE",
            _text("savings_plan_offering_type"),
            "savings_plan_offering_type",
            (COST_AND_USAGE, SAVINGS_PLANS),
        ),
        Dimension(
            "PAYMENT_OPTION",
            _text("savings_plan_payment_option"),
            "savings_plan_payment_option",
            (SAVINGS_PLANS,),
        ),
        Dimension(
            "RESOURCE_ID",
            _text("line_item_resource_id"),
            "line_item_resource_id (GetCostAndUsageWithResources only)",
            groups=False,
        ),
    )
}

# dimensions a fact table holds as columns (RESOURCE_ID only in the resource facts)
FACT_DIMENSIONS = tuple(n for n in DIMENSIONS if n != "RESOURCE_ID")


def column(name: str) -> str:
    """The fact table's column of a dimension."""
    return f'"{name}"'
