"""A billing view's slice of the bill as a condition on the model's lines.

The slice is a Cost Explorer Expression (services/billing_views.py makes it) of And, Or,
Dimensions LINKED_ACCOUNT, Tags and CostCategories, each leaf a list of values any of
which matches. On the lines: LINKED_ACCOUNT is the usage account, a tag is the line's
user tag (CUR 2.0's `resourceTags/<key>`, `user:` prefix or not, as Cost Explorer reads
it) and a cost category the line's value for it. Every table keeps the same lines, so a
view's export and Cost Explorer through the view sum the same rows.
"""

from __future__ import annotations

from typing import Any

from bcm_local.billing.model.build import Dataset


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _values(expr: str, values: list[str]) -> str:
    if not values:
        return "FALSE"
    return f"{expr} IN ({', '.join(_literal(v) for v in values)})"


def _map_value(data: Dataset, column: str, keys: list[str]) -> str:
    found = [k for k in (data.map_key(column, key) for key in keys) if k is not None]
    if not found:
        return "NULL"
    picks = ", ".join(f"CAST({column}[{k}] AS VARCHAR)" for k in found)
    return f"coalesce({picks})" if len(found) > 1 else picks


def lines_condition(data: Dataset, expression: dict[str, Any]) -> str:
    if "And" in expression:
        return " AND ".join(f"({lines_condition(data, e)})" for e in expression["And"])
    if "Or" in expression:
        return " OR ".join(f"({lines_condition(data, e)})" for e in expression["Or"])
    if "Dimensions" in expression:
        leaf = expression["Dimensions"]
        if leaf["Key"] != "LINKED_ACCOUNT":
            raise ValueError(f"a billing view filters on LINKED_ACCOUNT, not {leaf['Key']}")
        return _values("CAST(account_id AS VARCHAR)", leaf["Values"])
    if "Tags" in expression:
        leaf = expression["Tags"]
        key = leaf["Key"]
        tag = _map_value(data, "cur_all_tags", [f"resourceTags/user:{key}", f"resourceTags/{key}"])
        return _values(tag, leaf["Values"])
    leaf = expression["CostCategories"]
    return _values(_map_value(data, "cost_category", [leaf["Key"]]), leaf["Values"])
