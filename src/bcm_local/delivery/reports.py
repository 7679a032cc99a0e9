"""Writing one legacy CUR report's delivery: its billing periods through the pipeline
with the legacy layout (layouts/legacy/), into the report's bucket."""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime
from typing import Any

from bcm_local.billing.scenario.periods import month_start
from bcm_local.delivery.layouts.legacy.layout import LegacyLayout
from bcm_local.delivery.pipeline import BillRequest, deliver
from bcm_local.delivery.writer import chunk_bytes
from bcm_local.runtime import Runtime


def write_report(
    runtime: Runtime,
    account_id: str,
    record: dict[str, Any],
    periods: list[tuple[datetime, datetime]],
    now: datetime,
    view: dict[str, Any] | None = None,
) -> list[str]:
    """Deliver the report's billing periods [start, end) as of `now`; returns the keys
    written. `view`: the slice its BillingViewArn lets through (None: the whole bill).

    Raises the sink's NoSuchBucketError / AccessDeniedError before writing anything when
    the bucket is missing or belongs to another account."""
    from bcm_local.delivery.sink import open_sink

    definition = record["Definition"]
    sink = open_sink(runtime, account_id, definition["S3Bucket"])
    scratch = sink.scratch_dir() / f"cur-{uuid.uuid4().hex}"
    scratch.mkdir(parents=True)
    starts = [s for s, _ in periods]
    layout = LegacyLayout(
        definition, account_id, record["ReportId"], starts, now, chunk_bytes(runtime.config)
    )
    current = month_start(now)
    # the bill reaches back to the earliest month asked for
    back = max((current.year - s.year) * 12 + current.month - s.month for s in starts)
    request = BillRequest(account_id, now, layout.properties["TIME_GRANULARITY"], back, view)
    try:
        return deliver(runtime, runtime.config, sink, request, layout, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
