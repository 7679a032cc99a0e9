"""`bcm-local emit`: the export pipeline without a server, into a local folder.

Files follow AWS's layout under OUT:
`<name>/data/BILLING_PERIOD=YYYY-MM/<name>-00001.snappy.parquet` (or `.csv.gz`) and
`<name>/metadata/BILLING_PERIOD=YYYY-MM/<name>-Manifest.json`. Progress goes to stderr
when it is a terminal, or always with `--progress`.

`--workers N` (default: one per core) runs the delivery's shards (delivery/shards/) on N
processes: one per billing period, or `--shards M` groups of each period's accounts or
resources (`--shard-by`), whose parts are `<name>-<group>-00001.snappy.parquet`, ...
The files do not depend on N; a single worker with a single shard a period writes the
bill in this process, as one delivery."""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

FORMATS = {"parquet": "PARQUET", "csv": "TEXT_OR_CSV"}


def add_parser(commands: Any) -> None:
    emit = commands.add_parser("emit", help="write export files for a table to a local folder")
    emit.add_argument("--table", help="table name (default: the query's table)")
    emit.add_argument("--query", help="export SQL (default: SELECT * FROM <table>)")
    emit.add_argument("--format", choices=sorted(FORMATS), default="parquet")
    emit.add_argument("--out", required=True, help="output folder")
    emit.add_argument("--name", default="export", help="export name used in file names")
    emit.add_argument("--scenario", help="scenario file (YAML or JSON)")
    emit.add_argument("--months", type=int, help="backfilled months before the current one")
    emit.add_argument("--seed", type=int, help="seed of the synthetic bill")
    emit.add_argument("--scale", type=int, help="fleet multiplier")
    emit.add_argument("--account", default="000000000000", help="payer account id")
    emit.add_argument(
        "--now",
        help="the emulator's clock: an ISO 8601 date or UTC timestamp (default: BCM_LOCAL_NOW, "
        "else the machine's clock)",
    )
    emit.add_argument(
        "--property",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="table property (repeatable), e.g. TIME_GRANULARITY=HOURLY",
    )
    emit.add_argument(
        "--workers",
        type=int,
        help="worker processes that write the shards (default: one per core)",
    )
    emit.add_argument(
        "--shards",
        type=int,
        default=1,
        help="shards per billing period (default 1: each period is one shard)",
    )
    emit.add_argument(
        "--shard-by",
        help="what a period's shards split: period, account or resource "
        "(default: period, or resource when --shards is above 1)",
    )
    emit.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress on stderr (default: when stderr is a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    from bcm_local import settings
    from bcm_local.billing.scenario.definition import ScenarioError
    from bcm_local.billing.tables import TableError
    from bcm_local.delivery.shards import ShardError
    from bcm_local.delivery.sql import QueryError

    env = dict(os.environ)
    for value, name in (
        (args.scenario, "BILLING_SCENARIO"),
        (args.seed, "BILLING_SEED"),
        (args.scale, "BILLING_SCALE"),
        (args.months, "BILLING_BACKFILL_MONTHS"),
        (args.now, "NOW"),
    ):
        if value is not None:
            env[f"BCM_LOCAL_{name}"] = str(value)
    try:
        config = settings.load(env=env)
        if args.workers is not None and args.workers < 1:
            raise ValueError(f"--workers must be at least 1, not {args.workers}")
        if args.workers == 1 and args.shards == 1 and args.shard_by in (None, "period"):
            written = emit(config, args)
        else:
            written = emit_sharded(env, args)
    except (ShardError, QueryError, TableError, ScenarioError, ValueError, OSError) as err:
        print(f"bcm-local emit: {getattr(err, 'message', err)}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def emit(config: Any, args: argparse.Namespace) -> list[Path]:
    from bcm_local.billing import bill, tables
    from bcm_local.clock import Clock
    from bcm_local.delivery.layouts.aws import AwsLayout
    from bcm_local.delivery.pipeline import BillRequest, Run, Selection, deliver
    from bcm_local.delivery.progress import Progress
    from bcm_local.delivery.sink import FolderSink
    from bcm_local.delivery.sql import checked_query, duckdb_sql, outputs, parse
    from bcm_local.delivery.writer import chunk_bytes

    statement = args.query or f"SELECT * FROM {args.table}"
    props = _properties(args)
    table = parse(statement, bool(config.strict_sql)).table
    query, columns = checked_query(statement, {table: props}, bool(config.strict_sql))
    if args.table and query.table != args.table:
        raise ValueError(f"--table {args.table} but the query reads {query.table}")
    props = tables.resolve_properties(query.table, props)
    fmt = FORMATS[args.format]
    out = Path(args.out)
    work = out / f".emit-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    live, show = _progress(args)
    progress = Progress(sys.stderr, live) if show else None

    def select(run: Run) -> Selection:
        source = tables.table_sql(run.data, query.table, props)
        return Selection(duckdb_sql(query, columns, source, run.data), outputs(query, columns), fmt)

    now = Clock(config.now).now()
    export = {"Name": args.name}
    layout = AwsLayout(
        "", export, uuid.uuid4().hex, now, str(out), select, True, chunk_bytes(config)
    )
    request = BillRequest(args.account, now, bill.granularity_of(query.table, props))
    try:
        keys = deliver(None, config, FolderSink(out, work), request, layout, work, progress)
    finally:
        if progress:
            progress.close()
        _remove(work)
    return [out / key for key in keys]


def emit_sharded(env: dict[str, str], args: argparse.Namespace) -> list[Path]:
    from bcm_local.delivery.progress import ShardProgress
    from bcm_local.delivery.shards import shards
    from bcm_local.delivery.shards.local import cores, run_local

    tasks = shards(
        out=args.out,
        table=args.table,
        query=args.query,
        properties=_properties(args),
        name=args.name,
        fmt=args.format,
        by=args.shard_by or ("period" if args.shards == 1 else "resource"),
        groups=args.shards,
        account=args.account,
        settings=env,
    )
    workers = min(args.workers or cores(), len(tasks))
    live, show = _progress(args)
    progress = ShardProgress(sys.stderr, live, len(tasks), workers) if show else None
    try:
        keys = run_local(tasks, workers, progress.done if progress else None)
    finally:
        if progress:
            progress.close()
    return [Path(args.out) / key for key in keys]


def _properties(args: argparse.Namespace) -> dict[str, str]:
    props = dict(item.split("=", 1) for item in args.property if "=" in item)
    if len(props) != len(args.property):
        raise ValueError("--property takes NAME=VALUE")
    return props


def _progress(args: argparse.Namespace) -> tuple[bool, bool]:
    """(stderr is a terminal, show progress): by default only on a terminal."""
    live = sys.stderr.isatty()
    return live, live if args.progress is None else bool(args.progress)


def _remove(path: Path) -> None:
    import shutil

    for _ in range(3):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.05)
