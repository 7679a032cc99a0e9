"""Cost anomaly subscriptions (`ce`): CreateAnomalySubscription, GetAnomalySubscriptions,
UpdateAnomalySubscription and DeleteAnomalySubscription, kept in
services/ce/anomaly_store.py. Nothing is sent: the subscribers are stored and listed.

As in AWS: the monitors must exist (UnknownMonitorException); one of Threshold (deprecated,
read as an absolute ThresholdExpression) or ThresholdExpression, not both; a threshold
expression is ANOMALY_TOTAL_IMPACT_ABSOLUTE / _PERCENTAGE leaves with GREATER_THAN_OR_EQUAL
and one number from 0 to 10,000,000,000, joined by And / Or; IMMEDIATE alerts go to one
SNS topic, DAILY and WEEKLY ones to up to 10 email addresses. A subscriber without a
Status is CONFIRMED.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from bcm_local.runtime import Context
from bcm_local.services import tagging
from bcm_local.services.ce import anomaly_store, paging, resource_tags
from bcm_local.services.ce.anomaly_monitors import invalid, page_size, today
from bcm_local.services.registry import Handler

Result = dict[str, Any]
MAX_EMAILS = 10
MAX_THRESHOLD = 10_000_000_000
IMPACT_KEYS = ("ANOMALY_TOTAL_IMPACT_ABSOLUTE", "ANOMALY_TOTAL_IMPACT_PERCENTAGE")
_ADDRESS = {
    "EMAIL": re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    "SNS": re.compile(r"^arn:aws[a-zA-Z-]*:sns:[a-zA-Z0-9-]+:[0-9]{12}:[a-zA-Z0-9_-]+(\.fifo)?$"),
}
_LISTED = ("SubscriptionArn", "AccountId", "MonitorArnList", "Subscribers", "Frequency")


def _threshold_expression(node: Any, depth: int = 0) -> None:
    if not isinstance(node, dict) or depth > 8:
        raise invalid("ThresholdExpression is not a valid expression.")
    roots = [k for k, v in node.items() if v is not None]
    if len(roots) != 1 or roots[0] not in ("And", "Or", "Dimensions"):
        raise invalid("ThresholdExpression has one root: And, Or or Dimensions.")
    root = roots[0]
    if root != "Dimensions":
        if len(node[root]) < 2:
            raise invalid(f"{root} expression must have at least 2 operands.")
        for item in node[root]:
            _threshold_expression(item, depth + 1)
        return
    leaf = node[root]
    if leaf.get("Key") not in IMPACT_KEYS:
        raise invalid(f"ThresholdExpression dimensions are {' and '.join(IMPACT_KEYS)}.")
    if list(leaf.get("MatchOptions") or ()) != ["GREATER_THAN_OR_EQUAL"]:
        raise invalid("ThresholdExpression requires the match option GREATER_THAN_OR_EQUAL.")
    values = list(leaf.get("Values") or ())
    try:
        number = float(values[0]) if len(values) == 1 else -1.0
    except ValueError:
        number = -1.0
    if not 0 <= number <= MAX_THRESHOLD:
        raise invalid(f"ThresholdExpression values are one number from 0 to {MAX_THRESHOLD:,}.")


def _absolute(threshold: float) -> dict[str, Any]:
    return {
        "Dimensions": {
            "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
            "Values": [f"{threshold:g}"],
        }
    }


def _thresholds(threshold: float | None, expression: Any) -> Result:
    """The record's Threshold and ThresholdExpression from a request's."""
    if threshold is not None and expression is not None:
        raise invalid("Specify either Threshold or ThresholdExpression, not both.")
    if threshold is None and expression is None:
        raise invalid("One of Threshold or ThresholdExpression is required.")
    if threshold is not None:
        return {"Threshold": threshold, "ThresholdExpression": _absolute(threshold)}
    _threshold_expression(expression)
    return {"ThresholdExpression": expression}


def _monitors(ctx: Context, arns: list[str]) -> list[str]:
    if not arns:
        raise invalid("MonitorArnList must name at least one monitor.")
    for arn in arns:
        anomaly_store.monitor(ctx, arn)
    return list(dict.fromkeys(arns))


def _subscribers(frequency: str, subscribers: list[dict[str, Any]]) -> list[Result]:
    if not subscribers:
        raise invalid("Subscribers must name at least one subscriber.")
    out = []
    for given in subscribers:
        kind, address = given.get("Type"), given.get("Address")
        if kind not in _ADDRESS or not address or not _ADDRESS[kind].match(address):
            raise invalid(f"Subscriber {address} is not a valid {kind} subscriber.")
        out.append({"Address": address, "Type": kind, "Status": given.get("Status", "CONFIRMED")})
    if len({s["Address"] for s in out}) != len(out):
        raise invalid("Subscribers must not repeat an address.")
    kinds = {s["Type"] for s in out}
    if frequency == "IMMEDIATE" and (kinds != {"SNS"} or len(out) > 1):
        raise invalid("IMMEDIATE alerts are sent to one SNS topic.")
    if frequency != "IMMEDIATE" and (kinds != {"EMAIL"} or len(out) > MAX_EMAILS):
        raise invalid(f"{frequency} alerts are sent to up to {MAX_EMAILS} email addresses.")
    return out


def create_anomaly_subscription(
    ctx: Context,
    AnomalySubscription: dict[str, Any],
    ResourceTags: list[dict[str, str]] | None = None,
) -> Result:
    given = AnomalySubscription
    record: Result = {
        "SubscriptionArn": anomaly_store.arn(ctx, "anomalysubscription", str(uuid.uuid4())),
        "AccountId": ctx.account_id,
        "MonitorArnList": _monitors(ctx, given["MonitorArnList"]),
        "Subscribers": _subscribers(given["Frequency"], given["Subscribers"]),
        "Frequency": given["Frequency"],
        "SubscriptionName": given["SubscriptionName"],
        **_thresholds(given.get("Threshold"), given.get("ThresholdExpression")),
        "created": ctx.clock.now().isoformat(),
        "LastUpdatedDate": today(ctx),
    }
    arn = record["SubscriptionArn"]
    with ctx.store.transaction():
        anomaly_store.put(ctx, anomaly_store.SUBSCRIPTIONS, arn, record)
        resource_tags.attach(ctx, arn, ResourceTags)
    return {"SubscriptionArn": arn}


def _listed(record: Result) -> Result:
    out = {k: record[k] for k in _LISTED}
    if "Threshold" in record:
        out["Threshold"] = record["Threshold"]
    out["SubscriptionName"] = record["SubscriptionName"]
    out["ThresholdExpression"] = record["ThresholdExpression"]
    return out


def get_anomaly_subscriptions(
    ctx: Context,
    SubscriptionArnList: list[str] | None = None,
    MonitorArn: str | None = None,
    NextPageToken: str | None = None,
    MaxResults: int | None = None,
) -> Result:
    size = page_size(MaxResults)
    found = anomaly_store.chosen(ctx, anomaly_store.SUBSCRIPTIONS, SubscriptionArnList)
    if MonitorArn is not None:
        found = [s for s in found if MonitorArn in s["MonitorArnList"]]
    listing = f"ce-anomaly-subscriptions:{ctx.account_id}:{sorted(SubscriptionArnList or [])}"
    listing += f":{MonitorArn}"
    page, token = paging.listed(ctx.store, listing, found, NextPageToken, size)
    out = [_listed(r) for r in page]
    return {"AnomalySubscriptions": out, **({"NextPageToken": token} if token else {})}


def update_anomaly_subscription(ctx: Context, SubscriptionArn: str, **changes: Any) -> Result:
    """Omitted members keep their values; the result is validated as a whole."""
    record = dict(anomaly_store.subscription(ctx, SubscriptionArn))
    if changes.get("MonitorArnList") is not None:
        record["MonitorArnList"] = _monitors(ctx, changes["MonitorArnList"])
    for member in ("Frequency", "SubscriptionName", "Subscribers"):
        if changes.get(member) is not None:
            record[member] = changes[member]
    record["Subscribers"] = _subscribers(record["Frequency"], record["Subscribers"])
    threshold, expression = changes.get("Threshold"), changes.get("ThresholdExpression")
    if threshold is not None or expression is not None:
        record.pop("Threshold", None)
        record |= _thresholds(threshold, expression)
    record["LastUpdatedDate"] = today(ctx)
    anomaly_store.put(ctx, anomaly_store.SUBSCRIPTIONS, SubscriptionArn, record)
    return {"SubscriptionArn": SubscriptionArn}


def delete_anomaly_subscription(ctx: Context, SubscriptionArn: str) -> Result:
    anomaly_store.subscription(ctx, SubscriptionArn)
    with ctx.store.transaction():
        anomaly_store.delete(ctx, anomaly_store.SUBSCRIPTIONS, SubscriptionArn)
        tagging.drop(ctx.store, ctx.account_id, SubscriptionArn)
    return {}


OPERATIONS: dict[str, Handler] = {
    "CreateAnomalySubscription": create_anomaly_subscription,
    "GetAnomalySubscriptions": get_anomaly_subscriptions,
    "UpdateAnomalySubscription": update_anomaly_subscription,
    "DeleteAnomalySubscription": delete_anomaly_subscription,
}
