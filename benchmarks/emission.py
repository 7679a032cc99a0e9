"""Emission benchmark: rows/s and peak RSS writing FOCUS 1.2 and CUR 2.0 to Parquet at 1M
and 10M rows, next to DuckDB writing range(N) to Parquet in the same run.

    python benchmarks/emission.py [--quick] [--markdown-rows]

Each case runs in a fresh child process (so peak RSS is its own) and is timed from the
model build to the last byte of the file (imports and a first small warm-up emission
excluded: a running server has paid those once). Rows are hourly, a full
31-day month, with the fleet scaled (BCM_LOCAL_BILLING_SCALE) to reach the row count;
CUR 2.0 with INCLUDE_RESOURCES=TRUE (per-resource rows, no aggregation).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-05-31T23:30:00+00:00"
TABLES = {"focus": ("FOCUS_1_2_AWS", "FOCUS 1.2"), "cur": ("COST_AND_USAGE_REPORT", "CUR 2.0")}
PER_SCALE = {"focus": 44_500, "cur": 49_100}  # hourly rows of the default scenario, one month


def child(kind: str, rows: int, out: Path) -> dict[str, float]:
    """Runs in the child process: one measurement. Kinds: range, focus, cur, and
    focus-ready / cur-ready (writing the same rows from a materialized table)."""
    sys.path.insert(0, str(ROOT / "src"))
    from datetime import datetime

    import duckdb

    if kind == "range":
        con = duckdb.connect(config={"threads": 2})
        start = time.perf_counter()
        options = "FORMAT parquet, COMPRESSION snappy"
        con.execute(f"COPY (SELECT range FROM range({rows})) TO '{out}' ({options})")
        elapsed = time.perf_counter() - start
        written, width = rows, 1
    else:
        materialized = kind.endswith("-ready")
        kind = kind.removesuffix("-ready")
        from bcm_local import settings
        from bcm_local.billing import source, views
        from bcm_local.delivery.sql import check_columns, duckdb_sql, outputs, parse
        from bcm_local.delivery.writer import write

        table = TABLES[kind][0]
        props = {"TIME_GRANULARITY": "HOURLY"}
        if kind == "cur":
            props["INCLUDE_RESOURCES"] = "TRUE"
        scale = max(1, round(rows / PER_SCALE[kind]))
        config = settings.load(env={"BCM_LOCAL_BILLING_SCALE": str(scale)})
        import numpy  # noqa: F401  (imports are not emission time)
        import pyarrow  # noqa: F401

        def emit(config: object, target: Path, materialized: bool = False) -> float:
            con = source.connect(out.parent)
            start = time.perf_counter()
            data = source.open_dataset(
                con, config, "000000000000", datetime.fromisoformat(NOW), "HOURLY"
            )
            query = parse(f"SELECT * FROM {table}")
            columns = check_columns(query, props)
            sql = duckdb_sql(query, columns, views.table_sql(data, table, props), data)
            if materialized:  # the ceiling: the same rows already in a DuckDB table
                con.execute(f"CREATE TABLE ready AS {sql}")
                sql = "SELECT * FROM ready"
                start = time.perf_counter()
            write(con, sql, outputs(query, columns), "PARQUET", target)
            con.close()
            return time.perf_counter() - start

        emit(settings.load(env={}), out.parent / "warm-up.parquet")  # one-time set-up costs
        elapsed = emit(config, out, materialized)
        written = duckdb.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
        width = len(duckdb.execute(f"DESCRIBE SELECT * FROM '{out}'").fetchall())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": written,
        "columns": width,
        "seconds": elapsed,
        "rss_mib": rss,
        "bytes": out.stat().st_size,
    }


def measure(kind: str, rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bcm-emission-") as tmp:
        out = Path(tmp) / "out.parquet"
        done = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(rows), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
    return dict(json.loads(done.stdout))


def _rate(m: dict[str, float]) -> float:
    return m["rows"] / m["seconds"]


def rows_for(sizes: list[int]) -> list[tuple[str, str, str, str]]:
    out = []
    results: dict[tuple[str, int], dict[str, float]] = {}
    for size in sizes:
        base = measure("range", size)
        for kind in ("focus", "cur"):
            m = results[(kind, size)] = measure(kind, size)
            ready = measure(f"{kind}-ready", size) if size == sizes[0] else None
            values = _rate(m) * m["columns"]
            baseline = (
                f"DuckDB range(N): {_rate(base) / 1e6:.1f}M rows/s, {base['rss_mib']:.0f} MiB"
            )
            if ready:
                baseline += (
                    f"; DuckDB writing these rows from a table: {_rate(ready) / 1e6:.2f}M rows/s"
                )
            goal = (
                f"{_rate(base) / _rate(m):.0f}x range(N)'s time per row, "
                f"{_rate(base) / values:.1f}x per value written"
            )
            if ready:
                goal += f", {_rate(ready) / _rate(m):.1f}x the same-table write"
            out.append(
                (
                    f"emission {TABLES[kind][1]} ({m['columns']:.0f} columns), "
                    f"{m['rows'] / 1e6:.1f}M rows to Parquet",
                    f"{_rate(m) / 1e6:.2f}M rows/s ({values / 1e6:.0f}M values/s), "
                    f"{m['rss_mib']:.0f} MiB peak RSS",
                    baseline,
                    goal + " (goal >= 1M rows/s, <= 3x range(N))",
                )
            )
    if len(sizes) > 1:
        for kind in ("focus", "cur"):
            small, large = results[(kind, sizes[0])], results[(kind, sizes[-1])]
            growth = large["rss_mib"] / small["rss_mib"]
            out.append(
                (
                    f"emission {TABLES[kind][1]} peak RSS growth, {sizes[0] // 10**6}M to "
                    f"{sizes[-1] // 10**6}M rows",
                    f"{growth:.2f}x",
                    "",
                    "goal < 2x",
                )
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M rows only")
    parser.add_argument("--markdown-rows", action="store_true", help="table rows only")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "ROWS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, rows, out = args.child
        print(json.dumps(child(kind, int(rows), Path(out))))
        return 0
    table = rows_for([1_000_000] if args.quick else [1_000_000, 10_000_000])
    if not args.markdown_rows:
        print("| what | bcm-local | baseline (same run) | ratio / goal |")
        print("|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
