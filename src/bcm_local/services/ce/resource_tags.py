"""TagResource, UntagResource and ListTagsForResource of `ce`: the tags of its resources
(cost categories, anomaly monitors and anomaly subscriptions; services/ce/anomaly_store.py
says which ARN is which), kept by services/tagging.py. AWS allows 50 user tags per
resource (TooManyTagsException); a resource is created with its ResourceTags (`attach`)."""

from __future__ import annotations

from typing import Any

from bcm_local.runtime import Context
from bcm_local.services import tagging
from bcm_local.services.ce import anomaly_store
from bcm_local.services.registry import Handler
from bcm_local.wire.errors import AwsError

MAX_TAGS = 50


def pairs(tags: list[dict[str, str]] | None) -> list[tagging.Pair]:
    return [(t["Key"], t.get("Value", "")) for t in tags or []]


def _exists(ctx: Context, arn: str) -> None:
    if not anomaly_store.exists(ctx, arn):
        raise AwsError(
            "ResourceNotFoundException", f"The resource {arn} does not exist.", ResourceName=arn
        )


def attach(ctx: Context, arn: str, tags: list[dict[str, str]] | None) -> None:
    """Add `tags` to the resource `arn` (joins the caller's transaction): at most MAX_TAGS
    keys in all, else TooManyTagsException; the checks of services/tagging.py."""
    new = pairs(tags)
    if not new:
        return
    have = {k for k, _ in tagging.tags_of(ctx.store, ctx.account_id, arn)}
    if len(have | {k for k, _ in new}) > MAX_TAGS:
        raise AwsError(
            "TooManyTagsException",
            f"A resource can have at most {MAX_TAGS} tags.",
            ResourceName=arn,
        )
    tagging.add(ctx.store, ctx.account_id, arn, new, "ResourceTags")


def tag_resource(ctx: Context, ResourceArn: str, ResourceTags: list[dict[str, str]]) -> Any:
    _exists(ctx, ResourceArn)
    attach(ctx, ResourceArn, ResourceTags)
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
