"""The `billing` operations: billing views (services/billing_views.py keeps them), their
source views, resource policies and tags. One function per AWS operation."""

from __future__ import annotations

from typing import Any

from bcm_local.runtime import Context
from bcm_local.services import billing_views as views
from bcm_local.services import pagination, tagging
from bcm_local.services.registry import Handler

Result = dict[str, Any]
MAX_RESULTS = 100


def _bad_token(token: str) -> Exception:
    return views.invalid(f"Invalid nextToken: {token}", "nextToken")


def create_billing_view(ctx: Context, **params: Any) -> Result:
    pairs = [(t["key"], t.get("value", "")) for t in params.get("resourceTags") or []]
    tagging.check(pairs, "resourceTags")
    record = views.create(ctx, params)
    if pairs:
        tagging.add(ctx.store, ctx.account_id, record["arn"], pairs, "resourceTags")
    return {"arn": record["arn"], "createdAt": record["createdAt"]}


def get_billing_view(ctx: Context, arn: str) -> Result:
    return {"billingView": views.element(ctx.store, views.find(ctx.store, ctx.account_id, arn))}


def update_billing_view(ctx: Context, arn: str, **changes: Any) -> Result:
    record = views.update(ctx, arn, changes)
    return {"arn": arn, "updatedAt": record["updatedAt"]}


def delete_billing_view(ctx: Context, arn: str, force: bool = False) -> Result:
    views.delete(ctx, arn, force)
    tagging.drop(ctx.store, ctx.account_id, arn)
    return {"arn": arn}


def _matches(view: dict[str, Any], params: dict[str, Any]) -> bool:
    if params.get("arns") and view["arn"] not in params["arns"]:
        return False
    if params.get("billingViewTypes") and view["billingViewType"] not in params["billingViewTypes"]:
        return False
    for search in params.get("names") or []:
        if not view["name"].startswith(search["searchValue"]):
            return False
    owner = params.get("ownerAccountId")
    if owner and view["ownerAccountId"] != owner:
        return False
    source = params.get("sourceAccountId")
    return not source or source == view["ownerAccountId"]


def list_billing_views(ctx: Context, **params: Any) -> Result:
    """The primary view, then the custom views in creation order, filtered."""
    listing = f"billing-views:{ctx.account_id}"
    token = params.get("nextToken")
    try:
        start = pagination.decode(ctx.store, listing, token) if token else 0
    except pagination.BadToken:
        raise _bad_token(token or "") from None
    every = [views.find(ctx.store, ctx.account_id, views.primary_arn(ctx.account_id))]
    every += views.custom_views(ctx.store, ctx.account_id)
    found = [v for v in every if _matches(v, params)]
    size = params.get("maxResults") or MAX_RESULTS
    page = found[start : start + size]
    keys = ("arn", "name", "description", "ownerAccountId", "billingViewType", "healthStatus")
    out: Result = {"billingViews": [{k: v[k] for k in keys if k in v} for v in page]}
    if start + size < len(found):
        out["nextToken"] = pagination.encode(ctx.store, listing, start + size)
    return out


def associate_source_views(ctx: Context, arn: str, sourceViews: list[str]) -> Result:
    views.set_sources(ctx, arn, add=sourceViews, remove=[])
    return {"arn": arn}


def disassociate_source_views(ctx: Context, arn: str, sourceViews: list[str]) -> Result:
    views.set_sources(ctx, arn, add=[], remove=sourceViews)
    return {"arn": arn}


def list_source_views_for_billing_view(
    ctx: Context, arn: str, maxResults: int | None = None, nextToken: str | None = None
) -> Result:
    record = views.find(ctx.store, ctx.account_id, arn)
    listing = f"billing-view-sources:{arn}"
    try:
        start = pagination.decode(ctx.store, listing, nextToken) if nextToken else 0
    except pagination.BadToken:
        raise _bad_token(nextToken or "") from None
    size = maxResults or MAX_RESULTS
    sources = record["sourceViews"]
    out: Result = {"sourceViews": sources[start : start + size]}
    if start + size < len(sources):
        out["nextToken"] = pagination.encode(ctx.store, listing, start + size)
    return out


def get_resource_policy(ctx: Context, resourceArn: str) -> Result:
    """No view is shared with other accounts here: a view has no resource policy."""
    views.find(ctx.store, ctx.account_id, resourceArn)
    return {"resourceArn": resourceArn}


def tag_resource(ctx: Context, resourceArn: str, resourceTags: list[dict[str, str]]) -> Result:
    views.find(ctx.store, ctx.account_id, resourceArn)
    pairs = [(t["key"], t.get("value", "")) for t in resourceTags]
    tagging.add(ctx.store, ctx.account_id, resourceArn, pairs, "resourceTags")
    return {}


def untag_resource(ctx: Context, resourceArn: str, resourceTagKeys: list[str]) -> Result:
    views.find(ctx.store, ctx.account_id, resourceArn)
    tagging.remove(ctx.store, ctx.account_id, resourceArn, resourceTagKeys, "resourceTagKeys")
    return {}


def list_tags_for_resource(ctx: Context, resourceArn: str) -> Result:
    views.find(ctx.store, ctx.account_id, resourceArn)
    pairs = tagging.tags_of(ctx.store, ctx.account_id, resourceArn)
    return {"resourceTags": [{"key": k, "value": v} for k, v in pairs]}


OPERATIONS: dict[str, Handler] = {
    "CreateBillingView": create_billing_view,
    "GetBillingView": get_billing_view,
    "UpdateBillingView": update_billing_view,
    "DeleteBillingView": delete_billing_view,
    "ListBillingViews": list_billing_views,
    "AssociateSourceViews": associate_source_views,
    "DisassociateSourceViews": disassociate_source_views,
    "ListSourceViewsForBillingView": list_source_views_for_billing_view,
    "GetResourcePolicy": get_resource_policy,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
