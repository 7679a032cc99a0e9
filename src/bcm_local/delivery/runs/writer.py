"""Writes a table's Parquet files with most columns as runs and the rest in parallel.

A row is a usage line at a time slot, and most columns (names, ids, prices, tags...) only
depend on the line: their value repeats on each of the line's rows. The run writer
(used by delivery/writer.py when the export SQL carries a `RunPlan`):

1. evaluates the line columns once per line (`li_lines`), with each line's row count;
2. has DuckDB write the other columns, plus `__line`, into part files: parts are ranges
   of output rows (multiples of the row group size), written by single-threaded cursors
   in parallel (`li_part`, positions from `bcm_runs`);
3. assembles the file: per row group of the parts, DuckDB's column chunks are copied and
   the line columns are encoded from the runs of `__line` (delivery/runs/columns.py,
   delivery/runs/maps.py); the schema is the one DuckDB writes for the whole SELECT,
   so readers see the rows and types a plain COPY writes (lines may come in another
   order; each line's rows stay together, in time order).

Any doubt (a column DuckDB types differently, row counts that disagree) raises
`RunError`: the caller then writes with a plain COPY. Only imported when writing.
"""

from __future__ import annotations

import math
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from bcm_local.billing.model import slots
from bcm_local.delivery.runs import thrift as t
from bcm_local.delivery.runs.columns import LineColumn, LineColumns, line_column, place
from bcm_local.delivery.runs.maps import MapColumn, map_chunks, map_column

PARTS_PER_THREAD = 4
GROUPS_PER_PART = 2  # a part's memory grows with its rows (DuckDB slices slot lists)
MIN_ROWS = 100_000  # below this, the fixed costs (schema, parts) outweigh the gain


class RunError(Exception):
    pass


def write(
    con: Any,
    full_sql: str,
    plan: Any,
    target: Path,
    row_group: int,
    chunk_bytes: int | None,
    rows: list[int] | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[Path] | None:
    """Write the rows of `full_sql` (whose RunPlan is `plan`): one file `target`, or
    numbered chunks `chunk_<i>.parquet` in the directory `target` when `chunk_bytes`.
    None when the output is too small to be worth it (the caller then COPYs).
    `progress` receives the share of the rows written after each part."""
    if con.execute("SELECT coalesce(sum(s1 - s0), 0) FROM lines").fetchone()[0] < MIN_ROWS:
        return None
    slots.run_views(con, plan.granularity)
    work = Path(tempfile.mkdtemp(prefix=".runs-", dir=target.parent))
    try:
        meta = _schema(con, full_sql, work / "schema.parquet")
        lines = _fetch(con, plan.lines_sql)  # one row per line
        counts = np.asarray(lines.column("__n"), dtype=np.int64)
        total = int(counts.sum())
        line_ids = np.asarray(lines.column("__line"), dtype=np.int64)
        _fill_runs(con, line_ids, counts)
        files = _Assembly(meta, *_line_columns(meta, lines, plan.line_columns), line_ids)
        with _parts(con, plan.part_sql, total, row_group, work) as parts:
            out = _Output(meta, target, chunk_bytes)
            try:
                written = files.run(parts, out, progress, total)
            finally:
                out.file.close()
        if files.rows != total:
            raise RunError(f"{files.rows} rows written, the lines have {total}")
        if rows is not None:
            rows.append(total)
        return written
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fetch(con: Any, sql: str) -> Any:
    """The (small) result as a pyarrow Table. Through a view: `con.sql(sql)` would
    tokenize the long SQL in Python, and Arrow output of `con.execute` warns."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW bcm_lines AS {sql}")
    try:
        return con.table("bcm_lines").to_arrow_table()
    finally:
        con.execute("DROP VIEW bcm_lines")


def _schema(con: Any, sql: str, path: Path) -> t.Struct:
    """The FileMetaData DuckDB writes for the SELECT (schema, column orders, creator)."""
    con.execute(f"COPY (SELECT * FROM ({sql}) LIMIT 0) TO '{_quote(path)}' (FORMAT parquet)")
    return t.read_footer(path)[0]


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _fill_runs(con: Any, line_ids: Any, counts: Any) -> None:
    """`bcm_runs`: each line and the output position of its first row."""
    import pyarrow as pa

    offsets = np.cumsum(counts) - counts
    con.register("bcm_runs_arrow", pa.table({"line": line_ids, "off": offsets}))
    try:
        con.execute("DELETE FROM bcm_runs; INSERT INTO bcm_runs SELECT * FROM bcm_runs_arrow")
    finally:
        con.unregister("bcm_runs_arrow")


@contextmanager
def _parts(con: Any, sql: str, total: int, row_group: int, work: Path) -> Iterator[Iterator[Path]]:
    """Part files written side by side (one DuckDB thread each), yielded in order as
    they are done, so the first parts are assembled while the last are written."""
    threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    groups = math.ceil(total / row_group)
    per_part = min(GROUPS_PER_PART, max(1, math.ceil(groups / (PARTS_PER_THREAD * threads))))
    step = row_group * per_part
    bounds = [(a, min(a + step, total)) for a in range(0, total, step)]

    def part(n: int) -> Path:
        path = work / f"part-{n}.parquet"
        cursor = con.cursor()
        try:
            cursor.execute(f"SET VARIABLE bcm_a = {bounds[n][0]}")
            cursor.execute(f"SET VARIABLE bcm_b = {bounds[n][1]}")
            cursor.execute(
                f"COPY ({sql}) TO '{_quote(path)}' "
                f"(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE {row_group})"
            )
        finally:
            cursor.close()
        return path

    con.execute("SET threads = 1")  # one core per part; the parts run side by side
    pool = ThreadPoolExecutor(max(1, threads))
    futures = [pool.submit(part, n) for n in range(len(bounds))]
    try:
        yield (future.result() for future in futures)
    finally:
        for future in futures:
            future.cancel()
        pool.shutdown(wait=True)
        con.execute(f"SET threads = {threads}")


def _fields(schema: list[t.Struct]) -> dict[str, tuple[int, list[t.Struct]]]:
    """Top-level field name -> (index of its first leaf column, its schema elements)."""
    out: dict[str, tuple[int, list[t.Struct]]] = {}
    pos, leaf = 1, 0
    while pos < len(schema):
        end, leaves = _subtree(schema, pos)
        out[schema[pos][4][1].decode()] = (leaf, schema[pos:end])
        pos, leaf = end, leaf + leaves
    return out


def _subtree(schema: list[t.Struct], pos: int) -> tuple[int, int]:
    """(position after the subtree at `pos`, its number of leaf columns)."""
    children = int(schema[pos].get(5, (t.I32, 0))[1])
    if not children:
        return pos + 1, 1
    end, leaves = pos + 1, 0
    for _ in range(children):
        end, count = _subtree(schema, end)
        leaves += count
    return end, leaves


_UNITS = {1: "ms", 2: "us", 3: "ns"}


def _line_columns(
    meta: t.Struct, lines: Any, names: frozenset[str]
) -> tuple[dict[str, LineColumn], dict[str, MapColumn]]:
    """The line columns, flat and MAP, from the per-line values (a pyarrow Table)."""
    import pyarrow as pa

    fields = _fields(t.items(meta, 2))
    flat, maps = {}, {}
    for name in sorted(names):
        elements = fields[name][1]
        try:
            if len(elements) == 4 and int(elements[0].get(6, (t.I32, -1))[1]) == t.MAP_TYPE:
                maps[name] = map_column(elements, lines.column(name))
                continue
            if len(elements) != 1:
                raise RunError(f"{name} is neither flat nor a map")
            values = lines.column(name).combine_chunks()
            if pa.types.is_timestamp(values.type):
                values = _epoch(name, values, elements[0])
            flat[name] = line_column(elements[0], values)
        except ValueError as err:
            raise RunError(f"{name}: {err}") from err
    return flat, maps


def _epoch(name: str, values: Any, element: t.Struct) -> Any:
    """Timestamps as integers in the column's unit."""
    import pyarrow as pa

    logical = element.get(10, (t.STRUCT, {}))[1]
    unit = logical.get(8, (t.STRUCT, {}))[1].get(2, (t.STRUCT, {}))[1]
    if len(unit) != 1:
        raise RunError(f"{name}: no timestamp unit")
    return values.cast(pa.timestamp(_UNITS[next(iter(unit))])).cast(pa.int64())


class _Assembly:
    """Output files from the part files and the line columns."""

    def __init__(
        self, meta: t.Struct, flat: dict[str, LineColumn], maps: dict[str, MapColumn], ids: Any
    ) -> None:
        self.meta, self.maps = meta, maps
        self.names = list(flat)
        self.columns = {*flat, *maps}
        self.encoder = LineColumns([flat[n] for n in self.names])
        self.position = np.full(int(ids.max()) + 1 if len(ids) else 0, -1, np.int64)
        self.position[ids] = np.arange(len(ids))  # line number -> its row in `lines`
        self.fields = _fields(t.items(meta, 2))
        self.rows = 0

    def run(
        self,
        parts: Iterator[Path],
        out: _Output,
        progress: Callable[[float], None] | None,
        total: int,
    ) -> list[Path]:
        import pyarrow.parquet as pq

        for path in parts:
            footer, _ = t.read_footer(path)
            fields = _fields(t.items(footer, 2))
            self._check(fields)
            lines = np.asarray(pq.read_table(path, columns=["__line"]).column(0), np.int64)
            runs = _runs(lines)
            with open(path, "rb") as src:
                start = 0
                for group in t.items(footer, 4):
                    count = int(group[3][1])
                    self._group(out, src, fields, group, runs, start, start + count)
                    start += count
            self.rows += len(lines)
            if progress is not None:
                progress(self.rows / max(total, 1))
        return out.close()

    def _check(self, fields: dict[str, tuple[int, list[t.Struct]]]) -> None:
        for name, (_, elements) in self.fields.items():
            if name not in self.columns and fields.get(name, (0, None))[1] != elements:
                raise RunError(f"the part files type {name} differently")

    def _group(
        self,
        out: _Output,
        src: BinaryIO,
        fields: dict[str, tuple[int, list[t.Struct]]],
        group: t.Struct,
        runs: tuple[Any, Any, Any],
        first: int,
        end: int,
    ) -> None:
        line_ids, lengths = _slice(runs, first, end)
        if len(line_ids) and (line_ids.min() < 0 or line_ids.max() >= len(self.position)):
            raise RunError("a part has rows of an unknown line")
        positions = self.position[line_ids]
        if (positions < 0).any():
            raise RunError("a part has rows of an unknown line")
        encoded = {
            name: [chunk]
            for name, chunk in zip(self.names, self.encoder.chunks(positions, lengths), strict=True)
        }
        for name, mapped in self.maps.items():
            encoded[name] = map_chunks(mapped, positions, lengths)
        parts = t.items(group, 1)
        columns = []
        start = out.position
        for name, (_, elements) in self.fields.items():
            if name in encoded:
                for data, column in encoded[name]:
                    columns.append(place(column, out.position))
                    out.write(data)
                continue
            leaf = fields[name][0]
            for n in range(_subtree(elements, 0)[1]):
                columns.append(out.copy(src, parts[leaf + n]))
        out.row_group(columns, end - first, start)


def _runs(lines: Any) -> tuple[Any, Any, Any]:
    """(run starts, run lines, run lengths) of a part's `__line` values."""
    if not len(lines):
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    starts = np.flatnonzero(np.r_[True, lines[1:] != lines[:-1]])
    lengths = np.diff(np.r_[starts, len(lines)])
    return starts, lines[starts], lengths


def _slice(runs: tuple[Any, Any, Any], first: int, end: int) -> tuple[Any, Any]:
    """The runs' lines and lengths within rows [first, end)."""
    starts, lines, lengths = runs
    lo = max(int(np.searchsorted(starts, first, side="right")) - 1, 0)
    hi = int(np.searchsorted(starts, end, side="left"))
    begin = np.maximum(starts[lo:hi], first)
    finish = np.minimum(starts[lo:hi] + lengths[lo:hi], end)
    return lines[lo:hi], finish - begin


class _Output:
    """The Parquet file(s) being written: row groups appended, footers at the end."""

    def __init__(self, meta: t.Struct, target: Path, chunk_bytes: int | None) -> None:
        self.meta, self.target, self.chunk_bytes = meta, target, chunk_bytes
        self.files: list[Path] = []
        if chunk_bytes is not None:
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
        self._open()

    def _open(self) -> None:
        if self.chunk_bytes is None:
            path = self.target
        else:
            path = self.target / f"chunk_{len(self.files)}.parquet"
        self.files.append(path)
        self.file = open(path, "wb")  # noqa: SIM115 (closed in _finish)
        self.file.write(b"PAR1")
        self.position = 4
        self.groups: list[bytes] = []  # encoded as they come: the footer is long
        self.rows = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.position += len(data)

    def copy(self, src: BinaryIO, column: t.Struct) -> t.Struct:
        """Copy one of DuckDB's column chunks (and its bloom filter) here."""
        meta = dict(column[3][1])
        begin = int(meta.get(11, meta[9])[1])
        shift = self.position - begin
        src.seek(begin)
        self.write(src.read(int(meta[7][1])))
        for fid in (9, 10, 11):
            if fid in meta:
                meta[fid] = t.i64(int(meta[fid][1]) + shift)
        if 14 in meta and 15 in meta:
            src.seek(int(meta[14][1]))
            meta[14] = t.i64(self.position)
            self.write(src.read(int(meta[15][1])))
        else:
            meta.pop(14, None)
        out = {k: v for k, v in column.items() if k not in (4, 5, 6, 7)}  # no page index
        if int(out.get(2, (t.I64, 0))[1]):
            out[2] = t.i64(int(out[2][1]) + shift)
        out[3] = t.sub(meta)
        return out

    def row_group(self, columns: list[t.Struct], rows: int, start: int) -> None:
        metas = [c[3][1] for c in columns]
        group = {
            1: (t.LIST, (t.STRUCT, columns)),
            2: t.i64(sum(int(m[6][1]) for m in metas)),
            3: t.i64(rows),
            5: t.i64(start),
            6: t.i64(sum(int(m[7][1]) for m in metas)),
            7: (t.I16, len(self.groups)),
        }
        self.groups.append(t.encode(group))
        self.rows += rows
        if self.chunk_bytes is not None and self.position >= self.chunk_bytes:
            self._finish()
            self._open()

    def _finish(self) -> None:
        footer = {k: v for k, v in self.meta.items() if k in (1, 2, 5, 6, 7)}
        footer[3] = t.i64(self.rows)
        footer[4] = (t.LIST, (t.STRUCT, self.groups))
        data = t.encode(footer)
        self.file.write(data + struct.pack("<I", len(data)) + b"PAR1")
        self.file.close()

    def close(self) -> list[Path]:
        if self.groups or len(self.files) == 1:
            self._finish()
        else:  # the last chunk was closed full and nothing followed it
            self.file.close()
            self.files.pop().unlink()
        return self.files
