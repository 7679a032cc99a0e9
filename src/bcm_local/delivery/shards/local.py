"""Shards on one machine: `run_local` fans a plan's shards out over worker processes
(`bcm-local emit --workers N`, and the server for a large export), then finishes the
delivery. Each worker runs `run_shard` with the machine's cores shared out as DuckDB
threads; one worker runs the shards in this process. A failed shard, or a worker that
dies, stops the delivery before any manifest is written (the error names the shard).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import replace

from bcm_local.delivery.shards.finish import finish
from bcm_local.delivery.shards.plan import Shard, ShardError, ShardResult
from bcm_local.delivery.shards.task import run_shard

Report = Callable[[ShardResult], None]
# what every worker imports anyway: imported once, in the fork server
PRELOAD = (
    "numpy",
    "pyarrow",
    "duckdb",
    "bcm_local.billing.bill",
    "bcm_local.billing.tables",
    "bcm_local.delivery.sql",
    "bcm_local.delivery.writer",
    "bcm_local.delivery.runs.writer",
    "bcm_local.delivery.sink",
    "bcm_local.delivery.layouts.aws",
    "bcm_local.delivery.shards.task",
)
OPTIONAL = ("pandas",)  # DuckDB imports it (when installed) on the first `register`


def cores() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_local(
    tasks: Sequence[Shard], workers: int | None = None, report: Report | None = None
) -> list[str]:
    """Run every shard on `workers` processes (default: one per core) and finish the
    delivery; the keys written. `report` hears of each shard as it ends."""
    results = run_shards(tasks, workers, report)
    return finish(tasks, results)


def run_shards(
    tasks: Sequence[Shard], workers: int | None = None, report: Report | None = None
) -> list[ShardResult]:
    count = max(1, min(workers or cores(), len(tasks)))
    threads = max(1, cores() // count)
    tasks = [replace(t, threads=threads) for t in tasks]
    if count == 1:
        done = []
        for task in tasks:
            done.append(run_shard(task))
            if report:
                report(done[-1])
        return done
    context = _context()
    if context.get_start_method() == "fork":
        _warm(tasks[0])
    with ProcessPoolExecutor(count, mp_context=context) as pool:
        futures: dict[Future[ShardResult], Shard] = {pool.submit(run_shard, t): t for t in tasks}
        results: list[ShardResult] = []
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                error = future.exception()
                if error is not None:
                    for other in pending:
                        other.cancel()
                    raise _failure(futures[future], error) from error
                results.append(future.result())
                if report:
                    report(results[-1])
    return results


def _failure(task: Shard, error: BaseException) -> ShardError:
    if isinstance(error, ShardError):
        return error
    if isinstance(error, BrokenProcessPool):
        return ShardError(
            f"a worker process died while running shard {task.key} (or one beside it); "
            "the delivery is incomplete and no manifest was written"
        )
    return ShardError(f"shard {task.key} failed: {error}")


def _context() -> multiprocessing.context.BaseContext:
    """A process with no other thread (`bcm-local emit`) forks its workers, which then
    inherit its imports and its enumeration of the bill (_warm). A threaded one (the
    server) starts them from a small server process that has imported bcm-local, since
    forking a threaded process is not safe; elsewhere they are spawned."""
    if sys.platform.startswith("linux"):
        if threading.active_count() == 1:
            return multiprocessing.get_context("fork")
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([*PRELOAD, *OPTIONAL])  # it skips what is missing
        return context
    return multiprocessing.get_context("spawn")


def _warm(task: Shard) -> None:
    """Before forking: what every worker's first shard would do again (imports, the
    bill's Python-side enumeration)."""
    import importlib

    from bcm_local.billing import bill
    from bcm_local.settings import Config

    for name in PRELOAD:
        importlib.import_module(name)
    for name in OPTIONAL:
        with suppress(ImportError):
            importlib.import_module(name)
    bill.enumerate_ahead(
        Config(task.values),
        task.account_id,
        task.moment,
        bill.granularity_of(task.table, task.properties),
        backfill_months=task.backfill_months,
        scenario=task.scenario,
        inputs=task.inputs,
    )
