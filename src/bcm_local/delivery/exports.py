"""Data Exports delivery: validate an export's SQL, run it over the account's bill and
write the files through the object sink (the built-in S3, or an external endpoint); files
are written to scratch first, then handed over whole, so a crash never leaves a
half-written object visible."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcm_local.billing import tables
from bcm_local.billing.tables import TableError
from bcm_local.delivery import layout
from bcm_local.delivery.sql import Query, QueryError, check_columns, parse

if TYPE_CHECKING:
    from bcm_local.delivery.sink import ObjectSink
    from bcm_local.runtime import Runtime

__all__ = ["DeliveryError", "QueryError", "check_query", "deliver_export"]

log = logging.getLogger(__name__)

CONTENT_TYPES = {"PARQUET": "binary/octet-stream", "TEXT_OR_CSV": "application/gzip"}


class DeliveryError(Exception):
    """Reason is an AWS execution StatusReason: INSUFFICIENT_PERMISSION or INTERNAL_FAILURE."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


def _strict_from_env() -> bool:
    from bcm_local.settings import BY_ENV, _convert

    setting = BY_ENV["BCM_LOCAL_STRICT_SQL"]
    return bool(_convert(setting, os.environ.get(setting.env, setting.default)))


def _checked(
    statement: str, configurations: dict[str, dict[str, str]] | None, strict: bool
) -> tuple[Query, list[tables.Column]]:
    query = parse(statement, strict)
    configs = configurations or {}
    for name, props in configs.items():
        tables.resolve_properties(name, props)
    if query.table not in tables.TABLES:
        raise QueryError(f"The table {query.table} in the query provided does not exist.")
    return query, check_columns(query, configs.get(query.table))


def check_query(
    query_statement: str,
    table_configurations: dict[str, dict[str, str]] | None,
    strict: bool | None = None,
) -> str:
    """Validate the export SQL and its table configurations; return the table name.

    Raises QueryError (bad SQL, unknown table, columns outside the table) or TableError
    (unknown table property or value). `strict` defaults to BCM_LOCAL_STRICT_SQL."""
    strict = _strict_from_env() if strict is None else strict
    return _checked(query_statement, table_configurations, strict)[0].table


def deliver_export(
    runtime: Runtime, account_id: str, export: dict[str, Any], execution_id: str, now: float
) -> list[str]:
    """Write the export's files for its billing periods; return the S3 keys written."""
    from bcm_local.delivery.sink import AccessDeniedError, NoSuchBucketError, open_sink

    data_query = export["DataQuery"]
    try:
        query, columns = _checked(
            data_query["QueryStatement"],
            data_query.get("TableConfigurations"),
            bool(runtime.config.strict_sql),
        )
    except (QueryError, TableError) as err:
        raise DeliveryError("INTERNAL_FAILURE", str(err)) from err
    dest = export["DestinationConfigurations"]["S3Destination"]
    try:
        sink = open_sink(runtime, account_id, dest["S3Bucket"], dest.get("S3BucketOwner"))
        work = Path(tempfile.mkdtemp(prefix="export-", dir=sink.scratch_dir()))
    except (NoSuchBucketError, AccessDeniedError) as err:
        raise DeliveryError("INSUFFICIENT_PERMISSION", f"cannot write to {err}") from err
    except Exception as err:
        log.exception("delivery of %s failed", export.get("ExportArn"))
        raise DeliveryError("INTERNAL_FAILURE", str(err)) from err
    try:
        job = _Job(runtime, sink, account_id, export, execution_id, now, work)
        return job.run(query, columns)
    except (NoSuchBucketError, AccessDeniedError) as err:
        raise DeliveryError("INSUFFICIENT_PERMISSION", str(err)) from err
    except DeliveryError:
        raise
    except Exception as err:
        log.exception("delivery of %s failed", export.get("ExportArn"))
        raise DeliveryError("INTERNAL_FAILURE", str(err)) from err
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _Job:
    def __init__(
        self,
        runtime: Runtime,
        sink: ObjectSink,
        account_id: str,
        export: dict[str, Any],
        execution_id: str,
        now: float,
        work: Path,
    ) -> None:
        self.runtime, self.sink = runtime, sink
        self.account_id, self.export, self.execution_id = account_id, export, execution_id
        self.moment = datetime.fromtimestamp(now, UTC)
        self.work = work
        dest = export["DestinationConfigurations"]["S3Destination"]
        self.bucket, self.prefix = dest["S3Bucket"], dest.get("S3Prefix") or ""
        out = dest["S3OutputConfigurations"]
        self.fmt, self.overwrite = out["Format"], out["Overwrite"] == "OVERWRITE_REPORT"
        self.written: list[str] = []

    def run(self, query: Query, columns: list[tables.Column]) -> list[str]:
        from bcm_local.billing import bill
        from bcm_local.delivery.sql import duckdb_sql, outputs

        props = tables.resolve_properties(
            query.table,
            (self.export["DataQuery"].get("TableConfigurations") or {}).get(query.table),
        )
        con = bill.connect(self.work)
        try:
            data = bill.open_dataset(
                con,
                self.runtime.config,
                self.account_id,
                self.moment,
                bill.granularity_of(query.table, props),
                runtime=self.runtime,
            )
            sql = duckdb_sql(query, columns, tables.table_sql(data, query.table, props), data)
            outs = outputs(query, columns)
            if self.runtime.config.export_layout == "aws":
                for period in data.periods:
                    data.focus(period)
                    self._aws_partition(con, sql, outs, period)
            else:
                self._floci(con, sql, outs)
        finally:
            con.close()
        return self.written

    def _put(self, key: str, path: Path) -> None:
        self.sink.put_file(key, path, CONTENT_TYPES[self.fmt])
        self.written.append(key)

    def _floci(self, con: Any, sql: str, outs: list[Any]) -> None:
        from bcm_local.delivery.writer import extension, write

        key = layout.floci_key(self.prefix, self.export["Name"], self.execution_id, self.fmt)
        (path,) = write(con, sql, outs, self.fmt, self.work / f"run.{extension(self.fmt)}")
        self._put(key, path)
        if self.overwrite:
            folder = layout.base(self.prefix, self.export["Name"])
            for old in self.sink.list_keys(folder + "/"):
                if old != key and layout.is_floci_run_file(folder, old):
                    self.sink.delete(old)

    def _aws_partition(self, con: Any, sql: str, outs: list[Any], period: Any) -> None:
        from bcm_local.delivery.writer import chunk_bytes, extension, write, write_empty

        folder = "" if self.overwrite else layout.run_folder(self.moment, self.execution_id)
        part = layout.Partition(self.prefix, self.export["Name"], period, folder)
        chunk = chunk_bytes(self.runtime.config)
        files = write(con, sql, outs, self.fmt, self.work / f"p{period.index}", chunk)
        keys = [part.chunk_key(n + 1, self.fmt) for n in range(len(files))]
        for key, path in zip(keys, files, strict=True):
            self._put(key, path)
        if self.overwrite:
            for old in self.sink.list_keys(part.data_dir + "/"):
                number = part.chunk_number(old, self.fmt)
                if number is not None and number > len(keys):
                    empty = self.work / f"empty-{number}.{extension(self.fmt)}"
                    self._put(old, write_empty(con, sql, outs, self.fmt, empty))
        body = layout.manifest(
            self.export, self.execution_id, self.bucket, part, keys, outs, self.fmt
        )
        manifests = [part.manifest_key] + ([part.latest_manifest_key] if folder else [])
        for key in manifests:
            self.sink.put_bytes(key, body, "application/json")
            self.written.append(key)
