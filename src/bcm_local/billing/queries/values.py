"""GetDimensionValues and GetTags: the distinct values in an interval, with the filter,
search string and sort order asked for.

Contexts: COST_AND_USAGE reads every line, RESERVATIONS the lines a reservation covers or
bills (it has a RESERVATION_ID), SAVINGS_PLANS those of a Savings Plan (SAVINGS_PLAN_ARN).
Without SortBy values come alphabetically; SortBy orders by a metric's sum over the
interval (descending unless told otherwise).
"""

from __future__ import annotations

from typing import Any

from bcm_local.billing.expressions.dimensions import (
    COST_AND_USAGE,
    DIMENSIONS,
    RESERVATIONS,
    SAVINGS_PLANS,
    column,
)
from bcm_local.billing.expressions.filters import invalid, literal
from bcm_local.billing.queries import timespan
from bcm_local.billing.queries.facts import METRICS, Facts
from bcm_local.billing.queries.timespan import Span

_CONTEXT_ROWS = {
    COST_AND_USAGE: "TRUE",
    RESERVATIONS: "\"RESERVATION_ID\" <> ''",
    SAVINGS_PLANS: "\"SAVINGS_PLAN_ARN\" <> ''",
}


def context_of(value: str | None) -> str:
    context = value or COST_AND_USAGE
    if context not in _CONTEXT_ROWS:
        raise invalid(f"Context {context} is not one of {', '.join(_CONTEXT_ROWS)}.")
    return context


def dimension_column(dimension: str, context: str) -> str:
    dim = DIMENSIONS.get(dimension)
    if dim is None or context not in dim.contexts:
        names = [n for n, d in DIMENSIONS.items() if context in d.contexts]
        raise invalid(
            f"Dimension {dimension} is not supported in context {context}; supported: "
            + ", ".join(names)
        )
    return "resource_id" if dimension == "RESOURCE_ID" else column(dimension)


def _order(sort_by: list[dict[str, str]] | None, value: str) -> str:
    if not sort_by:
        return f"{value} ASC"
    parts = []
    for item in sort_by:
        key, order = item.get("Key", ""), item.get("SortOrder") or "DESCENDING"
        if key not in METRICS:
            raise invalid(f"SortBy Key {key!r} is not one of {', '.join(sorted(METRICS))}.")
        parts.append(f"sum({key}) {'ASC' if order == 'ASCENDING' else 'DESC'}")
    return ", ".join([*parts, f"{value} ASC"])


def _search(value: str, search: str | None) -> str:
    if not search:
        return "TRUE"
    return f"contains(lower({value}), {literal(search.lower())})"


def _rows(facts: Facts, sql: str, span: Span) -> list[tuple[Any, ...]]:
    """`sql`'s rows, its two parameters the interval's bounds."""
    cur = facts.cursor()
    try:
        found: list[tuple[Any, ...]] = cur.execute(
            sql, [timespan.naive(span.start), timespan.naive(span.end)]
        ).fetchall()
        return found
    finally:
        cur.close()


def dimension_values(
    facts: Facts,
    span: Span,
    dimension: str,
    context: str,
    where: str,
    search: str | None,
    sort_by: list[dict[str, str]] | None,
) -> list[dict[str, Any]]:
    """[{Value, Attributes}] in order: LINKED_ACCOUNT has its name as `description`,
    USAGE_TYPE and USAGE_TYPE_GROUP their `unit`."""
    value = dimension_column(dimension, context)
    table = "facts_resources" if dimension == "RESOURCE_ID" else "facts"
    extra = "max(unit)" if dimension in ("USAGE_TYPE", "USAGE_TYPE_GROUP") else "NULL"
    sql = (
        f"SELECT {value}, {extra} FROM {table} WHERE t >= ? AND t < ? AND ({where}) "
        f"AND {_CONTEXT_ROWS[context]} AND {value} <> '' AND {_search(value, search)} "
        f"GROUP BY 1 ORDER BY {_order(sort_by, value)}"
    )
    rows = _rows(facts, sql, span)
    out = []
    for found, unit in rows:
        attributes: dict[str, str] = {}
        if dimension == "LINKED_ACCOUNT":
            attributes["description"] = facts.accounts.get(found, "")
        elif unit is not None:
            attributes["unit"] = unit
        out.append({"Value": found, "Attributes": attributes})
    return out


def keyed(
    facts: Facts,
    column: str,
    span: Span,
    key: str | None,
    where: str,
    search: str | None,
    sort_by: list[dict[str, str]] | None,
) -> list[str]:
    """The keys (no `key`) or the values of `key` of a map column of the facts (`tags`:
    GetTags; `cost_categories`: GetCostCategories) on lines in the interval."""
    if key is None:
        rows_sql = f"(SELECT unnest(map_keys({column})) AS v, * FROM facts)"
    else:
        rows_sql = f"(SELECT {column}[{literal(key)}] AS v, * FROM facts)"
    sql = (
        f"SELECT v FROM {rows_sql} WHERE t >= ? AND t < ? AND ({where}) AND v IS NOT NULL "
        f"AND v <> '' AND {_search('v', search)} GROUP BY 1 ORDER BY {_order(sort_by, 'v')}"
    )
    rows = _rows(facts, sql, span)
    return [r[0] for r in rows]
