"""What the commitment operations of `ce` share (commitments/reservations.py and
savings_plans.py: utilization and coverage of reservations and Savings Plans). The figures
are sums of the bill's CUR 2.0 commitment columns (billing/queries/commitments.py documents
each), so they reconcile with a delivered CUR 2.0 export to the cent.

As in AWS: a Filter joins its dimensions with And only (each with any of its values), from
each operation's own list; GroupBy and Granularity exclude each other; without either,
GetReservationUtilization is DAILY and the others answer the whole period at once; a
reservation's utilization is EC2's unless the Filter names a SERVICE."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bcm_local.billing.expressions import filters
from bcm_local.billing.queries.facts import Facts
from bcm_local.billing.queries.timespan import Bucket, Span, buckets, invalid, naive
from bcm_local.runtime import Context
from bcm_local.services.ce import bills
from bcm_local.services.ce.paging import Pager

Result = dict[str, Any]
ATTRIBUTES = {"AZ": "availabilityZone", "INSTANCE_TYPE_FAMILY": "instanceFamily"}


def attribute(dimension: str) -> str:
    """CE's attribute name of a dimension (INSTANCE_TYPE: instanceType)."""
    if dimension in ATTRIBUTES:
        return ATTRIBUTES[dimension]
    head, *rest = dimension.lower().split("_")
    return head + "".join(p.title() for p in rest)


def where_of(
    expression: dict[str, Any] | None, allowed: tuple[str, ...], columns: Any = None
) -> str:
    """The Filter as SQL: And of dimension leaves only (Or and Not are refused, as AWS's
    commitment operations do)."""

    def check(node: dict[str, Any]) -> None:
        if node.get("Or") is not None or node.get("Not") is not None:
            raise invalid("Only the AND operator is supported in this Filter.")
        for part in node.get("And") or []:
            check(part)

    if expression:
        check(expression)
    return filters.condition(expression, allowed, columns=columns)


def names_service(expression: dict[str, Any] | None) -> bool:
    if not expression:
        return False
    if "And" in expression:
        return any(names_service(e) for e in expression["And"])
    leaf = expression.get("Dimensions") or {}
    return bool(leaf.get("Key") == "SERVICE")


def periods(span: Span, granularity: str | None) -> list[Bucket]:
    return buckets(span, granularity) if granularity else [Bucket(span.start, span.end)]


def bill_of(ctx: Context, params: dict[str, Any]) -> tuple[Facts, Span, str | None]:
    granularity = params.get("Granularity")
    if granularity is not None and params.get("GroupBy"):
        raise invalid("Granularity can't be set when GroupBy is set.")
    if granularity not in (None, "DAILY", "MONTHLY"):
        raise invalid("This operation supports only DAILY and MONTHLY granularities.")
    span = Span.of(params["TimePeriod"])
    bill = bills.for_call(ctx)
    bills.available(bill, span, ctx.clock.now())
    return bill, span, granularity


def within(bucket: Bucket) -> tuple[str, list[datetime]]:
    return "t >= ? AND t < ?", [naive(bucket.start), naive(bucket.end)]


def label(bucket: Bucket) -> dict[str, str]:
    return bucket.label("DAILY")


def ordered(
    groups: list[Result], sort_by: dict[str, str] | None, value: Callable[[Result], Any]
) -> list[Result]:
    if not sort_by:
        return groups
    descending = sort_by.get("SortOrder", "ASCENDING") == "DESCENDING"
    return sorted(groups, key=value, reverse=descending)


def paged(
    ctx: Context, operation: str, params: dict[str, Any], items: list[Any], token_name: str
) -> tuple[list[Any], str | None]:
    rest = {k: v for k, v in params.items() if k != token_name}
    pager = Pager(ctx.store, operation, ctx.account_id, rest, params.get("MaxResults") or 1000)
    return pager.items(items, params.get(token_name))
