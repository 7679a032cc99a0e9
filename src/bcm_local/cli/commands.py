"""`bcm-local status` and `bcm-local exports list|get|run`: a running server, seen from a shell.

`status` (status.py) reads the console's /_bcm_local/api/summary; `exports` (exports.py)
calls the Data Exports API through botocore like any AWS client would (the account is the
access key, as everywhere in the emulator). Output is rich tables, or JSON with --json.
Errors are one line on stderr and exit status 1 (for example when no server is listening).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from bcm_local.cli import exports
from bcm_local.cli.client import CliError, common_arguments
from bcm_local.cli.status import status

COMMANDS = ("status", "exports")


def add_parsers(commands: Any) -> None:
    common = common_arguments()
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
    handlers = {
        "status": status,
        "list": exports.exports_list,
        "get": exports.exports_get,
        "run": exports.exports_run,
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
