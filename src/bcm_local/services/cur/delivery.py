"""Delivering legacy Cost and Usage Reports, and keeping their ReportStatus truthful.

`deliver` runs one report's delivery (in a worker thread) and records its outcome as
AWS does: SUCCESS, ERROR_NO_BUCKET when the bucket does not exist, ERROR_PERMISSIONS
when it belongs to another account.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bcm_local.runtime import Runtime
from bcm_local.services import billing_views
from bcm_local.services.cur import definitions
from bcm_local.wire.errors import AwsError

log = logging.getLogger("bcm_local.cur")


def deliver(runtime: Runtime, account_id: str, name: str) -> str | None:
    """Deliver one report now; returns its lastStatus.

    None when the report is gone, or when the delivery failed for a reason none of AWS's
    three statuses describes (logged; the previous status stays), so a request that
    triggered it still succeeds.
    """
    record = definitions.get(runtime.store, account_id, name)
    if record is None:
        return None
    try:
        outcome = _attempt(runtime, account_id, record)
    except Exception:
        log.exception("delivery of report %s of account %s failed", name, account_id)
        return None
    closed = outcome.pop("closed", None)
    definitions.set_status(runtime.store, account_id, name, outcome, closed)
    return str(outcome["lastStatus"])


def deliver_all(runtime: Runtime) -> None:
    """The daily job: every report of every account."""
    for account_id, record in definitions.all_reports(runtime.store):
        deliver(runtime, account_id, record["Definition"]["ReportName"])


def periods_to_deliver(
    runtime: Runtime, record: dict[str, Any], now: datetime
) -> list[tuple[datetime, datetime]]:
    """The current month, after the closed months the model backfills
    (BCM_LOCAL_BILLING_BACKFILL_MONTHS). With RefreshClosedReports false a closed month is
    delivered once and then left alone, as AWS leaves a finalized report."""
    from bcm_local.billing.scenario.periods import add_months, month_start

    current = month_start(now)
    back = max(0, int(runtime.config.billing_backfill_months))
    done = set(record.get("ClosedPeriodsDelivered", []))
    refresh = record["Definition"].get("RefreshClosedReports", True)
    periods = []
    for months in range(back, 0, -1):
        start = add_months(current, -months)
        if refresh or start.isoformat() not in done:
            periods.append((start, add_months(start, 1)))
    return [*periods, (current, add_months(current, 1))]


def _attempt(runtime: Runtime, account_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """The delivery's outcome: the ReportStatus and the closed months now delivered."""
    from bcm_local.delivery import reports
    from bcm_local.delivery.sink import AccessDeniedError, NoSuchBucketError

    now = runtime.clock.now()
    periods = periods_to_deliver(runtime, record, now)
    outcome: dict[str, Any] = {"lastDelivery": f"{now:%Y%m%dT%H%M%SZ}"}
    try:  # the view's slice, as it is now; a view it may not read is a permissions error
        view = billing_views.scope(
            runtime.store, account_id, record["Definition"].get("BillingViewArn")
        )
    except AwsError:
        return {**outcome, "lastStatus": "ERROR_PERMISSIONS"}
    try:
        reports.write_report(runtime, account_id, record, periods, now, view)
    except NoSuchBucketError:
        return {**outcome, "lastStatus": "ERROR_NO_BUCKET"}
    except AccessDeniedError:
        return {**outcome, "lastStatus": "ERROR_PERMISSIONS"}
    closed = {s.isoformat() for s, _ in periods[:-1]}
    closed |= set(record.get("ClosedPeriodsDelivered", []))
    return {**outcome, "lastStatus": "SUCCESS", "closed": sorted(closed)}
