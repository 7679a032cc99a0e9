"""GetCostAndUsage (and WithResources) as one GROUP BY over the facts: the buckets of the
interval, up to two group keys, the metrics asked for; shaped as CE's ResultsByTime.

Amounts are sums of CUR 2.0 columns (queries/facts.py), written as CE writes them: a
decimal string. A cost's unit is USD; a usage amount's is the pricing unit its lines share,
or "N/A" when they mix units (CE's answer for UsageQuantity across usage types).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bcm_local.billing.expressions.dimensions import DIMENSIONS, column
from bcm_local.billing.expressions.filters import invalid, literal
from bcm_local.billing.queries import timespan
from bcm_local.billing.queries.facts import COST_METRICS, METRICS, Facts
from bcm_local.billing.queries.timespan import Span
from bcm_local.billing.scenario.periods import month_start

GROUP_TYPES = ("DIMENSION", "TAG", "COST_CATEGORY")
MAX_GROUPS = 2


@dataclass(frozen=True)
class GroupKey:
    type: str
    key: str

    def sql(self, resources: bool) -> str:
        if self.type == "TAG":
            return f"coalesce(tags[{literal(self.key)}], '')"
        if self.type == "COST_CATEGORY":
            return f"coalesce(cost_categories[{literal(self.key)}], '')"
        if self.key == "RESOURCE_ID":
            return "resource_id"
        return column(self.key)

    def label(self, value: str) -> str:
        return value if self.type == "DIMENSION" else f"{self.key}${value}"

    def label_sql(self, resources: bool) -> str:
        """The group's Key as CE writes it (key$value for tags and cost categories)."""
        expr = self.sql(resources)
        return expr if self.type == "DIMENSION" else f"{literal(self.key + '$')} || {expr}"


def group_keys(groups: list[dict[str, str]] | None, resources: bool = False) -> list[GroupKey]:
    found: list[GroupKey] = []
    for g in groups or ():
        kind, key = g.get("Type"), g.get("Key")
        if kind not in GROUP_TYPES or not key:
            raise invalid(f"GroupBy needs a Type ({', '.join(GROUP_TYPES)}) and a Key.")
        if kind == "DIMENSION":
            dim = DIMENSIONS.get(key)
            groupable = dim is not None and (dim.groups or (resources and key == "RESOURCE_ID"))
            if not groupable:
                raise invalid(f"Group Definition dimension is invalid. Dimension {key!r} ")
        gk = GroupKey(kind, key)
        if gk in found:
            raise invalid("Group Definition cannot contain the same key twice.")
        found.append(gk)
    if len(found) > MAX_GROUPS:
        raise invalid(f"Group Definition can only have up to {MAX_GROUPS} groups.")
    return found


def metric_names(metrics: list[str] | None) -> list[str]:
    names = list(dict.fromkeys(metrics or ()))
    if not names:
        raise invalid("Metrics must hold at least one of: " + ", ".join(sorted(METRICS)))
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise invalid(
            f"Metrics {unknown} are not valid; valid metrics are: {', '.join(sorted(METRICS))}"
        )
    return names


def amount(value: float) -> str:
    """CE's decimal string: up to 10 decimals, no trailing zeros, "0" for zero."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@dataclass
class CostQuery:
    span: Span
    granularity: str
    metrics: list[str]
    groups: list[GroupKey]
    where: str  # filters.condition(...)
    resources: bool = False


def amount_sql(total: str) -> str:
    """`amount` in SQL: the same decimal string, made by DuckDB."""
    return (
        f"CASE WHEN abs({total}) < 5e-11 THEN '0' "
        f"ELSE regexp_replace(printf('%.10f', {total}), '\\.?0+$', '') END"
    )


def _metric_sql(metrics: list[str]) -> list[str]:
    out = [amount_sql(f"sum({m})") for m in metrics]
    if "UsageQuantity" in metrics:
        out.append(
            "CASE WHEN count(DISTINCT unit) FILTER (WHERE unit <> '') = 1 "
            "THEN max(unit) ELSE 'N/A' END"
        )
    return out


def _units(metrics: list[str]) -> list[str]:
    return ["USD" if m in COST_METRICS else "N/A" for m in metrics]


def _values(metrics: list[str], units: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    if "UsageQuantity" in metrics:
        units = list(units)
        units[metrics.index("UsageQuantity")] = row[len(metrics)] or "N/A"
    return {m: {"Amount": row[n], "Unit": units[n]} for n, m in enumerate(metrics)}


def _zero(metrics: list[str]) -> dict[str, dict[str, str]]:
    return {m: {"Amount": "0", "Unit": u} for m, u in zip(metrics, _units(metrics), strict=True)}


def results_by_time(facts: Facts, q: CostQuery) -> list[dict[str, Any]]:
    """ResultsByTime for the whole interval (the caller pages it)."""
    table = "facts_resources" if q.resources else "facts"
    keys = [g.label_sql(q.resources) for g in q.groups]
    select = [timespan.bucket_sql(q.granularity) + " AS b", *keys, *_metric_sql(q.metrics)]
    order = ", ".join(str(n + 1) for n in range(1 + len(keys)))
    sql = (
        f"SELECT {', '.join(select)} FROM {table} WHERE t >= ? AND t < ? AND ({q.where}) "
        f"GROUP BY {order} ORDER BY {order}"
    )
    span = [timespan.naive(q.span.start), timespan.naive(q.span.end)]
    cur = facts.cursor()
    try:
        rows = cur.execute(sql, span).fetchall()
    finally:
        cur.close()
    buckets = timespan.buckets(q.span, q.granularity)
    index = {timespan.naive(b.start): n for n, b in enumerate(buckets)}
    if q.granularity == "MONTHLY":  # a clipped first month starts mid-month
        index[timespan.naive(month_start(buckets[0].start))] = 0
    grouped: list[list[dict[str, Any]]] = [[] for _ in buckets]
    totals: list[dict[str, Any] | None] = [None] * len(buckets)
    width = len(keys)
    units = _units(q.metrics)
    for row in rows:
        n = index.get(row[0])
        if n is None:
            continue
        values = _values(q.metrics, units, row[1 + width :])
        if width:
            grouped[n].append({"Keys": list(row[1 : 1 + width]), "Metrics": values})
        else:
            totals[n] = values
    open_from = min((m.start for m in facts.months if m.estimated), default=facts.through)
    open_from = min(open_from, facts.through)
    out = []
    for n, bucket in enumerate(buckets):
        entry: dict[str, Any] = {"TimePeriod": bucket.label(q.granularity)}
        if width:
            entry["Total"] = {}
            entry["Groups"] = grouped[n]
        else:
            entry["Total"] = totals[n] or _zero(q.metrics)
            entry["Groups"] = []
        entry["Estimated"] = bucket.end > open_from
        out.append(entry)
    return out
