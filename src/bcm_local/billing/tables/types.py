"""AWS table-dictionary type names and their DuckDB / Arrow equivalents."""

from __future__ import annotations

from typing import Any

STRING = "string"
DOUBLE = "double"
INT = "int"
BOOLEAN = "boolean"
TIMESTAMP = "timestamp"
TIMESTAMP_MS = "timestamp_milliseconds"
MAP_STRING = "map<string,string>"
MAP_DOUBLE = "map<string,double>"

_DUCK = {
    STRING: "VARCHAR",
    DOUBLE: "DOUBLE",
    INT: "INTEGER",
    BOOLEAN: "BOOLEAN",
    TIMESTAMP: "TIMESTAMP",
    TIMESTAMP_MS: "TIMESTAMP_MS",
    MAP_STRING: "MAP(VARCHAR, VARCHAR)",
    MAP_DOUBLE: "MAP(VARCHAR, DOUBLE)",
}


def duck_type(aws_type: str) -> str:
    """The DuckDB type a column of this AWS type is written with."""
    return _DUCK[aws_type]


def is_map(aws_type: str) -> bool:
    return aws_type.startswith("map<")


def map_value_type(aws_type: str) -> str:
    """`map<string,double>` -> `double`."""
    return aws_type[len("map<string,") : -1]


def arrow_type(aws_type: str) -> Any:
    """The pyarrow type a reader sees for a column of this AWS type (Parquet output)."""
    import pyarrow as pa

    simple = {
        STRING: pa.string(),
        DOUBLE: pa.float64(),
        INT: pa.int32(),
        BOOLEAN: pa.bool_(),
        TIMESTAMP: pa.timestamp("us"),
        TIMESTAMP_MS: pa.timestamp("ms"),
    }
    if aws_type in simple:
        return simple[aws_type]
    return pa.map_(pa.string(), arrow_type(map_value_type(aws_type)))
