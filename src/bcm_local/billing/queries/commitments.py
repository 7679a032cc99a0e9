"""Reservation and Savings Plans utilization and coverage, from the CUR 2.0 relation of the
bill (the same one Cost Explorer's facts and the exports read).

`commitments` (in the facts' database) holds the CUR 2.0 rows of commitments: RIFee and
DiscountedUsage (reservations), SavingsPlanRecurringFee, SavingsPlanUpfrontFee and
SavingsPlanCoveredUsage, each with CE's dimensions and the reservation_* / savings_plan_*
columns. A RIFee row covers its whole billing period: it is spread over the period's days
by hours (`share`), so a DAILY answer's days add up to the MONTHLY one.

Figures (AWS's definitions over the CUR columns):
- reservations: PurchasedHours = RIFee usage, TotalActualHours = DiscountedUsage usage,
  UnusedHours = RIFee reservation_unused_quantity, AmortizedUpfrontFee = RIFee
  reservation_amortized_upfront_fee_for_billing_period, AmortizedRecurringFee = RIFee cost,
  OnDemandCostOfRIHoursUsed = DiscountedUsage pricing_public_on_demand_cost,
  RICostForUnusedHours = RIFee reservation_unused_amortized_upfront_fee + unused recurring
  fee, NetRISavings = on-demand cost of the hours used - total amortized fee,
  TotalPotentialRISavings = on-demand cost of the hours purchased (at the hours used'
  on-demand rate) - total amortized fee; units are the normalized amounts.
- Savings Plans: TotalCommitment = Σ savings_plan_total_commitment_to_date and
  UsedCommitment = Σ savings_plan_used_commitment of the SavingsPlanRecurringFee rows,
  AmortizedRecurringCommitment = their cost, AmortizedUpfrontCommitment = Σ
  savings_plan_amortized_upfront_commitment_for_billing_period, OnDemandCostEquivalent = Σ
  pricing_public_on_demand_cost of the covered usage, NetSavings = OnDemandCostEquivalent -
  TotalAmortizedCommitment.
- Coverage (over the facts): reservations cover instance hours (usage types of instances,
  nodes and clusters of the services AWS reserves); ReservedHours are DiscountedUsage hours,
  OnDemandHours and OnDemandCost the Usage hours and cost of the same usage types. Savings
  Plans cover the usage types any SavingsPlanCoveredUsage row has, and EC2 BoxUsage:
  SpendCoveredBySavingsPlans is the covered usage's amortized cost, OnDemandCost the
  on-demand Usage cost of those usage types.
"""

from __future__ import annotations

from typing import Any

from bcm_local.billing.expressions.dimensions import DIMENSIONS, FACT_DIMENSIONS, column

KINDS = (
    "RIFee",
    "DiscountedUsage",
    "SavingsPlanRecurringFee",
    "SavingsPlanUpfrontFee",
    "SavingsPlanCoveredUsage",
)
_COLUMNS = (
    "reservation_reservation_a_r_n",
    "reservation_start_time",
    "reservation_end_time",
    "reservation_number_of_reservations",
    "reservation_unused_quantity",
    "reservation_unused_normalized_unit_quantity",
    "reservation_amortized_upfront_fee_for_billing_period",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
    "savings_plan_savings_plan_a_r_n",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "savings_plan_amortized_upfront_commitment_for_billing_period",
    "savings_plan_recurring_commitment_for_billing_period",
    "savings_plan_start_time",
    "savings_plan_end_time",
    "savings_plan_purchase_term",
    "savings_plan_offering_type",
    "savings_plan_payment_option",
    "savings_plan_region",
    "savings_plan_instance_type_family",
)
# usage types a reservation can cover (instances, DB instances, cache and cluster nodes)
RESERVABLE = "(^|-)(BoxUsage|InstanceUsage|Multi-AZUsage|NodeUsage|HeavyUsage|DedicatedUsage)"
RESERVED_SERVICES = (
    "Amazon Elastic Compute Cloud - Compute",
    "Amazon Relational Database Service",
    "Amazon ElastiCache",
    "Amazon Redshift",
    "Amazon OpenSearch Service",
    "Amazon Elasticsearch Service",
)


def projection(cur2: str) -> str:
    """The commitment rows of the CUR 2.0 SELECT `cur2`, with CE's dimensions."""
    dims = ",\n  ".join(f"{DIMENSIONS[n].sql} AS {column(n)}" for n in FACT_DIMENSIONS)
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    extra = ",\n  ".join(_COLUMNS)
    return f"""SELECT CAST(line_item_usage_start_date AS TIMESTAMP) AS t,
  CAST(line_item_line_item_type AS VARCHAR) AS kind,
  {dims},
  coalesce(line_item_usage_amount, 0) AS usage,
  coalesce(line_item_normalized_usage_amount, 0) AS normalized,
  coalesce(line_item_unblended_cost, 0) AS cost,
  coalesce(pricing_public_on_demand_cost, 0) AS od_cost,
  {extra}
FROM ({cur2}) WHERE line_item_line_item_type IN ({kinds})"""


def spread(through: str) -> str:
    """The `commitments` table from `rows` (the projection): RIFee rows cut into the days
    of their period up to `through` (a TIMESTAMP literal), each with its `share` of the
    period's hours; the other rows whole (share 1)."""
    return f"""CREATE TABLE commitments AS
WITH fees AS (
  SELECT *, least(date_trunc('month', t) + INTERVAL 1 MONTH, {through}) AS e
  FROM rows WHERE kind = 'RIFee'
)
SELECT * REPLACE (d AS t),
  (epoch(least(d + INTERVAL 1 DAY, e)) - epoch(d)) / (epoch(e) - epoch(fees.t)) AS share
FROM fees, LATERAL (SELECT unnest(generate_series(fees.t, e - INTERVAL 1 SECOND,
  INTERVAL 1 DAY)) AS d)
WHERE e > fees.t
UNION ALL BY NAME
SELECT *, 1.0 AS share FROM rows WHERE kind <> 'RIFee'
ORDER BY t"""


# reservation aggregates: name -> SQL over `commitments` (sums, then ratios of sums)
RI_SUMS = {
    "purchased": "sum(CASE WHEN kind = 'RIFee' THEN usage * share ELSE 0 END)",
    "purchased_units": "sum(CASE WHEN kind = 'RIFee' THEN normalized * share ELSE 0 END)",
    "used": "sum(CASE WHEN kind = 'DiscountedUsage' THEN usage ELSE 0 END)",
    "used_units": "sum(CASE WHEN kind = 'DiscountedUsage' THEN normalized ELSE 0 END)",
    "unused": "sum(CASE WHEN kind = 'RIFee' THEN "
    "coalesce(reservation_unused_quantity, 0) * share ELSE 0 END)",
    "unused_units": "sum(CASE WHEN kind = 'RIFee' THEN "
    "coalesce(reservation_unused_normalized_unit_quantity, 0) * share ELSE 0 END)",
    "upfront": "sum(CASE WHEN kind = 'RIFee' THEN "
    "coalesce(reservation_amortized_upfront_fee_for_billing_period, 0) * share ELSE 0 END)",
    "recurring": "sum(CASE WHEN kind = 'RIFee' THEN cost * share ELSE 0 END)",
    "od_used": "sum(CASE WHEN kind = 'DiscountedUsage' THEN od_cost ELSE 0 END)",
    "unused_cost": "sum(CASE WHEN kind = 'RIFee' THEN "
    "(coalesce(reservation_unused_amortized_upfront_fee_for_billing_period, 0) "
    "+ coalesce(reservation_unused_recurring_fee, 0)) * share ELSE 0 END)",
}
SP_SUMS = {
    "total": "sum(CASE WHEN kind = 'SavingsPlanRecurringFee' "
    "THEN coalesce(savings_plan_total_commitment_to_date, 0) ELSE 0 END)",
    "used": "sum(CASE WHEN kind = 'SavingsPlanRecurringFee' "
    "THEN coalesce(savings_plan_used_commitment, 0) ELSE 0 END)",
    "recurring": "sum(CASE WHEN kind = 'SavingsPlanRecurringFee' THEN cost ELSE 0 END)",
    "upfront": "sum(CASE WHEN kind = 'SavingsPlanRecurringFee' THEN "
    "coalesce(savings_plan_amortized_upfront_commitment_for_billing_period, 0) ELSE 0 END)",
    "od_equivalent": "sum(CASE WHEN kind = 'SavingsPlanCoveredUsage' THEN od_cost ELSE 0 END)",
}


def money(value: float) -> str:
    """An amount as CE spells it (no trailing zeros; "0" for nothing)."""
    return f"{value:.10f}".rstrip("0").rstrip(".") if value else "0"


def percent(part: float, whole: float) -> str:
    return money(100.0 * part / whole) if whole else "0"


def reservation_aggregates(found: dict[str, float]) -> dict[str, str]:
    """ReservationAggregates from the sums of RI_SUMS."""
    fee = found["upfront"] + found["recurring"]
    rate = found["od_used"] / found["used"] if found["used"] else 0.0
    net = found["od_used"] - fee
    potential = rate * found["purchased"] - fee
    return {
        "UtilizationPercentage": percent(found["used"], found["purchased"]),
        "UtilizationPercentageInUnits": percent(found["used_units"], found["purchased_units"]),
        "PurchasedHours": money(found["purchased"]),
        "PurchasedUnits": money(found["purchased_units"]),
        "TotalActualHours": money(found["used"]),
        "TotalActualUnits": money(found["used_units"]),
        "UnusedHours": money(found["unused"]),
        "UnusedUnits": money(found["unused_units"]),
        "OnDemandCostOfRIHoursUsed": money(found["od_used"]),
        "NetRISavings": money(net),
        "TotalPotentialRISavings": money(potential),
        "AmortizedUpfrontFee": money(found["upfront"]),
        "AmortizedRecurringFee": money(found["recurring"]),
        "TotalAmortizedFee": money(fee),
        "RICostForUnusedHours": money(found["unused_cost"]),
        "RealizedSavings": money(net),
        "UnrealizedSavings": money(potential - net),
    }


def savings_plan_aggregates(found: dict[str, float]) -> dict[str, dict[str, str]]:
    """Utilization, Savings and AmortizedCommitment from the sums of SP_SUMS."""
    amortized = found["recurring"] + found["upfront"]
    return {
        "Utilization": {
            "TotalCommitment": money(found["total"]),
            "UsedCommitment": money(found["used"]),
            "UnusedCommitment": money(found["total"] - found["used"]),
            "UtilizationPercentage": percent(found["used"], found["total"]),
        },
        "Savings": {
            "NetSavings": money(found["od_equivalent"] - amortized),
            "OnDemandCostEquivalent": money(found["od_equivalent"]),
        },
        "AmortizedCommitment": {
            "AmortizedRecurringCommitment": money(found["recurring"]),
            "AmortizedUpfrontCommitment": money(found["upfront"]),
            "TotalAmortizedCommitment": money(amortized),
        },
    }


def sums(
    cursor: Any, table: str, named: dict[str, str], where: str, keys: list[str], params: list[Any]
) -> list[tuple[tuple[Any, ...], dict[str, float]]]:
    """[(key values, {sum name: value})] of the `named` sums (RI_SUMS, SP_SUMS, or sums over
    the facts) over `table` under `where`, grouped by the SQL expressions `keys`."""
    select = ", ".join([*keys, *(f"coalesce({sql}, 0)" for sql in named.values())])
    group = ""
    if keys:
        group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))} ORDER BY 1"
    query = f"SELECT {select} FROM {table} WHERE {where}{group}"
    rows = cursor.execute(query, params).fetchall()
    width = len(keys)
    return [
        (tuple(r[:width]), dict(zip(named, (float(v) for v in r[width:]), strict=True)))
        for r in rows
    ]
