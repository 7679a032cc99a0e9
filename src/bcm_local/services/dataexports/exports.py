"""Exports: the rules the model cannot express, and their storage.

Records (store namespaces, keys as the seed documents):
- `exports`     `<accountId>::<exportArn>` -> {Export, Table, Status}
- `export-names` `<accountId>::<Name>` -> {ExportArn, Table}: the unique-name index, which
  also counts an account's exports per table for the quotas
- `executions`  `<accountId>::<exportArn>::<executionId>` (see executions.py)
Every change that touches more than one record is one store transaction.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any

from bcm_local.runtime import Context
from bcm_local.services import pagination, tagging
from bcm_local.store import Record, Store
from bcm_local.wire.errors import AwsError, not_found, validation_error

EXPORTS = "exports"
NAMES = "export-names"
EXECUTIONS = "executions"
SERVICE_CODE = "AWSBillingAndCostManagementDataExports"
MUTABLE = ("Name", "Description", "DataQuery", "DestinationConfigurations", "RefreshCadence")

_S3 = "export.destinationConfigurations.s3Destination"
_OUTPUT = f"{_S3}.s3OutputConfigurations"
_QUERY = "export.dataQuery.queryStatement"
_TABLE_CONFIG = "export.dataQuery.tableConfigurations"
# Format -> the only Compression it can be delivered with
_COMPRESSION_FOR = {"PARQUET": "PARQUET", "TEXT_OR_CSV": "GZIP"}


def key(account_id: str, arn: str) -> str:
    return f"{account_id}::{arn}"


def invalid(field: str, message: str) -> AwsError:
    return validation_error(message, fields=[(field, message)])


def bad_token(token: str) -> AwsError:
    return invalid("nextToken", "The NextToken is invalid or has expired.")


def export_not_found(arn: str) -> AwsError:
    return not_found(f"Export {arn} not found.", arn, "Export")


def new_arn(ctx: Context, name: str) -> str:
    suffix = f"-{uuid.uuid4()}" if ctx.config.export_arn_style == "aws" else ""
    return f"arn:aws:bcm-data-exports:{ctx.region}:{ctx.account_id}:export/{name}{suffix}"


# -- validation ------------------------------------------------------------------------


def validated(ctx: Context, export: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The export as it will be stored (without ExportArn) and the table its query reads."""
    export = _present(export)
    _check_destination(export["DestinationConfigurations"]["S3Destination"])
    table = query_table(export["DataQuery"], bool(ctx.config.strict_sql))
    return {m: export[m] for m in MUTABLE if m in export}, table


def _present(value: Any) -> Any:
    """JSON nulls mean absent members (the model validator skips them too)."""
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None}
    return value


def _check_destination(s3: dict[str, Any]) -> None:
    for member, field in (("S3Bucket", "s3Bucket"), ("S3Region", "s3Region")):
        if not str(s3[member]).strip():
            raise invalid(f"{_S3}.{field}", f"{member} is required and must not be empty.")
    output = s3["S3OutputConfigurations"]
    if output["OutputType"] != "CUSTOM":
        raise invalid(
            f"{_OUTPUT}.outputType",
            f"OutputType {output['OutputType']} is not supported by Data Exports; use CUSTOM.",
        )
    fmt, compression = output["Format"], output["Compression"]
    if _COMPRESSION_FOR[fmt] != compression:
        raise invalid(
            f"{_OUTPUT}.compression",
            f"Compression {compression} cannot be used with Format {fmt}; "
            f"Format {fmt} requires Compression {_COMPRESSION_FOR[fmt]}.",
        )


def query_table(query: dict[str, Any], strict: bool) -> str:
    """The table a DataQuery reads; ValidationException when the query or its configs are bad."""
    from bcm_local.billing.tables import TableError
    from bcm_local.delivery.exports import QueryError

    configs = json.dumps(query.get("TableConfigurations") or {}, sort_keys=True)
    try:
        return _table_of(query["QueryStatement"], configs, strict)
    except QueryError as err:
        raise invalid(_QUERY, str(err)) from None
    except TableError as err:
        raise invalid(_TABLE_CONFIG, str(err)) from None


@functools.lru_cache(maxsize=256)
def _table_of(statement: str, configs: str, strict: bool) -> str:
    """check_query, memoized: parsing the SQL is most of a CreateExport's cost, and clients
    tend to send the same few queries (it is a pure function; errors are not cached)."""
    from bcm_local.delivery.exports import check_query

    table: str = check_query(statement, json.loads(configs), strict)
    return table


def check_quota(store: Store, account_id: str, table: str, quotas: dict[str, int]) -> None:
    limit = quotas.get(table)
    if limit is None:
        return
    used = sum(1 for r in store.scan(NAMES, f"{account_id}::") if r.value["Table"] == table)
    if used >= limit:
        raise AwsError(
            "ServiceQuotaExceededException",
            f"You have reached the quota of {limit} exports of table {table} in this account.",
            QuotaCode=f"exports-per-account-{table}",
            ServiceCode=SERVICE_CODE,
            ResourceId=table,
            ResourceType="Export",
        )


# -- storage ---------------------------------------------------------------------------


def create(ctx: Context, export: dict[str, Any], tags: list[tuple[str, str]]) -> str:
    body, table = validated(ctx, export)
    pairs = tagging.check(tags, "resourceTags")
    name, account, store = body["Name"], ctx.account_id, ctx.store
    arn = new_arn(ctx, name)
    now = ctx.clock.time()
    status = {"StatusCode": "HEALTHY", "CreatedAt": now, "LastUpdatedAt": now}
    with store.transaction():
        if store.get(NAMES, f"{account}::{name}") is not None:
            raise invalid("export.name", f"An export with the name {name} already exists.")
        check_quota(store, account, table, ctx.config.data_exports_quotas)
        store.insert(NAMES, f"{account}::{name}", {"ExportArn": arn, "Table": table})
        record = {"Export": {"ExportArn": arn, **body}, "Table": table, "Status": status}
        store.put(EXPORTS, key(account, arn), record)
        if pairs:
            tagging.add(store, account, arn, pairs, "resourceTags")
    return arn


def find(store: Store, account_id: str, arn: str) -> dict[str, Any] | None:
    return store.get(EXPORTS, key(account_id, arn))


def require(store: Store, account_id: str, arn: str) -> dict[str, Any]:
    record = find(store, account_id, arn)
    if record is None:
        raise export_not_found(arn)
    return record


def update(ctx: Context, arn: str, export: dict[str, Any]) -> None:
    """Replace every mutable field; the name and the table an export reads cannot change."""
    body, table = validated(ctx, export)
    store, account = ctx.store, ctx.account_id
    with store.transaction():
        record = require(store, account, arn)
        name = record["Export"]["Name"]
        if body["Name"] != name:
            raise invalid("export.name", f"The name of an export cannot be changed (it is {name}).")
        if table != record["Table"]:
            raise invalid(
                _QUERY,
                f"The table of an export cannot be changed: the export reads {record['Table']}, "
                f"the query reads {table}.",
            )
        record["Export"] = {"ExportArn": arn, **body}
        record["Status"]["LastUpdatedAt"] = ctx.clock.time()
        store.put(EXPORTS, key(account, arn), record)


def delete(store: Store, account_id: str, arn: str) -> bool:
    """Remove the export, its name, its executions and its tags at once; False if unknown."""
    record_key = key(account_id, arn)
    with store.transaction():
        record = store.get(EXPORTS, record_key)
        if record is None:
            return False
        store.delete(EXPORTS, record_key)
        store.delete(NAMES, f"{account_id}::{record['Export']['Name']}")
        store.delete_prefix(EXECUTIONS, record_key + "::")
        tagging.drop(store, account_id, arn)
    return True


def page(
    store: Store, account_id: str, max_results: int, token: str | None
) -> tuple[list[Record], str | None]:
    return pagination.page(store, EXPORTS, f"{account_id}::", max_results, token, bad_token)


def all_exports(store: Store) -> list[tuple[str, str]]:
    """(accountId, exportArn) of every export of every account."""
    found = []
    for record in store.scan(EXPORTS):
        account_id, _, arn = record.key.partition("::")
        found.append((account_id, arn))
    return found


def record_outcome(store: Store, account_id: str, arn: str, reason: str | None, at: float) -> None:
    """HEALTHY (refreshed at `at`) after a delivery, UNHEALTHY with `reason` after a failure.

    Joins the caller's transaction; an export deleted meanwhile is left alone."""
    record = find(store, account_id, arn)
    if record is None:
        return
    status = record["Status"]
    if reason is None:
        status.update(StatusCode="HEALTHY", LastRefreshedAt=at)
        status.pop("StatusReason", None)
    else:
        status.update(StatusCode="UNHEALTHY", StatusReason=reason)
    store.put(EXPORTS, key(account_id, arn), record)
