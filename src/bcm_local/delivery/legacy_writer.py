"""Writing one legacy CUR delivery: data files, then artifacts, then the manifest.

The rows are CUR 2.0 rows from the shared model (legacy_source.py), renamed to legacy
columns and written by the Data Exports writer (delivery/writer.py) to scratch files: gzip
CSV or Snappy Parquet, split into `<report>-1.csv.gz`, `-2`, ... (`-00001.snappy.parquet`,
...) above BCM_LOCAL_EXPORT_CHUNK_MB; ZIP is each CSV chunk zipped afterwards. The object
sink (the built-in S3 or an external endpoint) then takes them over. The manifest is
written last, so a reader that finds it finds every file it lists.
"""

from __future__ import annotations

import shutil
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bcm_local.delivery import legacy_artifacts as artifacts
from bcm_local.delivery.legacy_columns import LegacyColumn, legacy_columns
from bcm_local.delivery.legacy_paths import TEST_OBJECT, Paths
from bcm_local.delivery.legacy_source import cur2_columns, cur2_properties, cur2_rows
from bcm_local.delivery.sink import ObjectSink
from bcm_local.runtime import Runtime

_MAP_COLUMNS = ("product", "discount", "resource_tags", "cost_category")
TEST_OBJECT_BODY = b"Created by AWS to verify bucket access for Cost and Usage Reports.\n"


@dataclass
class _Delivery:
    runtime: Runtime
    account_id: str
    record: dict[str, Any]
    paths: Paths
    sink: ObjectSink
    scratch: Path
    now: datetime  # the delivery's moment (the emulator's clock)
    con: Any = None
    source: str = ""  # the DuckDB view with this period's CUR 2.0 rows

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.sink.put_bytes(key, data, content_type)

    def put_file(self, key: str, src: Path, content_type: str) -> None:
        self.sink.put_file(key, src, content_type)


def write_report(
    runtime: Runtime,
    account_id: str,
    record: dict[str, Any],
    periods: list[tuple[datetime, datetime]],
    now: datetime,
) -> list[str]:
    """Deliver the report's billing periods [start, end) as of `now`; returns the keys
    written.

    Raises the sink's NoSuchBucketError / AccessDeniedError before writing anything when
    the bucket is missing or belongs to another account.
    """
    from bcm_local.billing.bill import connect
    from bcm_local.delivery.sink import open_sink

    definition = record["Definition"]
    sink = open_sink(runtime, account_id, definition["S3Bucket"])
    # first, as AWS does when it checks the bucket; the model's S3 usage then sees it too
    sink.put_bytes(TEST_OBJECT, TEST_OBJECT_BODY, "text/plain")
    scratch = sink.scratch_dir() / f"cur-{uuid.uuid4().hex}"
    scratch.mkdir(parents=True)
    jobs = [
        _Delivery(
            runtime,
            account_id,
            record,
            Paths(definition, s, e, str(uuid.uuid4())),
            sink,
            scratch,
            now,
        )
        for s, e in periods
    ]
    written = [TEST_OBJECT]
    con = connect(scratch)
    try:
        views = cur2_rows(
            runtime, con, account_id, [s for s, _ in periods], cur2_properties(definition), now
        )
        for job, view in zip(jobs, views, strict=True):
            job.con, job.source = con, view
        athena = jobs[0] if jobs and jobs[0].paths.athena else None
        if athena:
            written.append(_status(athena, "UPDATING"))
        for job in jobs:
            written += _write_period(job)
        if athena:
            _status(athena, "READY")
        return written
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _write_period(job: _Delivery) -> list[str]:
    paths = job.paths
    columns, data_keys = _write_data(job)
    written = list(data_keys)
    _remove_stale(job, data_keys)
    artifact_keys = _write_artifacts(job, columns, data_keys)
    written += [a["name"] for a in artifact_keys]
    if paths.athena:
        written += _write_athena(job, columns)
    body = artifacts.manifest(
        paths, job.account_id, job.record["ReportId"], columns, data_keys, artifact_keys
    )
    for key in paths.manifest_keys():
        job.put(key, body, "application/json")
        written.append(key)
    return written


def _write_data(job: _Delivery) -> tuple[list[LegacyColumn], list[str]]:
    present = cur2_columns(cur2_properties(job.paths.definition))
    keys = {m: _map_keys(job.con, job.source, m) for m, _ in present if m in _MAP_COLUMNS}
    columns = legacy_columns(present, keys)
    content_type = "binary/octet-stream" if job.paths.parquet else "text/csv"
    data_keys = []
    for number, local in enumerate(_copy(job, columns), 1):
        key = job.paths.data_key(number)
        if key.endswith(".zip"):
            name = key.rpartition("/")[2]
            local = _zipped(local, job.scratch / f"zip-{number}", name, job.now)
        job.put_file(key, local, content_type)
        data_keys.append(key)
    return columns, data_keys


def _map_keys(con: Any, source: str, column: str) -> list[str]:
    rows = con.execute(
        f'SELECT DISTINCT unnest(map_keys("{column}")) FROM {source} WHERE "{column}" IS NOT NULL'
    ).fetchall()
    return sorted(str(r[0]) for r in rows if r[0] is not None)


def _copy(job: _Delivery, columns: list[LegacyColumn]) -> list[Path]:
    """The renamed rows in the report's format, chunked as Data Exports chunk; returns the
    local files in order."""
    from bcm_local.billing.tables.types import STRING, TIMESTAMP, TIMESTAMP_MS
    from bcm_local.delivery.sql import Output
    from bcm_local.delivery.writer import CSV, PARQUET, chunk_bytes, write

    if job.paths.parquet:
        select = [f'{c.source} AS "{c.parquet_name}"' for c in columns]
        outs = [Output(c.parquet_name, c.aws_type) for c in columns]
    else:
        select = []
        for c in columns:
            value = c.source
            if c.aws_type in (TIMESTAMP, TIMESTAMP_MS):
                value = f"strftime({value}, '%Y-%m-%dT%H:%M:%SZ')"
            select.append(f'{value} AS "{c.header.replace(chr(34), chr(34) * 2)}"')
        outs = [Output(c.header, STRING) for c in columns]
    query = f"SELECT {', '.join(select)} FROM {job.source}{_sort_order(columns)}"
    return write(
        job.con,
        query,
        outs,
        PARQUET if job.paths.parquet else CSV,
        job.scratch / f"data-{uuid.uuid4().hex}",
        chunk_bytes(job.runtime.config),
        gzip=job.paths.definition["Compression"] == "GZIP",
    )


def _zipped(src: Path, folder: Path, name: str, now: datetime) -> Path:
    """`<report>-N.csv.zip` holding `<report>-N.csv`, dated at the delivery's hour (not the
    scratch file's time: the same clock gives the same bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / name
    entry = zipfile.ZipInfo(name.removesuffix(".zip"), (*now.timetuple()[:4], 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.file_size = src.stat().st_size  # lets zipfile choose ZIP64 for a large chunk
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf,
        open(src, "rb") as data,
        zf.open(entry, "w") as out,
    ):
        shutil.copyfileobj(data, out, 1 << 20)
    src.unlink()
    return archive


def _sort_order(columns: list[LegacyColumn]) -> str:
    wanted = ("lineItem/UsageStartDate", "identity/LineItemId")
    by_header = {c.header: c.source for c in columns}
    found = [by_header[h] for h in wanted if h in by_header]
    return f" ORDER BY {', '.join(found)}" if found else ""


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _remove_stale(job: _Delivery, data_keys: list[str]) -> None:
    """OVERWRITE_REPORT: data files of an earlier delivery that this one did not replace
    (a changed compression) would otherwise be read as part of the report."""
    if not job.paths.overwrite:
        return
    for key in job.sink.list_keys(job.paths.data_folder + "/"):
        if job.paths.is_data_key(key) and key not in data_keys:
            job.sink.delete(key)


def _write_artifacts(
    job: _Delivery, columns: list[LegacyColumn], data_keys: list[str]
) -> list[dict[str, str]]:
    paths = job.paths
    chosen = paths.definition["AdditionalArtifacts"]
    listed: list[dict[str, str]] = []
    if "REDSHIFT" in chosen:
        manifest_key, commands_key = paths.redshift_keys()
        job.put(manifest_key, artifacts.redshift_manifest(paths, data_keys), "application/json")
        sql = artifacts.redshift_commands(paths, columns, manifest_key)
        job.put(commands_key, sql, "text/plain")
        listed += [
            {"artifactType": "RedshiftCommands", "name": commands_key},
            {"artifactType": "RedshiftManifest", "name": manifest_key},
        ]
    if "QUICKSIGHT" in chosen:
        key = paths.quicksight_key()
        job.put(key, artifacts.quicksight_manifest(paths, data_keys), "application/json")
        listed.append({"artifactType": "QuickSightManifest", "name": key})
    return listed


def _write_athena(job: _Delivery, columns: list[LegacyColumn]) -> list[str]:
    keys = job.paths.athena_keys()
    job.put(keys["crawler"], artifacts.crawler_template(job.paths), "application/x-yaml")
    job.put(keys["create_table"], artifacts.create_table_sql(job.paths, columns), "text/plain")
    return [keys["crawler"], keys["create_table"]]


def _status(job: _Delivery, status: str) -> str:
    key = job.paths.athena_keys()["status"]
    target = job.scratch / f"status-{uuid.uuid4().hex}.parquet"
    job.con.execute(
        f"COPY (SELECT '{status}' AS status) TO '{_sql_path(target)}' "
        "(FORMAT parquet, COMPRESSION snappy)"
    )
    job.put_file(key, target, "binary/octet-stream")
    return key
