"""The one boundary between legacy CUR and the shared billing model: CUR 2.0 rows.

Legacy CUR is CUR 2.0 renamed (see legacy_columns.py), so it asks the model for exactly
the rows a CUR 2.0 export with the equivalent table properties gets, and nothing else:
TimeUnit -> TIME_GRANULARITY, RESOURCES / SPLIT_COST_ALLOCATION_DATA /
MANUAL_DISCOUNT_COMPATIBILITY -> the INCLUDE_* flags, BillingViewArn -> BILLING_VIEW_ARN.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bcm_local.billing import tables
from bcm_local.runtime import Runtime

_FLAGS = {
    "RESOURCES": "INCLUDE_RESOURCES",
    "SPLIT_COST_ALLOCATION_DATA": "INCLUDE_SPLIT_COST_ALLOCATION_DATA",
    "MANUAL_DISCOUNT_COMPATIBILITY": "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY",
}


def cur2_properties(definition: dict[str, Any]) -> dict[str, str]:
    """The CUR 2.0 table properties equivalent to a legacy report definition."""
    elements = set(definition.get("AdditionalSchemaElements") or [])
    props = {"TIME_GRANULARITY": definition["TimeUnit"]}
    props.update({flag: "TRUE" if e in elements else "FALSE" for e, flag in _FLAGS.items()})
    view = definition.get("BillingViewArn") or ""
    if view.startswith("arn:"):
        props["BILLING_VIEW_ARN"] = view
    return tables.resolve_properties(tables.CUR2, props)


def cur2_columns(properties: dict[str, str]) -> list[tuple[str, str]]:
    return [(c.name, c.type) for c in tables.columns(tables.CUR2, properties)]


def cur2_rows(
    runtime: Runtime,
    con: Any,
    account_id: str,
    starts: list[datetime],
    properties: dict[str, str],
    now: datetime,
) -> list[str]:
    """Create in DuckDB connection `con` one view per billing period (first instant of the
    month, in `starts`) with the account's CUR 2.0 rows under `properties`; returns the
    views' names in the same order.

    The bill is built once, as a CUR 2.0 export delivered at `now` builds it (the current
    month to date, closed months back to the earliest asked for), so every month agrees
    with that export, invoice ids of closed months included."""
    from bcm_local.billing import bill
    from bcm_local.billing.scenario.periods import month_start

    current = month_start(now)
    back = max((current.year - s.year) * 12 + current.month - s.month for s in starts)
    data = bill.open_dataset(
        con,
        runtime.config,
        account_id,
        now,
        properties["TIME_GRANULARITY"],
        runtime=runtime,
        backfill_months=back,
    )
    con.execute(f"CREATE VIEW cur2_all AS {tables.table_sql(data, tables.CUR2, properties)}")
    names = []
    for n, start in enumerate(starts):
        con.execute(
            f"CREATE VIEW cur2_p{n} AS SELECT * FROM cur2_all "
            f"WHERE bill_billing_period_start_date = TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}'"
        )
        names.append(f"cur2_p{n}")
    return names
