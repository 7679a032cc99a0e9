"""Emission benchmark: rows/s and peak RSS writing FOCUS 1.2 and CUR 2.0 to Parquet at 1M
and 10M rows, next to ceilings measured in the same run:

- DuckDB writing `range(N)` to Parquet (one column: the floor the issue names);
- DuckDB writing N rows of a trivial table as wide as ours (K integer/double/varchar
  columns derived from a materialized range, K = the table's column count), in parallel;
- DuckDB writing our very rows from a materialized table (1M rows only).

    python benchmarks/emission.py [--quick] [--repeat R] [--markdown-rows]

Each case runs in a fresh child process (so peak RSS is its own), R times (default 3);
figures are medians. Ours is timed from the model build to the last byte of the file
(imports and a first warm-up emission excluded: a running server has paid those once).
Rows are hourly, a full 31-day month, with the fleet scaled (BCM_LOCAL_BILLING_SCALE) to
reach the row count; CUR 2.0 with INCLUDE_RESOURCES=TRUE (per-resource rows, no
aggregation). Writes benchmarks/results/emission-<date>.md unless --markdown-rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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

NOW = "2026-05-31T23:30:00+00:00"
TABLES = {"focus": ("FOCUS_1_2_AWS", "FOCUS 1.2"), "cur": ("COST_AND_USAGE_REPORT", "CUR 2.0")}
PER_SCALE = {"focus": 44_500, "cur": 49_100}  # hourly rows of the default scenario, one month
OPTIONS = "FORMAT parquet, COMPRESSION snappy"


def child(kind: str, rows: int, out: Path) -> dict[str, float]:
    """Runs in the child process: one measurement. Kinds: range, wide-<K> (K trivial
    columns), focus, cur, and focus-ready / cur-ready (the same rows from a table)."""
    sys.path.insert(0, str(ROOT / "src"))
    import duckdb

    if kind == "range" or kind.startswith("wide-"):
        elapsed, width = _baseline(duckdb, kind, rows, out)
        written = rows
    else:
        elapsed = _ours(kind, rows, out)
        written = duckdb.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
        width = len(duckdb.execute(f"DESCRIBE SELECT * FROM '{out}'").fetchall())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": written, "columns": width, "seconds": elapsed, "rss_mib": rss}


def _baseline(duckdb: Any, kind: str, rows: int, out: Path) -> tuple[float, int]:
    con = duckdb.connect(config={"threads": 2})
    if kind == "range":
        start = time.perf_counter()
        con.execute(f"COPY (SELECT range FROM range({rows})) TO '{out}' ({OPTIONS})")
        return time.perf_counter() - start, 1
    width = int(kind.removeprefix("wide-"))
    con.execute(f"CREATE TABLE r AS SELECT range AS i FROM range({rows})")  # parallel scans
    kinds = ("i + {k}", "(i + {k}) * 0.25", "'v' || ((i + {k}) % 100)")
    columns = ", ".join(f"{kinds[k % 3].format(k=k)} AS c{k}" for k in range(width))
    start = time.perf_counter()
    con.execute(f"COPY (SELECT {columns} FROM r) TO '{out}' ({OPTIONS})")
    return time.perf_counter() - start, width


def _ours(kind: str, rows: int, out: Path) -> float:
    from datetime import datetime

    from bcm_local import settings
    from bcm_local.billing import bill, tables
    from bcm_local.delivery.runs import writer as run_writer  # noqa: F401  (imported: not timed)
    from bcm_local.delivery.sql import check_columns, duckdb_sql, outputs, parse
    from bcm_local.delivery.writer import write

    materialized = kind.endswith("-ready")
    kind = kind.removesuffix("-ready")
    table = TABLES[kind][0]
    props = {"TIME_GRANULARITY": "HOURLY"}
    if kind == "cur":
        props["INCLUDE_RESOURCES"] = "TRUE"

    def emit(scale: int, target: Path, materialized: bool = False) -> float:
        config = settings.load(env={"BCM_LOCAL_BILLING_SCALE": str(scale)})
        con = bill.connect(out.parent)
        start = time.perf_counter()
        data = bill.open_dataset(con, config, "000000000000", datetime.fromisoformat(NOW), "HOURLY")
        query = parse(f"SELECT * FROM {table}")
        columns = check_columns(query, props)
        sql = duckdb_sql(query, columns, tables.table_sql(data, table, props), data)
        if materialized:  # the ceiling: the same rows already in a DuckDB table
            con.execute(f"CREATE TABLE ready AS {sql}")
            sql = "SELECT * FROM ready"
            start = time.perf_counter()
        write(con, sql, outputs(query, columns), "PARQUET", target)
        con.close()
        return time.perf_counter() - start

    emit(3, out.parent / "warm-up.parquet")  # one-time set-up costs, on the same path
    return emit(max(1, round(rows / PER_SCALE[kind])), out, materialized)


def measure(kind: str, rows: int, repeat: int) -> dict[str, float]:
    """Median seconds and median peak RSS of `repeat` fresh processes."""
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bcm-emission-") as tmp:
            out = Path(tmp) / "out.parquet"
            done = subprocess.run(
                [sys.executable, __file__, "--child", kind, str(rows), str(out)],
                capture_output=True,
                text=True,
                check=True,
            )
        runs.append(json.loads(done.stdout))
    found = dict(runs[0])
    for key in ("seconds", "rss_mib"):
        found[key] = statistics.median(r[key] for r in runs)
    return found


def _rate(m: dict[str, float]) -> float:
    return m["rows"] / m["seconds"]


def rows_for(sizes: list[int], repeat: int) -> list[tuple[str, str, str, str]]:
    out = []
    results: dict[tuple[str, int], dict[str, float]] = {}
    for size in sizes:
        base = measure("range", size, repeat)
        for kind in ("focus", "cur"):
            m = results[(kind, size)] = measure(kind, size, repeat)
            wide = measure(f"wide-{m['columns']:.0f}", size, repeat)
            ready = measure(f"{kind}-ready", size, repeat) if size == sizes[0] else None
            out.append(_row(kind, m, base, wide, ready))
    if len(sizes) > 1:
        for kind in ("focus", "cur"):
            small, large = results[(kind, sizes[0])], results[(kind, sizes[-1])]
            growth = large["rss_mib"] / small["rss_mib"]
            what = f"{sizes[0] // 10**6}M to {sizes[-1] // 10**6}M rows"
            out.append(
                (
                    f"emission {TABLES[kind][1]} peak RSS growth, {what}",
                    f"{growth:.2f}x",
                    "",
                    "goal < 2x",
                )
            )
    return out


def _row(
    kind: str,
    m: dict[str, float],
    base: dict[str, float],
    wide: dict[str, float],
    ready: dict[str, float] | None,
) -> tuple[str, str, str, str]:
    values = _rate(m) * m["columns"]
    baseline = (
        f"DuckDB range(N): {_rate(base) / 1e6:.1f}M rows/s, {base['rss_mib']:.0f} MiB; "
        f"DuckDB writing N rows of {wide['columns']:.0f} trivial columns: "
        f"{_rate(wide) / 1e6:.2f}M rows/s, {wide['rss_mib']:.0f} MiB"
    )
    goal = (
        f"{_rate(base) / _rate(m):.0f}x range(N)'s time per row, "
        f"{_rate(wide) / _rate(m):.2f}x the same-width write's"
    )
    if ready:
        baseline += f"; DuckDB writing these rows from a table: {_rate(ready) / 1e6:.2f}M rows/s"
        goal += f", {_rate(ready) / _rate(m):.2f}x the same-table write's"
    return (
        f"emission {TABLES[kind][1]} ({m['columns']:.0f} columns), "
        f"{m['rows'] / 1e6:.1f}M rows to Parquet",
        f"{_rate(m) / 1e6:.2f}M rows/s ({values / 1e6:.0f}M values/s), "
        f"{m['rss_mib']:.0f} MiB peak RSS",
        baseline,
        goal + " (goal >= 1M rows/s, <= 3x range(N))",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M rows only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median)")
    parser.add_argument("--markdown-rows", action="store_true", help="table rows only")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "ROWS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, rows, out = args.child
        print(json.dumps(child(kind, int(rows), Path(out))))
        return 0
    sizes = [1_000_000] if args.quick else [1_000_000, 10_000_000]
    figures = rows_for(sizes, args.repeat)
    if args.markdown_rows:
        print("\n".join(report.markdown_rows(figures)))
        return 0
    text = report.markdown_table(figures)
    print(text)
    import duckdb

    note = (
        f"`python benchmarks/emission.py{' --quick' if args.quick else ''}` (hourly rows of a "
        "full month; CUR 2.0 with INCLUDE_RESOURCES=TRUE; each figure the median of "
        f"{args.repeat} fresh processes)."
    )
    software = f"DuckDB {duckdb.__version__}"
    report.write(
        f"emission-{dt.date.today()}.md",
        "bcm-local emission benchmark",
        report.machine(software),
        f"{note}\n\n{text}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
