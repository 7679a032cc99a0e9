"""Cost allocation tags (`ce`): ListCostAllocationTags, UpdateCostAllocationTagsStatus,
StartCostAllocationTagBackfill and ListCostAllocationTagBackfillHistory.

The tag keys are those on the bill's lines (the scenario's resource tags, and any the
account's buckets carry). A user-defined tag starts Active, so the default bill is as it
always was; an AWS-generated one (`aws:` prefix) starts Inactive, as in AWS. A status
change applies from the current billing period on: a deactivated tag leaves the current
month of every later delivery, Cost Explorer's tags and the console, and past months keep
it. A backfill from a month makes every change requested before it apply from that month
on; it is SUCCEEDED at once (the bill is rebuilt on demand) and, as in AWS, a new one may
be requested only 24 hours after the last (BackfillLimitExceededException).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bcm_local.billing import definitions
from bcm_local.billing.scenario.periods import month_start
from bcm_local.runtime import Context
from bcm_local.services.ce import bills, paging
from bcm_local.services.ce.cost_categories import billing_start, invalid
from bcm_local.services.registry import Handler
from bcm_local.wire.errors import AwsError

Result = dict[str, Any]
MAX_RESULTS = 1000
BACKFILL_EVERY = timedelta(hours=24)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _kind(key: str) -> str:
    return "AWSGenerated" if key.startswith(definitions.AWS_PREFIX) else "UserDefined"


def _tags(ctx: Context) -> dict[str, Result]:
    """Every cost allocation tag of the account, by key, as AWS lists it."""
    bill = bills.for_call(ctx)
    found = definitions.of(ctx.store, ctx.account_id)
    month = _stamp(month_start(ctx.clock.now()))[:7]
    keys = sorted(set(bill.tag_keys) | set(found.tags))
    out: dict[str, Result] = {}
    for key in keys:
        entry: Result = {"TagKey": key, "Type": _kind(key), "Status": found.status(key, month)}
        record = found.tags.get(key)
        if record is not None and record["changes"]:
            entry["LastUpdatedDate"] = record["changes"][-1][0]
        if key in bill.tag_keys:
            entry["LastUsedDate"] = f"{bill.tag_keys[key]}-01T00:00:00Z"
        out[key] = entry
    return out


def list_cost_allocation_tags(
    ctx: Context,
    Status: str | None = None,
    TagKeys: list[str] | None = None,
    Type: str | None = None,
    NextToken: str | None = None,
    MaxResults: int | None = None,
) -> Result:
    found = [
        t
        for t in _tags(ctx).values()
        if (Status is None or t["Status"] == Status)
        and (Type is None or t["Type"] == Type)
        and (not TagKeys or t["TagKey"] in TagKeys)
    ]
    listing = f"ce-allocation-tags:{ctx.account_id}:{Status}:{Type}:{sorted(TagKeys or [])}"
    page, token = paging.listed(ctx.store, listing, found, NextToken, MaxResults or 100)
    return {"CostAllocationTags": page, **({"NextToken": token} if token else {})}


def update_cost_allocation_tags_status(
    ctx: Context, CostAllocationTagsStatus: list[dict[str, str]]
) -> Result:
    """Each entry applies or fails on its own (Errors), as in AWS; a key not on the bill
    is a TagKeysNotFound error."""
    known = _tags(ctx)
    now = ctx.clock.now()
    month = _stamp(month_start(now))[:7]
    errors = []
    with ctx.store.transaction():
        for entry in CostAllocationTagsStatus:
            key, status = entry["TagKey"], entry["Status"]
            if key not in known:
                errors.append(
                    {
                        "TagKey": key,
                        "Code": "TagKeysNotFoundException",
                        "Message": f"The tag key {key} was not found on any resource.",
                    }
                )
                continue
            stored = definitions.key(ctx.account_id, key)
            record = ctx.store.get(definitions.TAGS, stored) or {
                "TagKey": key,
                "Type": _kind(key),
                "changes": [],
            }
            if known[key]["Status"] == status:
                continue
            record["changes"].append([_stamp(now), month, status])
            ctx.store.put(definitions.TAGS, stored, record)
    return {"Errors": errors}


def _backfills(ctx: Context) -> list[Result]:
    found = definitions.of(ctx.store, ctx.account_id).backfills
    return sorted(found, key=lambda b: str(b["RequestedAt"]), reverse=True)


def start_cost_allocation_tag_backfill(ctx: Context, BackfillFrom: str) -> Result:
    start = billing_start(ctx, BackfillFrom, "BackfillFrom")
    now = ctx.clock.now()
    last = _backfills(ctx)
    if last and datetime.fromisoformat(last[0]["RequestedAt"].replace("Z", "+00:00")) > (
        now - BACKFILL_EVERY
    ):
        raise AwsError(
            "BackfillLimitExceededException",
            "A backfill was requested less than 24 hours ago; request another one later.",
        )
    at = _stamp(now)
    request = {
        "BackfillFrom": start,
        "RequestedAt": at,
        "CompletedAt": at,
        "BackfillStatus": "SUCCEEDED",
        "LastUpdatedAt": at,
    }
    ctx.store.put(definitions.BACKFILLS, definitions.key(ctx.account_id, at), request)
    return {"BackfillRequest": request}


def list_cost_allocation_tag_backfill_history(
    ctx: Context, NextToken: str | None = None, MaxResults: int | None = None
) -> Result:
    if MaxResults is not None and not 1 <= MaxResults <= MAX_RESULTS:
        raise invalid(f"MaxResults must be between 1 and {MAX_RESULTS}.")
    listing = f"ce-backfills:{ctx.account_id}"
    page, token = paging.listed(ctx.store, listing, _backfills(ctx), NextToken, MaxResults or 100)
    return {"BackfillRequests": page, **({"NextToken": token} if token else {})}


OPERATIONS: dict[str, Handler] = {
    "ListCostAllocationTags": list_cost_allocation_tags,
    "UpdateCostAllocationTagsStatus": update_cost_allocation_tags_status,
    "StartCostAllocationTagBackfill": start_cost_allocation_tag_backfill,
    "ListCostAllocationTagBackfillHistory": list_cost_allocation_tag_backfill_history,
}
