"""`bcm-local` command line: `serve` runs the emulator."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import FrameType

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
    return parser


def serve(config: settings.Config) -> int:
    import uvicorn

    class _GracefulServer(uvicorn.Server):
        """uvicorn re-raises SIGINT/SIGTERM after shutting down; a clean stop exits 0."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    from bcm_local.runtime import Runtime
    from bcm_local.server.app import App

    level = str(config.log_level).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        runtime = Runtime(config)
    except (OSError, ValueError) as err:
        print(f"bcm-local: cannot use data directory {config.data_dir!r}: {err}", file=sys.stderr)
        return 2
    where = runtime.root if runtime.persistent else "memory"
    logging.getLogger("bcm_local").info(
        "bcm-local %s on http://%s:%s (state: %s)", __version__, config.host, config.port, where
    )
    server = _GracefulServer(
        uvicorn.Config(
            App(runtime),
            host=config.host,
            port=int(config.port),
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
            log_level=str(config.log_level),
            server_header=False,
            date_header=True,
        )
    )
    server.run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "settings":
        print(settings.markdown_table())
        return 0
    try:
        config = settings.load(flags=vars(args))
    except ValueError as err:
        print(f"bcm-local: {err}", file=sys.stderr)
        return 2
    return serve(config)
