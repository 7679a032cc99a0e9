"""`bcm-local status` and `bcm-local exports list|get|run`: a running server, seen from a shell.

`status` reads the console's /_bcm_local/api/summary; `exports` (cli_exports.py) calls the
Data Exports API through botocore like any AWS client would (the account is the access key,
as everywhere in the emulator). Output is rich tables, or JSON with --json. Errors are one
line on stderr and exit status 1 (for example when no server is listening).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any

from bcm_local.units import size

COMMANDS = ("status", "exports")
DEFAULT_ACCOUNT = "000000000000"


class CliError(Exception):
    """A failure worth one line on stderr."""


# -- arguments ---------------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("server")
    where.add_argument(
        "--endpoint",
        metavar="URL",
        help="URL of the running emulator (default http://127.0.0.1:<port>)",
    )
    where.add_argument(
        "--port",
        type=int,
        help="port of the emulator on this machine (default $BCM_LOCAL_PORT or 4566)",
    )
    where.add_argument(
        "--account",
        default=DEFAULT_ACCOUNT,
        metavar="ID",
        help="12-digit account to act as (sent as the access key; default %(default)s)",
    )
    where.add_argument(
        "--region", default="us-east-1", help="region of the API calls (default %(default)s)"
    )
    where.add_argument(
        "--secret-key",
        default="test",
        metavar="SECRET",
        help="secret the calls are signed with; matters only to a server in strict-auth mode "
        "(BCM_LOCAL_CREDENTIALS, default test:test). The access key is `test` for the "
        "default account and the --account id otherwise",
    )
    common.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return common


def add_parsers(commands: Any) -> None:
    common = _common()
    commands.add_parser(
        "status",
        parents=[common],
        help="show whether a server runs on the port, its services and what it holds",
        description="Ask the emulator at --endpoint (or 127.0.0.1:--port) for its version, "
        "services, emit modes and counts (exports, executions, legacy CUR reports, buckets, "
        "objects) for --account and for all accounts. Exit status 1 when no server answers.",
    )
    exports = commands.add_parser(
        "exports",
        help="list, show or run Data Exports of a running server",
        description="A convenience over the bcm-data-exports API of a running emulator.",
    )
    sub = exports.add_subparsers(dest="exports_command", required=True, metavar="{list,get,run}")
    sub.add_parser(
        "list",
        parents=[common],
        help="the account's exports: name, table, destination, status, last refresh",
        description="ListExports and GetExport for each: one row per export of --account.",
    )
    get = sub.add_parser(
        "get",
        parents=[common],
        help="one export: its SQL, destination, status, executions and files",
        description="GetExport, ListExecutions and the export's files in S3.",
    )
    get.add_argument("name", metavar="NAME", help="export name (or its ARN)")
    get.add_argument(
        "--executions",
        type=int,
        default=10,
        metavar="N",
        help="show the N latest executions (default %(default)s)",
    )
    run = sub.add_parser(
        "run",
        parents=[common],
        help="run an export now and wait for its execution",
        description="Data Exports has no 'run' operation: this calls UpdateExport with the "
        "export's unchanged definition, which in the server's `synchronous` emit mode "
        "(FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE, the default) creates exactly one "
        "execution and delivers before returning. In `daily` or `off` mode nothing runs "
        "and the command says so. Exit status 0 when the execution ends in "
        "DELIVERY_SUCCESS, 1 otherwise.",
    )
    run.add_argument("name", metavar="NAME", help="export name (or its ARN)")


def run(args: argparse.Namespace) -> int:
    from bcm_local import cli_exports

    handlers = {
        "status": status,
        "list": cli_exports.exports_list,
        "get": cli_exports.exports_get,
        "run": cli_exports.exports_run,
    }
    name = args.command if args.command == "status" else args.exports_command
    try:
        if not re.fullmatch(r"\d{12}", args.account):
            raise CliError(f"--account must be 12 digits, not {args.account!r}")
        return handlers[name](args)
    except CliError as err:
        print(f"bcm-local: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `bcm-local exports list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def endpoint(args: argparse.Namespace) -> str:
    if args.endpoint:
        return str(args.endpoint).rstrip("/")
    host = os.environ.get("BCM_LOCAL_HOST", "127.0.0.1")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    port = args.port or os.environ.get("BCM_LOCAL_PORT", "4566")
    return f"http://{host}:{port}"


def not_running(url: str) -> CliError:
    return CliError(f"no bcm-local server is running at {url} (start one with `bcm-local serve`)")


# -- status ------------------------------------------------------------------------------


def fetch_summary(url: str, account: str) -> dict[str, Any]:
    import urllib.error
    import urllib.request

    target = f"{url}/_bcm_local/api/summary?account={account}"
    try:
        with urllib.request.urlopen(target, timeout=10) as resp:
            body: dict[str, Any] = json.load(resp)
    except urllib.error.HTTPError as err:
        raise CliError(f"{url} answered {err.code}: it is not a bcm-local server") from None
    except (urllib.error.URLError, OSError):
        raise not_running(url) from None
    except ValueError:
        raise CliError(f"{url} answered, but it is not a bcm-local server") from None
    if "version" not in body:
        raise CliError(f"{url} answered, but it is not a bcm-local server")
    return body


def console() -> Any:
    from rich.console import Console

    # A pipe gets long lines rather than wrapped cells (COLUMNS still wins).
    wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    return Console(highlight=False, soft_wrap=False, width=wide)


def table(title: str, *columns: str) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, title_style="bold")
    for n, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=n == 0)
    return table


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
