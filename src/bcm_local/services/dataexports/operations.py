"""bcm-data-exports: the twelve operations of the Data Exports API (JSON 1.1).

Input is already validated against the model; the rules it cannot express are in
exports.py, the run of an export in executions.py, tags in services/tagging.py.
"""

from __future__ import annotations

from typing import Any

from bcm_local.runtime import Context
from bcm_local.services import pagination, tagging
from bcm_local.services.dataexports import executions, exports
from bcm_local.services.registry import Handler

DEFAULT_MAX_RESULTS = 100
Result = dict[str, Any]


def _pairs(tags: list[dict[str, str]] | None) -> list[tuple[str, str]]:
    return [(t["Key"], t["Value"]) for t in tags or []]


def _tag_list(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs]


def _with_token(result: Result, token: str | None) -> Result:
    if token:
        result["NextToken"] = token
    return result


async def create_export(
    ctx: Context, Export: dict[str, Any], ResourceTags: list[dict[str, str]] | None = None
) -> Result:
    arn = exports.create(ctx, Export, _pairs(ResourceTags))
    await executions.emit(ctx, arn)
    return {"ExportArn": arn}


def get_export(ctx: Context, ExportArn: str) -> Result:
    record = exports.require(ctx.store, ctx.account_id, ExportArn)
    return {"Export": record["Export"], "ExportStatus": record["Status"]}


def list_exports(
    ctx: Context, MaxResults: int | None = None, NextToken: str | None = None
) -> Result:
    rows, token = exports.page(
        ctx.store, ctx.account_id, MaxResults or DEFAULT_MAX_RESULTS, NextToken
    )
    refs = [
        {
            "ExportArn": r.value["Export"]["ExportArn"],
            "ExportName": r.value["Export"]["Name"],
            "ExportStatus": r.value["Status"],
        }
        for r in rows
    ]
    return _with_token({"Exports": refs}, token)


async def update_export(ctx: Context, ExportArn: str, Export: dict[str, Any]) -> Result:
    exports.update(ctx, ExportArn, Export)
    await executions.emit(ctx, ExportArn)
    return {"ExportArn": ExportArn}


def delete_export(ctx: Context, ExportArn: str) -> Result:
    exports.delete(ctx.store, ctx.account_id, ExportArn)
    return {"ExportArn": ExportArn}


def list_executions(
    ctx: Context, ExportArn: str, MaxResults: int | None = None, NextToken: str | None = None
) -> Result:
    rows, token = executions.page(
        ctx.store, ctx.account_id, ExportArn, MaxResults or DEFAULT_MAX_RESULTS, NextToken
    )
    refs = [
        {"ExecutionId": r.value["ExecutionId"], "ExecutionStatus": r.value["ExecutionStatus"]}
        for r in rows
    ]
    return _with_token({"Executions": refs}, token)


def get_execution(ctx: Context, ExportArn: str, ExecutionId: str) -> Result:
    return executions.get(ctx.store, ctx.account_id, ExportArn, ExecutionId)


def list_tables(
    ctx: Context, MaxResults: int | None = None, NextToken: str | None = None
) -> Result:
    from bcm_local.billing.tables import list_tables as all_tables

    tables = all_tables()
    start = 0
    if NextToken:
        try:
            start = pagination.decode(ctx.store, "tables", NextToken)
        except pagination.BadToken:
            raise exports.bad_token(NextToken) from None
    end = start + (MaxResults or DEFAULT_MAX_RESULTS)
    token = pagination.encode(ctx.store, "tables", end) if end < len(tables) else None
    return _with_token({"Tables": tables[start:end]}, token)


def get_table(
    ctx: Context, TableName: str, TableProperties: dict[str, str] | None = None
) -> Result:
    from bcm_local.billing.tables import TableError
    from bcm_local.billing.tables import get_table as describe

    try:
        return describe(TableName, TableProperties or {})
    except TableError as err:
        field = "tableProperties" if TableProperties else "tableName"
        raise exports.invalid(field, str(err)) from None


def tag_resource(ctx: Context, ResourceArn: str, ResourceTags: list[dict[str, str]]) -> Result:
    exports.require(ctx.store, ctx.account_id, ResourceArn)
    tagging.add(ctx.store, ctx.account_id, ResourceArn, _pairs(ResourceTags), "resourceTags")
    return {}


def untag_resource(ctx: Context, ResourceArn: str, ResourceTagKeys: list[str]) -> Result:
    exports.require(ctx.store, ctx.account_id, ResourceArn)
    tagging.remove(ctx.store, ctx.account_id, ResourceArn, ResourceTagKeys, "resourceTagKeys")
    return {}


def list_tags_for_resource(
    ctx: Context, ResourceArn: str, MaxResults: int | None = None, NextToken: str | None = None
) -> Result:
    exports.require(ctx.store, ctx.account_id, ResourceArn)
    pairs, token = tagging.page(
        ctx.store,
        ctx.account_id,
        ResourceArn,
        MaxResults or DEFAULT_MAX_RESULTS,
        NextToken,
        exports.bad_token,
    )
    return _with_token({"ResourceTags": _tag_list(pairs)}, token)


OPERATIONS: dict[str, Handler] = {
    "CreateExport": create_export,
    "GetExport": get_export,
    "ListExports": list_exports,
    "UpdateExport": update_export,
    "DeleteExport": delete_export,
    "ListExecutions": list_executions,
    "GetExecution": get_execution,
    "ListTables": list_tables,
    "GetTable": get_table,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
