"""The bill a Cost Explorer call reads: the account's facts (billing/queries), kept built
per bill version; the checks every call makes on it (enabled, rate, billing view, the
interval against the data there is)."""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from datetime import datetime

from bcm_local.billing.expressions import filters
from bcm_local.billing.queries import facts
from bcm_local.billing.queries.cache import BillCache
from bcm_local.billing.queries.facts import Facts
from bcm_local.billing.queries.timespan import Span, invalid, naive, stamp
from bcm_local.runtime import Context, Runtime
from bcm_local.services import billing_views
from bcm_local.wire.errors import AwsError

DAILY: BillCache[Facts] = BillCache(facts.daily, keep=4)
HOURLY: BillCache[Facts] = BillCache(facts.hourly, keep=2)

_CALLS: weakref.WeakKeyDictionary[Runtime, dict[str, deque[float]]] = weakref.WeakKeyDictionary()
_CALLS_LOCK = threading.Lock()


def throttle(ctx: Context) -> None:
    """LimitExceededException above BCM_LOCAL_CE_REQUESTS_PER_SECOND calls per second and
    account (a sliding one-second window; measured on the machine's monotonic clock,
    since a rate is a duration)."""
    limit = float(ctx.config.ce_requests_per_second)
    if limit <= 0:
        return
    now = time.monotonic()
    with _CALLS_LOCK:
        calls = _CALLS.setdefault(ctx.runtime, {}).setdefault(ctx.account_id, deque())
        while calls and calls[0] <= now - 1.0:
            calls.popleft()
        if len(calls) >= limit:
            raise AwsError("LimitExceededException", "You have exceeded the rate limit.")
        calls.append(now)


def scoped(ctx: Context, arn: str | None, where: str, *, resources: bool = False) -> str:
    """`where` restricted to the slice of the billing view `arn` (services/billing_views.py):
    the primary view (or none) is the whole bill. Another account's view is refused
    (AccessDeniedException), an unknown one is a ResourceNotFoundException."""
    if arn is None:
        return where
    try:
        expression = billing_views.scope(ctx.store, ctx.account_id, arn)
        low, high = billing_views.time_range(ctx.store, ctx.account_id, arn)
    except AwsError as err:
        if err.code != "ResourceNotFoundException":
            raise
        raise AwsError(
            "ResourceNotFoundException", f"Billing view {arn} does not exist.", ResourceName=arn
        ) from None
    parts = [where]
    if expression is not None:
        parts.append(filters.condition(expression, resources=resources))
    if low is not None:
        parts.append(f"t >= TIMESTAMP '{naive(low):%Y-%m-%d %H:%M:%S}'")
    if high is not None:
        parts.append(f"t <= TIMESTAMP '{naive(high):%Y-%m-%d %H:%M:%S}'")
    return " AND ".join(f"({p})" for p in parts)


def for_call(ctx: Context, granularity: str = "DAILY") -> Facts:
    throttle(ctx)
    if granularity == "HOURLY":
        if not ctx.config.ce_hourly:
            raise invalid(
                "Hourly granularity is not enabled: turn on hourly data (BCM_LOCAL_CE_HOURLY)."
            )
        return HOURLY.get(ctx.runtime, ctx.account_id)[0]
    return DAILY.get(ctx.runtime, ctx.account_id)[0]


def available(bill: Facts, span: Span, now: datetime) -> None:
    """DataUnavailableException before the bill's first month; a Start after today is a
    ValidationException, as in AWS."""
    if span.start < bill.first:
        raise AwsError(
            "DataUnavailableException",
            f"Data is not available for {stamp(span.start, 'DAILY')}: the bill starts on "
            f"{stamp(bill.first, 'DAILY')}.",
        )
    if span.start > now:
        raise invalid("Start date must be equal to or no later than the current date.")
