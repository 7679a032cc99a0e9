"""Builds one bill in DuckDB: `lines` (one row per metered series, string columns as
ENUMs so the Parquet writer copies dictionaries instead of hashing strings) and `factors`
(one row per pattern and time slot). Rows are never built in Python: the `li` view joins
the two, and every table is a projection of `li`. The split cost allocation records of
container tasks live apart (`split_lines`, `li_split`): only CUR 2.0 with
INCLUDE_SPLIT_COST_ALLOCATION_DATA reads them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bcm_local.billing import ids, lines, patterns
from bcm_local.billing.derived import Placed, finalize
from bcm_local.billing.periods import Period, billing_periods
from bcm_local.billing.scenario import Scenario
from bcm_local.billing.synthetic import account_directory
from bcm_local.billing.usage import ResourceUsageEnumerator, UsageContext, UsageLine

_ISO = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Dataset:
    """A built bill inside a DuckDB connection."""

    con: Any
    periods: list[Period]
    granularity: str
    payer_id: str
    edp: bool
    now: datetime
    # map column -> (its key ENUM type, the keys)
    map_keys: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def focus(self, period: Period | None) -> None:
        """Restrict every table to one billing period (None: all periods)."""
        _line_views(self.con, period)


def _line_views(con: Any, period: Period | None) -> None:
    where = "" if period is None else f" AND period = {period.index}"
    con.execute(
        "CREATE OR REPLACE VIEW lines AS SELECT * FROM lines_all "
        f"WHERE split_parent IS NULL{where};\n"
        "CREATE OR REPLACE VIEW split_lines AS SELECT * FROM lines_all "
        f"WHERE split_parent IS NOT NULL{where}"
    )


def cur2_relation(
    runtime: Any, con: Any, account_id: str, start: datetime, end: datetime, props: dict[str, str]
) -> str:
    """Legacy CUR's entry point (see bcm_local.billing.source.cur2_relation)."""
    from bcm_local.billing.source import cur2_relation as relation

    return relation(runtime, con, account_id, start, end, props)


def build(
    con: Any,
    *,
    account_id: str,
    now: datetime,
    scenario: Scenario,
    seed: int,
    enumerators: Sequence[ResourceUsageEnumerator],
    granularity: str = "DAILY",
    backfill_months: int = 0,
    scale: int = 1,
    runtime: Any = None,
) -> Dataset:
    import numpy as np
    import pyarrow as pa

    periods = billing_periods(now, backfill_months, account_id, seed)
    current = periods[-1].start
    pks: dict[tuple[str, int], int] = {("once", 0): 0}
    columns: dict[str, list[Any]] = {}
    factor_parts: list[dict[str, Any]] = []
    for period in periods:
        ctx = UsageContext(account_id, period.start, period.end, now, scenario, seed, runtime)
        payer = account_directory(ctx)["payer"]
        found = [line for e in enumerators for line in e.enumerate(ctx)]
        zeros = np.zeros(period.active_hours)
        cache: dict[tuple[str, int], Any] = {}
        placed = [
            _place(line, period, scenario, seed, current, cache, scale, zeros) for line in found
        ]
        placed = finalize(placed, period, scenario, zeros, payer[0])
        for p in placed:
            pks.setdefault((p.line.pattern, p.line.variant), len(pks))
        categories = {
            account_directory(ctx)[k][0]: v
            for k, v in scenario.cost_categories.items()
            if k in account_directory(ctx)
        }
        part = lines.columns_of(placed, period, payer, pks, categories, scenario.edp_percent, seed)
        for name, values in part.items():
            columns.setdefault(name, []).extend(values)
        factor_parts.append(_factor_rows(period, placed, pks, cache, granularity))
    con.register("raw_lines_arrow", pa.table(columns, schema=_schema(pa)))
    con.execute("CREATE TABLE raw_lines AS SELECT * FROM raw_lines_arrow")
    con.unregister("raw_lines_arrow")
    _replicate(con, scale)
    data = Dataset(con, periods, granularity, account_id, scenario.edp_percent > 0, now)
    _enumify(con, data, columns, scale)
    _factors_table(con, periods, factor_parts, granularity)
    _li_view(con, granularity)
    return data


def _schema(pa: Any) -> Any:
    fields = [pa.field(n, pa.string()) for n in lines.STRING_COLUMNS]
    fields += [pa.field(n, pa.float64()) for n in lines.NUMBER_COLUMNS]
    fields += [pa.field(n, pa.map_(pa.string(), pa.string())) for n in lines.MAP_COLUMNS]
    fields += [
        pa.field("period", pa.int32()),
        pa.field("pk", pa.int32()),
        pa.field("h0", pa.int32()),
        pa.field("h1", pa.int32()),
        pa.field("replicable", pa.bool_()),
        pa.field("line_key", pa.string()),
        pa.field("period_start", pa.timestamp("us", tz="UTC")),
        pa.field("period_end", pa.timestamp("us", tz="UTC")),
    ]
    return pa.schema(fields)


def _hour_index(period: Period, moment: datetime | None, default: int) -> int:
    if moment is None:
        return default
    hours = int((moment - period.start) / timedelta(hours=1))
    return max(0, min(hours, period.active_hours))


def _place(
    line: UsageLine,
    period: Period,
    scenario: Scenario,
    seed: int,
    current: datetime,
    cache: dict[tuple[str, int], Any],
    scale: int,
    zeros: Any,
) -> Placed:
    key = (line.pattern, line.variant)
    weight = float(scale) if line.replicable else 1.0
    if line.pattern == "once":
        hourly = zeros.copy()
        hourly[0] = 1.0
        return Placed(line, hourly, weight=weight, h0=0, h1=period.active_hours)
    if key not in cache:
        name = "flat" if line.pattern.startswith("sp:") else line.pattern
        cache[key] = patterns.factors(
            name, line.variant, period.start, period.active_hours, seed, scenario.shape, current
        )
    h0 = _hour_index(period, line.start, 0)
    h1 = _hour_index(period, line.end, period.active_hours)
    hourly = zeros.copy()
    hourly[h0:h1] = cache[key][h0:h1]
    return Placed(line, hourly, weight=weight, h0=h0, h1=max(h1, h0))


def _factor_rows(
    period: Period,
    placed: list[Placed],
    pks: dict[tuple[str, int], int],
    cache: dict[tuple[str, int], Any],
    granularity: str,
) -> dict[str, Any]:
    """Columns (numpy) of the factors of every pattern used in the period."""
    import numpy as np

    aux_by_key = {(p.line.pattern, p.line.variant): p.aux for p in placed if p.aux is not None}
    hours = period.active_hours
    edges = _slot_edges(period, granularity)
    out: dict[str, list[Any]] = {"pk": [], "slot": [], "factor": [], "aux": []}
    for key, array in sorted(cache.items(), key=lambda kv: pks[kv[0]]):
        aux = aux_by_key.get(key, np.zeros(hours))
        f = np.add.reduceat(array, edges[:-1]) if granularity != "HOURLY" else array
        a = np.add.reduceat(aux, edges[:-1]) if granularity != "HOURLY" else aux
        keep = (f != 0) | (a != 0)
        out["pk"].append(np.full(int(keep.sum()), pks[key], dtype=np.int32))
        out["slot"].append(np.flatnonzero(keep).astype(np.int32))
        out["factor"].append(f[keep])
        out["aux"].append(a[keep])
    out["pk"].append(np.zeros(1, dtype=np.int32))  # the `once` pattern: one slot, the month
    out["slot"].append(np.full(1, -1, dtype=np.int32))
    out["factor"].append(np.ones(1))
    out["aux"].append(np.zeros(1))
    return {k: np.concatenate(v) for k, v in out.items()}


def _slot_edges(period: Period, granularity: str) -> Any:
    import numpy as np

    hours = period.active_hours
    step = {"HOURLY": 1, "DAILY": 24}.get(granularity, hours)
    return np.append(np.arange(0, hours, step), hours)


def _slots(period: Period, granularity: str) -> dict[str, list[Any]]:
    edges = [int(e) for e in _slot_edges(period, granularity)]
    step = {"HOURLY": 1, "DAILY": 24}.get(granularity)
    out: dict[str, list[Any]] = {k: [] for k in ("slot", "h_start", "h_end", "start_ts", "end_ts")}
    for n, (h_start, h_end) in enumerate(itertools.pairwise(edges)):
        start = period.start + timedelta(hours=h_start)
        end = start + timedelta(hours=step) if step else period.end
        for name, value in zip(out, (n, h_start, h_end, start, end), strict=True):
            out[name].append(value)
    for name, value in zip(
        out, (-1, 0, period.active_hours, period.start, period.end), strict=True
    ):
        out[name].append(value)
    return out


def _factors_table(
    con: Any, periods: list[Period], parts: list[dict[str, Any]], granularity: str
) -> None:
    import numpy as np
    import pyarrow as pa

    pkf = pa.table(
        {
            "period": np.concatenate(
                [np.full(len(p["pk"]), i, dtype=np.int32) for i, p in enumerate(parts)]
            ),
            **{k: np.concatenate([p[k] for p in parts]) for k in ("pk", "slot", "factor", "aux")},
        }
    )
    slot_cols: dict[str, list[Any]] = {"period": []}
    for period in periods:
        part = _slots(period, granularity)
        slot_cols["period"].extend([period.index] * len(part["slot"]))
        for k, v in part.items():
            slot_cols.setdefault(k, []).extend(v)
    slot_cols["interval"] = [
        f"{s.strftime(_ISO)}/{e.strftime(_ISO)}"
        for s, e in zip(slot_cols["start_ts"], slot_cols["end_ts"], strict=True)
    ]
    slot_cols["slot_code"] = [
        ids.hex_id(8, p, s) for p, s in zip(slot_cols["period"], slot_cols["start_ts"], strict=True)
    ]
    con.register("pkf_arrow", pkf)
    con.register("slots_arrow", pa.table(slot_cols))
    con.execute(
        "CREATE TYPE e_interval AS ENUM (SELECT DISTINCT interval FROM slots_arrow ORDER BY 1)"
    )
    con.execute(
        "CREATE TABLE factors AS SELECT f.period, f.pk, s.h_start, s.h_end, "
        "s.start_ts::TIMESTAMP AS start_ts, s.end_ts::TIMESTAMP AS end_ts, "
        "s.interval::e_interval AS interval, s.slot_code, f.factor, f.aux "
        "FROM pkf_arrow f JOIN slots_arrow s ON s.period = f.period AND s.slot = f.slot "
        "ORDER BY f.period, s.h_start, f.pk"
    )
    con.unregister("pkf_arrow")
    con.unregister("slots_arrow")


def _replicate(con: Any, scale: int) -> None:
    """Clone replicable lines `scale` times with fresh resource ids (the scale knob)."""

    def new_id(column: str) -> str:  # a task's parent gets the id its instance's clone gets
        return (
            f"CASE WHEN r.range = 0 OR {column} IS NULL THEN {column} "
            f"WHEN regexp_matches({column}, '-0[0-9a-f]{{16}}$') "
            f"THEN left({column}, -6) || left(md5({column} || r.range::VARCHAR), 6) "
            f"ELSE {column} || '-' || r.range::VARCHAR END"
        )

    con.execute(
        f"CREATE TABLE lines_wide AS SELECT * REPLACE ({new_id('resource_id')} AS resource_id, "
        f"{new_id('split_parent')} AS split_parent, "
        "line_key || lpad(r.range::VARCHAR, 4, '0') AS line_key) "
        f"FROM raw_lines, range({int(scale)}) r WHERE r.range = 0 OR replicable "
        "ORDER BY period, r.range, rowid"
    )
    con.execute("DROP TABLE raw_lines")


def _enumify(con: Any, data: Dataset, columns: dict[str, list[Any]], scale: int) -> None:
    """Turn string columns (and map keys/values) into ENUMs; the value sets come from the
    Python columns (replicas only change resource ids, which are then read back)."""
    sets: dict[str, set[str]] = {
        f"e_{n}": {v for v in columns[n] if v is not None} for n in lines.STRING_COLUMNS
    }
    for name in lines.MAP_COLUMNS:
        base = lines.SHARED_MAP_TYPES.get(name, name)
        sets.setdefault(f"k_{base}", set()).update(k for m in columns[name] for k in m)
        sets.setdefault(f"v_{base}", set()).update(v for m in columns[name] for v in m.values())
    script = []
    for type_name, values in sets.items():
        if not values:
            continue
        if type_name in ("e_resource_id", "e_split_parent") and scale > 1:
            column = type_name[2:]
            query = f"SELECT DISTINCT {column} FROM lines_wide WHERE {column} IS NOT NULL"
            script.append(f"CREATE TYPE {type_name} AS ENUM ({query} ORDER BY 1)")
            continue
        literal = ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))
        script.append(f"CREATE TYPE {type_name} AS ENUM ({literal})")
    casts = [f"{n}::e_{n} AS {n}" for n in lines.STRING_COLUMNS if sets[f"e_{n}"]]
    for name in lines.MAP_COLUMNS:
        base = lines.SHARED_MAP_TYPES.get(name, name)
        if sets[f"k_{base}"]:
            casts.append(f"{name}::MAP(k_{base}, v_{base}) AS {name}")
            data.map_keys[name] = (f"k_{base}", sorted(sets[f"k_{base}"]))
    script.append(
        f"CREATE TABLE lines_all AS SELECT * REPLACE ({', '.join(casts)}), "
        "period_start::TIMESTAMP AS bp_start, period_end::TIMESTAMP AS bp_end, "
        "MAP {}::MAP(VARCHAR, DOUBLE) AS no_discount FROM lines_wide"
    )
    script.append("DROP TABLE lines_wide")
    con.execute(";\n".join(script))
    _line_views(con, None)


def _li_view(con: Any, granularity: str) -> None:
    if granularity == "MONTHLY":
        k, aux = "l.month_factor", "l.month_aux"
    elif granularity == "DAILY":
        k = "f.factor * (least(f.h_end, l.h1) - greatest(f.h_start, l.h0)) / (f.h_end - f.h_start)"
        aux = "f.aux"
    else:
        k, aux = "f.factor", "f.aux"
    for view, source in (("li", "lines"), ("li_split", "split_lines")):
        con.execute(
            f"CREATE VIEW {view} AS SELECT l.*, f.start_ts, f.end_ts, f.interval, "
            f"l.line_key || f.slot_code AS line_item_id, {k} AS k, {aux} AS aux "
            f"FROM {source} l JOIN factors f ON f.period = l.period AND f.pk = l.pk "
            "AND f.h_start < l.h1 AND f.h_end > l.h0"
        )
