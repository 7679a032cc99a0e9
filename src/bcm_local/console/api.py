"""JSON for `bcm-local status` (/_bcm_local/api/summary), the accounts the emulator knows
and the console's static assets."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from bcm_local import __version__
from bcm_local.console.view import View, json_response, known_accounts, not_found
from bcm_local.runtime import Runtime
from bcm_local.services import registry
from bcm_local.wire.http import Response

_TYPES = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
_RECORD_KINDS = {"exports": "exports", "executions": "executions", "cur_reports": "cur-report"}


def _s3_counts(runtime: Runtime, account: str | None) -> dict[str, int]:
    if not runtime.config.s3_enabled:
        return {"buckets": 0, "objects": 0, "bytes": 0}
    from bcm_local.objects.backend import s3_backend

    backend = s3_backend(runtime)
    if account is not None:
        stats = backend.bucket_stats(account)
        return {
            "buckets": len(stats),
            "objects": sum(s.object_count for s in stats),
            "bytes": sum(s.total_bytes for s in stats),
        }
    with runtime.store.transaction() as db:
        buckets = db.execute("SELECT count(*) FROM s3_buckets").fetchone()[0]
        row = db.execute("SELECT count(*), coalesce(sum(size), 0) FROM s3_objects").fetchone()
    objects, total = row
    return {"buckets": int(buckets), "objects": int(objects), "bytes": int(total)}


def _execution_states(runtime: Runtime, account: str) -> dict[str, int]:
    states: dict[str, int] = {}
    for record in runtime.store.scan("executions", f"{account}::"):
        code = record.value["ExecutionStatus"]["StatusCode"]
        states[code] = states.get(code, 0) + 1
    return dict(sorted(states.items()))


def _clock(runtime: Runtime) -> dict[str, Any]:
    """The emulator's clock: now, and where it was pinned (None: the machine's clock)."""
    clock = runtime.clock
    pinned = clock.pinned.strftime("%Y-%m-%dT%H:%M:%SZ") if clock.pinned else None
    iso = "%Y-%m-%dT%H:%M:%SZ"
    scheduler = runtime.scheduler
    return {
        "now": clock.now().strftime(iso),
        "pinned": pinned,
        "daily_next_run": None
        if scheduler.next_run is None
        else datetime.fromtimestamp(scheduler.next_run, UTC).strftime(iso),
    }


def summary(runtime: Runtime, account: str) -> dict[str, Any]:
    config, store = runtime.config, runtime.store
    mine = {name: store.count(ns, f"{account}::") for name, ns in _RECORD_KINDS.items()}
    everyone = {name: store.count(ns) for name, ns in _RECORD_KINDS.items()}
    return {
        "version": __version__,
        "uptime_seconds": runtime.uptime,
        "clock": _clock(runtime),
        "persistent": runtime.persistent,
        "data_dir": str(runtime.root) if runtime.persistent else None,
        "services": registry.states(config),
        "emit_modes": {
            "bcm-data-exports": config.bcm_data_exports_emit_mode,
            "cur": config.cur_emit_mode,
        },
        "account": {
            "id": account,
            **mine,
            "execution_states": _execution_states(runtime, account),
            **_s3_counts(runtime, account),
        },
        "totals": {
            "accounts": len(known_accounts(runtime)),
            **everyone,
            **_s3_counts(runtime, None),
        },
        "billing": _billing(config),
    }


def _billing(config: Any) -> dict[str, Any]:
    from bcm_local.billing.scenario.files import scenario_problem

    path = str(config.billing_scenario)
    return {
        "scenario": path or "built-in",
        "scenario_error": scenario_problem(path),
        "seed": int(config.billing_seed),
        "backfill_months": int(config.billing_backfill_months),
        "scale": int(config.billing_scale),
    }


def summary_json(view: View) -> Response:
    return json_response(200, summary(view.runtime, view.account))


@cache
def _asset(name: str) -> bytes | None:
    item = resources.files("bcm_local.console").joinpath("static", name)
    return item.read_bytes() if item.is_file() else None


def static_file(view: View) -> Response:
    (name,) = view.match
    data = _asset(name)
    if data is None:
        return not_found()
    kind = _TYPES[name.rsplit(".", 1)[1]]
    headers = [("content-type", f"{kind}; charset=utf-8"), ("cache-control", "no-cache")]
    headers.append(("x-content-type-options", "nosniff"))
    return Response(200, headers, data)
