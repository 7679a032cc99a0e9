"""The run writer (delivery/runs/writer.py): files equal to a plain COPY's for every reader,
deterministic, chunked between row groups; and its Parquet encoders on edge cases."""

from __future__ import annotations

import io
import math
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from billing_support import ACCOUNT, NOW, expected_schema
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from bcm_local import settings
from bcm_local.billing import bill, tables
from bcm_local.billing.model.build import Dataset
from bcm_local.delivery.runs import thrift as t
from bcm_local.delivery.runs.columns import LineColumns, line_column, place
from bcm_local.delivery.runs.maps import map_chunks, map_column
from bcm_local.delivery.runs.writer import MIN_ROWS
from bcm_local.delivery.sql import MAP_SOURCES, check_columns, duckdb_sql, outputs, parse
from bcm_local.delivery.writer import PARQUET, write

CUR = "COST_AND_USAGE_REPORT"
FOCUS = "FOCUS_1_2_AWS"
HOURLY = {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE"}
FULL = {
    **HOURLY,
    "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "TRUE",
    "INCLUDE_IAM_PRINCIPAL_DATA": "TRUE",
}


@pytest.fixture(scope="module")
def data() -> Iterator[Dataset]:
    """Two billing periods of hourly rows, enough of them for the run writer."""
    env = {"BCM_LOCAL_BILLING_SCALE": "3", "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1"}
    connection = bill.connect()
    yield bill.open_dataset(connection, settings.load(env=env), ACCOUNT, NOW, "HOURLY")
    connection.close()


def _export(data: Dataset, statement: str, props: dict[str, str]) -> tuple[Any, list[Any]]:
    query = parse(statement)
    columns = check_columns(query, props)
    sql = duckdb_sql(query, columns, tables.table_sql(data, query.table, props), data)
    return sql, outputs(query, columns)


def _by_runs(path: Path, column: str) -> bool:
    """Whether the file's `column` was written by the run writer (its own encodings)."""
    meta = pq.ParquetFile(path).metadata
    names = [meta.row_group(0).column(i).path_in_schema for i in range(meta.num_columns)]
    return meta.row_group(0).column(names.index(column)).encodings[:2] == ("PLAIN", "RLE")


def _same_rows(a: Path | list[Path], b: Path | list[Path]) -> None:
    """The same rows, in any order (row hashes summed per column)."""

    def fingerprint(x: Path | list[Path]) -> Any:
        files = ", ".join(f"'{p}'" for p in (x if isinstance(x, list) else [x]))
        return duckdb.sql(
            f"SELECT count(*), sum(hash(COLUMNS(*))::HUGEINT) FROM read_parquet([{files}])"
        ).fetchall()[0]

    assert fingerprint(a) == fingerprint(b)


@pytest.mark.parametrize(
    ("statement", "props", "line_column_name"),
    [
        (f"SELECT * FROM {CUR}", FULL, "line_item_product_code"),
        ("SELECT * FROM FOCUS_1_2_AWS", {"TIME_GRANULARITY": "HOURLY"}, "ServiceName"),
        ("SELECT * FROM FOCUS_1_0_AWS", {}, "ServiceName"),
        (f"SELECT product, tags, line_item_unblended_cost FROM {CUR}", FULL, "tags.key_value.key"),
        (
            "SELECT line_item_usage_start_date AS start, product.memory AS memory, "
            "resource_tags.user_team AS team, line_item_unblended_cost, product_sku AS sku, "
            f"product FROM {CUR}",
            HOURLY,
            "sku",
        ),
    ],
)
def test_run_writer_writes_what_copy_writes(
    data: Dataset, tmp_path: Path, statement: str, props: dict[str, str], line_column_name: str
) -> None:
    con = data.con
    sql, outs = _export(data, statement, props)
    assert sql.runs is not None
    rows: list[int] = []
    (runs,) = write(con, sql, outs, PARQUET, tmp_path / "runs.parquet", rows=rows)
    (copy,) = write(con, str(sql), outs, PARQUET, tmp_path / "copy.parquet")
    assert _by_runs(runs, line_column_name) and not _by_runs(copy, line_column_name)
    assert rows[0] >= MIN_ROWS and pq.ParquetFile(runs).metadata.num_row_groups > 1
    assert pq.read_schema(runs) == pq.read_schema(copy)
    if statement.startswith("SELECT *"):
        table = statement.split()[-1]
        assert pq.read_schema(runs).equals(expected_schema(table, props))
    _same_rows(runs, copy)
    assert rows[0] == pq.ParquetFile(copy).metadata.num_rows


def test_progress_reports_the_share_written_after_each_part(data: Dataset, tmp_path: Path) -> None:
    sql, outs = _export(data, "SELECT * FROM FOCUS_1_2_AWS", {"TIME_GRANULARITY": "HOURLY"})
    shares: list[float] = []
    rows: list[int] = []
    write(data.con, sql, outs, PARQUET, tmp_path / "x.parquet", rows=rows, progress=shares.append)
    assert len(shares) > 1 and shares == sorted(shares) and shares[-1] == 1.0
    assert 0 < shares[0] < 1 and rows[0] == pq.ParquetFile(tmp_path / "x.parquet").metadata.num_rows


TABLES = {
    CUR: FULL,
    "FOCUS_1_2_AWS": {"TIME_GRANULARITY": "HOURLY"},
    "FOCUS_1_0_AWS": {},
}


@st.composite
def projections(draw: st.DrawFn, data: Dataset) -> tuple[str, dict[str, str]]:
    """A random export query over a table the run writer serves: columns in any order,
    some renamed, some map keys (known or not) pulled out."""
    table = draw(st.sampled_from(sorted(TABLES)))
    props = TABLES[table]
    columns = tables.columns(table, props)
    chosen = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=12, unique=True))
    items = []
    for n, col in enumerate(chosen):
        source = MAP_SOURCES.get((table, col.name))
        if source and draw(st.booleans()):
            keys = [*data.map_keys.get(source, ("", ["absent"]))[1], "no_such_key"]
            key = draw(st.sampled_from(keys))
            key = key if key.isidentifier() else f'"{key}"'  # e.g. iamPrincipal/team
            items.append(f"{col.name}.{key} AS k{n}")
        elif draw(st.booleans()):
            items.append(f"{col.name} AS c{n}")
        else:
            items.append(col.name)
    return f"SELECT {', '.join(items)} FROM {table}", props


@examples(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.data())
def test_any_projection_writes_what_copy_writes(data: Dataset, query: st.DataObject) -> None:
    statement, props = query.draw(projections(data))
    sql, outs = _export(data, statement, props)
    assume(sql.runs is not None)  # only per-row columns: a plain COPY, nothing to compare
    with tempfile.TemporaryDirectory() as tmp:
        runs, copy = Path(tmp) / "runs.parquet", Path(tmp) / "copy.parquet"
        write(data.con, sql, outs, PARQUET, runs)
        write(data.con, str(sql), outs, PARQUET, copy)
        assert pq.read_schema(runs) == pq.read_schema(copy), statement
        _same_rows(runs, copy)


def test_daily_rows_are_written_as_copy_writes_them(tmp_path: Path) -> None:
    """Daily rows weight each line's slot by the hours it was active in the day."""
    connection = bill.connect()
    try:
        env = {"BCM_LOCAL_BILLING_SCALE": "100"}
        data = bill.open_dataset(connection, settings.load(env=env), ACCOUNT, NOW, "DAILY")
        daily = {"TIME_GRANULARITY": "DAILY"}
        for table, props in ((CUR, {**daily, "INCLUDE_RESOURCES": "TRUE"}), (FOCUS, daily)):
            sql, outs = _export(data, f"SELECT * FROM {table}", props)
            (runs,) = write(connection, sql, outs, PARQUET, tmp_path / "runs.parquet")
            (copy,) = write(connection, str(sql), outs, PARQUET, tmp_path / "copy.parquet")
            assert _by_runs(runs, "BillingAccountId" if table == FOCUS else "bill_bill_type")
            _same_rows(runs, copy)
    finally:
        connection.close()


def test_statistics_describe_the_values(data: Dataset, tmp_path: Path) -> None:
    sql, outs = _export(data, f"SELECT * FROM {CUR}", HOURLY)
    (path,) = write(data.con, sql, outs, PARQUET, tmp_path / "runs.parquet")
    file = pq.ParquetFile(path)
    first = file.metadata.row_group(0)
    leaves = [first.column(i).path_in_schema for i in range(first.num_columns)]
    for name in ("line_item_usage_account_id", "line_item_normalization_factor", "bill_bill_type"):
        index = leaves.index(name)
        for group in range(file.metadata.num_row_groups):
            stats = file.metadata.row_group(group).column(index).statistics
            values = file.read_row_group(group, columns=[name]).column(0).to_pylist()
            present = [v for v in values if v is not None]
            assert stats.null_count == len(values) - len(present)
            if present:
                assert (stats.min, stats.max) == (min(present), max(present))


def test_chunks_are_cut_between_row_groups(data: Dataset, tmp_path: Path) -> None:
    sql, outs = _export(data, "SELECT * FROM FOCUS_1_2_AWS", {"TIME_GRANULARITY": "HOURLY"})
    chunk = 1_000_000
    files = write(data.con, sql, outs, PARQUET, tmp_path / "chunks", chunk)
    (copy,) = write(data.con, str(sql), outs, PARQUET, tmp_path / "copy.parquet")
    assert len(files) > 2 and [p.name for p in files] == [
        f"chunk_{n}.parquet" for n in range(len(files))
    ]
    assert all(_by_runs(p, "ServiceName") for p in files)
    assert all(p.stat().st_size >= chunk for p in files[:-1])
    _same_rows(files, copy)
    import pandas as pd

    frame = pd.read_parquet(files[0])
    assert len(frame) == pq.ParquetFile(files[0]).metadata.num_rows
    assert frame["ServiceName"].notna().all() and frame["Tags"].map(len).sum() > 0


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    contents = []
    for run in range(2):
        env = {"BCM_LOCAL_BILLING_SCALE": "6"}
        connection = bill.connect()
        try:
            data = bill.open_dataset(connection, settings.load(env=env), ACCOUNT, NOW, "HOURLY")
            query = parse(f"SELECT * FROM {CUR}")
            columns = check_columns(query, HOURLY)
            sql = duckdb_sql(query, columns, tables.table_sql(data, CUR, HOURLY), data)
            path = tmp_path / f"run-{run}.parquet"
            write(connection, sql, outputs(query, columns), PARQUET, path)
            assert _by_runs(path, "line_item_product_code")
            contents.append(path.read_bytes())
        finally:
            connection.close()
    assert contents[0] == contents[1]


def test_small_exports_are_copied(tmp_path: Path) -> None:
    connection = bill.connect()
    try:
        data = bill.open_dataset(connection, settings.load(env={}), ACCOUNT, NOW, "HOURLY")
        query = parse(f"SELECT * FROM {CUR}")
        columns = check_columns(query, HOURLY)
        sql = duckdb_sql(query, columns, tables.table_sql(data, CUR, HOURLY), data)
        (path,) = write(connection, sql, outputs(query, columns), PARQUET, tmp_path / "x.parquet")
        assert pq.ParquetFile(path).metadata.num_rows < MIN_ROWS
        assert not _by_runs(path, "line_item_product_code")
    finally:
        connection.close()


def test_where_and_limit_are_copied(data: Dataset) -> None:
    for tail in (" WHERE line_item_usage_amount > 1", " LIMIT 5"):
        sql, _ = _export(data, f"SELECT * FROM {CUR}{tail}", HOURLY)
        assert sql.runs is None


def test_thrift_round_trips_duckdb_and_pyarrow_footers(tmp_path: Path) -> None:
    ours = tmp_path / "duck.parquet"
    duckdb.sql(
        f"COPY (SELECT range AS i, 'x' || range AS s, map(['a'], [range]) AS m "
        f"FROM range(1000)) TO '{ours}' (FORMAT parquet)"
    )
    theirs = tmp_path / "arrow.parquet"
    pq.write_table(
        pa.table({"a": [1, None, 3], "s": ["x", None, "é"]}), theirs, write_page_index=True
    )
    for path in (ours, theirs):
        data = path.read_bytes()
        meta, start = t.read_footer(path)
        assert t.encode(meta) == data[start:-8]


def _element(name: str, physical: int, fields: t.Struct | None = None) -> t.Struct:
    return {1: t.i32(physical), 3: t.i32(t.OPTIONAL), 4: t.binary(name.encode()), **(fields or {})}


def _file(
    fields: int, schema: list[t.Struct], chunks: list[tuple[bytes, t.Struct]], rows: int
) -> bytes:
    """A one-row-group Parquet file of `fields` top-level fields from encoded chunks."""
    out = bytearray(b"PAR1")
    columns = []
    for body, column in chunks:
        columns.append(place(column, len(out)))
        out += body
    leaves = sum(1 for e in schema if 5 not in e)
    group = {1: (t.LIST, (t.STRUCT, columns)), 2: t.i64(len(out)), 3: t.i64(rows)}
    root = {3: t.i32(t.REQUIRED), 4: t.binary(b"schema"), 5: t.i32(fields)}
    footer = t.encode(
        {
            1: t.i32(1),
            2: (t.LIST, (t.STRUCT, [root, *schema])),
            3: t.i64(rows),
            4: (t.LIST, (t.STRUCT, [group])),
            6: t.binary(b"test"),
            7: (t.LIST, (t.STRUCT, [{1: t.sub({})}] * leaves)),
        }
    )
    return bytes(out) + footer + struct.pack("<I", len(footer)) + b"PAR1"


def test_encoders_on_nulls_nan_signed_zero_and_maps(tmp_path: Path) -> None:
    strings = pa.array(["b", None, "a", "ccc", "é", "a"])
    doubles = pa.array([1.5, -0.0, None, 0.0, math.nan, 2.0])
    ints = pa.array([3, None, -7, 9, 1, 3], pa.int32())
    stamps = pa.array([1_600_000_000_000_000, None, 5, 6, 7, 8], pa.int64())
    empty = pa.array([None] * 6, pa.string())
    timestamp = {10: t.sub({8: t.sub({1: (t.BOOL, False), 2: t.sub({2: t.sub({})})})})}
    flat = [
        line_column(_element("s", t.BYTE_ARRAY, {6: t.i32(0)}), strings),
        line_column(_element("d", t.DOUBLE_TYPE), doubles),
        line_column(_element("i", t.INT32), ints),
        line_column(_element("ts", t.INT64, timestamp), stamps),
        line_column(_element("n", t.BYTE_ARRAY, {6: t.i32(0)}), empty),
    ]
    group = {3: t.i32(t.OPTIONAL), 4: t.binary(b"m"), 5: t.i32(1), 6: t.i32(t.MAP_TYPE)}
    entry = {3: t.i32(2), 4: t.binary(b"key_value"), 5: t.i32(2)}
    key = {1: t.i32(t.BYTE_ARRAY), 3: t.i32(t.REQUIRED), 4: t.binary(b"key"), 6: t.i32(0)}
    value = _element("value", t.BYTE_ARRAY, {6: t.i32(0)})
    maps = [{"a": "x", "b": None}, None, {}, {"c": "y"}, {"a": "x", "b": None}, {"b": "z"}]
    mapped = map_column(
        [group, entry, key, value], pa.array(maps, pa.map_(pa.string(), pa.string()))
    )
    # runs: lengths that fill groups of 8 level entries or not, an empty run
    lines = pa.array([0, 1, 2, 3, 4, 5, 0, 2, 2]).to_numpy().astype("int64")
    lengths = pa.array([1001, 2, 1, 1000, 7, 4, 0, 2, 1]).to_numpy().astype("int64")
    chunks = [*LineColumns(flat).chunks(lines, lengths), *map_chunks(mapped, lines, lengths)]
    schema = [c.element for c in flat] + [group, entry, key, value]
    rows = int(lengths.sum())
    path = tmp_path / "edge.parquet"
    path.write_bytes(_file(len(flat) + 1, schema, chunks, rows))
    expected = {
        name: [values[line] for line, n in zip(lines, lengths, strict=True) for _ in range(n)]
        for name, values in (
            ("s", strings.to_pylist()),
            ("d", doubles.to_pylist()),
            ("i", ints.to_pylist()),
            ("n", empty.to_pylist()),
            ("m", maps),
        )
    }
    table = pq.read_table(io.BytesIO(path.read_bytes()))
    for name, values in expected.items():
        got = table.column(name).to_pylist()
        if name == "m":
            got = [None if g is None else dict(g) for g in got]
        assert len(got) == rows
        assert all(a == b or (a != a and b != b) for a, b in zip(got, values, strict=True))
    assert table.column("ts").cast(pa.int64()).to_pylist()[:3] == [1_600_000_000_000_000] * 3
    counted = duckdb.sql(
        f"SELECT count(*), count(s), sum(cardinality(m)), count(m) FROM '{path}'"
    ).fetchall()[0]
    present = [m for m in expected["m"] if m is not None]
    assert counted == (
        rows,
        sum(s is not None for s in expected["s"]),
        sum(len(m) for m in present),
        len(present),
    )
    stats = pq.ParquetFile(path).metadata.row_group(0)
    assert (stats.column(0).statistics.min, stats.column(0).statistics.max) == ("a", "é")
    assert not stats.column(1).statistics.has_min_max  # a NaN is used
    assert (stats.column(2).statistics.min, stats.column(2).statistics.max) == (-7, 9)
