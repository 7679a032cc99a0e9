"""GetCostAndUsageComparisons and GetCostComparisonDrivers: one metric summed over two
calendar months (baseline, comparison), per group, as one GROUP BY over the facts.

A comparison's CostAndUsageSelector is the Expression that selects its group (the same
keys as a GetCostAndUsage Filter), so the amounts equal GetCostAndUsage MONTHLY of each
month with that filter. Comparisons rank by the size of their difference (largest
first), as the console's Cost Comparison does.

Drivers (drivers.py) split each (group, SERVICE, USAGE_TYPE)'s difference into parts
that sum to it exactly.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bcm_local.billing.expressions.filters import invalid
from bcm_local.billing.queries import timespan
from bcm_local.billing.queries.costs import GroupKey, amount
from bcm_local.billing.queries.facts import COST_METRICS, METRICS, Facts
from bcm_local.billing.scenario.periods import add_months, month_start

HISTORY_MONTHS = 13  # AWS: "two periods within the last 13 months"


@dataclass(frozen=True)
class Months:
    """The two months compared (each [start, end), UTC)."""

    baseline: timespan.Span
    comparison: timespan.Span


def month_of(interval: dict[str, str], member: str) -> timespan.Span:
    """A DateInterval that is exactly one calendar month (first day to the next first)."""
    start = timespan.parse(interval["Start"], f"{member}.Start")
    end = timespan.parse(interval["End"], f"{member}.End")
    whole = start == month_start(start) and end == add_months(start, 1)
    if not whole:
        raise invalid(
            f"{member} must start and end on the first day of a month, with a duration of "
            f"exactly one month: got {interval['Start']} to {interval['End']}."
        )
    return timespan.Span(start, end)


def months_of(baseline: dict[str, str], comparison: dict[str, str], now: datetime) -> Months:
    """Both periods, each within the last 13 months and not after the current one."""
    found = Months(
        month_of(baseline, "BaselineTimePeriod"), month_of(comparison, "ComparisonTimePeriod")
    )
    current = month_start(now)
    earliest = add_months(current, -HISTORY_MONTHS)
    for member, span in (
        ("BaselineTimePeriod", found.baseline),
        ("ComparisonTimePeriod", found.comparison),
    ):
        if span.start > current:
            raise invalid(f"{member} cannot be after the current month.")
        if span.start < earliest:
            raise invalid(
                f"{member} must be within the last {HISTORY_MONTHS} months: Start must be on "
                f"or after {timespan.stamp(earliest, 'DAILY')}."
            )
    return found


def metric_name(metric: str | None) -> str:
    if metric not in METRICS:
        raise invalid(
            f"MetricForComparison {metric!r} is not valid; valid values are: "
            + ", ".join(sorted(METRICS))
        )
    return metric


def unit_of(metric: str, units: AbstractSet[str]) -> str:
    """USD for a cost; a usage amount's pricing unit when its lines share one, else N/A."""
    if metric in COST_METRICS:
        return "USD"
    if metric == "UsageQuantity" and len(units) == 1:
        return next(iter(units))
    return "N/A"


def metric_value(baseline: float, comparison: float, unit: str) -> dict[str, str]:
    """A ComparisonMetricValue (Difference: comparison minus baseline)."""
    return {
        "BaselineTimePeriodAmount": amount(baseline),
        "ComparisonTimePeriodAmount": amount(comparison),
        "Difference": amount(comparison - baseline),
        "Unit": unit,
    }


def selector(groups: list[GroupKey], values: tuple[str, ...]) -> dict[str, Any] | None:
    """The Expression that selects one group (None without groups)."""
    leaves: list[dict[str, Any]] = []
    for g, v in zip(groups, values, strict=True):
        if g.type == "DIMENSION":
            leaves.append({"Dimensions": {"Key": g.key, "Values": [v], "MatchOptions": ["EQUALS"]}})
            continue
        root = "Tags" if g.type == "TAG" else "CostCategories"
        if v == "":
            leaves.append({root: {"Key": g.key, "MatchOptions": ["ABSENT"]}})
        else:
            leaves.append({root: {"Key": g.key, "Values": [v], "MatchOptions": ["EQUALS"]}})
    if not leaves:
        return None
    return leaves[0] if len(leaves) == 1 else {"And": leaves}


@dataclass
class Sums:
    """One key's metric (and usage) in each month, the rows behind them, their units."""

    baseline: float = 0.0
    comparison: float = 0.0
    baseline_usage: float = 0.0
    comparison_usage: float = 0.0
    baseline_rows: int = 0
    comparison_rows: int = 0
    units: frozenset[str] = frozenset()

    @property
    def difference(self) -> float:
        return self.comparison - self.baseline


def sums(
    facts: Facts, months: Months, metric: str, keys: list[str], where: str
) -> list[tuple[tuple[str, ...], Sums]]:
    """Per value of the SQL `keys`: the metric, UsageQuantity and row count in each month."""
    b = "t >= ? AND t < ?"
    select = [
        *keys,
        f"sum({metric}) FILTER (WHERE {b})",
        f"sum({metric}) FILTER (WHERE NOT ({b}))",
        f"sum(UsageQuantity) FILTER (WHERE {b})",
        f"sum(UsageQuantity) FILTER (WHERE NOT ({b}))",
        f"count(*) FILTER (WHERE {b})",
        f"count(*) FILTER (WHERE NOT ({b}))",
        "list(DISTINCT unit) FILTER (WHERE unit <> '')",
    ]
    group = f"GROUP BY {', '.join(str(n + 1) for n in range(len(keys)))}" if keys else ""
    sql = (
        f"SELECT {', '.join(select)} FROM facts "
        f"WHERE ((t >= ? AND t < ?) OR (t >= ? AND t < ?)) AND ({where}) {group}"
    )
    base = [timespan.naive(months.baseline.start), timespan.naive(months.baseline.end)]
    comp = [timespan.naive(months.comparison.start), timespan.naive(months.comparison.end)]
    if months.baseline == months.comparison:  # one month compared with itself
        comp = [comp[1], comp[1]]
    cur = facts.cursor()
    try:
        rows = cur.execute(sql, base * 6 + base + comp).fetchall()
    finally:
        cur.close()
    width = len(keys)
    out = []
    for row in rows:
        m0, m1, u0, u1, n0, n1, units = row[width:]
        if months.baseline == months.comparison:
            m1, u1, n1 = m0, u0, n0
        found = Sums(m0 or 0.0, m1 or 0.0, u0 or 0.0, u1 or 0.0, n0, n1, frozenset(units or ()))
        if n0 or n1:
            out.append((tuple(row[:width]), found))
    return out


def ranked(items: list[tuple[tuple[str, ...], Sums]]) -> list[tuple[tuple[str, ...], Sums]]:
    """Largest absolute difference first; ties by key."""
    return sorted(items, key=lambda kv: (-abs(round(kv[1].difference, 10)), kv[0]))


def comparisons(
    facts: Facts, months: Months, metric: str, groups: list[GroupKey], where: str
) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """(CostAndUsageComparisons, ranked; TotalCostAndUsage)."""
    keys = [g.sql(False) for g in groups]
    out = []
    for values, s in ranked(sums(facts, months, metric, keys, where)):
        entry: dict[str, Any] = {}
        chosen = selector(groups, values)
        if chosen is not None:
            entry["CostAndUsageSelector"] = chosen
        entry["Metrics"] = {
            metric: metric_value(s.baseline, s.comparison, unit_of(metric, s.units))
        }
        out.append(entry)
    total = sums(facts, months, metric, [], where)
    t = total[0][1] if total else Sums()
    return out, {metric: metric_value(t.baseline, t.comparison, unit_of(metric, t.units))}
