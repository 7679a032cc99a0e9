"""Large Parquet exports (written by the run writer, delivery/runs/writer.py) hold the rows a
CSV export of the same query holds (written by a plain COPY), through the real server, the
`aws` layout with several chunks per billing period, and the emulated S3.

The CSV export runs after the Parquet one has filled the bucket, so its bill has more S3
usage: the bucket's own lines, the tax and the support fee differ; every other line keeps
its id and values (ids do not move when other lines come or go)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from bcm_local.delivery.runs.writer import MIN_ROWS
from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.cur_support import body, keys
from tests.dataexports_support import output, spec

BUCKET = "runs"
QUERY = (
    "SELECT identity_line_item_id, line_item_usage_start_date, line_item_product_code, "
    "line_item_resource_id, line_item_unblended_cost, product.region AS region, "
    "resource_tags.user_team AS team, bill_billing_period_start_date, line_item_line_item_type "
    "FROM COST_AND_USAGE_REPORT"
)
HOURLY = {"COST_AND_USAGE_REPORT": {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE"}}
STABLE = (
    f"line_item_resource_id IS DISTINCT FROM '{BUCKET}' AND line_item_line_item_type <> 'Tax' "
    "AND line_item_product_code NOT LIKE 'AWSSupport%'"
)
ENV = {
    "BCM_LOCAL_BILLING_SCALE": "4",
    "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1",
    "BCM_LOCAL_EXPORT_LAYOUT": "aws",
    "BCM_LOCAL_EXPORT_CHUNK_MB": "1",
}


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    with ServerProcess(env=ENV) as proc:
        exports = make_client(proc.endpoint, "bcm-data-exports")
        s3 = make_client(proc.endpoint, "s3")
        s3.create_bucket(Bucket=BUCKET)
        for name, fmt, compression in (
            ("pq", "PARQUET", "PARQUET"),
            ("csv", "TEXT_OR_CSV", "GZIP"),
        ):
            body = spec(
                name,
                **{
                    "DataQuery.QueryStatement": QUERY,
                    "DataQuery.TableConfigurations": HOURLY,
                    "DestinationConfigurations.S3Destination.S3Bucket": BUCKET,
                    "DestinationConfigurations.S3Destination.S3OutputConfigurations": output(
                        Format=fmt, Compression=compression
                    ),
                },
            )
            exports.create_export(Export=body)
        yield s3


def _objects(s3: Any, prefix: str) -> dict[str, bytes]:
    return {k: body(s3, BUCKET, k) for k in keys(s3, BUCKET, prefix)}


def _partitions(files: dict[str, bytes]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for key, data in files.items():
        period = next(p for p in key.split("/") if p.startswith("BILLING_PERIOD="))
        out.setdefault(period, []).append(data)
    return out


def test_each_period_is_several_run_written_chunks(s3: Any) -> None:
    partitions = _partitions(_objects(s3, "focus/pq/data/"))
    assert len(partitions) == 2
    for chunks in partitions.values():
        assert len(chunks) > 1
        metas = [pq.ParquetFile(io.BytesIO(c)).metadata for c in chunks]
        assert sum(m.num_rows for m in metas) >= MIN_ROWS
        group = metas[0].row_group(0)
        names = [group.column(i).path_in_schema for i in range(group.num_columns)]
        product = group.column(names.index("line_item_product_code"))
        assert product.encodings[:2] == ("PLAIN", "RLE")  # the run writer's own chunk


def _parquet(chunks: list[bytes]) -> pa.Table:
    table = pa.concat_tables(pq.read_table(io.BytesIO(c)) for c in chunks)
    return table.set_column(
        1, "line_item_usage_start_date", table.column(1).cast(pa.timestamp("ms", "UTC"))
    )


def _csv(chunks: list[bytes], schema: pa.Schema) -> pa.Table:
    options = pcsv.ConvertOptions(
        column_types={f.name: f.type for f in schema if not pa.types.is_timestamp(f.type)},
        strings_can_be_null=True,
    )
    tables = [
        pcsv.read_csv(io.BytesIO(gzip.decompress(c)), convert_options=options) for c in chunks
    ]
    table = pa.concat_tables(tables)
    for name in ("line_item_usage_start_date", "bill_billing_period_start_date"):
        index = table.schema.get_field_index(name)
        stamps = table.column(name).cast(pa.timestamp("ms", "UTC"))
        table = table.set_column(index, name, stamps.cast(schema.field(name).type))
    return table.select(schema.names)


def test_parquet_and_csv_hold_the_same_rows(s3: Any) -> None:
    parquet = _partitions(_objects(s3, "focus/pq/data/"))
    csv = _partitions(_objects(s3, "focus/csv/data/"))
    assert parquet.keys() == csv.keys()
    for period, chunks in parquet.items():
        ours = _parquet(chunks)
        con = duckdb.connect()
        con.register("a_all", ours)
        con.register("b_all", _csv(csv[period], ours.schema))
        for name in ("a", "b"):
            con.execute(f"CREATE VIEW {name} AS FROM {name}_all WHERE {STABLE}")
        count = "SELECT count(*) FROM"
        counts = con.execute(f"SELECT ({count} a), ({count} b), ({count} a_all)").fetchone()
        assert counts is not None and counts[0] == counts[1] >= MIN_ROWS > counts[2] - counts[0]
        for left, right in (("a", "b"), ("b", "a")):
            extra = con.execute(f"SELECT count(*) FROM (FROM {left} EXCEPT ALL FROM {right})")
            assert extra.fetchone() == (0,), f"{period}: rows only in {left}"
        teams = con.execute("SELECT count(DISTINCT team), count(team) FROM a").fetchone()
        assert teams is not None and teams[0] > 1 and teams[1] > 0
