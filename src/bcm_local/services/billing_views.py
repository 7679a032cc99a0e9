"""Billing views: who sees which slice of an account's bill. Kept here, beside tagging and
pagination, because three services read them: `billing` manages them, and `ce`, Data
Exports and the legacy CUR take a view's ARN to answer for its slice only.

Every account has its primary view, `arn:aws:billing::<account>:billingview/primary`: the
whole bill. A custom view draws its data from one to ten source views (the caller's own)
and keeps what its `dataFilterExpression` lets through: LINKED_ACCOUNT values, tag values,
cost category values (each a list of values, any of which matches; the parts present must
all match) and a time range. `scope` turns a view into the Cost Explorer Expression of its
slice: its own filter and the union of its sources' slices.

Records: namespace `billing-views`, key `<account>::<arn>`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from bcm_local.runtime import Context
from bcm_local.store import Store
from bcm_local.wire.errors import AwsError

NS = "billing-views"
MAX_CUSTOM_VIEWS = 100  # per account (ServiceQuotaExceededException beyond)
MAX_SOURCES = 10
_ARN = re.compile(r"^arn:aws[a-z-]*:billing::(\d{12}):billingview/(.+)$")
PRIMARY_NAME = "Primary View"


def primary_arn(account: str) -> str:
    return f"arn:aws:billing::{account}:billingview/primary"


def key(account: str, arn: str) -> str:
    return f"{account}::{arn}"


def invalid(message: str, field: str = "") -> AwsError:
    fields = [{"name": field, "message": message}] if field else []
    return AwsError(
        "ValidationException", message, reason="fieldValidationFailed", fieldList=fields
    )


def not_found(arn: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"Billing view {arn} does not exist.",
        resourceId=arn,
        resourceType="billingview",
    )


def conflict(arn: str, message: str) -> AwsError:
    return AwsError("ConflictException", message, resourceId=arn, resourceType="billingview")


def _owner(ctx_account: str, arn: str) -> str:
    found = _ARN.match(arn)
    if not found:
        raise invalid(f"{arn} is not a billing view ARN.", "arn")
    owner = found.group(1)
    if owner != ctx_account:
        raise AwsError(
            "AccessDeniedException",
            f"Account {ctx_account} is not authorized to access billing view {arn}.",
        )
    return owner


def _primary(account: str) -> dict[str, Any]:
    return {
        "arn": primary_arn(account),
        "name": PRIMARY_NAME,
        "description": "The whole bill of the account",
        "billingViewType": "PRIMARY",
        "ownerAccountId": account,
        "sourceViews": [],
        "healthStatus": {"statusCode": "HEALTHY"},
    }


def find(store: Store, account: str, arn: str) -> dict[str, Any]:
    """The view's record (the primary view is made, not stored): ResourceNotFoundException
    for none, AccessDeniedException for another account's view."""
    _owner(account, arn)
    if arn == primary_arn(account):
        return _primary(account)
    view_id = arn.rsplit("/", 1)[-1]
    if view_id.startswith("billing-group-"):  # Billing Conductor is not emulated: a
        # billing group's view is the whole bill of the account
        return {
            **_primary(account),
            "arn": arn,
            "name": view_id,
            "billingViewType": "BILLING_GROUP",
        }
    record = store.get(NS, key(account, arn))
    if record is None:
        raise not_found(arn)
    return record


def custom_views(store: Store, account: str) -> list[dict[str, Any]]:
    return [r.value for r in store.scan(NS, f"{account}::")]


def derived_count(store: Store, account: str, arn: str) -> int:
    return sum(1 for v in custom_views(store, account) if arn in v["sourceViews"])


def element(store: Store, record: dict[str, Any]) -> dict[str, Any]:
    """A BillingViewElement: the record with its counts."""
    out = {k: v for k, v in record.items() if k not in ("sourceViews", "clientToken")}
    out["sourceViewCount"] = len(record["sourceViews"])
    out["derivedViewCount"] = derived_count(store, record["ownerAccountId"], record["arn"])
    return out


def check_expression(expression: dict[str, Any] | None) -> None:
    if not expression:
        return
    window = expression.get("timeRange") or {}
    begin, end = window.get("beginDateInclusive"), window.get("endDateInclusive")
    if begin is not None and end is not None and _moment(end) < _moment(begin):
        raise invalid(
            "timeRange: endDateInclusive must not be before beginDateInclusive.",
            "dataFilterExpression.timeRange",
        )


def _sources(ctx: Context, sources: list[str], own: str | None) -> list[str]:
    if not 1 <= len(sources) <= MAX_SOURCES:
        raise invalid(f"A billing view has 1 to {MAX_SOURCES} source views.", "sourceViews")
    for arn in sources:
        find(ctx.store, ctx.account_id, arn)
        if own is not None and (arn == own or own in _ancestry(ctx.store, ctx.account_id, arn)):
            raise invalid(f"Source view {arn} would make a cycle.", "sourceViews")
    return list(dict.fromkeys(sources))


def _ancestry(store: Store, account: str, arn: str) -> set[str]:
    seen: set[str] = set()
    todo = [arn]
    while todo:
        view = find(store, account, todo.pop())
        for source in view["sourceViews"]:
            if source not in seen:
                seen.add(source)
                todo.append(source)
    return seen


def create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    store, account = ctx.store, ctx.account_id
    token = params.get("clientToken")
    with store.transaction():
        existing = custom_views(store, account)
        if token:
            same = next((v for v in existing if v.get("clientToken") == token), None)
            if same is not None:
                return same
        if len(existing) >= MAX_CUSTOM_VIEWS:
            raise AwsError(
                "ServiceQuotaExceededException",
                f"An account has at most {MAX_CUSTOM_VIEWS} custom billing views.",
                resourceId=account,
                resourceType="billingview",
                serviceCode="billing",
                quotaCode="custom-billing-views",
            )
        check_expression(params.get("dataFilterExpression"))
        sources = _sources(ctx, params["sourceViews"], None)
        now = ctx.clock.time()
        arn = f"arn:aws:billing::{account}:billingview/custom-{uuid.uuid4()}"
        record: dict[str, Any] = {
            "arn": arn,
            "name": params["name"],
            "description": params.get("description") or "",
            "billingViewType": "CUSTOM",
            "ownerAccountId": account,
            "sourceViews": sources,
            "createdAt": now,
            "updatedAt": now,
            "viewDefinitionLastUpdatedAt": now,
            "healthStatus": {"statusCode": "HEALTHY"},
        }
        if params.get("dataFilterExpression"):
            record["dataFilterExpression"] = params["dataFilterExpression"]
        if token:
            record["clientToken"] = token
        store.put(NS, key(account, arn), record)
    return record


def _custom(ctx: Context, arn: str, what: str) -> dict[str, Any]:
    record = find(ctx.store, ctx.account_id, arn)
    if record["billingViewType"] != "CUSTOM":
        raise invalid(f"The primary billing view cannot be {what}.", "arn")
    return record


def update(ctx: Context, arn: str, changes: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        record = _custom(ctx, arn, "updated")
        check_expression(changes.get("dataFilterExpression"))
        now = ctx.clock.time()
        for member in ("name", "description", "dataFilterExpression"):
            if member in changes:
                record[member] = changes[member]
        record["updatedAt"] = now
        if "dataFilterExpression" in changes:
            record["viewDefinitionLastUpdatedAt"] = now
        ctx.store.put(NS, key(ctx.account_id, arn), record)
    return record


def set_sources(ctx: Context, arn: str, add: list[str], remove: list[str]) -> None:
    with ctx.store.transaction():
        record = _custom(ctx, arn, "changed")
        for source in remove:
            if source not in record["sourceViews"]:
                raise not_found(source)
        kept = [s for s in record["sourceViews"] if s not in remove]
        record["sourceViews"] = _sources(ctx, kept + add, arn)
        record["updatedAt"] = record["viewDefinitionLastUpdatedAt"] = ctx.clock.time()
        ctx.store.put(NS, key(ctx.account_id, arn), record)


def delete(ctx: Context, arn: str, force: bool) -> None:
    with ctx.store.transaction():
        _custom(ctx, arn, "deleted")
        derived = derived_count(ctx.store, ctx.account_id, arn)
        if derived and not force:
            raise conflict(
                arn, f"Billing view {arn} is the source of {derived} other views (use force)."
            )
        ctx.store.delete(NS, key(ctx.account_id, arn))


def _own_filter(expression: dict[str, Any] | None) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for member, root in (
        ("dimensions", "Dimensions"),
        ("tags", "Tags"),
        ("costCategories", "CostCategories"),
    ):
        leaf = (expression or {}).get(member)
        if leaf:
            parts.append({root: {"Key": leaf["key"], "Values": list(leaf["values"])}})
    return parts


def _combine(op: str, parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {op: parts}


def scope(store: Store, account: str, arn: str | None) -> dict[str, Any] | None:
    """The Cost Explorer Expression of the view's slice (None: the whole bill)."""
    if arn is None:
        return None
    view = find(store, account, arn)
    if view["billingViewType"] == "PRIMARY":
        return None
    sources = [scope(store, account, s) for s in view["sourceViews"]]
    parts = _own_filter(view.get("dataFilterExpression"))
    if all(s is not None for s in sources):  # no source is the whole bill
        union = _combine("Or", [s for s in sources if s is not None])
        if union is not None:
            parts.append(union)
    return _combine("And", parts)


def time_range(store: Store, account: str, arn: str) -> tuple[datetime | None, datetime | None]:
    """The bounds of the view's own timeRange (inclusive; None: open)."""
    window = (find(store, account, arn).get("dataFilterExpression") or {}).get("timeRange") or {}
    begin, end = window.get("beginDateInclusive"), window.get("endDateInclusive")
    return (
        _moment(begin) if begin is not None else None,
        _moment(end) if end is not None else None,
    )


def _moment(value: float | str) -> datetime:
    """A timestamp member as sent: epoch seconds (boto3) or ISO 8601 text."""
    if isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise invalid(f"{value!r} is not a timestamp.", "timeRange") from None
    return datetime.fromtimestamp(value, UTC)
