"""The six Data Exports tables as data: one definition drives ListTables/GetTable, the
export SQL's validation and the writer's declared schema.

Property defaults (AWS does not document them; chosen here and shown by ListTables):
CUR 2.0 and FOCUS 1.2 TIME_GRANULARITY=DAILY (modest row counts), every CUR INCLUDE_* flag
FALSE, BILLING_VIEW_ARN empty (= the caller's primary billing view), recommendations
FILTER='{}' and INCLUDE_ALL_RECOMMENDATIONS=FALSE.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bcm_local.billing.columns_cur2 import CUR2_COLUMNS
from bcm_local.billing.columns_focus import FOCUS_1_0_COLUMNS, FOCUS_1_2_COLUMNS
from bcm_local.billing.columns_other import (
    CARBON_COLUMNS,
    DASHBOARD_COLUMNS,
    RECOMMENDATION_COLUMNS,
)

CUR2 = "COST_AND_USAGE_REPORT"
FOCUS_1_2 = "FOCUS_1_2_AWS"
FOCUS_1_0 = "FOCUS_1_0_AWS"
RECOMMENDATIONS = "COST_OPTIMIZATION_RECOMMENDATIONS"
DASHBOARD = "COST_AND_USAGE_DASHBOARD"
CARBON = "CARBON_EMISSIONS"


class TableError(Exception):
    """Unknown table, unknown table property or invalid property value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    condition: str
    description: str

    def present(self, props: dict[str, str]) -> bool:
        if not self.condition:
            return True
        if self.condition.startswith("!"):
            return props.get(self.condition[1:]) != "TRUE"
        return props.get(self.condition) == "TRUE"


@dataclass(frozen=True)
class Property:
    name: str
    valid_values: tuple[str, ...]
    default: str
    description: str
    check: Callable[[str], str | None] | None = None  # free-form values: error text or None

    def normalize(self, table: str, value: str) -> str:
        if self.valid_values:
            for valid in self.valid_values:
                if value.upper() == valid:
                    return valid
            raise TableError(
                f"Invalid value {value!r} for table property {self.name} of table {table}. "
                f"Valid values: {', '.join(self.valid_values)}."
            )
        problem = self.check(value) if self.check else None
        if problem:
            raise TableError(
                f"Invalid value for table property {self.name} of table {table}: {problem}"
            )
        return value


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    properties: tuple[Property, ...] = field(default_factory=tuple)


_BOOL = ("TRUE", "FALSE")
_GRANULARITY = ("HOURLY", "DAILY", "MONTHLY")
_VIEW_ARN = re.compile(r"arn:aws[a-z-]*:billing::[0-9]{12}:billingview/[-a-zA-Z0-9/:_+=.@]{1,43}")
_FILTER_KEYS = frozenset(
    [
        "accountIds",
        "regions",
        "resourceTypes",
        "actionTypes",
        "implementationEfforts",
        "resourceArns",
        "recommendationIds",
        "restartNeeded",
        "rollbackPossible",
    ]
)


def _check_view_arn(value: str) -> str | None:
    if value == "" or _VIEW_ARN.fullmatch(value):
        return None
    return "expected arn:aws:billing::<account-id>:billingview/<view-name>."


def _check_filter(value: str) -> str | None:
    try:
        parsed = json.loads(value)
    except ValueError:
        return "FILTER must be a JSON object."
    if not isinstance(parsed, dict):
        return "FILTER must be a JSON object."
    unknown = sorted(set(parsed) - _FILTER_KEYS)
    if unknown:
        return (
            f"unknown FILTER keys {', '.join(unknown)}; valid: {', '.join(sorted(_FILTER_KEYS))}."
        )
    for key, item in parsed.items():
        if key in ("restartNeeded", "rollbackPossible"):
            if not isinstance(item, bool):
                return f"FILTER {key} must be true or false."
        elif not (isinstance(item, list) and all(isinstance(x, str) for x in item)):
            return f"FILTER {key} must be a list of strings."
    return None


def _granularity(default: str) -> Property:
    return Property(
        "TIME_GRANULARITY",
        _GRANULARITY,
        default,
        "Time span each cost and usage line item covers: one hour, one day or the month.",
    )


def _flag(name: str, description: str) -> Property:
    return Property(name, _BOOL, "FALSE", description)


def _columns(rows: tuple[tuple[str, str, str, str], ...]) -> tuple[Column, ...]:
    return tuple(Column(*row) for row in rows)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            CUR2,
            "Cost and Usage Report 2.0: the most detailed cost and usage data, a fixed schema "
            "with nested product, tag, discount and cost category maps.",
            _columns(CUR2_COLUMNS),
            (
                _granularity("DAILY"),
                _flag(
                    "INCLUDE_RESOURCES",
                    "Adds line_item_resource_id and breaks usage down by resource.",
                ),
                _flag(
                    "INCLUDE_SPLIT_COST_ALLOCATION_DATA",
                    "Adds the split_line_item_* columns for container workloads (ECS, EKS).",
                ),
                _flag(
                    "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY",
                    "Removes the discount and discount_total_discount columns (manual discounts "
                    "appear as separate line items).",
                ),
                _flag(
                    "INCLUDE_CAPACITY_RESERVATION_DATA",
                    "Adds the capacity_reservation_* columns.",
                ),
                _flag("INCLUDE_IAM_PRINCIPAL_DATA", "Adds line_item_iam_principal."),
                Property(
                    "BILLING_VIEW_ARN",
                    (),
                    "",
                    "Billing view the data comes from; empty means the caller's primary view "
                    "(arn:aws:billing::<account-id>:billingview/primary).",
                    _check_view_arn,
                ),
            ),
        ),
        Table(
            FOCUS_1_2,
            "FOCUS 1.2 cost and usage data with AWS columns (x_Discounts, x_Operation, "
            "x_ServiceCode).",
            _columns(FOCUS_1_2_COLUMNS),
            (_granularity("DAILY"),),
        ),
        Table(
            FOCUS_1_0,
            "FOCUS 1.0 cost and usage data with AWS columns (x_CostCategories, x_Discounts, "
            "x_Operation, x_ServiceCode, x_UsageType).",
            _columns(FOCUS_1_0_COLUMNS),
        ),
        Table(
            RECOMMENDATIONS,
            "Cost optimization recommendations from Cost Optimization Hub.",
            _columns(RECOMMENDATION_COLUMNS),
            (
                Property(
                    "FILTER",
                    (),
                    "{}",
                    "JSON filter over the recommendations (accountIds, regions, resourceTypes, "
                    "actionTypes, implementationEfforts, resourceArns, recommendationIds, "
                    "restartNeeded, rollbackPossible).",
                    _check_filter,
                ),
                _flag(
                    "INCLUDE_ALL_RECOMMENDATIONS",
                    "Includes every recommendation, also the alternatives for a resource that "
                    "overlap the best one.",
                ),
            ),
        ),
        Table(
            DASHBOARD,
            "Daily cost and usage summary that feeds the Cost and Usage Dashboard.",
            _columns(DASHBOARD_COLUMNS),
        ),
        Table(
            CARBON,
            "Estimated market-based carbon emissions by account, service and region.",
            _columns(CARBON_COLUMNS),
        ),
    )
}


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise TableError(f"Table {name} does not exist.") from None


def resolve_properties(name: str, properties: dict[str, str] | None = None) -> dict[str, str]:
    """Every property of the table with its effective value; raises TableError."""
    tbl = table(name)
    known = {p.name: p for p in tbl.properties}
    given = dict(properties or {})
    for key in given:
        if key not in known:
            valid = ", ".join(known) or "none"
            raise TableError(
                f"Invalid table property {key} for table {name}. Valid properties: {valid}."
            )
    return {
        p.name: p.normalize(name, given[p.name]) if p.name in given else p.default
        for p in tbl.properties
    }


def columns(name: str, properties: dict[str, str] | None = None) -> list[Column]:
    """The columns the table has under these properties (in table order)."""
    props = resolve_properties(name, properties)
    return [c for c in table(name).columns if c.present(props)]


def list_tables() -> list[dict[str, object]]:
    return [
        {
            "TableName": t.name,
            "Description": t.description,
            "TableProperties": [
                {
                    "Name": p.name,
                    "ValidValues": list(p.valid_values),
                    "DefaultValue": p.default,
                    "Description": p.description,
                }
                for p in t.properties
            ],
        }
        for t in TABLES.values()
    ]


def get_table(name: str, properties: dict[str, str] | None = None) -> dict[str, object]:
    props = resolve_properties(name, properties)
    return {
        "TableName": name,
        "Description": TABLES[name].description,
        "TableProperties": {k: v for k, v in props.items() if v != ""},
        "Schema": [
            {"Name": c.name, "Type": c.type, "Description": c.description}
            for c in columns(name, props)
        ],
    }
