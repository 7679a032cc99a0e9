"""The bill view: the account's synthetic bill, the same one its exports deliver, summed by
service, account and day.

The bill is built by `billing.bill.open_dataset` (the entry point export delivery uses)
and projected through the FOCUS 1.2 view with its default properties, so a FOCUS export of
the same moment sums to the same figures. Built once per (account, scenario, seed,
backfill, scale, hour, state of the account's buckets) and kept as a small aggregate in
its own DuckDB database; every request is then a few GROUP BYs over that aggregate. A bill
that is no longer current is answered once more while a worker rebuilds it (see bill_for).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bcm_local.billing.queries.cache import BillCache
from bcm_local.console.html import esc, page
from bcm_local.console.view import View, json_response
from bcm_local.runtime import Runtime
from bcm_local.wire.http import Response

METRICS = ("BilledCost", "EffectiveCost", "ListCost")

_AGGREGATE = """
SELECT strftime(BillingPeriodStart, '%Y-%m') AS period,
       CAST(ChargePeriodStart AS DATE) AS day,
       CAST(ServiceName AS VARCHAR) AS service,
       CAST(SubAccountId AS VARCHAR) AS account_id,
       CAST(SubAccountName AS VARCHAR) AS account_name,
       CAST(Tags AS MAP(VARCHAR, VARCHAR)) AS tags,
       sum(BilledCost) AS BilledCost, sum(EffectiveCost) AS EffectiveCost,
       sum(ListCost) AS ListCost, count(*) AS line_items
FROM ({focus}) GROUP BY ALL
"""


@dataclass
class Bill:
    con: Any  # DuckDB with tables `bill` (aggregate, `id` per row) and `bill_tags` (id, k, v)
    periods: list[tuple[str, str, str]]  # (label, first day, last day with usage)
    built_at: datetime


def _build(runtime: Runtime, account: str, now: datetime) -> Bill:
    from bcm_local.billing import bill, tables

    con = bill.connect()
    try:
        data = bill.open_dataset(con, runtime.config, account, now, "DAILY", runtime=runtime)
        focus = tables.table_sql(data, tables.FOCUS_1_2)
        rows = bill.arrow(con.execute(_AGGREGATE.format(focus=focus)))
    finally:
        con.close()
    small = bill.materialise(
        rows, "CREATE TABLE bill AS SELECT row_number() OVER () AS id, * FROM rows", threads=1
    )
    small.execute(
        "CREATE TABLE bill_tags AS SELECT id, unnest(map_keys(tags)) AS k, "
        "unnest(map_values(tags)) AS v FROM bill"
    )
    periods = []
    for period in data.periods:
        last = period.start + timedelta(hours=max(period.active_hours - 1, 0))
        periods.append((period.label, period.start.date().isoformat(), last.date().isoformat()))
    return Bill(small, periods, now)


BILLS: BillCache[Bill] = BillCache(_build)


def prefetch(runtime: Runtime, account: str) -> None:
    """Start building the account's bill in a worker if it has none yet (any console page
    calls this, so the bill page usually opens on a bill that is already there)."""
    BILLS.prefetch(runtime, account)


def bill_for(runtime: Runtime, account: str) -> Bill:
    """The account's bill. Once built, it is answered from the cache; when it is no longer
    current (a new hour, the account's buckets changed) the previous one is answered (its
    `built_at` says when it was computed) while a worker rebuilds it."""
    return BILLS.get_or_stale(runtime, account)


class BadFilter(ValueError):
    pass


def _days(first: str, last: str) -> list[str]:
    start, end = datetime.fromisoformat(first), datetime.fromisoformat(last)
    return [(start + timedelta(days=n)).date().isoformat() for n in range((end - start).days + 1)]


def breakdown(bill: Bill, period: str, tag: str, metric: str) -> dict[str, Any]:
    """The JSON the bill page draws: totals by service, account and day for one period."""
    labels = [p[0] for p in bill.periods]
    period, metric = period or labels[-1], metric or METRICS[0]
    if period not in labels:
        raise BadFilter(f"period must be one of {', '.join(labels)}")
    if metric not in METRICS:
        raise BadFilter(f"metric must be one of {', '.join(METRICS)}")
    _, first, last = bill.periods[labels.index(period)]
    days = _days(first, last)
    where, args = "period = ?", [period]
    if tag:
        name, has_value, value = tag.partition("=")
        where += " AND id IN (SELECT id FROM bill_tags WHERE k = ?"
        args.append(name)
        if has_value:
            where += " AND v = ?"
            args.append(value)
        where += ")"
    cur = bill.con.cursor()
    try:
        services = _series(cur, "service", "service", where, args, metric, days)
        accounts = _series(cur, "account_id", "any_value(account_name)", where, args, metric, days)
        count = cur.execute(f"SELECT sum(line_items) FROM bill WHERE {where}", args).fetchone()
        tags = cur.execute(
            "SELECT k, list(DISTINCT v ORDER BY v) FROM bill_tags "
            "WHERE id IN (SELECT id FROM bill WHERE period = ?) GROUP BY k ORDER BY k",
            [period],
        ).fetchall()
    finally:
        cur.close()
    daily = [round(sum(s["daily"][n] for s in services), 10) for n in range(len(days))]
    return {
        "period": period,
        "periods": labels,
        "metric": metric,
        "metrics": list(METRICS),
        "tag": tag or None,
        "tags": {k: values for k, values in tags},
        "currency": "USD",
        "days": days,
        "total": sum(s["total"] for s in services),
        "line_items": int(count[0] or 0),
        "daily": daily,
        "services": services,
        "accounts": accounts,
        "built_at": bill.built_at.isoformat(),
    }


def _series(
    cur: Any, key: str, label: str, where: str, args: list[str], metric: str, days: list[str]
) -> list[dict[str, Any]]:
    rows = cur.execute(
        f"SELECT {key}, {label}, strftime(day, '%Y-%m-%d'), sum({metric}), sum(line_items) "
        "FROM bill "
        f"WHERE {where} GROUP BY ALL",
        args,
    ).fetchall()
    index = {day: n for n, day in enumerate(days)}
    found: dict[str, dict[str, Any]] = {}
    for ident, name, day, value, lines in rows:
        entry = found.setdefault(
            ident,
            {"id": ident, "name": name, "total": 0.0, "line_items": 0, "daily": [0.0] * len(days)},
        )
        entry["total"] += value
        entry["line_items"] += int(lines)
        if day in index:
            entry["daily"][index[day]] += value
    return sorted(found.values(), key=lambda s: (-abs(s["total"]), s["id"]))


def bill_json(view: View) -> Response:
    from bcm_local.billing.scenario.definition import ScenarioError

    try:
        bill = bill_for(view.runtime, view.account)
        body = breakdown(bill, view.param("period"), view.param("tag"), view.param("metric"))
    except BadFilter as err:
        return json_response(400, {"message": str(err)})
    except (ScenarioError, OSError) as err:
        return json_response(503, {"message": f"cannot build the bill: {err}"})
    return json_response(200, {"account": view.account, **body})


def bill_page(view: View) -> Response:
    api = view.href("/api/bill")
    body = (
        f'<div id="bill" data-api="{esc(api)}">'
        '<form id="filters" method="get"></form>'
        '<p id="bill-status" class="empty">Loading the bill…</p>'
        '<div id="bill-summary" class="summary"></div>'
        '<h2>Daily cost by service</h2><div class="chart" id="chart-service"></div>'
        '<h2>Daily cost by account</h2><div class="chart" id="chart-account"></div>'
        '<div class="columns"><section><h2>By service</h2><div id="table-service"></div>'
        '</section><section><h2>By account</h2><div id="table-account"></div></section></div>'
        '<h2>By day</h2><div id="table-day"></div></div>'
    )
    return page(
        view, "/bill", f"Bill of {view.account}", body, scripts=("page.js", "chart.js", "bill.js")
    )
