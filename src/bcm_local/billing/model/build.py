"""Builds one bill in DuckDB: `lines` (one row per metered series, string columns as
ENUMs so the Parquet writer copies dictionaries instead of hashing strings) and `pat`
(per pattern, its time slots; see billing/model/slots.py). Rows are never built in Python: the
`li` view expands each line over its slots, and every table is a projection of `li`.
The split cost allocation records of container tasks live apart (`split_lines`,
`li_split`): only CUR 2.0 with INCLUDE_SPLIT_COST_ALLOCATION_DATA reads them.
The scenario's spikes multiply the hourly factors of the usage lines they hit: such a
line gets a pattern key of its own (its variant plus VARIANTS times the spikes' bit mask).
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bcm_local.billing.charges import Placed, finalize
from bcm_local.billing.model import columns as lines
from bcm_local.billing.model import slots
from bcm_local.billing.model.shard import LineShard
from bcm_local.billing.scenario import shapes as patterns
from bcm_local.billing.scenario.definition import Scenario
from bcm_local.billing.scenario.periods import Period, billing_periods
from bcm_local.billing.usage.lines import (
    ResourceUsageEnumerator,
    UsageContext,
    UsageLine,
    account_directory,
)

# the lines a spike multiplies: metered usage (not fees, monthly charges or idle capacity)
SPIKED_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation")


@dataclass(frozen=True)
class _Spike:
    """A scenario spike within one period: its bit, hours, factor and what it hits."""

    bit: int
    hours: slice
    factor: float
    service: str
    account_id: str

    def hits(self, line: UsageLine) -> bool:
        return (
            line.line_item_type in SPIKED_TYPES
            and line.pattern != "once"
            and not line.pattern.startswith("sp:")
            and line.capacity_reservation_status != "Unused"
            and self.service in ("", line.product_code)
            and self.account_id in ("", line.account_id)
        )


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
    only: str = ""  # a condition on the lines every table keeps (a billing view's slice)
    # user tag key -> the last billing period (YYYY-MM) a line has it, active or not
    tag_keys: dict[str, str] = field(default_factory=dict)

    def map_key(self, column: str, key: str) -> str | None:
        """`key` as a literal of the map column's key type; None when no line has it (the
        ENUM cast would fail)."""
        found = self.map_keys.get(column)
        if found is None or key not in found[1]:
            return None
        return "'" + key.replace("'", "''") + f"'::{found[0]}"

    def focus(self, period: Period | None) -> None:
        """Restrict every table to one billing period (None: all periods)."""
        line_views(self.con, period, self.only)

    def restrict(self, condition: str) -> None:
        """Keep only the lines under `condition` (SQL over the line columns), in every
        table and period from now on."""
        self.only = condition
        line_views(self.con, None, condition)


def line_views(con: Any, period: Period | None, only: str = "") -> None:
    where = "" if period is None else f" AND period = {period.index}"
    if only:
        where += f" AND ({only})"
    con.execute(
        "CREATE OR REPLACE VIEW lines AS SELECT * FROM lines_all "
        f"WHERE split_parent IS NULL{where};\n"
        "CREATE OR REPLACE VIEW split_lines AS SELECT * FROM lines_all "
        f"WHERE split_parent IS NOT NULL{where}"
    )


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
    shard: LineShard | None = None,
    buckets: tuple[Any, ...] | None = None,
) -> Dataset:
    """`buckets`: the emulator's S3 buckets of the account as a server saw them, for a
    build without its runtime (a shard's process)."""
    import pyarrow as pa

    args = (account_id, now, scenario, seed, enumerators, granularity, backfill_months, scale)
    periods, raw, factor_parts = enumerated(*args, runtime, buckets)
    columns = {**raw, "raw_no": list(range(len(raw["line_key"])))}
    data = Dataset(con, periods, granularity, account_id, scenario.edp_percent > 0, now)
    where = shard.condition(columns, scale) if shard is not None else ""
    con.register("raw_lines", pa.table(columns, schema=_schema(pa)))
    try:
        _lines_table(con, data, columns, scale, where)
    finally:
        con.unregister("raw_lines")
    slots.pattern_table(con, periods, factor_parts, granularity)
    slots.line_views(con, granularity)
    return data


_MEMO: dict[str, Any] = {}  # the last bill enumerated without a runtime (shards reuse it)
_MEMO_LOCK = threading.Lock()


def enumerated(
    account_id: str,
    now: datetime,
    scenario: Scenario,
    seed: int,
    enumerators: Sequence[ResourceUsageEnumerator],
    granularity: str,
    backfill_months: int,
    scale: int,
    runtime: Any,
    buckets: tuple[Any, ...] | None,
) -> tuple[list[Period], dict[str, list[Any]], list[dict[str, Any]]]:
    """The bill's periods, its lines as Python columns and the patterns' factors: the
    part of the build done in Python (its size does not grow with the scale). Without a
    runtime it depends on its arguments only, so a process that builds several shards of
    one bill enumerates it once."""
    key = None
    if runtime is None:
        names = tuple(type(e).__qualname__ for e in enumerators)
        key = pickle.dumps(
            (account_id, now, scenario, seed, names, granularity, backfill_months, scale, buckets)
        )
        with _MEMO_LOCK:
            if _MEMO.get("key") == key:
                return _MEMO["value"]  # type: ignore[no-any-return]
    import numpy as np

    periods = billing_periods(now, backfill_months, account_id, seed)
    current = periods[-1].start
    pks: dict[tuple[str, int], int] = {("once", 0): 0}
    columns: dict[str, list[Any]] = {}
    factor_parts: list[dict[str, Any]] = []
    for period in periods:
        ctx = UsageContext(
            account_id, period.start, period.end, now, scenario, seed, runtime, buckets
        )
        payer = account_directory(ctx)["payer"]
        spikes = _spikes(scenario, period, current, account_directory(ctx))
        # an open month with no ended hour yet has no usage, hence no charges either
        found = [line for e in enumerators if period.active_hours for line in e.enumerate(ctx)]
        zeros = np.zeros(period.active_hours)
        cache: dict[tuple[str, int], Any] = {}
        placed = [
            _place(line, period, scenario, seed, current, cache, scale, zeros, spikes)
            for line in found
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
        factors, s0, s1 = slots.factor_rows(period, placed, pks, cache, granularity)
        factor_parts.append(factors)
        columns.setdefault("s0", []).extend(s0)
        columns.setdefault("s1", []).extend(s1)
    made = (periods, columns, factor_parts)
    if key is not None:
        with _MEMO_LOCK:
            _MEMO.update(key=key, value=made)
    return made


def _schema(pa: Any) -> Any:
    fields = [pa.field(n, pa.string()) for n in lines.STRING_COLUMNS]
    fields += [pa.field(n, pa.float64()) for n in lines.NUMBER_COLUMNS]
    fields += [pa.field(n, pa.map_(pa.string(), pa.string())) for n in lines.MAP_COLUMNS]
    fields += [
        pa.field("period", pa.int32()),
        pa.field("pk", pa.int32()),
        pa.field("h0", pa.int32()),
        pa.field("h1", pa.int32()),
        pa.field("s0", pa.int32()),
        pa.field("s1", pa.int32()),
        pa.field("replicable", pa.bool_()),
        pa.field("line_key", pa.string()),
        pa.field("period_start", pa.timestamp("us", tz="UTC")),
        pa.field("period_end", pa.timestamp("us", tz="UTC")),
        pa.field("raw_no", pa.int64()),
    ]
    return pa.schema(fields)


def _hour_index(period: Period, moment: datetime | None, default: int) -> int:
    if moment is None:
        return default
    hours = int((moment - period.start) / timedelta(hours=1))
    return max(0, min(hours, period.active_hours))


def _spikes(
    scenario: Scenario, period: Period, current: datetime, accounts: dict[str, tuple[str, str]]
) -> list[_Spike]:
    found = []
    for bit, spike in enumerate(scenario.spikes):
        hours = patterns.spike_hours(spike, period.start, period.active_hours, current)
        if hours.stop > hours.start:
            account = accounts[spike.account][0] if spike.account else ""
            found.append(_Spike(bit, hours, spike.factor, spike.service, account))
    return found


def _place(
    line: UsageLine,
    period: Period,
    scenario: Scenario,
    seed: int,
    current: datetime,
    cache: dict[tuple[str, int], Any],
    scale: int,
    zeros: Any,
    spikes: list[_Spike],
) -> Placed:
    hits = [s for s in spikes if s.hits(line)]
    if hits:
        mask = sum(1 << s.bit for s in hits)
        line = replace(line, variant=line.variant + patterns.VARIANTS * mask)
    key = (line.pattern, line.variant)
    weight = float(scale) if line.replicable else 1.0
    if line.pattern == "once":
        hourly = zeros.copy()
        hourly[0] = 1.0
        return Placed(line, hourly, weight=weight, h0=0, h1=period.active_hours)
    if key not in cache:
        name = "flat" if line.pattern.startswith("sp:") else line.pattern
        shaped = patterns.factors(
            name,
            line.variant % patterns.VARIANTS,
            period.start,
            period.active_hours,
            seed,
            scenario.shape,
            current,
        )
        if hits:
            shaped = shaped.copy()
        for spike in hits:
            shaped[spike.hours] *= spike.factor
        cache[key] = shaped
    h0 = _hour_index(period, line.start, 0)
    h1 = _hour_index(period, line.end, period.active_hours)
    hourly = zeros.copy()
    hourly[h0:h1] = cache[key][h0:h1]
    return Placed(line, hourly, weight=weight, h0=h0, h1=max(h1, h0))


def _new_id(column: str) -> str:
    """A replica's id: a task's parent gets the id its instance's clone gets."""
    return (
        f"CASE WHEN r.range = 0 OR {column} IS NULL THEN {column} "
        f"WHEN regexp_matches({column}, '-0[0-9a-f]{{16}}$') "
        f"THEN left({column}, -6) || left(md5({column} || r.range::VARCHAR), 6) "
        f"ELSE {column} || '-' || r.range::VARCHAR END"
    )


def _lines_table(
    con: Any, data: Dataset, columns: dict[str, list[Any]], scale: int, where: str = ""
) -> None:
    """`lines_all` from `raw_lines`: replicable lines cloned `scale` times with fresh
    resource ids (the scale knob), string columns (and map keys/values) as ENUMs. The
    value sets come from the Python columns (replicas only change resource ids, whose
    set is queried). One CREATE TABLE: materializing wide rows is what costs. `where`
    keeps only some lines (a shard's, LineShard)."""
    sets: dict[str, set[str]] = {
        f"e_{n}": {v for v in columns[n] if v is not None} for n in lines.STRING_COLUMNS
    }
    for name in lines.MAP_COLUMNS:
        base = lines.SHARED_MAP_TYPES.get(name, name)
        sets.setdefault(f"k_{base}", set()).update(k for m in columns[name] for k in m)
        sets.setdefault(f"v_{base}", set()).update(v for m in columns[name] for v in m.values())
    every = f"FROM raw_lines, range({int(scale)}) r WHERE (r.range = 0 OR replicable)"
    clones = f"{every} AND ({where})" if where else every
    fresh = {"resource_id": _new_id("resource_id"), "split_parent": _new_id("split_parent")}
    script = []
    for type_name, values in sets.items():
        if not values:
            continue
        if type_name[2:] in fresh and scale > 1:
            column = type_name[2:]
            query = f"SELECT DISTINCT {fresh[column]} AS v {every} AND {column} IS NOT NULL"
            script.append(f"CREATE TYPE {type_name} AS ENUM ({query} ORDER BY 1)")
            continue
        literal = ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))
        script.append(f"CREATE TYPE {type_name} AS ENUM ({literal})")
    casts = [f"({fresh.get(n, n)})::e_{n} AS {n}" for n in lines.STRING_COLUMNS if sets[f"e_{n}"]]
    casts.append("line_key || lpad(r.range::VARCHAR, 4, '0') AS line_key")
    for name in lines.MAP_COLUMNS:
        base = lines.SHARED_MAP_TYPES.get(name, name)
        if sets[f"k_{base}"]:
            casts.append(f"{name}::MAP(k_{base}, v_{base}) AS {name}")
            data.map_keys[name] = (f"k_{base}", sorted(sets[f"k_{base}"]))
    script.append(
        "CREATE TABLE lines_all AS SELECT raw_lines.* EXCLUDE (raw_no) "
        f"REPLACE ({', '.join(casts)}), "
        "period_start::TIMESTAMP AS bp_start, period_end::TIMESTAMP AS bp_end, "
        f"raw_no * {int(scale)} + r.range AS line_no, "
        f"MAP {{}}::MAP(VARCHAR, DOUBLE) AS no_discount {clones} ORDER BY period, r.range, raw_no"
    )
    con.execute(";\n".join(script))
    line_views(con, None)
