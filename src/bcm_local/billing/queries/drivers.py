"""GetCostComparisonDrivers: what moved one metric between two months, per (group,
SERVICE, USAGE_TYPE) — AWS adds SERVICE and USAGE_TYPE to every driver analysis.

Within one selector the lines split by their charge (line item type) into CE's driver
types (AWS's list: CostDriver.Type). Usage lines split further by how the metric moved:

- USAGE_CHANGE: the change of usage at the baseline rate, (u1 - u0) x r0
- RATE_CHANGE: the change of rate on the comparison's usage, (r1 - r0) x u1
- NEW_USAGE: usage only the comparison month has (its whole amount)
- REMOVED_USAGE: usage only the baseline month has (minus its whole amount)

(r: the metric per unit of UsageQuantity. RATE_CHANGE, NEW_USAGE and REMOVED_USAGE are
this emulator's names: AWS documents no type for them. When one month's usage is zero
but its amount is not, no rate exists and the whole change is USAGE_CHANGE.) Every other
charge is one driver of its type, its whole change. The parts of a selector sum to its
difference, so all drivers sum to the total difference.
"""

from __future__ import annotations

from typing import Any

from bcm_local.billing.expressions.dimensions import column
from bcm_local.billing.expressions.filters import literal
from bcm_local.billing.queries.comparisons import (
    Months,
    Sums,
    metric_value,
    ranked,
    selector,
    sums,
    unit_of,
)
from bcm_local.billing.queries.costs import GroupKey, amount
from bcm_local.billing.queries.facts import Facts

ADDED = (GroupKey("DIMENSION", "SERVICE"), GroupKey("DIMENSION", "USAGE_TYPE"))
USAGE = "USAGE"  # usage lines: split into the four parts below

# line item type -> AWS's driver type
CHARGE_TYPES = {
    "Usage": USAGE,
    "DiscountedUsage": "RESERVATION_USAGE",
    "RIFee": "RECURRING_RESERVATION_FEE",
    "SavingsPlanCoveredUsage": "SAVINGS_PLAN_USAGE",
    "SavingsPlanNegation": "SAVINGS_PLAN_USAGE",
    "SavingsPlanRecurringFee": "SAVINGS_PLAN_RECURRING_FEE",
    "SavingsPlanUpfrontFee": "COMMITMENT",
    "Tax": "TAX",
    "Credit": "CREDIT",
    "Refund": "REFUND",
    "BundledDiscount": "BUNDLED_DISCOUNT",
    "RiVolumeDiscount": "RI_VOLUME_DISCOUNT",
}
# a Fee: a reservation's upfront fee, a support plan's fee, or a one-time charge
_FEE = (
    f"CASE WHEN {column('RESERVATION_ID')} <> '' THEN 'UPFRONT_RESERVATION_FEE' "
    f"WHEN starts_with({column('SERVICE_CODE')}, 'AWSSupport') "
    f"OR {column('SERVICE_CODE')} = 'AWSDeveloperSupport' THEN 'SUPPORT_FEE' "
    "ELSE 'OUT_OF_CYCLE_CHARGE' END"
)


def charge_sql() -> str:
    """The SQL of a line's driver type (other line item types count as usage)."""
    whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in CHARGE_TYPES.items())
    return f"CASE {column('RECORD_TYPE')} {whens} WHEN 'Fee' THEN {_FEE} ELSE '{USAGE}' END"


def selector_keys(groups: list[GroupKey]) -> list[GroupKey]:
    """The request's groups, then SERVICE and USAGE_TYPE unless grouped by already."""
    return [*groups, *(g for g in ADDED if g not in groups)]


def parts(charge: str, s: Sums) -> list[tuple[str, float, float]]:
    """(type, baseline, comparison) of one charge's drivers; they chain from the baseline
    amount to the comparison amount."""
    if charge != USAGE:
        return [(charge, s.baseline, s.comparison)]
    if not s.baseline_rows:
        return [("NEW_USAGE", 0.0, s.comparison)]
    if not s.comparison_rows:
        return [("REMOVED_USAGE", s.baseline, 0.0)]
    if s.baseline_usage and s.comparison_usage:
        middle = s.comparison_usage * (s.baseline / s.baseline_usage)
        return [("USAGE_CHANGE", s.baseline, middle), ("RATE_CHANGE", middle, s.comparison)]
    return [("USAGE_CHANGE", s.baseline, s.comparison)]


def _driver(
    kind: str, name: str, metric: str, unit: str, low: float, high: float, s: Sums
) -> dict[str, Any]:
    metrics = {metric: metric_value(low, high, unit)}
    if kind == "USAGE_CHANGE" and metric != "UsageQuantity":  # the usage delta behind it
        metrics["UsageQuantity"] = metric_value(
            s.baseline_usage, s.comparison_usage, unit_of("UsageQuantity", s.units)
        )
    return {"Type": kind, "Name": name, "Metrics": metrics}


def drivers(
    facts: Facts, months: Months, metric: str, groups: list[GroupKey], where: str
) -> list[dict[str, Any]]:
    """CostComparisonDrivers: one per selector whose amount changed, largest change first;
    its CostDrivers likewise."""
    keys = selector_keys(groups)
    rows = sums(facts, months, metric, [g.sql(False) for g in keys] + [charge_sql()], where)
    by_selector: dict[tuple[str, ...], list[tuple[str, Sums]]] = {}
    for values, s in rows:
        by_selector.setdefault(values[:-1], []).append((values[-1], s))
    totals = []
    for values, charges in by_selector.items():
        total = Sums(
            sum(s.baseline for _, s in charges),
            sum(s.comparison for _, s in charges),
            units=frozenset().union(*(s.units for _, s in charges)),
        )
        totals.append((values, total))
    usage_type = keys.index(ADDED[1])
    out = []
    for values, total in ranked(totals):
        if amount(total.difference) == "0":
            continue
        unit = unit_of(metric, total.units)
        found = [
            _driver(kind, values[usage_type], metric, unit, low, high, s)
            for charge, s in by_selector[values]
            for kind, low, high in parts(charge, s)
            if amount(high - low) != "0"
        ]
        found.sort(key=lambda d: -abs(float(d["Metrics"][metric]["Difference"])))
        out.append(
            {
                "CostSelector": selector(keys, values),
                "Metrics": {metric: metric_value(total.baseline, total.comparison, unit)},
                "CostDrivers": found,
            }
        )
    return out
