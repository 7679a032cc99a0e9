"""GetAnomalies and ProvideAnomalyFeedback (`ce`): what each of the account's monitors
(services/ce/anomaly_monitors.py) finds in the account's bill, by the method of
billing/queries/anomalies.py (docs/ce-anomalies.md).

An anomaly's id is derived from its monitor, value and first day, so the same bill gives
the same ids (an anomaly still going on keeps its id as it grows); feedback is kept by id
in the store. Anomalies are kept 90 days after they end, as in AWS; amounts are in
dollars, rounded to the cent. Monitors are evaluated over the whole bill, the days before
they were created included (AWS starts from the day it is created).
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from bcm_local.billing.queries import anomalies
from bcm_local.billing.queries.facts import Facts
from bcm_local.runtime import Context
from bcm_local.services.ce import anomaly_store, answers, bills, paging
from bcm_local.services.ce.anomaly_monitors import invalid, page_size, series
from bcm_local.services.registry import Handler

Result = dict[str, Any]
KEPT_DAYS = 90
_FOUND: answers.Kept[list[anomalies.Detected]] = answers.Kept(1024)
_COMPARE: dict[str, Callable[[float, float, float], bool]] = {
    "EQUAL": lambda x, a, b: x == a,
    "GREATER_THAN_OR_EQUAL": lambda x, a, b: x >= a,
    "LESS_THAN_OR_EQUAL": lambda x, a, b: x <= a,
    "GREATER_THAN": lambda x, a, b: x > a,
    "LESS_THAN": lambda x, a, b: x < a,
    "BETWEEN": lambda x, a, b: a <= x <= b,
}


def anomaly_id(monitor_arn: str, value: str | None, start: date) -> str:
    digest = hashlib.sha256(f"{monitor_arn}\n{value or ''}\n{start}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


def _money(value: float) -> float:
    return round(value, 2)


def _root_cause(bill: Facts, cause: anomalies.RootCause) -> Result:
    out: Result = {
        "Service": cause.service,
        "Region": cause.region,
        "LinkedAccount": cause.account,
    }
    if bill.accounts.get(cause.account):
        out["LinkedAccountName"] = bill.accounts[cause.account]
    out["UsageType"] = cause.usage_type
    out["Impact"] = {"Contribution": _money(cause.contribution)}
    return out


def _anomaly(bill: Facts, monitor_arn: str, found: anomalies.Detected) -> Result:
    impact: Result = {
        "MaxImpact": _money(found.max_impact),
        "TotalImpact": _money(found.impact),
        "TotalActualSpend": _money(found.actual),
        "TotalExpectedSpend": _money(found.expected),
    }
    if found.expected > 0:
        impact["TotalImpactPercentage"] = _money(found.impact / found.expected * 100)
    out: Result = {
        "AnomalyId": anomaly_id(monitor_arn, found.value, found.start),
        "AnomalyStartDate": found.start.isoformat(),
        "AnomalyEndDate": found.end.isoformat(),
    }
    if found.value is not None:
        out["DimensionValue"] = found.value
    out["RootCauses"] = [_root_cause(bill, c) for c in found.root_causes]
    out["AnomalyScore"] = {
        "MaxScore": round(found.max_score, 2),
        "CurrentScore": round(found.current_score, 2),
    }
    out["Impact"] = impact
    out["MonitorArn"] = monitor_arn
    return out


def _detected(ctx: Context, monitors: list[Result]) -> list[Result]:
    """Every anomaly of `monitors` in the bill (kept or not), with its feedback."""
    if not monitors:
        return []
    bill = bills.for_call(ctx)
    now = ctx.clock.now()
    found = []
    for monitor in monitors:
        arn = monitor["MonitorArn"]
        watched = series(monitor)
        key = f"{ctx.account_id}\n{watched.value}\n{watched.where}"
        compute = functools.partial(anomalies.detect, bill, watched, now)
        for detected in _FOUND.get(ctx.runtime, bill, key, compute):
            entry = _anomaly(bill, arn, detected)
            given = anomaly_store.get(ctx, anomaly_store.FEEDBACK, entry["AnomalyId"])
            if given is not None:
                entry["Feedback"] = given["Feedback"]
            found.append(entry)
    return found


def _day(value: str, member: str) -> date:
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        raise invalid(f"{member} {value} is not a date (YYYY-MM-DD).") from None


def _impact_test(given: Result | None) -> Callable[[float], bool]:
    if given is None:
        return lambda impact: True
    low, high = float(given["StartValue"]), given.get("EndValue")
    if given["NumericOperator"] == "BETWEEN":
        if high is None:
            raise invalid("TotalImpact BETWEEN needs an EndValue.")
        if float(high) < low:
            raise invalid("TotalImpact EndValue must not be below StartValue.")
    compare = _COMPARE[given["NumericOperator"]]
    top = float(high) if high is not None else low
    return lambda impact: compare(impact, low, top)


def get_anomalies(
    ctx: Context,
    DateInterval: dict[str, str],
    MonitorArn: str | None = None,
    Feedback: str | None = None,
    TotalImpact: Result | None = None,
    NextPageToken: str | None = None,
    MaxResults: int | None = None,
) -> Result:
    """The anomalies whose AnomalyEndDate falls in DateInterval (EndDate: today by
    default), newest first."""
    size = page_size(MaxResults)
    today = ctx.clock.now().date()
    first = _day(DateInterval["StartDate"], "StartDate")
    last = _day(DateInterval["EndDate"], "EndDate") if DateInterval.get("EndDate") else today
    if last < first:
        raise invalid("DateInterval EndDate must not be before its StartDate.")
    impact_test = _impact_test(TotalImpact)
    if MonitorArn is not None:
        monitors = [anomaly_store.monitor(ctx, MonitorArn)]
    else:
        monitors = anomaly_store.records(ctx, anomaly_store.MONITORS)
    kept = max(first, today - timedelta(days=KEPT_DAYS)).isoformat()
    found = [
        a
        for a in _detected(ctx, monitors)
        if kept <= a["AnomalyEndDate"] <= last.isoformat()
        and (Feedback is None or a.get("Feedback") == Feedback)
        and impact_test(a["Impact"]["TotalImpact"])
    ]
    found.sort(key=lambda a: (a["AnomalyEndDate"], a["AnomalyStartDate"]), reverse=True)
    asked: Result = {"DateInterval": DateInterval, "MonitorArn": MonitorArn}
    asked |= {"Feedback": Feedback, "TotalImpact": TotalImpact, "MaxResults": MaxResults}
    listing = f"ce-anomalies:{ctx.account_id}:{json.dumps(asked, sort_keys=True)}"
    page, token = paging.listed(ctx.store, listing, found, NextPageToken, size)
    return {"Anomalies": page, **({"NextPageToken": token} if token else {})}


def provide_anomaly_feedback(ctx: Context, AnomalyId: str, Feedback: str) -> Result:
    """Feedback on one of the account's anomalies (ValidationException for an id no
    monitor of the account has found)."""
    monitors = anomaly_store.records(ctx, anomaly_store.MONITORS)
    found = next((a for a in _detected(ctx, monitors) if a["AnomalyId"] == AnomalyId), None)
    if found is None:
        raise invalid(f"Anomaly {AnomalyId} does not exist.")
    record = {"AnomalyId": AnomalyId, "MonitorArn": found["MonitorArn"], "Feedback": Feedback}
    anomaly_store.put(ctx, anomaly_store.FEEDBACK, AnomalyId, record)
    return {"AnomalyId": AnomalyId}


OPERATIONS: dict[str, Handler] = {
    "GetAnomalies": get_anomalies,
    "ProvideAnomalyFeedback": provide_anomaly_feedback,
}
