"""Each table as SQL over the model: `table_sql(dataset, table, properties)` returns a
SELECT whose columns are exactly the table's columns under those properties, in order,
with the declared types (strings stay ENUMs: the Parquet writer emits them as strings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bcm_local.billing import tables
from bcm_local.billing.types import duck_type

if TYPE_CHECKING:
    from bcm_local.billing.model import Dataset

USAGE_TYPES = "('Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage')"

# Effective (amortized) cost per AWS's rules for each line item type.
AMORTIZED = (
    "CASE line_item_type "
    "WHEN 'SavingsPlanCoveredUsage' THEN k * sp_eff "
    "WHEN 'SavingsPlanRecurringFee' THEN k * c - aux "
    "WHEN 'SavingsPlanNegation' THEN 0.0 "
    "WHEN 'DiscountedUsage' THEN k * ri_eff "
    "WHEN 'RIFee' THEN ri_unused_amortized + ri_unused_recurring "
    "WHEN 'Fee' THEN CASE WHEN ri_arn IS NULL THEN k * c ELSE 0.0 END "
    "ELSE k * c END"
)


def const(value: str) -> str:
    """A string constant typed as a one-value ENUM (written as a dictionary, not hashed)."""
    quoted = "'" + value.replace("'", "''") + "'"
    return f"CAST({quoted} AS ENUM({quoted}))"


def select_list(
    table: str, props: dict[str, str], exprs: dict[str, str], nullable_marker: str = "k"
) -> str:
    """`expr AS "name"` for every column of the table; absent expressions are typed NULLs.
    Each column is wrapped so DuckDB declares it optional in Parquet whatever the data."""
    out = []
    for col in tables.columns(table, props):
        expr = exprs.get(col.name)
        if expr is None:
            out.append(f'NULL::{duck_type(col.type)} AS "{col.name}"')
            continue
        if col.type in ("double", "int", "boolean", "timestamp", "timestamp_milliseconds"):
            expr = f"CAST({expr} AS {duck_type(col.type)})"
        out.append(f'CASE WHEN {nullable_marker} IS NULL THEN NULL ELSE {expr} END AS "{col.name}"')
    return ",\n  ".join(out)


def discount_expr(data: Dataset, amount: str = "k * edp") -> str:
    if not data.edp:
        return "no_discount"
    return (
        f"CASE WHEN edp <> 0 THEN map([{const('edp_discount')}], [{amount}]) ELSE no_discount END"
    )


def table_sql(data: Dataset, table: str, properties: dict[str, str] | None = None) -> str:
    from bcm_local.billing import views_cur, views_focus, views_other

    props = tables.resolve_properties(table, properties)
    builders = {
        tables.CUR2: views_cur.cur2,
        tables.FOCUS_1_2: views_focus.focus_1_2,
        tables.FOCUS_1_0: views_focus.focus_1_0,
        tables.DASHBOARD: views_other.dashboard,
        tables.RECOMMENDATIONS: views_other.recommendations,
        tables.CARBON: views_other.carbon,
    }
    return builders[table](data, props)
