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
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
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
    "bcm_local.delivery.shards.task",
)


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
    with ProcessPoolExecutor(count, mp_context=_context()) as pool:
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
    """Workers start from a small server process that has imported bcm-local (not
    DuckDB's threads): cheaper than spawning, safer than forking a threaded parent."""
    if sys.platform.startswith("linux"):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        return context
    return multiprocessing.get_context("spawn")
