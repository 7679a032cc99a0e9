"""Streams a query's rows into Parquet (snappy) or gzip CSV files with DuckDB's COPY,
split into numbered chunks above BCM_LOCAL_EXPORT_CHUNK_MB (`chunk_bytes`): the one
writer of Data Exports, legacy CUR and `bcm-local emit`.

The Parquet schema is the query's declared types (the table definitions), so all-null
columns keep their types and maps are Parquet maps. CSV renders maps as JSON objects and
timestamps as `YYYY-MM-DDTHH:MM:SS.mmmZ`, as AWS's CSV exports do.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bcm_local.billing.tables.types import TIMESTAMP, TIMESTAMP_MS, is_map
from bcm_local.delivery.sql import Output

PARQUET = "PARQUET"
CSV = "TEXT_OR_CSV"

log = logging.getLogger(__name__)


def extension(fmt: str) -> str:
    return "csv.gz" if fmt == CSV else "parquet"


def chunk_bytes(config: Any) -> int:
    """The chunk size setting (BCM_LOCAL_EXPORT_CHUNK_MB) in bytes."""
    return max(int(float(config.export_chunk_mb) * 2**20), 1)


def _csv_select(sql: str, outputs: list[Output]) -> str:
    cols = []
    for out in outputs:
        name = '"' + out.name.replace('"', '""') + '"'
        if is_map(out.type):
            cols.append(f"to_json({name}) AS {name}")
        elif out.type in (TIMESTAMP, TIMESTAMP_MS):
            cols.append(f"strftime({name}, '%Y-%m-%dT%H:%M:%S.%gZ') AS {name}")
        else:
            cols.append(name)
    return f"SELECT {', '.join(cols)} FROM ({sql})"


def _options(fmt: str, chunk: int | None = None, gzip: bool = True) -> str:
    if fmt == CSV:
        return "FORMAT csv, HEADER true" + (", COMPRESSION gzip" if gzip else "")
    return f"FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE {_row_group(chunk)}"


def _row_group(chunk: int | None) -> int:
    """Rows per row group: files are cut between row groups, so small chunks need small
    row groups."""
    return 122880 if chunk is None else min(122880, max(2048, chunk // 64))


def write(
    con: Any,
    sql: str,
    outputs: list[Output],
    fmt: str,
    target: Path,
    chunk: int | None = None,
    *,
    gzip: bool = True,
    rows: list[int] | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[Path]:
    """Write the rows of `sql`; one file `target`, or numbered chunks in the directory
    `target` when `chunk` (bytes) is given. Returns the files in order. `gzip=False`
    writes plain CSV (legacy CUR zips it afterwards); `rows` receives the row count;
    `progress` the share written so far, when the run writer writes (DuckDB's own
    query progress tells it otherwise).

    Parquet exports that carry a run plan (delivery/sql.py) go through the run writer
    (delivery/runs/writer.py); a plain COPY writes everything else."""
    plan = getattr(sql, "runs", None)
    if fmt == PARQUET and plan is not None:
        from bcm_local.delivery.runs import writer as run_writer

        try:
            group = _row_group(chunk)
            files = run_writer.write(con, sql, plan, target, group, chunk, rows, progress)
            if files is not None:
                return files
        except run_writer.RunError as err:
            log.warning("run writer declined (%s); writing with COPY", err)
    query = _csv_select(sql, outputs) if fmt == CSV else sql
    if chunk is None:
        done = con.execute(f"COPY ({query}) TO '{_path(target)}' ({_options(fmt, None, gzip)})")
        _count(done, rows)
        return [target]
    files = _chunked(con, query, fmt, target, chunk, gzip, rows)
    if len(files) == 1 and files[0].stat().st_size > 2 * chunk:
        # DuckDB 2 writes the output of an ORDER BY (legacy CUR, CUR 2.0 summed over
        # resources) as one file whatever FILE_SIZE_BYTES says; the same rows read back
        # from a table, in the same order, are cut where they should be
        con.execute(f"CREATE OR REPLACE TEMP TABLE bcm_chunked AS {query}")
        try:
            if rows:
                rows.pop()
            files = _chunked(con, "FROM bcm_chunked", fmt, target, chunk, gzip, rows)
        finally:
            con.execute("DROP TABLE IF EXISTS bcm_chunked")
    if not files:  # no rows: DuckDB writes nothing in directory mode; AWS writes one file
        target.mkdir(parents=True, exist_ok=True)
        name = f"chunk_0.{extension(fmt) if gzip else 'csv'}"
        return write(con, sql, outputs, fmt, target / name, gzip=gzip)
    return files


def _chunked(
    con: Any, query: str, fmt: str, target: Path, chunk: int, gzip: bool, rows: list[int] | None
) -> list[Path]:
    shutil.rmtree(target, ignore_errors=True)
    done = con.execute(
        f"COPY ({query}) TO '{_path(target)}' ({_options(fmt, chunk, gzip)}, "
        f"FILE_SIZE_BYTES {int(chunk)}, FILENAME_PATTERN 'chunk_{{i}}')"
    )
    _count(done, rows)
    files = list(target.iterdir()) if target.exists() else []
    files.sort(key=lambda p: int(p.name.split(".")[0].removeprefix("chunk_")))
    return files


def _count(done: Any, rows: list[int] | None) -> None:
    if rows is not None:
        found = done.fetchone()
        rows.append(int(found[0]) if found else 0)


def write_empty(con: Any, sql: str, outputs: list[Output], fmt: str, target: Path) -> Path:
    """A file with the columns and no rows (what AWS leaves in surplus old chunks)."""
    write(con, f"SELECT * FROM ({sql}) LIMIT 0", outputs, fmt, target)
    return target


def _path(path: Path) -> str:
    return str(path).replace("'", "''")
