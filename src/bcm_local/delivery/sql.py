"""The export SQL: AWS's Data Exports subset, parsed with sqlglot and run in DuckDB.

    SELECT col, map_col.key [AS alias], ... | * FROM <TABLE> [WHERE ...] [LIMIT n]

Keywords are case-insensitive, table and column names case-sensitive. WHERE accepts
comparisons, AND/OR/NOT, IN, LIKE, BETWEEN, IS [NOT] NULL, literals and casts of literals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from bcm_local.billing import tables
from bcm_local.billing.tables.types import duck_type, is_map, map_value_type

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset

INVALID = "Invalid QueryStatement"
MAX_LENGTH = 36_000


class QueryError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Item:
    """One output column: a table column, or one key of a map column."""

    output: str
    column: str
    key: str | None = None


@dataclass
class Query:
    table: str
    items: list[Item] | None  # None: SELECT *
    where: Any  # sqlglot expression or None
    limit: int | None


def parse(statement: str, strict: bool = False) -> Query:
    """Parse and check the shape of the statement (not yet its columns)."""
    import sqlglot
    from sqlglot import exp

    if len(statement) > MAX_LENGTH or not statement.strip():
        raise QueryError(INVALID)
    try:
        parsed = [s for s in sqlglot.parse(statement, read="trino") if s is not None]
    except Exception:
        raise QueryError(INVALID) from None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Select):
        raise QueryError(INVALID)
    select = parsed[0]
    allowed = {"expressions", "from", "from_", "where", "limit"}
    if any(v for k, v in select.args.items() if k not in allowed):
        raise QueryError(INVALID)
    source = select.args.get("from_") or select.args.get("from")
    if source is None or source.args.get("expressions") or select.args.get("joins"):
        raise QueryError(INVALID)
    table = source.this
    if not isinstance(table, exp.Table) or table.args.get("db") or table.args.get("alias"):
        raise QueryError(INVALID)
    items = _items(select.expressions, table.name, strict)
    where = select.args.get("where")
    if where is not None:
        _check_condition(where.this)
    return Query(table.name, items, where.this if where is not None else None, _limit(select))


def _limit(select: Any) -> int | None:
    from sqlglot import exp

    limit = select.args.get("limit")
    if limit is None:
        return None
    value = limit.expression
    if not isinstance(value, exp.Literal) or value.is_string or not value.this.isdigit():
        raise QueryError(INVALID)
    return int(value.this)


def _items(expressions: list[Any], table: str, strict: bool) -> list[Item] | None:
    from sqlglot import exp

    if len(expressions) == 1 and isinstance(expressions[0], exp.Star):
        if strict:
            raise QueryError(INVALID)
        return None
    items: list[Item] = []
    for node in expressions:
        alias = None
        if isinstance(node, exp.Alias):
            alias, node = node.alias, node.this
        if not isinstance(node, exp.Column) or node.args.get("db"):
            raise QueryError(INVALID)
        column, key = _reference(node, table)
        items.append(Item(alias or key or column, column, key))
    names = [i.output for i in items]
    if len(set(names)) != len(names):
        raise QueryError(INVALID)
    return items


def _reference(node: Any, table: str) -> tuple[str, str | None]:
    """(column, map key) of `col`, `TABLE.col` or `map_col.key`."""
    qualifier = node.table
    if not qualifier or qualifier == table:
        return node.name, None
    return qualifier, node.name


_CONDITIONS = [
    "And",
    "Or",
    "Not",
    "Paren",
    "EQ",
    "NEQ",
    "GT",
    "GTE",
    "LT",
    "LTE",
    "In",
    "Like",
    "ILike",
    "Between",
    "Is",
    "Null",
    "Boolean",
    "Literal",
    "Column",
    "Identifier",
    "Cast",
    "DataType",
    "DataTypeParam",
    "Neg",
    "Tuple",
]


def _check_condition(node: Any) -> None:
    from sqlglot import exp

    kinds = tuple(getattr(exp, name) for name in _CONDITIONS)
    for sub in node.walk():
        if not isinstance(sub, kinds):
            raise QueryError(INVALID)
        if isinstance(sub, exp.Cast) and not isinstance(sub.this, exp.Literal):
            raise QueryError(INVALID)
        if isinstance(sub, exp.Column) and sub.args.get("db"):
            raise QueryError(INVALID)


def check_columns(query: Query, props: dict[str, str] | None) -> list[tables.Column]:
    """The table's columns under `props`; raises QueryError when the query names others."""
    available = {c.name: c for c in tables.columns(query.table, props)}
    needed = [(i.column, i.key) for i in query.items or []]
    if query.where is not None:
        from sqlglot import exp

        needed += [_reference(c, query.table) for c in query.where.find_all(exp.Column)]
    for column, key in needed:
        found = available.get(column)
        if found is None or (key is not None and not is_map(found.type)):
            raise QueryError(
                f"The columns in the query provided are not a subset of the table {query.table}"
            )
    return list(available.values())


@dataclass(frozen=True)
class Output:
    name: str
    type: str  # AWS type


def checked_query(
    statement: str, configurations: dict[str, dict[str, str]] | None, strict: bool
) -> tuple[Query, list[tables.Column]]:
    """The parsed statement and the table columns it reads; raises QueryError or
    TableError."""
    query = parse(statement, strict)
    configs = configurations or {}
    for name, props in configs.items():
        tables.resolve_properties(name, props)
    if query.table not in tables.TABLES:
        raise QueryError(f"The table {query.table} in the query provided does not exist.")
    return query, check_columns(query, configs.get(query.table))


def outputs(query: Query, columns: list[tables.Column]) -> list[Output]:
    types = {c.name: c.type for c in columns}
    if query.items is None:
        return [Output(c.name, c.type) for c in columns]
    return [
        Output(i.output, map_value_type(types[i.column]) if i.key else types[i.column])
        for i in query.items
    ]


# table column -> the model's map column whose ENUM key type it uses
MAP_SOURCES = {
    (tables.CUR2, "product"): "product_map",
    (tables.CUR2, "resource_tags"): "cur_tags",
    (tables.CUR2, "tags"): "cur_all_tags_iam",  # its key type is also cur_all_tags's
    (tables.CUR2, "cost_category"): "cost_category",
    (tables.FOCUS_1_2, "Tags"): "focus_tags",
    (tables.FOCUS_1_2, "SkuPriceDetails"): "product_map",
    (tables.FOCUS_1_0, "Tags"): "focus_tags",
    (tables.FOCUS_1_0, "x_CostCategories"): "cost_category",
}


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _access(data: Dataset, table: str, column: str, key: str, aws_type: str) -> str:
    source = MAP_SOURCES.get((table, column))
    if source is not None:
        typed = data.map_key(source, key)
        if typed is None:
            return f"NULL::{duck_type(map_value_type(aws_type))}"
        return f'map_extract_value("{column}", {typed})'
    return f'map_extract_value("{column}", {_quote(key)})'


@dataclass(frozen=True)
class RunPlan:
    """The export as the run writer (delivery/runs/writer.py) produces it: columns that only
    depend on the line evaluated once per line, the others per row in parallel parts."""

    lines_sql: str  # one row per line: its line columns (strings as VARCHAR), __line, __n
    part_sql: str  # the other columns and __line, for the rows of one part
    line_columns: frozenset[str]  # output names computed per line
    granularity: str  # of the dataset (the views these read depend on it)


class ExportSQL(str):
    """The export's SELECT; `runs` is set when the run writer can produce it."""

    runs: RunPlan | None = None


_RUN_TYPES = frozenset({"string", "double", "int", "timestamp", "timestamp_milliseconds"})
_RUN_CASTS = {
    "string": "VARCHAR",
    "map<string,string>": "MAP(VARCHAR, VARCHAR)",
    "map<string,double>": "MAP(VARCHAR, DOUBLE)",
}


def duckdb_sql(query: Query, columns: list[tables.Column], source_sql: str, data: Dataset) -> str:
    """The SELECT that produces the export's rows from the table's SQL."""
    from sqlglot import exp

    types = {c.name: c.type for c in columns}
    if query.items is None:
        selected = [_Selected(c.name, f'"{c.name}"', c.name, c.type) for c in columns]
    else:
        selected = []
        for item in query.items:
            if item.key:
                expr = _access(data, query.table, item.column, item.key, types[item.column])
                kind = map_value_type(types[item.column])
            else:
                expr, kind = f'"{item.column}"', types[item.column]
            selected.append(_Selected(item.output, expr, item.column, kind))
    select = ", ".join(s.clause for s in selected)
    sql = f"SELECT {select} FROM ({source_sql}) AS t"
    if query.where is not None:

        def rewrite(node: Any) -> Any:
            if isinstance(node, exp.Column):
                column, key = _reference(node, query.table)
                if key is None:
                    return exp.column(column, quoted=True)
                return exp.maybe_parse(
                    _access(data, query.table, column, key, types[column]), dialect="duckdb"
                )
            return node

        condition = query.where.copy().transform(rewrite)
        sql += f" WHERE {condition.sql(dialect='duckdb')}"
    if query.limit is not None:
        sql += f" LIMIT {query.limit}"
    out = ExportSQL(sql)
    if query.where is None and query.limit is None:
        out.runs = _run_plan(selected, source_sql, data.granularity)
    return out


class _Selected(NamedTuple):
    name: str  # in the output
    expr: str  # over the table's SELECT
    column: str  # the table column it reads
    kind: str  # its AWS type (a map value's, for `map.key`)

    @property
    def clause(self) -> str:
        return f'{self.expr} AS "{self.name}"'


def _run_plan(selected: list[_Selected], source_sql: str, granularity: str) -> RunPlan | None:
    from bcm_local.billing.tables.sql import LINES, PART, TableSQL

    if not isinstance(source_sql, TableSQL):
        return None
    if any(s.name in ("__line", "__n") for s in selected):
        return None
    kinds = _RUN_TYPES | _RUN_CASTS.keys()
    by_line = [s for s in selected if s.column in source_sql.per_line and s.kind in kinds]
    if not by_line:
        return None
    names = frozenset(s.name for s in by_line)
    lines = [
        f'CAST({s.expr} AS {_RUN_CASTS[s.kind]}) AS "{s.name}"'
        if s.kind in _RUN_CASTS
        else s.clause
        for s in by_line
    ]
    by_row = [s for s in selected if s.name not in names]
    line_source = source_sql.render(LINES, frozenset(s.column for s in by_line))
    row_source = source_sql.render(PART, frozenset(s.column for s in by_row))
    return RunPlan(
        f"SELECT {', '.join([*lines, '__line', '__n'])} FROM ({line_source}) AS t",
        f"SELECT {', '.join([*(s.clause for s in by_row), '__line'])} FROM ({row_source}) AS t",
        names,
        granularity,
    )
