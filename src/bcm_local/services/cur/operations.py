"""The `cur` operations: one function per AWS operation, registered in OPERATIONS."""

from __future__ import annotations

from typing import Any

from bcm_local.runtime import Context
from bcm_local.services import tagging
from bcm_local.services.cur import definitions, emit, rules
from bcm_local.wire.errors import AwsError

Result = dict[str, Any]


def _missing(name: str) -> AwsError:
    return rules.invalid(f"Report {name} does not exist.")


def _bad_token(token: str) -> AwsError:
    return rules.invalid(f"Invalid NextToken: {token}")


def _arn(ctx: Context, name: str) -> str:
    return definitions.report_arn(ctx.account_id, name)


def _pairs(tags: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(t["Key"], t["Value"]) for t in tags]


async def put_report_definition(
    ctx: Context, ReportDefinition: dict[str, Any], Tags: list[dict[str, str]] | None = None
) -> Result:
    definition = definitions.normalise(ReportDefinition)
    rules.check(definition, ctx.account_id)
    name = definition["ReportName"]
    store = ctx.store
    with store.transaction():
        if definitions.get(store, ctx.account_id, name) is not None:
            raise AwsError(
                "DuplicateReportNameException", f"A report with the name {name} already exists."
            )
        limit = int(ctx.config.cur_report_limit)
        if definitions.count(store, ctx.account_id) >= limit:
            raise AwsError(
                "ReportLimitReachedException",
                f"This account already has {limit} reports defined. To define a new report, "
                "you must delete an existing report.",
            )
        record = definitions.new_record(ctx.account_id, definition, ctx.clock.time())
        store.put(definitions.NS, definitions.key(ctx.account_id, name), record)
        if Tags:
            tagging.add(store, ctx.account_id, _arn(ctx, name), _pairs(Tags), "tags")
    await emit.after_change(ctx, name)
    return {}


def describe_report_definitions(
    ctx: Context, MaxResults: int | None = None, NextToken: str | None = None
) -> Result:
    emit.ensure_scheduled(ctx.runtime)
    records, next_token = definitions.page(ctx.store, ctx.account_id, NextToken, _bad_token)
    return {
        "ReportDefinitions": [definitions.describe(r) for r in records],
        "NextToken": next_token,
    }


async def modify_report_definition(
    ctx: Context, ReportName: str, ReportDefinition: dict[str, Any]
) -> Result:
    if ReportDefinition["ReportName"] != ReportName:
        raise rules.invalid(
            f"ReportDefinition.ReportName {ReportDefinition['ReportName']} does not match "
            f"ReportName {ReportName}; a report cannot be renamed."
        )
    store = ctx.store
    with store.transaction():
        record = definitions.get(store, ctx.account_id, ReportName)
        if record is None:
            raise _missing(ReportName)
        definition = definitions.normalise(ReportDefinition, base=record["Definition"])
        rules.check_unchanged(record["Definition"], definition)
        rules.check(definition, ctx.account_id)
        record["Definition"] = definition
        store.put(definitions.NS, definitions.key(ctx.account_id, ReportName), record)
    await emit.after_change(ctx, ReportName)
    return {}


def delete_report_definition(ctx: Context, ReportName: str) -> Result:
    store = ctx.store
    with store.transaction():
        if not store.delete(definitions.NS, definitions.key(ctx.account_id, ReportName)):
            raise _missing(ReportName)
        tagging.drop(store, ctx.account_id, _arn(ctx, ReportName))
    return {"ResponseMessage": f"Report {ReportName} was deleted."}


def _require(ctx: Context, name: str) -> None:
    if definitions.get(ctx.store, ctx.account_id, name) is None:
        raise AwsError("ResourceNotFoundException", f"Report {name} does not exist.")


def tag_resource(ctx: Context, ReportName: str, Tags: list[dict[str, str]]) -> Result:
    with ctx.store.transaction():
        _require(ctx, ReportName)
        tagging.add(ctx.store, ctx.account_id, _arn(ctx, ReportName), _pairs(Tags), "tags")
    return {}


def untag_resource(ctx: Context, ReportName: str, TagKeys: list[str]) -> Result:
    with ctx.store.transaction():
        _require(ctx, ReportName)
        tagging.remove(ctx.store, ctx.account_id, _arn(ctx, ReportName), TagKeys, "tagKeys")
    return {}


def list_tags_for_resource(ctx: Context, ReportName: str) -> Result:
    _require(ctx, ReportName)
    pairs = tagging.tags_of(ctx.store, ctx.account_id, _arn(ctx, ReportName))
    return {"Tags": [{"Key": k, "Value": v} for k, v in pairs]}


OPERATIONS = {
    "PutReportDefinition": put_report_definition,
    "DescribeReportDefinitions": describe_report_definitions,
    "ModifyReportDefinition": modify_report_definition,
    "DeleteReportDefinition": delete_report_definition,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
