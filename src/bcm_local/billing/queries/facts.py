"""Cost Explorer's facts: the CUR 2.0 relation of the bill the exports deliver (with
resources, at the granularity asked), projected onto CE's dimensions and metrics.

Nothing is priced here: each metric is a sum of CUR 2.0 columns (AmortizedCost is AWS's
amortized-cost expression over them), so any CE figure equals the same aggregation over
a delivered CUR 2.0 file. The projection is kept in a small DuckDB database of its own
(`facts_resources`, one row per CUR 2.0 row; `facts`, the same summed over resources;
`commitments`, the rows of reservations and Savings Plans: queries/commitments.py),
built once per bill version (queries/cache.py) and read by every query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bcm_local.billing.expressions.dimensions import DIMENSIONS, FACT_DIMENSIONS, column
from bcm_local.billing.queries import commitments

# CE metric -> SQL over the CUR 2.0 columns
_AMORTIZED = """CASE line_item_line_item_type
  WHEN 'SavingsPlanCoveredUsage' THEN {p}savings_plan_{n}savings_plan_effective_cost
  WHEN 'SavingsPlanRecurringFee' THEN {sp_unused}
  WHEN 'SavingsPlanNegation' THEN 0
  WHEN 'SavingsPlanUpfrontFee' THEN 0
  WHEN 'DiscountedUsage' THEN reservation_{n}effective_cost
  WHEN 'RIFee' THEN coalesce(reservation_{n}unused_amortized_upfront_fee_for_billing_period, 0)
    + coalesce(reservation_{n}unused_recurring_fee, 0)
  WHEN 'Fee' THEN CASE WHEN reservation_reservation_a_r_n IS NOT NULL THEN 0
    ELSE line_item_{n}unblended_cost END
  ELSE line_item_{n}unblended_cost END"""
_SP_UNUSED = "savings_plan_total_commitment_to_date - savings_plan_used_commitment"
# net: the unused commitment after the line's discounts (net over gross of the fee itself)
_SP_UNUSED_NET = (
    f"({_SP_UNUSED}) * CASE WHEN line_item_unblended_cost = 0 THEN 1 "
    "ELSE line_item_net_unblended_cost / line_item_unblended_cost END"
)

METRICS: dict[str, str] = {
    "AmortizedCost": _AMORTIZED.format(p="", n="", sp_unused=_SP_UNUSED),
    "BlendedCost": "line_item_blended_cost",
    "NetAmortizedCost": _AMORTIZED.format(p="", n="net_", sp_unused=_SP_UNUSED_NET),
    "NetUnblendedCost": "line_item_net_unblended_cost",
    "NormalizedUsageAmount": "line_item_normalized_usage_amount",
    "UnblendedCost": "line_item_unblended_cost",
    "UsageQuantity": "line_item_usage_amount",
}
COST_METRICS = frozenset(METRICS) - {"NormalizedUsageAmount", "UsageQuantity"}

# user tags under their own key (CUR 2.0's `tags` holds "resourceTags/<key>")
_TAGS = (
    "map_from_entries(list_transform(list_filter(map_entries(CAST(tags AS MAP(VARCHAR, "
    "VARCHAR))), lambda e: starts_with(e.key, 'resourceTags/')), lambda e: {'key': "
    "regexp_replace(e.key[14:], '^user:', ''), 'value': e.value}))"
)
_COST_CATEGORIES = "CAST(cost_category AS MAP(VARCHAR, VARCHAR))"


@dataclass(frozen=True)
class Month:
    label: str  # YYYY-MM
    start: datetime
    end: datetime  # exclusive
    estimated: bool  # the open month: no invoice yet


@dataclass
class Facts:
    con: Any  # DuckDB: facts, facts_resources, accounts(id, name)
    granularity: str  # DAILY or HOURLY
    months: list[Month]
    now: datetime
    through: datetime  # the end of the last hour the bill holds
    accounts: dict[str, str] = field(default_factory=dict)
    tag_keys: dict[str, str] = field(default_factory=dict)  # Dataset.tag_keys

    @property
    def first(self) -> datetime:
        return self.months[0].start

    def cursor(self) -> Any:
        return self.con.cursor()


def _projection(cur2: str) -> str:
    dims = ",\n  ".join(f"{DIMENSIONS[n].sql} AS {column(n)}" for n in FACT_DIMENSIONS)
    metrics = ",\n  ".join(f"coalesce({sql}, 0) AS {name}" for name, sql in METRICS.items())
    return f"""SELECT CAST(line_item_usage_start_date AS TIMESTAMP) AS t,
  {dims},
  {DIMENSIONS["RESOURCE_ID"].sql} AS resource_id,
  {_TAGS} AS tags,
  {_COST_CATEGORIES} AS cost_categories,
  coalesce(CAST(pricing_unit AS VARCHAR), '') AS unit,
  {metrics}
FROM ({cur2})"""


def build(runtime: Any, account: str, now: datetime, granularity: str) -> Facts:
    """The account's facts at `granularity` (HOURLY: the current and previous month only,
    which hold the last 14 days CE answers hourly)."""
    from bcm_local.billing import bill, tables

    con = bill.connect()
    try:
        data = bill.open_dataset(
            con,
            runtime.config,
            account,
            now,
            granularity,
            runtime=runtime,
            backfill_months=1 if granularity == "HOURLY" else None,
        )
        cur2 = tables.table_sql(
            data, tables.CUR2, {"INCLUDE_RESOURCES": "TRUE", "TIME_GRANULARITY": granularity}
        )
        projected = bill.arrow(con.sql(_projection(str(cur2))))
        committed = bill.arrow(con.sql(commitments.projection(str(cur2))))
    finally:
        con.close()
    small = bill.materialise(
        projected, "CREATE TABLE facts_resources AS SELECT * FROM rows ORDER BY t", threads=2
    )
    sums = ", ".join(f"sum({m}) AS {m}" for m in METRICS)
    keys = ", ".join(
        ["t", *(column(n) for n in FACT_DIMENSIONS), "tags", "cost_categories", "unit"]
    )
    small.execute(
        f"CREATE TABLE facts AS SELECT {keys}, {sums} FROM facts_resources "
        f"GROUP BY {keys} ORDER BY t"
    )
    last = data.periods[-1]
    through = last.start + timedelta(hours=last.active_hours)
    small.register("rows", committed)
    small.execute(commitments.spread(f"TIMESTAMP '{through:%Y-%m-%d %H:%M:%S}'"))
    small.unregister("rows")
    accounts = dict(
        small.execute(
            'SELECT "LINKED_ACCOUNT", any_value("LINKED_ACCOUNT_NAME") FROM facts GROUP BY 1'
        ).fetchall()
    )
    months = [Month(p.label, p.start, p.end, p.invoice_id is None) for p in data.periods]
    return Facts(small, granularity, months, now, through, accounts, data.tag_keys)


def daily(runtime: Any, account: str, now: datetime) -> Facts:
    return build(runtime, account, now, "DAILY")


def hourly(runtime: Any, account: str, now: datetime) -> Facts:
    return build(runtime, account, now, "HOURLY")
