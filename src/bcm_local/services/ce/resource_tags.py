"""TagResource, UntagResource and ListTagsForResource of `ce`: the tags of its resources
(cost categories; anomaly monitors and subscriptions when they come), kept by
services/tagging.py. AWS allows 50 user tags per resource (TooManyTagsException)."""

from __future__ import annotations

from typing import Any

from bcm_local.billing import definitions
from bcm_local.runtime import Context
from bcm_local.services import tagging
from bcm_local.services.registry import Handler
from bcm_local.wire.errors import AwsError

MAX_TAGS = 50


def pairs(tags: list[dict[str, str]] | None) -> list[tagging.Pair]:
    return [(t["Key"], t.get("Value", "")) for t in tags or []]


def _exists(ctx: Context, arn: str) -> None:
    record = ctx.store.get(definitions.CATEGORIES, definitions.key(ctx.account_id, arn))
    if record is None or record.get("ended") is not None:
        raise AwsError(
            "ResourceNotFoundException", f"The resource {arn} does not exist.", ResourceName=arn
        )


def tag_resource(ctx: Context, ResourceArn: str, ResourceTags: list[dict[str, str]]) -> Any:
    _exists(ctx, ResourceArn)
    new = pairs(ResourceTags)
    have = {k for k, _ in tagging.tags_of(ctx.store, ctx.account_id, ResourceArn)}
    if len(have | {k for k, _ in new}) > MAX_TAGS:
        raise AwsError(
            "TooManyTagsException",
            f"A resource can have at most {MAX_TAGS} tags.",
            ResourceName=ResourceArn,
        )
    tagging.add(ctx.store, ctx.account_id, ResourceArn, new, "ResourceTags")
    return {}


def untag_resource(ctx: Context, ResourceArn: str, ResourceTagKeys: list[str]) -> Any:
    _exists(ctx, ResourceArn)
    tagging.remove(ctx.store, ctx.account_id, ResourceArn, ResourceTagKeys, "ResourceTagKeys")
    return {}


def list_tags_for_resource(ctx: Context, ResourceArn: str) -> Any:
    _exists(ctx, ResourceArn)
    found = tagging.tags_of(ctx.store, ctx.account_id, ResourceArn)
    return {"ResourceTags": [{"Key": k, "Value": v} for k, v in found]}


OPERATIONS: dict[str, Handler] = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
