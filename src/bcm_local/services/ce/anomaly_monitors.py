"""Cost anomaly monitors (`ce`): CreateAnomalyMonitor, GetAnomalyMonitors,
UpdateAnomalyMonitor and DeleteAnomalyMonitor, kept in services/ce/anomaly_store.py.

A DIMENSIONAL (AWS managed) monitor evaluates each value of its MonitorDimension on its
own: SERVICE and LINKED_ACCOUNT take no MonitorSpecification, TAG and COST_CATEGORY take
one naming the key ({"Tags": {"Key": ...}}, {"CostCategories": {"Key": ...}}). A CUSTOM
(customer managed) monitor evaluates the lines its MonitorSpecification Expression matches
(billing/expressions/filters.py), in aggregate. AWS's quotas: one AWS managed monitor per
dimension (and key) and 500 customer managed ones per account (LimitExceededException).
LastEvaluatedDate and DimensionalValueCount are read from the bill when asked.
"""

from __future__ import annotations

import uuid
from typing import Any

from bcm_local.billing.expressions import filters
from bcm_local.billing.queries import anomalies
from bcm_local.runtime import Context
from bcm_local.services import tagging
from bcm_local.services.ce import anomaly_store, bills, paging, resource_tags
from bcm_local.services.registry import Handler
from bcm_local.wire.errors import AwsError

Result = dict[str, Any]
MAX_CUSTOM = 500
MAX_VALUES = 10  # values per leaf of a custom monitor (AWS: "up to 10")
DEFAULT_PAGE = 100
_KEYED = {"TAG": "Tags", "COST_CATEGORY": "CostCategories"}
_STORED = ("MonitorArn", "MonitorName", "CreationDate", "LastUpdatedDate", "MonitorType")


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def limit(message: str) -> AwsError:
    return AwsError("LimitExceededException", message)


def today(ctx: Context) -> str:
    return ctx.clock.now().strftime("%Y-%m-%d")


def _leaves(expression: Any) -> list[dict[str, Any]]:
    if not isinstance(expression, dict):
        return []
    found = []
    for root, value in expression.items():
        if root in ("And", "Or"):
            found += [leaf for item in value or [] for leaf in _leaves(item)]
        elif root == "Not":
            found += _leaves(value)
        elif isinstance(value, dict):
            found.append(value)
    return found


def _specification(monitor: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """(MonitorDimension, MonitorSpecification) of a request, validated."""
    kind = monitor["MonitorType"]
    dimension = monitor.get("MonitorDimension")
    spec = monitor.get("MonitorSpecification")
    if kind == "CUSTOM":
        if dimension is not None:
            raise invalid("MonitorDimension is not allowed for a CUSTOM monitor.")
        if not spec:
            raise invalid("A CUSTOM monitor needs a MonitorSpecification.")
        filters.condition(spec)  # an unknown dimension or a malformed tree fails here
        if any(len(leaf.get("Values") or ()) > MAX_VALUES for leaf in _leaves(spec)):
            raise invalid(f"MonitorSpecification can name at most {MAX_VALUES} values each.")
        return None, spec
    if dimension is None:
        raise invalid("A DIMENSIONAL monitor needs a MonitorDimension.")
    root = _KEYED.get(dimension)
    if root is None:
        if spec is not None:
            raise invalid(f"MonitorSpecification is not allowed with MonitorDimension {dimension}.")
        return dimension, None
    leaf = (spec or {}).get(root)
    if set(spec or {}) != {root} or not isinstance(leaf, dict) or not leaf.get("Key"):
        raise invalid(
            f'MonitorDimension {dimension} needs MonitorSpecification {{"{root}": {{"Key": ...}}}}.'
        )
    if leaf.get("Values") or leaf.get("MatchOptions"):
        raise invalid(f"MonitorSpecification of a {dimension} monitor names its key only.")
    return dimension, {root: {"Key": leaf["Key"]}}


def series(record: dict[str, Any]) -> anomalies.Series:
    """What the monitor evaluates, as SQL over the facts."""
    spec = record.get("MonitorSpecification")
    if record["MonitorType"] == "CUSTOM":
        return anomalies.Series(None, filters.condition(spec))
    dimension = record["MonitorDimension"]
    if dimension in _KEYED:
        column = "tags" if dimension == "TAG" else "cost_categories"
        key = (spec or {})[_KEYED[dimension]]["Key"]
        return anomalies.Series(f"{column}[{filters.literal(key)}]")
    return anomalies.Series(f'"{dimension}"')


def _managed_key(dimension: str | None, spec: dict[str, Any] | None) -> tuple[Any, ...]:
    return (dimension, *(v["Key"] for v in (spec or {}).values()))


def create_anomaly_monitor(
    ctx: Context, AnomalyMonitor: dict[str, Any], ResourceTags: list[dict[str, str]] | None = None
) -> Result:
    dimension, spec = _specification(AnomalyMonitor)
    kind = AnomalyMonitor["MonitorType"]
    live = anomaly_store.records(ctx, anomaly_store.MONITORS)
    if kind == "CUSTOM" and sum(m["MonitorType"] == "CUSTOM" for m in live) >= MAX_CUSTOM:
        raise limit(f"You have reached the limit of {MAX_CUSTOM} customer managed monitors.")
    if kind == "DIMENSIONAL" and any(
        m["MonitorType"] == "DIMENSIONAL"
        and _managed_key(m.get("MonitorDimension"), m.get("MonitorSpecification"))
        == _managed_key(dimension, spec)
        for m in live
    ):
        raise limit(f"You already have an AWS managed monitor of dimension {dimension}.")
    arn = anomaly_store.arn(ctx, "anomalymonitor", str(uuid.uuid4()))
    day = today(ctx)
    record: Result = {
        "MonitorArn": arn,
        "MonitorName": AnomalyMonitor["MonitorName"],
        "CreationDate": day,
        "LastUpdatedDate": day,
        "MonitorType": kind,
        "created": ctx.clock.now().isoformat(),
    }
    if dimension is not None:
        record["MonitorDimension"] = dimension
    if spec is not None:
        record["MonitorSpecification"] = spec
    with ctx.store.transaction():
        anomaly_store.put(ctx, anomaly_store.MONITORS, arn, record)
        resource_tags.attach(ctx, arn, ResourceTags)
    return {"MonitorArn": arn}


def page_size(value: int | None) -> int:
    if value is not None and value < 1:
        raise invalid("MaxResults must be at least 1.")
    return value or DEFAULT_PAGE


def _listed(record: Result, evaluated: str, count: int | None) -> Result:
    out = {k: record[k] for k in _STORED}
    out |= {k: record[k] for k in ("MonitorDimension", "MonitorSpecification") if k in record}
    out["LastEvaluatedDate"] = evaluated
    if count is not None:
        out["DimensionalValueCount"] = count
    return out


def get_anomaly_monitors(
    ctx: Context,
    MonitorArnList: list[str] | None = None,
    NextPageToken: str | None = None,
    MaxResults: int | None = None,
) -> Result:
    size = page_size(MaxResults)
    found = anomaly_store.chosen(ctx, anomaly_store.MONITORS, MonitorArnList)
    listing = f"ce-anomaly-monitors:{ctx.account_id}:{sorted(MonitorArnList or [])}"
    page, token = paging.listed(ctx.store, listing, found, NextPageToken, size)
    out: list[Result] = []
    if page:
        bill = bills.for_call(ctx)
        now = ctx.clock.now()
        last = anomalies.last_evaluated(bill, now).isoformat()
        for record in page:
            count = None
            if record["MonitorType"] == "DIMENSIONAL":
                count = anomalies.value_count(bill, series(record), now)
            out.append(_listed(record, last, count))
    return {"AnomalyMonitors": out, **({"NextPageToken": token} if token else {})}


def update_anomaly_monitor(ctx: Context, MonitorArn: str, MonitorName: str | None = None) -> Result:
    record = anomaly_store.monitor(ctx, MonitorArn)
    if MonitorName is not None:
        record = {**record, "MonitorName": MonitorName}
    record["LastUpdatedDate"] = today(ctx)
    anomaly_store.put(ctx, anomaly_store.MONITORS, MonitorArn, record)
    return {"MonitorArn": MonitorArn}


def delete_anomaly_monitor(ctx: Context, MonitorArn: str) -> Result:
    """The monitor, its tags and feedback go; subscriptions stop naming it (one left
    naming no monitor goes too)."""
    anomaly_store.monitor(ctx, MonitorArn)
    with ctx.store.transaction():
        anomaly_store.delete(ctx, anomaly_store.MONITORS, MonitorArn)
        tagging.drop(ctx.store, ctx.account_id, MonitorArn)
        for given in anomaly_store.records(ctx, anomaly_store.FEEDBACK):
            if given["MonitorArn"] == MonitorArn:
                anomaly_store.delete(ctx, anomaly_store.FEEDBACK, given["AnomalyId"])
        for sub in anomaly_store.records(ctx, anomaly_store.SUBSCRIPTIONS):
            if MonitorArn not in sub["MonitorArnList"]:
                continue
            arn = sub["SubscriptionArn"]
            rest = [a for a in sub["MonitorArnList"] if a != MonitorArn]
            if rest:
                anomaly_store.put(
                    ctx, anomaly_store.SUBSCRIPTIONS, arn, {**sub, "MonitorArnList": rest}
                )
            else:
                anomaly_store.delete(ctx, anomaly_store.SUBSCRIPTIONS, arn)
                tagging.drop(ctx.store, ctx.account_id, arn)
    return {}


OPERATIONS: dict[str, Handler] = {
    "CreateAnomalyMonitor": create_anomaly_monitor,
    "GetAnomalyMonitors": get_anomaly_monitors,
    "UpdateAnomalyMonitor": update_anomaly_monitor,
    "DeleteAnomalyMonitor": delete_anomaly_monitor,
}
