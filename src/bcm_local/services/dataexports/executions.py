"""Executions: one run of an export, INITIATION_IN_PROCESS -> ... -> DELIVERY_SUCCESS.

Every transition is persisted on its own, so GetExecution shows a run in progress and a
crash leaves evidence that start-up turns into DELIVERY_FAILURE / INTERNAL_FAILURE. A run
whose export is deleted meanwhile stops writing: its records went with the export.
`execute` blocks (it delivers); the API runs it in a worker, the `daily` scheduler in its
own thread. This module is imported at server start, so delivery is imported lazily.
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Any

from bcm_local.runtime import Context, Runtime
from bcm_local.services import billing_views, pagination
from bcm_local.services.dataexports import exports
from bcm_local.services.dataexports.exports import EXECUTIONS, EXPORTS
from bcm_local.store import Record, Store
from bcm_local.wire.errors import AwsError, not_found

log = logging.getLogger("bcm_local.dataexports")

IN_PROGRESS = frozenset(
    ("INITIATION_IN_PROCESS", "QUERY_QUEUED", "QUERY_IN_PROCESS", "DELIVERY_IN_PROCESS")
)
REASONS = frozenset(("INSUFFICIENT_PERMISSION", "BILL_OWNER_CHANGED", "INTERNAL_FAILURE"))
DAILY_JOB = "bcm-data-exports"


def _key(account_id: str, arn: str, execution_id: str) -> str:
    return f"{exports.key(account_id, arn)}::{execution_id}"


def _begin(runtime: Runtime, account_id: str, arn: str) -> tuple[str, dict[str, Any], float] | None:
    """A new execution record with a snapshot of the export; None if the export is gone."""
    store = runtime.store
    with store.transaction():
        record = exports.find(store, account_id, arn)
        if record is None:
            return None
        execution_id, now = str(uuid.uuid4()), runtime.clock.time()
        status = {"StatusCode": "INITIATION_IN_PROCESS", "CreatedAt": now, "LastUpdatedAt": now}
        store.put(
            EXECUTIONS,
            _key(account_id, arn, execution_id),
            {"ExecutionId": execution_id, "ExecutionStatus": status, "Export": record["Export"]},
        )
    return execution_id, record["Export"], now


def _advance(
    runtime: Runtime,
    account_id: str,
    arn: str,
    execution_id: str,
    code: str,
    reason: str | None = None,
) -> bool:
    """Move the execution to `code`; an end state also updates the export's status.
    False when the execution no longer exists (its export was deleted)."""
    record_key = _key(account_id, arn, execution_id)
    store, now = runtime.store, runtime.clock.time()
    with store.transaction():
        record = store.get(EXECUTIONS, record_key)
        if record is None:
            return False
        status = record["ExecutionStatus"]
        # a pinned clock starts again at BCM_LOCAL_NOW after a restart: never before the
        # execution's own last step (a run recovered at start-up)
        now = max(now, float(status.get("LastUpdatedAt") or now))
        status.update(StatusCode=code, LastUpdatedAt=now)
        if code not in IN_PROGRESS:
            status["CompletedAt"] = now
            if reason is not None:
                status["StatusReason"] = reason
            exports.record_outcome(store, account_id, arn, reason, now)
        store.put(EXECUTIONS, record_key, record)
    return True


def execute(runtime: Runtime, account_id: str, arn: str) -> str | None:
    """Run the export once (blocking); the execution id, or None if the export is gone."""
    begun = _begin(runtime, account_id, arn)
    if begun is None:
        return None
    execution_id, export, started = begun
    step = functools.partial(_advance, runtime, account_id, arn, execution_id)
    if not (step("QUERY_QUEUED") and step("QUERY_IN_PROCESS")):
        return execution_id
    if not _query_ok(runtime, export):
        step("QUERY_FAILURE", "INTERNAL_FAILURE")
        return execution_id
    if step("DELIVERY_IN_PROCESS"):
        reason = _deliver(runtime, account_id, export, execution_id, started)
        step("DELIVERY_SUCCESS" if reason is None else "DELIVERY_FAILURE", reason)
    return execution_id


def _query_ok(runtime: Runtime, export: dict[str, Any]) -> bool:
    try:
        exports.query_table(export["DataQuery"], bool(runtime.config.strict_sql))
    except AwsError as err:
        log.warning("query of %s is no longer valid: %s", export.get("ExportArn"), err.message)
        return False
    return True


def _deliver(
    runtime: Runtime, account_id: str, export: dict[str, Any], execution_id: str, now: float
) -> str | None:
    """None after a good delivery, else the failure's StatusReason."""
    from bcm_local.delivery.exports import DeliveryError, deliver_export

    configured = (export["DataQuery"].get("TableConfigurations") or {}).values()
    arn = next((p["BILLING_VIEW_ARN"] for p in configured if p.get("BILLING_VIEW_ARN")), None)
    try:  # the view's slice, as it is now (its owner may have changed it since)
        view = billing_views.scope(runtime.store, account_id, arn)
    except AwsError as err:
        log.warning("export %s cannot read its billing view: %s", export.get("ExportArn"), err)
        return "INSUFFICIENT_PERMISSION"
    try:
        deliver_export(runtime, account_id, export, execution_id, now, view)
    except DeliveryError as err:
        reason = str(getattr(err, "reason", "") or (err.args[0] if err.args else ""))
        return reason if reason in REASONS else "INTERNAL_FAILURE"
    except Exception:
        log.exception("delivery of %s failed", export.get("ExportArn"))
        return "INTERNAL_FAILURE"
    return None


async def emit(ctx: Context, arn: str) -> None:
    """What the emit mode does after a successful CreateExport or UpdateExport."""
    mode = ctx.config.bcm_data_exports_emit_mode
    if mode == "synchronous":
        await ctx.runtime.run_blocking(execute, ctx.runtime, ctx.account_id, arn)
    elif mode == "daily":
        ensure_daily(ctx.runtime)


def run_all(runtime: Runtime) -> None:
    """The `daily` job: one execution of every export of every account."""
    for account_id, arn in exports.all_exports(runtime.store):
        execute(runtime, account_id, arn)


def ensure_daily(runtime: Runtime) -> None:
    if DAILY_JOB not in runtime.scheduler.jobs:
        runtime.scheduler.register(DAILY_JOB, functools.partial(run_all, runtime))


def recover(runtime: Runtime) -> int:
    """Mark executions a crash left in progress as failed; how many there were."""
    store = runtime.store
    stuck = [
        r for r in store.scan(EXECUTIONS) if r.value["ExecutionStatus"]["StatusCode"] in IN_PROGRESS
    ]
    for record in stuck:
        account_id, _, rest = record.key.partition("::")
        arn, _, execution_id = rest.rpartition("::")
        _advance(runtime, account_id, arn, execution_id, "DELIVERY_FAILURE", "INTERNAL_FAILURE")
    return len(stuck)


def startup(runtime: Runtime) -> None:
    """Server start: fail interrupted runs; resume the daily schedule of stored exports."""
    recovered = recover(runtime)
    if recovered:
        log.warning("marked %d interrupted bcm-data-exports executions as failed", recovered)
    if runtime.config.bcm_data_exports_emit_mode == "daily" and runtime.store.count(EXPORTS):
        ensure_daily(runtime)


def get(store: Store, account_id: str, arn: str, execution_id: str) -> dict[str, Any]:
    exports.require(store, account_id, arn)
    record = store.get(EXECUTIONS, _key(account_id, arn, execution_id))
    if record is None:
        raise not_found(f"Execution {execution_id} not found.", execution_id, "Execution")
    return record


def page(
    store: Store, account_id: str, arn: str, max_results: int, token: str | None
) -> tuple[list[Record], str | None]:
    exports.require(store, account_id, arn)
    prefix = exports.key(account_id, arn) + "::"
    return pagination.page(store, EXECUTIONS, prefix, max_results, token, exports.bad_token)
