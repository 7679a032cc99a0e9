"""Sharded emission benchmark (issue 21): rows/s of `bcm-local emit`'s worker pool with 1
and 2 workers and of the Dask recipe on a 2-worker LocalCluster, next to the machine's
own ceiling measured in the same run, and peak RSS per worker as the scale grows.

    python benchmarks/shards.py [--quick] [--repeat R] [--markdown-rows]

The bill: CUR 2.0, hourly, INCLUDE_RESOURCES=TRUE, one month (May 2026, whole) at
--scale 100 (about 5M rows), in 8 resource shards. Each case runs in a fresh child
process, R times (default 5), medians reported; timed from the plan to the last
manifest (the pool's start included, the interpreter's imports not). One worker is
pinned to one core (so it runs one DuckDB thread, as each of two workers does).

Ceiling: the same kind of work with nothing of ours in it, DuckDB writing a wide table
of N rows to Parquet with one thread, twice in one process and then once in each of two
processes at the same time: how much two processes can gain on this machine. Both are
measured writing to the disk (the temporary folder) and to memory (/dev/shm), since the
disk is the sink that bounds two writers here; Dask writes where the second pair does.
Memory: one shard of the same size (a quarter of a month at --scale 100; a fortieth at
--scale 1000) in a fresh process each, its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402

NOW = "2026-05-31T23:30:00Z"
PROPS = {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE"}
SHARDS = 8
CEILING_ROWS = 2_000_000


def _plan(out: str, scale: int, groups: int) -> list[Any]:
    import bcm_local

    settings = {
        "BCM_LOCAL_BILLING_SCALE": str(scale),
        "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "0",
        "BCM_LOCAL_NOW": NOW,
    }
    return bcm_local.shards(
        out=out,
        table="COST_AND_USAGE_REPORT",
        properties=PROPS,
        by="resource",
        groups=groups,
        settings=settings,
    )


def child(kind: str, out: str) -> dict[str, float]:
    """One measurement, in this (fresh) process."""
    import bcm_local
    from bcm_local.delivery.shards.local import run_shards

    if kind == "workers-1":
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if kind.startswith("ceiling-"):
        return _ceiling(kind, out)
    if kind.startswith("rss-"):
        scale = int(kind.removeprefix("rss-"))
        tasks = _plan(out, scale, 4 * scale // 100)
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        start = time.perf_counter()
        result = bcm_local.run_shard(tasks[0])
        seconds = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"rows": result.rows, "seconds": seconds, "rss_mib": rss}
    tasks = _plan(out, 100, SHARDS)
    start = time.perf_counter()
    if kind == "dask":
        import dask
        from dask.distributed import Client, LocalCluster

        dask.config.set({"distributed.worker.profile.enabled": False})  # as the recipe does

        with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as c:
            start = time.perf_counter()  # a Dask user's cluster is already up
            results = c.gather(c.map(bcm_local.run_shard, tasks, pure=False))
            bcm_local.finish(tasks, results)
            seconds = time.perf_counter() - start
    else:
        results = run_shards(tasks, int(kind.removeprefix("workers-")))
        bcm_local.finish(tasks, results)
        seconds = time.perf_counter() - start
    rss = max(r.peak_rss_mib for r in results)  # each worker's own peak
    return {"rows": sum(r.rows for r in results), "seconds": seconds, "rss_mib": rss}


def _ceiling(kind: str, out: str) -> dict[str, float]:
    """ceiling-serial: two writes one after the other; ceiling-one: one write (run twice
    side by side by the parent)."""
    import duckdb

    con = duckdb.connect(config={"threads": 1})
    kinds = ("range + {k}", "(range + {k}) * 0.25", "'v' || ((range + {k}) % 1000)")
    columns = ", ".join(kinds[k % 3].format(k=k) + f" AS c{k}" for k in range(60))
    start = time.perf_counter()
    for n in range(2 if kind == "ceiling-serial" else 1):
        con.execute(
            f"COPY (SELECT {columns} FROM range({CEILING_ROWS})) TO '{out}/c{n}.parquet' "
            "(FORMAT parquet, COMPRESSION snappy)"
        )
    return {"rows": CEILING_ROWS, "seconds": time.perf_counter() - start, "rss_mib": 0.0}


def _run(kind: str, side_by_side: int = 1, where: str | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bcm-shards-", dir=where) as tmp:
        procs = []
        for n in range(side_by_side):
            folder = Path(tmp) / str(n)
            folder.mkdir()
            command = [sys.executable, __file__, "--child", kind, str(folder)]
            procs.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
        found = [json.loads(p.communicate()[0]) for p in procs]
        if any(p.returncode for p in procs):
            raise SystemExit(f"{kind} failed")
    return {
        "rows": sum(f["rows"] for f in found),
        "seconds": max(f["seconds"] for f in found),
        "rss_mib": max(f["rss_mib"] for f in found),
    }


def measure(
    kind: str, repeat: int, side_by_side: int = 1, where: str | None = None
) -> dict[str, float]:
    runs = [_run(kind, side_by_side, where) for _ in range(repeat)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def rate(m: dict[str, float]) -> float:
    return m["rows"] / m["seconds"]


def _scaling(
    repeat: int, where: str | None, label: str, dask: bool = False
) -> tuple[list[Any], dict[str, float]]:
    """Rows of 1 and 2 workers and of the ceiling (and the Dask recipe), writing under
    `where`. Each repeat runs them back to back, and the ratios are the medians of each
    repeat's own ratio, so a slow spell of the VM weighs on both sides of a ratio alike."""
    runs, engine = [], []
    for _ in range(repeat):
        one, two = _run("workers-1", 1, where), _run("workers-2", 1, where)
        serial, parallel = _run("ceiling-serial", 1, where), _run("ceiling-one", 2, where)
        runs.append((one, two, serial["seconds"] / parallel["seconds"]))
        if dask:
            found = _run("dask", 1, where)
            engine.append((found, rate(found) / rate(two)))
    one = {k: statistics.median(r[0][k] for r in runs) for k in runs[0][0]}
    two = {k: statistics.median(r[1][k] for r in runs) for k in runs[0][1]}
    gain = statistics.median(rate(r[1]) / rate(r[0]) for r in runs)
    ceiling = statistics.median(r[2] for r in runs)
    spread = ", ".join(f"{rate(r[1]) / rate(r[0]):.2f}" for r in runs)
    what = f"CUR 2.0 hourly with resources, --scale 100, one month ({one['rows'] / 1e6:.2f}M rows)"
    rows = [
        (
            f"emit --workers 1 (one core), {what}, {SHARDS} resource shards, {label}",
            f"{rate(one) / 1e6:.2f}M rows/s, {one['rss_mib']:.0f} MiB peak RSS",
            "",
            "",
        ),
        (
            f"emit --workers 2, {label}",
            f"{rate(two) / 1e6:.2f}M rows/s ({gain:.2f}x one worker; runs: {spread}), "
            f"{two['rss_mib']:.0f} MiB peak RSS a worker",
            f"DuckDB 60-column Parquet write, 1 thread, {label}: two processes gain "
            f"{ceiling:.2f}x over one doing both",
            f"{gain / ceiling:.2f} of the machine's ceiling (goal: 2 workers >= 1.7x one)",
        ),
    ]
    if engine:
        ratio = statistics.median(r[1] for r in engine)
        dask_rate = statistics.median(rate(r[0]) for r in engine)
        rss = statistics.median(r[0]["rss_mib"] for r in engine)
        rows.append(
            (
                f"Dask recipe, LocalCluster of 2 workers x 1 thread, {label}",
                f"{dask_rate / 1e6:.2f}M rows/s, {rss:.0f} MiB peak RSS a worker",
                f"emit --workers 2: {rate(two) / 1e6:.2f}M rows/s",
                f"{ratio:.2f}x --workers 2 (goal: within 15%)",
            )
        )
    return rows, {"one": rate(one), "two": rate(two), "gain": gain}


def rows_for(repeat: int) -> list[tuple[str, str, str, str]]:
    memory = "/dev/shm" if Path("/dev/shm").is_dir() else None
    out, found = _scaling(repeat, None, "files on disk", dask=memory is None)
    if memory:
        more, found = _scaling(repeat, memory, "files in memory (/dev/shm)", dask=True)
        out += more
    small, large = measure("rss-100", repeat), measure("rss-1000", repeat)
    gain = found["gain"]
    out += [
        (
            "one shard's peak RSS, --scale 100 (1 of 4) and --scale 1000 (1 of 40)",
            f"{small['rss_mib']:.0f} MiB ({small['rows'] / 1e6:.2f}M rows) and "
            f"{large['rss_mib']:.0f} MiB ({large['rows'] / 1e6:.2f}M rows)",
            "",
            f"{large['rss_mib'] / small['rss_mib']:.2f}x as the scale grows 10x (goal: flat)",
        ),
    ]
    per_core = found["one"] * min(1.0, gain / 2)  # a core's rate when every core writes
    for machines, cores in ((1, 2), (10, 16), (100, 16)):
        seconds = 1e9 / (machines * cores * per_core)
        out.append(
            (
                f"projection: a 1B-row bill on {machines} machine(s) of {cores} cores",
                f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s",
                f"{per_core / 1e6:.2f}M rows/s a core (one worker's rate x the measured "
                "2-worker efficiency)",
                "assumes independent shards and a sink that keeps up",
            )
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one run per case")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (median)")
    parser.add_argument("--markdown-rows", action="store_true", help="table rows only")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT / "src"))
        print(json.dumps(child(*args.child)))
        return 0
    rows = rows_for(1 if args.quick else args.repeat)
    if args.markdown_rows:
        print("\n".join(report.markdown_rows(rows)))
        return 0
    import duckdb

    table = report.markdown_table(rows)
    print(table)
    path = report.write(
        f"shards-{time.strftime('%Y-%m-%d')}.md",
        "Sharded emission benchmark",
        report.machine(f"DuckDB {duckdb.__version__}"),
        table,
    )
    print(f"\nwritten to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
