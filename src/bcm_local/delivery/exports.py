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
from bcm_local.delivery.sql import Query, QueryError, checked_query

if TYPE_CHECKING:
    from bcm_local.delivery.sink import ObjectSink
    from bcm_local.runtime import Runtime

__all__ = ["DeliveryError", "QueryError", "check_query", "deliver_export"]

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """Reason is an AWS execution StatusReason: INSUFFICIENT_PERMISSION or INTERNAL_FAILURE."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


def _strict_from_env() -> bool:
    from bcm_local.settings import BY_ENV, _convert

    setting = BY_ENV["BCM_LOCAL_STRICT_SQL"]
    return bool(_convert(setting, os.environ.get(setting.env, setting.default)))


def check_query(
    query_statement: str,
    table_configurations: dict[str, dict[str, str]] | None,
    strict: bool | None = None,
) -> str:
    """Validate the export SQL and its table configurations; return the table name.

    Raises QueryError (bad SQL, unknown table, columns outside the table) or TableError
    (unknown table property or value). `strict` defaults to BCM_LOCAL_STRICT_SQL."""
    strict = _strict_from_env() if strict is None else strict
    return checked_query(query_statement, table_configurations, strict)[0].table


def deliver_export(
    runtime: Runtime,
    account_id: str,
    export: dict[str, Any],
    execution_id: str,
    now: float,
    view: dict[str, Any] | None = None,
) -> list[str]:
    """Write the export's files for its billing periods; return the S3 keys written.
    `view`: the slice of the bill its BILLING_VIEW_ARN lets through (None: all of it)."""
    from bcm_local.delivery.sink import AccessDeniedError, NoSuchBucketError, open_sink

    data_query = export["DataQuery"]
    try:
        query, columns = checked_query(
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
        return _deliver(
            runtime, sink, account_id, export, execution_id, now, query, columns, work, view
        )
    except (NoSuchBucketError, AccessDeniedError) as err:
        raise DeliveryError("INSUFFICIENT_PERMISSION", str(err)) from err
    except DeliveryError:
        raise
    except Exception as err:
        log.exception("delivery of %s failed", export.get("ExportArn"))
        raise DeliveryError("INTERNAL_FAILURE", str(err)) from err
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _deliver(
    runtime: Runtime,
    sink: ObjectSink,
    account_id: str,
    export: dict[str, Any],
    execution_id: str,
    now: float,
    query: Query,
    columns: list[tables.Column],
    work: Path,
    view: dict[str, Any] | None,
) -> list[str]:
    from bcm_local.billing import bill
    from bcm_local.delivery.layouts.aws import AwsLayout
    from bcm_local.delivery.layouts.floci import FlociLayout
    from bcm_local.delivery.pipeline import BillRequest, Run, Selection, deliver
    from bcm_local.delivery.sql import duckdb_sql, outputs
    from bcm_local.delivery.writer import chunk_bytes

    moment = datetime.fromtimestamp(now, UTC)
    props = tables.resolve_properties(
        query.table, (export["DataQuery"].get("TableConfigurations") or {}).get(query.table)
    )
    dest = export["DestinationConfigurations"]["S3Destination"]
    out = dest["S3OutputConfigurations"]
    prefix, fmt = dest.get("S3Prefix") or "", out["Format"]
    overwrite = out["Overwrite"] == "OVERWRITE_REPORT"
    request = BillRequest(account_id, moment, bill.granularity_of(query.table, props), view=view)

    def select(run: Run) -> Selection:
        source = tables.table_sql(run.data, query.table, props)
        sql = duckdb_sql(query, columns, source, run.data)
        return Selection(sql, outputs(query, columns), fmt)

    if runtime.config.export_layout == "aws" and int(runtime.config.export_workers) > 1:
        return _deliver_sharded(
            runtime, sink, account_id, export, execution_id, moment, query, props, work, view
        )
    layout: AwsLayout | FlociLayout
    if runtime.config.export_layout == "aws":
        chunk = chunk_bytes(runtime.config)
        bucket = dest["S3Bucket"]
        layout = AwsLayout(prefix, export, execution_id, moment, bucket, select, overwrite, chunk)
    else:
        layout = FlociLayout(prefix, export["Name"], execution_id, select, overwrite)
    return deliver(runtime, runtime.config, sink, request, layout, work)


def _deliver_sharded(
    runtime: Runtime,
    sink: ObjectSink,
    account_id: str,
    export: dict[str, Any],
    execution_id: str,
    moment: datetime,
    query: Query,
    props: dict[str, str],
    work: Path,
    view: dict[str, Any] | None,
) -> list[str]:
    """The `aws` layout's delivery as shards on BCM_LOCAL_EXPORT_WORKERS processes
    (delivery/shards/): the server's threads and event loop stay free while they write.
    The shards read the bill's server state as it is now (bill.inputs_of); they write
    straight to an external endpoint, or into scratch files moved into the built-in S3."""
    from bcm_local.billing import bill
    from bcm_local.billing.scenario.files import scenario_of
    from bcm_local.delivery.layouts.aws import run_folder
    from bcm_local.delivery.layouts.floci import CONTENT_TYPES
    from bcm_local.delivery.shards import Shard, ShardKey, finish, split
    from bcm_local.delivery.shards.finish import move_in
    from bcm_local.delivery.shards.local import run_shards
    from bcm_local.delivery.shards.plan import key_for

    config = runtime.config
    dest = export["DestinationConfigurations"]["S3Destination"]
    out = dest["S3OutputConfigurations"]
    external = bool(config.delivery_s3_endpoint)
    scenario = scenario_of(str(config.billing_scenario))
    by, groups = key_for(query.table, props, query.limit, int(config.export_shards), scenario)
    base = Shard(
        key=ShardKey(""),
        delivery=execution_id,
        period_index=0,
        values=dict(config.values),
        scenario=scenario,
        account_id=account_id,
        moment=moment,
        statement=export["DataQuery"]["QueryStatement"],
        table=query.table,
        properties=props,
        fmt=out["Format"],
        name=export["Name"],
        target=f"s3://{dest['S3Bucket']}" if external else str(work / "shards"),
        prefix=dest.get("S3Prefix") or "",
        bucket=dest["S3Bucket"],
        folder="" if out["Overwrite"] == "OVERWRITE_REPORT" else run_folder(moment, execution_id),
        arn=export.get("ExportArn"),
        inputs=bill.inputs_of(runtime, account_id),
        view=view,
    )
    tasks = split(base, by, groups)
    results = run_shards(tasks, int(config.export_workers))
    if not external:
        move_in(sink, results, base.target, CONTENT_TYPES[base.fmt])
    return finish(tasks, results, sink=sink)
