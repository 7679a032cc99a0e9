"""When reports are delivered: FLOCI_SERVICES_CUR_EMIT_MODE.

`synchronous` delivers a report before Put/ModifyReportDefinition returns, `daily` hands
every report to the one shared scheduler, `off` never delivers (management plane only).
"""

from __future__ import annotations

import logging

from bcm_local.runtime import Context, Runtime

log = logging.getLogger("bcm_local.cur")
JOB = "cur"


async def after_change(ctx: Context, name: str) -> None:
    mode = ctx.config.cur_emit_mode
    if mode == "synchronous":
        from bcm_local.services.cur import delivery

        await ctx.runtime.run_blocking(delivery.deliver, ctx.runtime, ctx.account_id, name)
    elif mode == "daily":
        ensure_scheduled(ctx.runtime)


def ensure_scheduled(runtime: Runtime) -> None:
    """Register the daily job once: at server start (registry hook) and on first use."""
    if runtime.config.cur_emit_mode != "daily" or JOB in runtime.scheduler.jobs:
        return

    def job() -> None:
        from bcm_local.services.cur import delivery

        delivery.deliver_all(runtime)

    runtime.scheduler.register(JOB, job)
