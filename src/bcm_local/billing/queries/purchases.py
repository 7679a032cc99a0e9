"""What to buy: reservation and Savings Plans purchase recommendations from the bill's own
on-demand usage over the lookback period, priced with the catalog's public discounts (the
ones that priced the bill's reservations and Savings Plans: billing/usage/commitments.py).

The method (docs/ce-recommendations.md; every figure reproduces from the bill):
- The lookback is the last 7, 30 or 60 complete days before the clock's day. For each
  day, the on-demand Usage rows (a reservation: the service's instance usage types, by
  account when the scope is LINKED, instance type, region, platform, tenancy, engine and
  deployment; a Savings Plan: the usage types Savings Plans cover, see commitments.py)
  give that day's hours and cost.
- A recommendation never buys more than the lowest day uses: n reservations, n the
  floor of the lowest day's average running instances (a day with no usage counts), and
  an hourly commitment that is the lowest day's average hourly on-demand spend at the
  Savings Plan rates. The purchase is therefore used in full (utilization 100 %).
- Savings: a reservation saves its discount on the on-demand rate of the hours it covers
  (the lookback's cost over its hours), 730 hours a month; a Savings Plan saves the
  difference between the on-demand cost of the spend it covers and its commitment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bcm_local.billing.expressions.dimensions import column
from bcm_local.billing.expressions.filters import literal
from bcm_local.billing.queries.commitments import RESERVABLE
from bcm_local.billing.queries.facts import Facts
from bcm_local.billing.queries.timespan import naive

LOOKBACK = {"SEVEN_DAYS": 7, "THIRTY_DAYS": 30, "SIXTY_DAYS": 60}
TERMS = {"ONE_YEAR": "1yr", "THREE_YEARS": "3yr"}
PAYMENTS = {
    "NO_UPFRONT": "No Upfront",
    "PARTIAL_UPFRONT": "Partial Upfront",
    "ALL_UPFRONT": "All Upfront",
}
HOURS_PER_MONTH = 730.0
# what a reservation of each service is described by (CE dimensions), beside its type
RESERVATION_KEYS = ("INSTANCE_TYPE", "REGION", "PLATFORM", "TENANCY", "DATABASE_ENGINE")
LAMBDA = "AWS Lambda"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime  # exclusive
    days: int

    @property
    def hours(self) -> float:
        return 24.0 * self.days


def window(now: datetime, lookback: str) -> Window:
    days = LOOKBACK[lookback]
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(end - timedelta(days=days), end, days)


@dataclass(frozen=True)
class Usage:
    """One candidate's on-demand usage over the window."""

    key: dict[str, str]
    lowest_hours: float  # per day, the lowest day's hours (0 when a day has none)
    highest_hours: float
    hours: float
    cost: float
    normalized: float


def reservable_usage(
    facts: Facts, win: Window, service: str, where: str, by_account: bool
) -> list[Usage]:
    """On-demand instance usage of `service` a reservation could cover, per candidate."""
    keys = (["LINKED_ACCOUNT"] if by_account else []) + list(RESERVATION_KEYS)
    names = ", ".join(column(k) for k in keys)
    condition = (
        f'"RECORD_TYPE" = \'Usage\' AND "SERVICE" = {literal(service)} AND '
        f"regexp_matches(\"USAGE_TYPE\", '{RESERVABLE}') AND ({where})"
    )
    return _usage(facts, win, keys, names, condition, "UsageQuantity")


def _usage(
    facts: Facts, win: Window, keys: list[str], names: str, condition: str, measure: str
) -> list[Usage]:
    sql = f"""WITH daily AS (
  SELECT {names}, date_trunc('day', t) AS d, sum({measure}) AS h, sum(UnblendedCost) AS c,
    sum(NormalizedUsageAmount) AS u
  FROM facts WHERE t >= ? AND t < ? AND {condition} GROUP BY ALL
)
SELECT {names}, CASE WHEN count(*) < {win.days} THEN 0 ELSE min(h) END, max(h), sum(h),
  sum(c), sum(u)
FROM daily GROUP BY ALL ORDER BY ALL"""
    rows = facts.cursor().execute(sql, [naive(win.start), naive(win.end)]).fetchall()
    width = len(keys)
    return [
        Usage(dict(zip(keys, (str(v) for v in r[:width]), strict=True)), *map(float, r[width:]))
        for r in rows
    ]


def eligible_sql() -> str:
    """Usage a Savings Plan covers: the usage types a SavingsPlanCoveredUsage row of the
    bill has, and EC2 instance usage."""
    return (
        '("USAGE_TYPE" IN (SELECT DISTINCT "USAGE_TYPE" FROM facts WHERE "RECORD_TYPE" = '
        "'SavingsPlanCoveredUsage') OR regexp_matches(\"USAGE_TYPE\", '(^|-)BoxUsage'))"
    )


def reservation(
    use: Usage, win: Window, discount: float, upfront_share: float, term_hours: float
) -> dict[str, float]:
    """The figures of buying as many reservations as the lowest day runs."""
    count = float(int(use.lowest_hours / 24.0 + 1e-9))
    rate = use.cost / use.hours if use.hours else 0.0
    units = use.normalized / use.hours if use.hours else 0.0
    effective = rate * (1.0 - discount)
    upfront = count * effective * term_hours * upfront_share
    recurring = count * effective * (1.0 - upfront_share) * HOURS_PER_MONTH
    saving = count * rate * discount * HOURS_PER_MONTH
    return {
        "count": count,
        "units": count * units,
        "min": use.lowest_hours / 24.0,
        "max": use.highest_hours / 24.0,
        "avg": use.hours / win.hours,
        "unit_factor": units,
        "on_demand": count * rate * HOURS_PER_MONTH,
        "saving": saving,
        "upfront": upfront,
        "recurring": recurring,
        "lookback_cost": count * effective * win.hours,
        "break_even": upfront / saving if saving and upfront else 0.0,
    }


def savings_plan(
    use: Usage, win: Window, upfront_share: float, term_hours: float
) -> dict[str, float]:
    """The figures of the hourly commitment the lowest day uses in full (`use.hours` holds
    the spend at the plan's rates, `use.cost` the on-demand cost of the same usage)."""
    commitment = use.lowest_hours / 24.0
    ratio = use.cost / use.hours if use.hours else 0.0  # on-demand per plan dollar
    sp_cost = commitment * win.hours
    covered = sp_cost * ratio
    saving = covered - sp_cost
    return {
        "commitment": commitment,
        "sp_cost": sp_cost,
        "on_demand": covered,
        "with_current": use.cost,
        "saving": saving,
        "monthly_saving": saving / win.hours * HOURS_PER_MONTH,
        "upfront": commitment * term_hours * upfront_share,
        "min": use.lowest_hours / 24.0 * ratio,
        "max": use.highest_hours / 24.0 * ratio,
        "avg": use.cost / win.hours,
    }


def equivalent_sql(term: str) -> str:
    """A Usage row's cost at the Savings Plan rates of `term` (the catalog's discounts)."""
    from bcm_local.billing.usage.commitments import LAMBDA_SP_DISCOUNT, SP_DISCOUNT

    return (
        f'UnblendedCost * CASE WHEN "SERVICE" = {literal(LAMBDA)} '
        f"THEN {1.0 - LAMBDA_SP_DISCOUNT[term]} ELSE {1.0 - SP_DISCOUNT[term]} END"
    )


def spend_by(facts: Facts, win: Window, where: str, by: list[str], term: str) -> list[Usage]:
    """On-demand spend Savings Plans could cover, per candidate (`by`: CE dimensions):
    `hours` holds its cost at the plan's rates of `term`, `cost` its on-demand cost."""
    names = ", ".join(column(k) for k in by) if by else "'' AS none"
    keys = by or ["none"]
    found = _usage(
        facts,
        win,
        keys,
        names,
        f"\"RECORD_TYPE\" = 'Usage' AND {eligible_sql()} AND ({where})",
        equivalent_sql(term),
    )
    return [Usage({k: v for k, v in u.key.items() if k != "none"}, *_rest(u)) for u in found]


def _rest(use: Usage) -> tuple[float, float, float, float, float]:
    return (use.lowest_hours, use.highest_hours, use.hours, use.cost, use.normalized)


def daily_spend(
    facts: Facts, win: Window, where: str, term: str
) -> list[tuple[datetime, float, float]]:
    """[(day, eligible spend at the plan's rates of `term`, its on-demand cost)] of every
    day of the window (0 for a day without any)."""
    sql = (
        f"SELECT date_trunc('day', t) AS d, sum({equivalent_sql(term)}), sum(UnblendedCost) "
        f"FROM facts WHERE t >= ? AND t < ? AND \"RECORD_TYPE\" = 'Usage' AND {eligible_sql()} "
        f"AND ({where}) GROUP BY 1"
    )
    found = {
        row[0]: (float(row[1]), float(row[2]))
        for row in facts.cursor().execute(sql, [naive(win.start), naive(win.end)]).fetchall()
    }
    days = [naive(win.start) + timedelta(days=i) for i in range(win.days)]
    return [(day, *found.get(day, (0.0, 0.0))) for day in days]


def commitment_outcome(
    days: list[tuple[datetime, float, float]], commitment: float
) -> dict[str, Any]:
    """What an hourly `commitment` would have done over `days` (daily_spend): each day it
    covers up to 24 times the commitment of the spend at plan rates, the on-demand cost of that
    spend is saved, and the commitment is paid whether used or not."""
    hours = 24.0 * len(days)
    covered = used = on_demand = 0.0
    metrics = []
    for day, plan, cost in days:
        use = min(24.0 * commitment, plan)
        saved = use * cost / plan if plan else 0.0
        used += use
        covered += saved
        on_demand += cost
        metrics.append(
            {
                "day": day,
                "on_demand_after": cost - saved,
                "coverage": saved / cost if cost else 0.0,
                "utilization": use / (24.0 * commitment) if commitment else 0.0,
            }
        )
    cost_of_commitment = commitment * hours
    return {
        "hours": hours,
        "commitment_cost": cost_of_commitment,
        "on_demand": on_demand,
        "on_demand_after": on_demand - covered,
        "saving": covered - cost_of_commitment,
        "utilization": used / cost_of_commitment if cost_of_commitment else 0.0,
        "coverage": covered / on_demand if on_demand else 0.0,
        "metrics": metrics,
    }
