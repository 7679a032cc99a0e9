"""Streams a query's rows into Parquet (snappy) or gzip CSV files with DuckDB's COPY.

The Parquet schema is the query's declared types (the table definitions), so all-null
columns keep their types and maps are Parquet maps. CSV renders maps as JSON objects and
timestamps as `YYYY-MM-DDTHH:MM:SS.mmmZ`, as AWS's CSV exports do.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bcm_local.billing.types import TIMESTAMP, TIMESTAMP_MS, is_map
from bcm_local.delivery.sql import Output

PARQUET = "PARQUET"
CSV = "TEXT_OR_CSV"


def extension(fmt: str) -> str:
    return "csv.gz" if fmt == CSV else "parquet"


def _csv_select(sql: str, outputs: list[Output]) -> str:
    cols = []
    for out in outputs:
        name = f'"{out.name}"'
        if is_map(out.type):
            cols.append(f"to_json({name}) AS {name}")
        elif out.type in (TIMESTAMP, TIMESTAMP_MS):
            cols.append(f"strftime({name}, '%Y-%m-%dT%H:%M:%S.%gZ') AS {name}")
        else:
            cols.append(name)
    return f"SELECT {', '.join(cols)} FROM ({sql})"


def _options(fmt: str, chunk_bytes: int | None = None) -> str:
    if fmt == CSV:
        return "FORMAT csv, HEADER true, COMPRESSION gzip"
    # files are cut between row groups: small chunks need small row groups
    rows = 122880 if chunk_bytes is None else min(122880, max(2048, chunk_bytes // 64))
    return f"FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE {rows}"


def write(
    con: Any,
    sql: str,
    outputs: list[Output],
    fmt: str,
    target: Path,
    chunk_bytes: int | None = None,
) -> list[Path]:
    """Write the rows of `sql`; one file `target`, or numbered chunks in the directory
    `target` when `chunk_bytes` is given. Returns the files in order."""
    query = _csv_select(sql, outputs) if fmt == CSV else sql
    if chunk_bytes is None:
        con.execute(f"COPY ({query}) TO '{_path(target)}' ({_options(fmt)})")
        return [target]
    shutil.rmtree(target, ignore_errors=True)
    con.execute(
        f"COPY ({query}) TO '{_path(target)}' ({_options(fmt, chunk_bytes)}, "
        f"FILE_SIZE_BYTES {int(chunk_bytes)}, FILENAME_PATTERN 'chunk_{{i}}')"
    )
    files = list(target.iterdir()) if target.exists() else []
    files.sort(key=lambda p: int(p.name.split(".")[0].removeprefix("chunk_")))
    if not files:  # no rows: DuckDB writes nothing in directory mode; AWS writes one file
        target.mkdir(parents=True, exist_ok=True)
        return write(con, sql, outputs, fmt, target / f"chunk_0.{extension(fmt)}")
    return files


def write_empty(con: Any, sql: str, outputs: list[Output], fmt: str, target: Path) -> Path:
    """A file with the columns and no rows (what AWS leaves in surplus old chunks)."""
    write(con, f"SELECT * FROM ({sql}) LIMIT 0", outputs, fmt, target)
    return target


def _path(path: Path) -> str:
    return str(path).replace("'", "''")
