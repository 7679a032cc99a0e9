"""The SQL every table module builds its SELECT with: a table's SELECT has exactly the
table's columns under its properties, in order, with the declared types (strings stay
ENUMs: the Parquet writer emits them as strings); see registry.table_sql.

Tables whose rows are one per line and slot (CUR 2.0 with resources, FOCUS) come back as
a `TableSQL`: the same string, able to render the same SELECT over the per-line and
per-part sources of billing/slots.py, and the set of columns that only depend on the
line, which the run writer (delivery/runs/writer.py) writes as runs instead of row by row."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bcm_local.billing.model.slots import ROW_COLUMNS
from bcm_local.billing.tables.schema import Table
from bcm_local.billing.tables.types import duck_type

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset

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


@dataclass(frozen=True)
class Source:
    """The views a table selects from, a never-null column of theirs (see select_list)
    and the extra columns the run writer needs passed through."""

    li: str = "li"
    li_split: str = "li_split"
    marker: str = "k"
    extra: tuple[str, ...] = ()
    only: frozenset[str] | None = None  # render only these table columns


ROWS = Source()
LINES = Source("li_lines", "li_split_lines", "__line", ("__line", "__n"))
PART = Source("li_part", "li_split_part", "k", ("__line",))


class TableSQL(str):
    """A table's SELECT over `li`, with its variants for the run writer."""

    render: Callable[[Source, frozenset[str]], str]  # some columns over LINES or PART
    per_line: frozenset[str]  # columns whose value only depends on the line


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_ROW_LEVEL = re.compile(r"\b(" + "|".join(ROW_COLUMNS) + r")\b")


def row_dependent(expr: str | None) -> bool:
    """Whether an expression over `li` can differ between rows of one line."""
    return expr is not None and bool(_ROW_LEVEL.search(_LITERAL.sub("", expr)))


def select_list(
    table: Table, props: dict[str, str], exprs: dict[str, str], src: Source = ROWS
) -> str:
    """`expr AS "name"` for every column of the table; absent expressions are typed NULLs.
    Each column is wrapped so DuckDB declares it optional in Parquet whatever the data."""
    out = []
    for col in table.columns_for(props):
        if src.only is not None and col.name not in src.only:
            continue
        expr = exprs.get(col.name)
        if expr is None:
            out.append(f'NULL::{duck_type(col.type)} AS "{col.name}"')
            continue
        if col.type in ("double", "int", "boolean", "timestamp", "timestamp_milliseconds"):
            expr = f"CAST({expr} AS {duck_type(col.type)})"
        out.append(f'CASE WHEN {src.marker} IS NULL THEN NULL ELSE {expr} END AS "{col.name}"')
    out += [f'"{name}"' for name in src.extra]
    return ",\n  ".join(out)


def discount_expr(data: Dataset, amount: str = "k * edp") -> str:
    if not data.edp:
        return "no_discount"
    return (
        f"CASE WHEN edp <> 0 THEN map([{const('edp_discount')}], [{amount}]) ELSE no_discount END"
    )
