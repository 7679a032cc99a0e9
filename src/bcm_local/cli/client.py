"""What the commands that talk to a running server share: their common arguments, where
the server is, its summary, one-line errors (CliError) and rich tables."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

DEFAULT_ACCOUNT = "000000000000"


class CliError(Exception):
    """A failure worth one line on stderr."""


# -- arguments ---------------------------------------------------------------------------


def common_arguments() -> argparse.ArgumentParser:
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
