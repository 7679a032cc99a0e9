"""The six Data Exports tables: one module each (its columns, properties and SELECT over
the model); this registry is what ListTables, GetTable, the export SQL's validation and
the writers read.

Property defaults (AWS does not document them; chosen here and shown by ListTables):
CUR 2.0 and FOCUS 1.2 TIME_GRANULARITY=DAILY (modest row counts), every CUR INCLUDE_* flag
FALSE, BILLING_VIEW_ARN empty (= the caller's primary billing view), recommendations
FILTER='{}' and INCLUDE_ALL_RECOMMENDATIONS=FALSE.

Tables whose rows are one per line and slot (CUR 2.0 with resources, FOCUS) come back from
`table_sql` as a `TableSQL`: the same string, able to render the same SELECT over the
per-line and per-part sources of billing/model/slots.py, and the set of columns that only
depend on the line, which the run writer (delivery/runs/writer.py) writes as runs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bcm_local.billing.tables import (
    carbon,
    cur2,
    dashboard,
    focus_1_0,
    focus_1_2,
    recommendations,
)
from bcm_local.billing.tables.schema import Column, Table, TableError
from bcm_local.billing.tables.sql import ROWS, TableSQL, row_dependent

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset

CUR2 = cur2.NAME
FOCUS_1_2 = focus_1_2.NAME
FOCUS_1_0 = focus_1_0.NAME
RECOMMENDATIONS = recommendations.NAME
DASHBOARD = dashboard.NAME
CARBON = carbon.NAME

TABLES: dict[str, Table] = {
    m.TABLE.name: m.TABLE for m in (cur2, focus_1_2, focus_1_0, recommendations, dashboard, carbon)
}


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise TableError(f"Table {name} does not exist.") from None


def resolve_properties(name: str, properties: dict[str, str] | None = None) -> dict[str, str]:
    """Every property of the table with its effective value; raises TableError."""
    return table(name).resolve(properties)


def columns(name: str, properties: dict[str, str] | None = None) -> list[Column]:
    """The columns the table has under these properties (in table order)."""
    return table(name).columns_for(properties)


def list_tables() -> list[dict[str, object]]:
    return [
        {
            "TableName": t.name,
            "Description": t.description,
            "TableProperties": [
                {
                    "Name": p.name,
                    "ValidValues": list(p.valid_values),
                    "DefaultValue": p.default,
                    "Description": p.description,
                }
                for p in t.properties
            ],
        }
        for t in TABLES.values()
    ]


def get_table(name: str, properties: dict[str, str] | None = None) -> dict[str, object]:
    props = resolve_properties(name, properties)
    return {
        "TableName": name,
        "Description": TABLES[name].description,
        "TableProperties": {k: v for k, v in props.items() if v != ""},
        "Schema": [
            {"Name": c.name, "Type": c.type, "Description": c.description}
            for c in columns(name, props)
        ],
    }


def table_sql(data: Dataset, name: str, properties: dict[str, str] | None = None) -> str:
    """The table's SELECT over the bill `data` under `properties`: exactly its columns, in
    order, with the declared types."""
    props = resolve_properties(name, properties)
    summaries = {DASHBOARD: dashboard.sql, RECOMMENDATIONS: recommendations.sql, CARBON: carbon.sql}
    if name in summaries:
        return summaries[name](data, props)
    module = {CUR2: cur2, FOCUS_1_2: focus_1_2, FOCUS_1_0: focus_1_0}[name]
    if name == CUR2 and props["INCLUDE_RESOURCES"] != "TRUE":
        return cur2.sql(data, props)  # rows summed over resources: not one per line and slot
    out = TableSQL(module.sql(data, props, ROWS))
    out.render = lambda src, only: module.sql(data, props, replace(src, only=only))
    exprs = (focus_1_2.expressions if module is focus_1_0 else module.expressions)(data, props)
    out.per_line = frozenset(
        c.name for c in columns(name, props) if not row_dependent(exprs.get(c.name))
    )
    return out
