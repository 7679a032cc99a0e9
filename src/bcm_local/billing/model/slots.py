"""Time slots of a bill: `pat` (one row per pattern and period: the list of its non-zero
slots in time order) and the views every table reads.

Each line stores the window `[s0, s1)` of its pattern's slot list that its active hours
cover, so its rows are `unnest(slots[s0 + 1 : s1])`: a line's rows come out together, in
time order, without a join per row. Three views expose the same columns:

- `li` / `li_split`: one row per line and slot (what the tables select from);
- `li_lines` / `li_split_lines`: one row per line with the slot columns NULL, plus
  `__line` (the line's number) and `__n` (its row count): the run writer evaluates
  columns that only depend on the line here, once per line;
- `li_part` / `li_split_part`: the rows whose position in the output falls in
  [getvariable('bcm_a'), getvariable('bcm_b')), given the position of each line's first
  row in `bcm_runs` (line, off), which the run writer fills; plus `__line`.

(A one-row scalar subquery instead of the joins keeps lines in `line_no` order, but
DuckDB 2.0 then sometimes writes empty strings for ENUM values in a 2-thread COPY.)
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from bcm_local.billing.charges import Placed
from bcm_local.billing.scenario import ids
from bcm_local.billing.scenario.periods import Period

_ISO = "%Y-%m-%dT%H:%M:%SZ"
ROW_COLUMNS = ("start_ts", "end_ts", "interval", "line_item_id", "k", "aux")


def factor_rows(
    period: Period,
    placed: list[Placed],
    pks: dict[tuple[str, int], int],
    cache: dict[tuple[str, int], Any],
    granularity: str,
) -> tuple[dict[str, Any], list[int], list[int]]:
    """Columns (numpy) of the non-zero slots of every pattern used in the period, and each
    placed line's slot window (s0, s1) into its pattern's slot list."""
    import numpy as np

    aux_by_key = {(p.line.pattern, p.line.variant): p.aux for p in placed if p.aux is not None}
    hours = period.active_hours
    edges = slot_edges(period, granularity)
    out: dict[str, list[Any]] = {"pk": [], "slot": [], "factor": [], "aux": []}
    kept: dict[tuple[str, int], tuple[Any, Any]] = {}
    for key, array in sorted(cache.items(), key=lambda kv: pks[kv[0]]):
        aux = aux_by_key.get(key, np.zeros(hours))
        f = np.add.reduceat(array, edges[:-1]) if granularity != "HOURLY" else array
        a = np.add.reduceat(aux, edges[:-1]) if granularity != "HOURLY" else aux
        keep = (f != 0) | (a != 0)
        kept[key] = (edges[:-1][keep], edges[1:][keep])
        out["pk"].append(np.full(int(keep.sum()), pks[key], dtype=np.int32))
        out["slot"].append(np.flatnonzero(keep).astype(np.int32))
        out["factor"].append(f[keep])
        out["aux"].append(a[keep])
    out["pk"].append(np.zeros(1, dtype=np.int32))  # the `once` pattern: one slot, the month
    out["slot"].append(np.full(1, -1, dtype=np.int32))
    out["factor"].append(np.ones(1))
    out["aux"].append(np.zeros(1))
    s0, s1 = [], []
    for p in placed:
        key = (p.line.pattern, p.line.variant)
        if key not in kept:  # `once`
            s0.append(0)
            s1.append(1 if hours > 0 else 0)
            continue
        starts, ends = kept[key]
        s0.append(int(np.searchsorted(ends, p.h0, side="right")))
        s1.append(int(np.searchsorted(starts, p.h1, side="left")))
    return {k: np.concatenate(v) for k, v in out.items()}, s0, s1


def slot_edges(period: Period, granularity: str) -> Any:
    import numpy as np

    hours = period.active_hours
    step = {"HOURLY": 1, "DAILY": 24}.get(granularity, max(hours, 1))
    return np.append(np.arange(0, hours, step), hours)


def _slots(period: Period, granularity: str) -> dict[str, list[Any]]:
    edges = [int(e) for e in slot_edges(period, granularity)]
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


def pattern_table(
    con: Any, periods: list[Period], parts: list[dict[str, Any]], granularity: str
) -> None:
    """`pat`: per period and pattern, its slots (struct list in time order)."""
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
        "CREATE TABLE pat AS SELECT f.period, f.pk, list({'h_start': s.h_start, "
        "'h_end': s.h_end, 'start_ts': s.start_ts::TIMESTAMP, 'end_ts': s.end_ts::TIMESTAMP, "
        "'interval': s.interval::e_interval, 'slot_code': s.slot_code, 'factor': f.factor, "
        "'aux': f.aux} ORDER BY s.h_start) AS slots "
        "FROM pkf_arrow f JOIN slots_arrow s ON s.period = f.period AND s.slot = f.slot "
        "GROUP BY f.period, f.pk ORDER BY f.period, f.pk"
    )
    con.unregister("pkf_arrow")
    con.unregister("slots_arrow")


def _row_columns(granularity: str) -> str:
    """The slot columns of a row of `x` (a line with its slot `s`)."""
    if granularity == "MONTHLY":
        k, aux = "x.month_factor", "x.month_aux"
    elif granularity == "DAILY":
        k = (
            "x.s.factor * (least(x.s.h_end, x.h1) - greatest(x.s.h_start, x.h0)) "
            "/ (x.s.h_end - x.s.h_start)"
        )
        aux = "x.s.aux"
    else:
        k, aux = "x.s.factor", "x.s.aux"
    return (
        "x.s.start_ts, x.s.end_ts, x.s.interval, x.line_key || x.s.slot_code AS line_item_id, "
        f"{k} AS k, {aux} AS aux"
    )


_PATTERN = "JOIN pat p ON p.period = l.period AND p.pk = l.pk"
_SOURCES = (("", "lines"), ("_split", "split_lines"))


def line_views(con: Any, granularity: str) -> None:
    """`li` and `li_split`. Each line's rows come out together; the order of the lines
    follows the join's plan (deterministic, but not `line_no`)."""
    row = _row_columns(granularity)
    for suffix, source in _SOURCES:
        con.execute(
            f"CREATE VIEW li{suffix} AS SELECT x.* EXCLUDE (s), {row} FROM ("
            f"SELECT l.*, unnest(p.slots[l.s0 + 1 : l.s1]) AS s FROM {source} l {_PATTERN} "
            "WHERE l.s1 > l.s0) x"
        )


def run_views(con: Any, granularity: str) -> None:
    """The run writer's views (`li_lines`, `li_part` and their split twins) and its
    `bcm_runs` table; made on the first write that needs them (cheap to skip for the
    small exports that a plain COPY writes)."""
    row = _row_columns(granularity)
    a, b = "getvariable('bcm_a')", "getvariable('bcm_b')"
    con.execute("CREATE TABLE IF NOT EXISTS bcm_runs (line BIGINT, off BIGINT)")
    for suffix, source in _SOURCES:
        con.execute(
            f"CREATE OR REPLACE VIEW li{suffix}_lines AS SELECT l.*, "
            "NULL::TIMESTAMP AS start_ts, NULL::TIMESTAMP AS end_ts, "
            "NULL::e_interval AS interval, NULL::VARCHAR AS line_item_id, "
            "NULL::DOUBLE AS k, NULL::DOUBLE AS aux, "
            f"l.line_no AS __line, l.s1 - l.s0 AS __n FROM {source} l WHERE l.s1 > l.s0"
        )
        window = (
            f"p.slots[l.s0 + 1 + greatest(0, {a} - r.off) : l.s0 + least(l.s1 - l.s0, {b} - r.off)]"
        )
        con.execute(
            f"CREATE OR REPLACE VIEW li{suffix}_part AS SELECT x.* EXCLUDE (s), {row}, "
            f"x.line_no AS __line FROM (SELECT l.*, unnest({window}) AS s FROM {source} l "
            f"JOIN bcm_runs r ON r.line = l.line_no {_PATTERN} "
            f"WHERE l.s1 > l.s0 AND r.off < {b} AND r.off + l.s1 - l.s0 > {a}) x"
        )
