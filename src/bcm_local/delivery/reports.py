"""Writing one legacy CUR report's delivery: its billing periods through the pipeline
with the legacy layout (layouts/legacy/), into the report's bucket."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcm_local.billing.scenario.periods import month_start
from bcm_local.delivery.layouts.legacy.layout import LegacyLayout
from bcm_local.delivery.pipeline import BillRequest, deliver
from bcm_local.delivery.writer import chunk_bytes
from bcm_local.runtime import Runtime

if TYPE_CHECKING:
    from bcm_local.delivery.sink import ObjectSink


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
        if int(runtime.config.export_workers) > 1:
            return _write_sharded(runtime, sink, layout, request, scratch)
        return deliver(runtime, runtime.config, sink, request, layout, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_sharded(
    runtime: Runtime, sink: ObjectSink, layout: LegacyLayout, request: BillRequest, scratch: Path
) -> list[str]:
    """The report's delivery as shards on BCM_LOCAL_EXPORT_WORKERS processes (resource or
    account groups of BCM_LOCAL_EXPORT_SHARDS a period, delivery/shards/legacy.py), then
    each period's stale files removed, its artifacts and its manifest, as `deliver` does."""
    from bcm_local.billing import bill, tables
    from bcm_local.billing.scenario.files import scenario_of
    from bcm_local.delivery.pipeline import Run, Selection
    from bcm_local.delivery.shards import Shard, ShardKey, split
    from bcm_local.delivery.shards.finish import by_period, complete, move_in
    from bcm_local.delivery.shards.local import run_shards
    from bcm_local.delivery.shards.plan import key_for, periods_of

    config = runtime.config
    definition = layout.definition
    external = bool(config.delivery_s3_endpoint)
    written = layout.before(sink)
    scenario = scenario_of(str(config.billing_scenario))
    groups = int(config.export_shards)
    by, groups = key_for(tables.CUR2, layout.properties, None, groups, scenario)
    base = Shard(
        key=ShardKey(""),
        delivery=layout.report_id,
        period_index=0,
        values=dict(config.values),
        scenario=scenario,
        account_id=request.account_id,
        moment=request.moment,
        statement=f"SELECT * FROM {tables.CUR2}",
        table=tables.CUR2,
        properties=layout.properties,
        fmt="PARQUET" if definition["Format"] == "Parquet" else "TEXT_OR_CSV",
        name=definition["ReportName"],
        target=f"s3://{definition['S3Bucket']}" if external else str(scratch / "shards"),
        bucket=definition["S3Bucket"],
        inputs=bill.inputs_of(runtime, request.account_id),
        view=request.view,
        backfill_months=request.backfill_months,
        report=definition,
        report_id=layout.report_id,
    )
    periods = {p.index: p for p in periods_of(base)}
    paths = layout.plan(list(periods.values()))
    tasks = [
        replace(t, assembly=paths[t.period_index].assembly_id)
        for t in split(base, by, groups)
        if t.period_index in paths
    ]
    con = bill.connect(scratch)
    try:
        run = Run(config, sink, scratch, con, None, written=written)  # type: ignore[arg-type]
        if any(p.athena for p in paths.values()):
            layout.status(run, "UPDATING")
        done = complete(tasks, run_shards(tasks, int(config.export_workers)))
        for index, found in by_period(tasks, done):
            period = periods[index]
            keys = [k for r in found for k in r.keys]
            if not external:
                move_in(sink, found, base.target, paths[index].content_type)
            run.written += keys
            layout.know_columns(period, found[0].legacy_columns or [])
            layout.finish_partition(run, period, keys, Selection("", [], base.fmt))
        layout.end(run)
    finally:
        con.close()
    return run.written
