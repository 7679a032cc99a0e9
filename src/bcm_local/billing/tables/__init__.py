"""The Data Exports tables, one module each, and their registry (ListTables, GetTable and
`table_sql`, the SELECT of a table over a built bill)."""

from bcm_local.billing.tables.registry import (
    CARBON,
    CUR2,
    DASHBOARD,
    FOCUS_1_0,
    FOCUS_1_2,
    RECOMMENDATIONS,
    TABLES,
    columns,
    get_table,
    list_tables,
    resolve_properties,
    table,
    table_sql,
)
from bcm_local.billing.tables.schema import Column, Property, Table, TableError

__all__ = [
    "CARBON",
    "CUR2",
    "DASHBOARD",
    "FOCUS_1_0",
    "FOCUS_1_2",
    "RECOMMENDATIONS",
    "TABLES",
    "Column",
    "Property",
    "Table",
    "TableError",
    "columns",
    "get_table",
    "list_tables",
    "resolve_properties",
    "table",
    "table_sql",
]
