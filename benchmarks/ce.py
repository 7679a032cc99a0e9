"""Cost Explorer benchmark: GetCostAndUsage against a real server, with its ceiling (the
same aggregation as plain SQL in DuckDB on the already-materialised CUR 2.0 relation)
measured in the same run.

    python benchmarks/ce.py [--quick] [--markdown-rows]

Rows: the default bill with 13 backfilled months, DAILY with two GroupBy (SERVICE and
LINKED_ACCOUNT) over the last 30 days and over the whole bill (first page); each asked
again and again (the answer kept for the bill version) and always anew (each request's
filter differs, so nothing kept applies); the server's memory across repeated queries;
the same at --scale 100 against the DuckDB ceiling.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import loadgen, report, servers  # noqa: E402

NOW = "2026-11-20T12:00:00Z"
TARGET = "AWSInsightsIndexService.GetCostAndUsage"
GROUPS = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]
Row = tuple[str, str, str, str]


def _spans() -> dict[str, tuple[str, str]]:
    now = datetime.strptime(NOW, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    end = now.date() + timedelta(days=1)
    first = (now.replace(day=1) - timedelta(days=1)).replace(day=1)
    for _ in range(12):
        first = (first - timedelta(days=1)).replace(day=1)
    return {
        "last 30 days": ((end - timedelta(days=30)).isoformat(), end.isoformat()),
        "whole bill (14 months, first page)": (first.date().isoformat(), end.isoformat()),
    }


def _body(span: tuple[str, str], n: int | None = None) -> bytes:
    request: dict[str, Any] = {
        "TimePeriod": {"Start": span[0], "End": span[1]},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": GROUPS,
    }
    if n is not None:  # a filter that excludes nothing, different for every request
        request["Filter"] = {"Not": {"Dimensions": {"Key": "USAGE_TYPE", "Values": [f"x{n}"]}}}
    return json.dumps(request).encode()


def _server(scale: int) -> servers.Child:
    env = {
        "BCM_LOCAL_NOW": NOW,
        "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "13",
        "BCM_LOCAL_BILLING_SCALE": str(scale),
        "BCM_LOCAL_CE_PAGE_SIZE": "5000",
    }
    child, _ = servers.start("bcm-local", servers.bcm_local_cmd, servers.list_exports_probe, env)
    return child


def _cell(r: loadgen.Result) -> str:
    return f"{r.rps:,.0f} ({r.p50:.1f} / {r.pct(0.99):.1f}){' ERR' * bool(r.errors)}"


def default_bill(seconds: float) -> list[Row]:
    child = _server(1)
    ep = child.endpoint
    rows: list[Row] = []
    try:
        started = time.perf_counter()
        status, _ = loadgen.once(
            ep, loadgen.json_call(ep, TARGET, _body(_spans()["last 30 days"]), "ce")
        )
        build = time.perf_counter() - started
        rows.append(
            (
                "ce: first GetCostAndUsage (builds the bill, 14 months)",
                f"{build:.2f} s",
                "—",
                f"status {status}",
            )
        )
        fresh = itertools.count()
        for label, span in list(_spans().items())[:1]:
            kept = [loadgen.json_call(ep, TARGET, _body(span), "ce")]

            def anew(i: int, span: tuple[str, str] = span) -> bytes:
                return loadgen.json_call(ep, TARGET, _body(span, next(fresh)), "ce")

            for clients in (1, 8):
                r = loadgen.run(ep, kept, clients, seconds)
                goal = "goal p50 ≤ 20 ms, ≥ 500/s" if clients == 8 else ""
                rows.append(
                    (
                        f"ce {label}, asked again, {clients} clients: req/s (p50 / p99 ms)",
                        _cell(r),
                        "—",
                        goal,
                    )
                )
                r = loadgen.run(ep, anew, clients, seconds)
                rows.append(
                    (
                        f"ce {label}, asked anew, {clients} clients: req/s (p50 / p99 ms)",
                        _cell(r),
                        "—",
                        "",
                    )
                )
        before = child.rss_mib()
        for _ in range(3):
            loadgen.run(
                ep,
                lambda i: loadgen.json_call(
                    ep, TARGET, _body(_spans()["last 30 days"], next(fresh)), "ce"
                ),
                8,
                seconds,
            )
        after = child.rss_mib()
        rows.append(
            (
                "ce memory: RSS before / after 3 more runs of new queries",
                f"{before:.0f} / {after:.0f} MiB",
                "—",
                "goal: flat",
            )
        )
    finally:
        child.stop()
    return rows


def _ceiling(span: tuple[str, str], scale: int, repeat: int) -> tuple[float, int]:
    """The aggregation as one SQL statement on the CUR 2.0 relation (with resources),
    materialised beforehand: the median seconds and the groups."""
    from bcm_local import settings
    from bcm_local.billing import bill, tables
    from bcm_local.billing.expressions.dimensions import DIMENSIONS

    config = settings.load(
        {
            "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "13",
            "BCM_LOCAL_BILLING_SCALE": str(scale),
            "BCM_LOCAL_S3_ENABLED": "false",
        }
    )
    now = datetime.strptime(NOW, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    con = bill.connect()
    data = bill.open_dataset(con, config, "000000000000", now, "DAILY")
    cur2 = tables.table_sql(data, tables.CUR2, {"INCLUDE_RESOURCES": "TRUE"})
    con.execute(f"CREATE TABLE cur AS {cur2}")
    sql = (
        f"SELECT date_trunc('day', line_item_usage_start_date), {DIMENSIONS['SERVICE'].sql}, "
        "line_item_usage_account_id, sum(line_item_unblended_cost) FROM cur "
        "WHERE line_item_usage_start_date >= ?::TIMESTAMPTZ "
        "AND line_item_usage_start_date < ?::TIMESTAMPTZ "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    times = []
    groups = 0
    for _ in range(repeat):
        started = time.perf_counter()
        groups = len(con.execute(sql, [span[0], span[1]]).fetchall())
        times.append(time.perf_counter() - started)
    con.close()
    return statistics.median(times), groups


def scale_100(repeat: int) -> list[Row]:
    child = _server(100)
    ep = child.endpoint
    rows: list[Row] = []
    try:
        started = time.perf_counter()
        loadgen.once(ep, loadgen.json_call(ep, TARGET, _body(_spans()["last 30 days"]), "ce"))
        rows.append(
            (
                "ce --scale 100: first GetCostAndUsage (builds the bill)",
                f"{time.perf_counter() - started:.1f} s",
                "—",
                "",
            )
        )
        fresh = itertools.count(10**6)
        for label, span in list(_spans().items())[:1]:
            ours = statistics.median(
                loadgen.once(ep, loadgen.json_call(ep, TARGET, _body(span, next(fresh)), "ce"))[1]
                for _ in range(repeat)
            )
            ceiling, groups = _ceiling(span, 100, repeat)
            rows.append(
                (
                    f"ce --scale 100 {label}, asked anew ({groups} groups): ms, whole HTTP call",
                    f"{ours * 1000:.1f}",
                    f"DuckDB SQL on the materialised CUR 2.0 relation: {ceiling * 1000:.1f}",
                    f"{ours / ceiling:.2f}x (goal ≤ 2x)",
                )
            )
    finally:
        child.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--markdown-rows", action="store_true")
    args = parser.parse_args()
    seconds, repeat = (1.0, 3) if args.quick else (3.0, 7)
    rows = default_bill(seconds) + scale_100(repeat)
    if args.markdown_rows:
        print("\n".join(report.markdown_rows(rows)))
        return 0
    text = report.markdown_table(rows)
    print(text)
    import duckdb

    machine = report.machine(f"DuckDB {duckdb.__version__}")
    report.write(f"ce-{datetime.now(UTC):%Y-%m-%d}.md", "Cost Explorer benchmark", machine, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
