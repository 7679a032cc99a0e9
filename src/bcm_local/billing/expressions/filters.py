"""Cost Explorer's Filter (an Expression tree) as a SQL condition over the facts.

Each Expression has exactly one root: And, Or, Not, Dimensions, Tags or CostCategories.
A Dimensions/Tags/CostCategories leaf matches when the line's value matches any of its
Values under its MatchOptions (EQUALS and CASE_SENSITIVE when none are given):
EQUALS, STARTS_WITH, ENDS_WITH, CONTAINS and GREATER_THAN_OR_EQUAL compare, CASE_SENSITIVE
or CASE_INSENSITIVE say how, ABSENT matches lines without the tag (or category). A tag
value "" also matches lines without the tag, as in AWS. Keys and values are quoted
literals.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from bcm_local.billing.expressions.dimensions import DIMENSIONS, column
from bcm_local.wire.errors import AwsError

ROOTS = ("And", "Or", "Not", "Dimensions", "Tags", "CostCategories", "ProductAttributes")
_COMPARE = ("EQUALS", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "GREATER_THAN_OR_EQUAL")
MAX_DEPTH = 32


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def condition(
    expression: dict[str, Any] | None,
    dimensions: Collection[str] | None = None,
    *,
    resources: bool = False,
    columns: Mapping[str, str] | None = None,
) -> str:
    """The SQL of `expression` (None: TRUE). `dimensions`: the Dimensions keys allowed
    (None: every dimension of the COST_AND_USAGE context); `columns`: each dimension's
    SQL when it is not the facts' column of that name."""
    if not expression:
        if expression is not None:
            raise invalid("Expression must have exactly one root: " + ", ".join(ROOTS[:-1]))
        return "TRUE"
    allowed = set(dimensions) if dimensions is not None else None
    return _node(expression, _Scope(allowed, resources, columns or {}), 0)


@dataclass(frozen=True)
class _Scope:
    allowed: set[str] | None
    resources: bool
    columns: Mapping[str, str]


def _node(node: dict[str, Any], scope: _Scope, depth: int) -> str:
    if depth > MAX_DEPTH:
        raise invalid(f"Expression is nested more than {MAX_DEPTH} levels deep.")
    roots = [k for k in ROOTS if node.get(k) is not None]
    if len(roots) != 1:
        raise invalid(
            "Expression has more than one roots. Only one root operator is allowed for each "
            "expression: And, Or, Not, Dimensions, Tags, CostCategories"
            if roots
            else "Expression must have exactly one root: And, Or, Not, Dimensions, Tags, "
            "CostCategories"
        )
    root = roots[0]
    value = node[root]
    if root in ("And", "Or"):
        if len(value) < 2:
            raise invalid(f"{root} expression must have at least 2 operands.")
        parts = [_node(v, scope, depth + 1) for v in value]
        return "(" + f" {root.upper()} ".join(parts) + ")"
    if root == "Not":
        return f"(NOT coalesce({_node(value, scope, depth + 1)}, FALSE))"
    if root == "ProductAttributes":
        raise invalid("ProductAttributes filters are not supported by this emulator.")
    if root == "Dimensions":
        return _dimension(value, scope)
    return _keyed(root, value)


def _options(leaf: dict[str, Any]) -> tuple[str, bool, bool]:
    """(comparison, case sensitive, absent) from a leaf's MatchOptions."""
    options = list(leaf.get("MatchOptions") or ())
    compares = [o for o in options if o in _COMPARE]
    if len(compares) > 1:
        raise invalid(f"MatchOptions can hold one of {', '.join(_COMPARE)}; got {compares}.")
    if "CASE_SENSITIVE" in options and "CASE_INSENSITIVE" in options:
        raise invalid("MatchOptions cannot hold both CASE_SENSITIVE and CASE_INSENSITIVE.")
    return (
        (compares[0] if compares else "EQUALS"),
        "CASE_INSENSITIVE" not in options,
        ("ABSENT" in options),
    )


def literal(value: str) -> str:
    """A SQL string literal (DuckDB's strings have no escapes but the doubled quote)."""
    return "'" + value.replace("'", "''") + "'"


def _match(expr: str, values: list[str], leaf: dict[str, Any]) -> str:
    compare, sensitive, _ = _options(leaf)
    if not values:
        return "FALSE"
    if not sensitive:
        expr = f"lower({expr})"
        values = [v.lower() for v in values]
    if compare == "EQUALS":
        return f"({expr} IN ({', '.join(literal(v) for v in values)}))"
    test = {
        "STARTS_WITH": "starts_with({e}, {v})",
        "ENDS_WITH": "ends_with({e}, {v})",
        "CONTAINS": "contains({e}, {v})",
        "GREATER_THAN_OR_EQUAL": "{e} >= {v}",
    }[compare]
    return "(" + " OR ".join(test.format(e=expr, v=literal(v)) for v in values) + ")"


def _dimension(leaf: dict[str, Any], scope: _Scope) -> str:
    allowed = scope.allowed
    key = leaf.get("Key")
    if key is None:
        raise invalid("Dimensions must have a Key.")
    known = key in DIMENSIONS and DIMENSIONS[key].filters and key != "RESOURCE_ID"
    if key == "RESOURCE_ID" and scope.resources:
        expr = "resource_id"
    elif known and (allowed is None or key in allowed):
        expr = scope.columns.get(key) or column(key)
    else:
        raise invalid(f"Dimension {key} is not allowed in this filter.")
    if _options(leaf)[2]:
        return f"({expr} = '')"
    return _match(expr, list(leaf.get("Values") or ()), leaf)


def _keyed(root: str, leaf: dict[str, Any]) -> str:
    """A Tags or CostCategories leaf; a missing key reads as NULL."""
    key = leaf.get("Key")
    values = list(leaf.get("Values") or ())
    name = "tags" if root == "Tags" else "cost_categories"
    if key is None:
        if values:
            raise invalid(f"{root} must have a Key when it has Values.")
        return f"(cardinality({name}) > 0)"
    expr = f"{name}[{literal(key)}]"
    if _options(leaf)[2]:
        return f"({expr} IS NULL)"
    if not values:
        return f"({expr} IS NOT NULL)"
    test = f"coalesce({_match(expr, [v for v in values if v != ''], leaf)}, FALSE)"
    return f"({test} OR {expr} IS NULL)" if "" in values else test
