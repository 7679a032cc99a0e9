"""`bcm-local` command line: `serve` runs the emulator."""

from __future__ import annotations

import argparse
import logging
import signal
import sqlite3
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

from bcm_local import __version__, settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bcm-local",
        description="Local emulator of AWS Data Exports (bcm-data-exports), legacy CUR and S3.",
    )
    parser.add_argument("--version", action="version", version=f"bcm-local {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the emulator server")
    settings.add_arguments(serve)
    commands.add_parser("settings", help="print the settings table (markdown)")
    from bcm_local.delivery import emit

    emit.add_parser(commands)
    from bcm_local.cli import commands as client_commands

    client_commands.add_parsers(commands)
    return parser


def _uvicorn(app: Any, config: settings.Config) -> None:
    import uvicorn

    class _GracefulServer(uvicorn.Server):
        """uvicorn re-raises SIGINT/SIGTERM after shutting down; a clean stop exits 0."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    _GracefulServer(
        uvicorn.Config(
            app,
            host=config.host,
            port=int(config.port),
            log_level=str(config.log_level),
            server_header=False,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
        )
    ).run()


def serve(config: settings.Config) -> int:
    from bcm_local.runtime import Runtime
    from bcm_local.server import httpd
    from bcm_local.server.app import App

    # a file-size limit (ulimit -f) must fail the write (EFBIG), not kill the server
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    level = str(config.log_level).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        runtime = Runtime(config)
    except (OSError, ValueError, sqlite3.Error) as err:
        print(f"bcm-local: cannot use data directory {config.data_dir!r}: {err}", file=sys.stderr)
        return 2
    where = runtime.root if runtime.persistent else "memory"
    logging.getLogger("bcm_local").info(
        "bcm-local %s on http://%s:%s (state: %s)", __version__, config.host, config.port, where
    )
    app = App(runtime)
    try:
        if config.http_server == "uvicorn":
            _uvicorn(app, config)
        else:
            httpd.run(app, config.host, int(config.port))
    except OSError as err:
        runtime.close()
        print(f"bcm-local: cannot listen on {config.host}:{config.port}: {err}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "settings":
        print(settings.markdown_table())
        return 0
    if args.command == "emit":
        from bcm_local.delivery import emit

        return emit.run(args)
    from bcm_local.cli import commands

    if args.command in commands.COMMANDS:
        return commands.run(args)
    try:
        config = settings.load(flags=vars(args))
    except ValueError as err:
        print(f"bcm-local: {err}", file=sys.stderr)
        return 2
    from bcm_local.billing.scenario.files import scenario_problem

    problem = scenario_problem(str(config.billing_scenario))
    if problem:
        print(f"bcm-local: {problem}", file=sys.stderr)
        return 2
    return serve(config)
