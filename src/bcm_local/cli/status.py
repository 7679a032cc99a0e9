"""`bcm-local status`: is a server running here, what does it serve and hold, and which
clock does it run on (the console's /_bcm_local/api/summary)."""

from __future__ import annotations

import argparse
import json

from bcm_local.cli.client import console, endpoint, fetch_summary, table
from bcm_local.units import size


def _uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m {secs}s" if hours else f"{minutes}m {secs}s"


def status(args: argparse.Namespace) -> int:
    url = endpoint(args)
    summary = fetch_summary(url, args.account)
    if args.json:
        print(json.dumps({"endpoint": url, **summary}, indent=2))
        return 0
    out = console()
    state = f"data dir {summary['data_dir']}" if summary["persistent"] else "in memory"
    out.print(
        f"[bold green]bcm-local {summary['version']}[/] is running at {url} · "
        f"up {_uptime(summary['uptime_seconds'])} · state {state}"
    )
    clock = summary.get("clock") or {}
    if clock.get("pinned"):
        out.print(f"Clock: pinned at {clock['pinned']} (BCM_LOCAL_NOW) · now {clock['now']}")
    services = table("Services", "Service", "State", "Emit mode")
    for name, state in summary["services"].items():
        mode = summary["emit_modes"].get(name, "—")
        services.add_row(name, state, mode if state == "running" else "—")
    out.print(services)
    mine, everyone = summary["account"], summary["totals"]
    counts = table("Contents", "", f"Account {mine['id']}", "All accounts")
    runs = [(f"  {code}", str(n), "") for code, n in mine["execution_states"].items()]
    rows = (
        ("Exports", str(mine["exports"]), str(everyone["exports"])),
        ("Executions", str(mine["executions"]), str(everyone["executions"])),
        *runs,
        ("Legacy CUR reports", str(mine["cur_reports"]), str(everyone["cur_reports"])),
        ("S3 buckets", str(mine["buckets"]), str(everyone["buckets"])),
        ("S3 objects", str(mine["objects"]), str(everyone["objects"])),
        ("Stored", size(mine["bytes"]), size(everyone["bytes"])),
        ("Accounts with data", "", str(everyone["accounts"])),
    )
    counts.columns[2].justify = counts.columns[1].justify = "right"
    for row in rows:
        counts.add_row(*row)
    out.print(counts)
    billing = summary["billing"]
    out.print(
        f"Billing: scenario {billing['scenario']} · seed {billing['seed']} · "
        f"{billing['backfill_months']} backfilled months · scale {billing['scale']}"
    )
    if billing.get("scenario_error"):
        out.print(f"[bold red]Scenario error:[/] {billing['scenario_error']}", markup=True)
    out.print(f"Console: {url}/_bcm_local/")
    return 0
