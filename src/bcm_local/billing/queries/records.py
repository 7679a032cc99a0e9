"""GetApproximateUsageRecords: how many usage records each service has over the lookback
period, at the granularity asked, with resource-level detail or without.

A record is what GetCostAndUsage(WithResources) would aggregate: one row per time bucket
and distinct set of the line's dimensions, tags and cost categories (and resource, for
RESOURCE), counted in DuckDB over the facts. Services are CE's SERVICE names, the values
GetDimensionValues returns for SERVICE.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bcm_local.billing.expressions.dimensions import FACT_DIMENSIONS, column
from bcm_local.billing.expressions.filters import literal
from bcm_local.billing.queries.facts import Facts
from bcm_local.billing.queries.timespan import bucket_sql, naive, stamp

LOOKBACK_DAYS = 30


def lookback(facts: Facts, today: datetime) -> tuple[datetime, datetime]:
    """The last LOOKBACK_DAYS days before today, clipped to the bill's first day."""
    return max(facts.first, today - timedelta(days=LOOKBACK_DAYS)), today


def usage_records(
    facts: Facts,
    granularity: str,
    resources: bool,
    services: list[str] | None,
    today: datetime,
) -> dict[str, Any]:
    start, end = lookback(facts, today)
    keys = [
        bucket_sql(granularity),
        *(column(n) for n in FACT_DIMENSIONS),
        "tags",
        "cost_categories",
        "unit",
    ]
    table = "facts_resources" if resources else "facts"
    if resources:
        keys.append("resource_id")
    where = "t >= ? AND t < ?"
    if services:
        where += f" AND {column('SERVICE')} IN ({', '.join(literal(s) for s in services)})"
    rows = (
        facts.cursor()
        .execute(
            f"""SELECT service, count(*)::BIGINT FROM (
  SELECT {column("SERVICE")} AS service FROM {table} WHERE {where}
  GROUP BY {", ".join(keys)}) GROUP BY 1 ORDER BY 1""",
            [naive(start), naive(end)],
        )
        .fetchall()
    )
    counts = {service: int(n) for service, n in rows}
    return {
        "Services": counts,
        "TotalRecords": sum(counts.values()),
        "LookbackPeriod": {"Start": stamp(start, "DAILY"), "End": stamp(end, "DAILY")},
    }
