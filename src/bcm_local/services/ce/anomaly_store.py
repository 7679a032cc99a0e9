"""Where Cost Anomaly Detection keeps its records (the store, across restarts with
--data-dir), and how they are found.

Namespaces, keys `<account>::<arn>` (feedback: `<account>::<anomaly id>`):
- `ce-anomaly-monitors`: the monitor as GetAnomalyMonitors lists it (MonitorArn,
  MonitorName, CreationDate, LastUpdatedDate, MonitorType, MonitorDimension?,
  MonitorSpecification?) plus `created`, the instant it was made (the listing order);
- `ce-anomaly-subscriptions`: the subscription as GetAnomalySubscriptions lists it plus
  `created`;
- `ce-anomaly-feedback`: {AnomalyId, MonitorArn, Feedback}.
"""

from __future__ import annotations

from typing import Any

from bcm_local.billing import definitions
from bcm_local.runtime import Context
from bcm_local.wire.errors import AwsError

MONITORS = "ce-anomaly-monitors"
SUBSCRIPTIONS = "ce-anomaly-subscriptions"
FEEDBACK = "ce-anomaly-feedback"
Record = dict[str, Any]

# the ARN's resource type -> the namespace of its records
_BY_TYPE = {
    "anomalymonitor": MONITORS,
    "anomalysubscription": SUBSCRIPTIONS,
    "costcategory": definitions.CATEGORIES,
}


def arn(ctx: Context, kind: str, name: str) -> str:
    return f"arn:aws:ce::{ctx.account_id}:{kind}/{name}"


def records(ctx: Context, namespace: str) -> list[Record]:
    """The account's records, oldest first."""
    found = ctx.store.scan(namespace, f"{ctx.account_id}::")
    return [r.value for r in sorted(found, key=lambda r: (str(r.value.get("created")), r.key))]


def get(ctx: Context, namespace: str, name: str) -> Record | None:
    found: Record | None = ctx.store.get(namespace, definitions.key(ctx.account_id, name))
    return found


def put(ctx: Context, namespace: str, name: str, record: Record) -> None:
    ctx.store.put(namespace, definitions.key(ctx.account_id, name), record)


def delete(ctx: Context, namespace: str, name: str) -> None:
    ctx.store.delete(namespace, definitions.key(ctx.account_id, name))


def monitor(ctx: Context, monitor_arn: str) -> Record:
    found = get(ctx, MONITORS, monitor_arn)
    if found is None:
        raise AwsError("UnknownMonitorException", f"Cost anomaly monitor {monitor_arn} not found.")
    return found


def subscription(ctx: Context, subscription_arn: str) -> Record:
    found = get(ctx, SUBSCRIPTIONS, subscription_arn)
    if found is None:
        raise AwsError(
            "UnknownSubscriptionException",
            f"Cost anomaly subscription {subscription_arn} not found.",
        )
    return found


def chosen(ctx: Context, namespace: str, arns: list[str] | None) -> list[Record]:
    """The records a Get*List names, each once and in its order (an unknown one is its
    Unknown*Exception), or all of the account's when it names none."""
    if not arns:
        return records(ctx, namespace)
    find = monitor if namespace == MONITORS else subscription
    return [find(ctx, arn) for arn in dict.fromkeys(arns)]


def exists(ctx: Context, resource_arn: str) -> bool:
    """Whether `resource_arn` names one of the account's ce resources (a cost category
    still in force, a monitor, a subscription)."""
    kind = resource_arn.rsplit(":", 1)[-1].split("/", 1)[0]
    namespace = _BY_TYPE.get(kind)
    if namespace is None:
        return False
    record = get(ctx, namespace, resource_arn)
    return record is not None and record.get("ended") is None
