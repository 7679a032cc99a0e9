"""Report definitions in the store, account-scoped under `<accountId>::<reportArn>`.

A record holds the definition as AWS returns it, the ReportStatus of the last delivery
(absent until a delivery was attempted) and a stable 64-hex reportId for manifests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from bcm_local.services import pagination
from bcm_local.store import Store

NS = "cur-report"
PAGE_SIZE = 5  # the model fixes MaxResults at 5

_DEFAULTS: dict[str, Any] = {
    "AdditionalArtifacts": [],
    "RefreshClosedReports": True,
    "ReportVersioning": "CREATE_NEW_REPORT",
}
_ORDER = (
    "ReportName",
    "TimeUnit",
    "Format",
    "Compression",
    "AdditionalSchemaElements",
    "S3Bucket",
    "S3Prefix",
    "S3Region",
    "AdditionalArtifacts",
    "RefreshClosedReports",
    "ReportVersioning",
    "BillingViewArn",
)


def report_arn(account_id: str, name: str) -> str:
    return f"arn:aws:cur:us-east-1:{account_id}:definition/{name}"


def key(account_id: str, name: str) -> str:
    return f"{account_id}::{report_arn(account_id, name)}"


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def normalise(given: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored form of a request's ReportDefinition.

    Optional scalars left out keep `base`'s value (the stored report on Modify) or AWS's
    default; a left-out list means an empty one, since SDKs omit empty lists.
    """
    fallback = {**_DEFAULTS, **{k: v for k, v in (base or {}).items() if k in _ORDER}}
    merged: dict[str, Any] = {}
    for field in _ORDER:
        value = given.get(field)
        if value is None and field != "AdditionalArtifacts":
            value = fallback.get(field)
        if field in ("AdditionalArtifacts", "AdditionalSchemaElements"):
            value = _unique(value or [])
        if value is not None:
            merged[field] = value
    return merged


def new_record(account_id: str, definition: dict[str, Any], created: float) -> dict[str, Any]:
    seed = f"{account_id}/{definition['ReportName']}/{created}".encode()
    return {
        "Definition": definition,
        "ReportId": hashlib.sha256(seed).hexdigest(),
        "CreatedAt": created,
    }


def get(store: Store, account_id: str, name: str) -> dict[str, Any] | None:
    return store.get(NS, key(account_id, name))


def count(store: Store, account_id: str) -> int:
    return store.count(NS, f"{account_id}::")


def describe(record: dict[str, Any]) -> dict[str, Any]:
    """The ReportDefinition shape DescribeReportDefinitions returns."""
    out = dict(record["Definition"])
    if record.get("ReportStatus"):
        out["ReportStatus"] = dict(record["ReportStatus"])
    return out


def page(
    store: Store, account_id: str, token: str | None, on_bad_token: Callable[[str], Exception]
) -> tuple[list[dict[str, Any]], str | None]:
    rows, next_token = pagination.page(store, NS, f"{account_id}::", PAGE_SIZE, token, on_bad_token)
    return [r.value for r in rows], next_token


def all_reports(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """Every account's reports as (account id, record), for the daily job."""
    return [(r.key.split("::", 1)[0], r.value) for r in store.scan(NS)]


def set_status(
    store: Store,
    account_id: str,
    name: str,
    status: dict[str, str],
    closed_periods: list[str] | None = None,
) -> bool:
    """Record a delivery's outcome (and the closed months it delivered); False if the
    report was deleted meanwhile."""
    with store.transaction():
        record = get(store, account_id, name)
        if record is None:
            return False
        record["ReportStatus"] = status
        if closed_periods is not None:
            record["ClosedPeriodsDelivered"] = closed_periods
        store.put(NS, key(account_id, name), record)
    return True
