"""Cost Anomaly Detection over the bill's own daily costs (docs/ce-anomalies.md).

A monitor's spend is a daily series per monitored value (a service, an account, a tag or
cost category value; one series for a custom monitor): the net unblended cost of its
usage lines (RECORD_TYPE Usage, DiscountedUsage, SavingsPlanCoveredUsage; fees, monthly
charges, credits, refunds and tax are known in advance and not evaluated), summed per UTC
day in DuckDB over the same facts GetCostAndUsage reads, days without cost counted as 0.

A complete day is evaluated once its value has had cost for MIN_HISTORY days: its
expected cost is the median of the preceding BASELINE_DAYS days (fewer while the history
is shorter), its score the modified z-score 0.6745 * (cost - median) / MAD (Iglewicz and
Hoaglin), the MAD no smaller than SCALE_FLOOR of the median nor than a cent. A day is
anomalous when its score reaches THRESHOLD and its cost exceeds the expected one by
MIN_IMPACT dollars; consecutive anomalous days of a value are one anomaly. Its root
causes are the (service, Region, account, usage type) combinations of its lines, each
with the same baseline of its own, ranked by what they add over the anomaly's days.
Nothing is random: the same bill gives the same anomalies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bcm_local.billing.expressions.filters import literal
from bcm_local.billing.queries.facts import Facts
from bcm_local.billing.queries.timespan import naive

METRIC = "NetUnblendedCost"
RECORD_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
BASELINE_DAYS = 14
MIN_HISTORY = 10  # AWS: "10 days of historical service usage data is needed"
THRESHOLD = 3.5
MIN_IMPACT = 1.0  # dollars a day
SCALE_FLOOR = 0.02  # of the median: the smallest MAD (flat series have none)
MAX_ROOT_CAUSES = 10
_CAUSES = ("SERVICE", "REGION", "LINKED_ACCOUNT", "USAGE_TYPE")


@dataclass(frozen=True)
class Series:
    """What a monitor evaluates: `value` is the SQL of the monitored value over the facts
    (None: the lines under `where` as one series), `where` the lines it watches."""

    value: str | None
    where: str = "TRUE"


@dataclass(frozen=True)
class RootCause:
    service: str
    region: str
    account: str
    usage_type: str
    contribution: float


@dataclass(frozen=True)
class Detected:
    value: str | None  # the monitored value (None for one series)
    start: date
    end: date
    max_score: float
    current_score: float  # the score of its last day
    max_impact: float
    actual: float
    expected: float
    root_causes: tuple[RootCause, ...]

    @property
    def impact(self) -> float:
        return self.actual - self.expected


def evaluated_through(facts: Facts, now: datetime) -> datetime:
    """The end (exclusive, midnight UTC) of the last complete day the bill holds."""
    end = min(now, facts.through)
    return end.replace(hour=0, minute=0, second=0, microsecond=0)


def last_evaluated(facts: Facts, now: datetime) -> date:
    """The last complete day the bill holds (what a monitor was last evaluated on)."""
    return (evaluated_through(facts, now) - timedelta(days=1)).date()


def _daily(series: Series, end: datetime) -> str:
    value = series.value if series.value is not None else "''"
    types = ", ".join(literal(t) for t in RECORD_TYPES)
    causes = ", ".join(f'"{c}" AS {c.lower()}' for c in _CAUSES)
    return f"""SELECT CAST({value} AS VARCHAR) AS v, {causes}, date_trunc('day', t) AS d,
  sum({METRIC}) AS y
FROM facts
WHERE t < TIMESTAMP '{naive(end):%Y-%m-%d %H:%M:%S}' AND "RECORD_TYPE" IN ({types})
  AND ({series.where}) AND ({value}) IS NOT NULL
GROUP BY ALL"""


def _scored(end: datetime) -> str:
    """Per value and day since its first cost: cost, baseline, window length, score."""
    last = f"TIMESTAMP '{naive(end):%Y-%m-%d %H:%M:%S}' - INTERVAL 1 DAY"
    scale = f"greatest(mad, {SCALE_FLOOR} * abs(expected), 0.01)"
    return f"""totals AS (SELECT v, d, sum(y) AS y FROM daily GROUP BY ALL),
firsts AS (SELECT v, min(d) AS first FROM totals WHERE y <> 0 GROUP BY v),
days AS (SELECT v, unnest(generate_series(first, {last}, INTERVAL 1 DAY)) AS d FROM firsts),
series AS (SELECT v, d, coalesce(y, 0) AS y FROM days LEFT JOIN totals USING (v, d)),
windowed AS (
  SELECT v, d, y, median(y) OVER w AS expected, mad(y) OVER w AS mad, count(*) OVER w AS n
  FROM series
  WINDOW w AS (PARTITION BY v ORDER BY d ROWS BETWEEN {BASELINE_DAYS} PRECEDING AND 1 PRECEDING)),
scored AS (
  SELECT v, d, y, expected, n, 0.6745 * (y - expected) / {scale} AS score FROM windowed
  WHERE n >= {MIN_HISTORY}),
flagged AS (
  SELECT *, d - to_days(CAST(row_number() OVER (PARTITION BY v ORDER BY d) AS INTEGER)) AS run
  FROM scored WHERE score >= {THRESHOLD} AND y - expected >= {MIN_IMPACT})"""


def _causes(end: datetime) -> str:
    """Each root-cause combination's own baseline on each anomalous day: the median of its
    costs over the same preceding days as its value's (0 on days without cost)."""
    keys = ", ".join(c.lower() for c in _CAUSES)
    return f"""combos AS (
  SELECT f.v, f.run, f.d, f.n, {", ".join(f"c.{c.lower()}" for c in _CAUSES)},
    list(c.y) FILTER (WHERE c.d < f.d) AS history,
    coalesce(sum(c.y) FILTER (WHERE c.d = f.d), 0) AS today
  FROM flagged f JOIN daily c ON c.v = f.v AND c.d <= f.d
    AND c.d >= f.d - to_days(CAST(f.n AS INTEGER))
  GROUP BY ALL),
causes AS (
  SELECT v, run, {keys},
    sum(today - list_aggregate(list_resize(coalesce(history, []), n, 0), 'median'))
      AS contribution
  FROM combos GROUP BY ALL)"""


def detect(facts: Facts, series: Series, now: datetime) -> list[Detected]:
    """The anomalies of `series` in the bill, oldest first (then by value)."""
    end = evaluated_through(facts, now)
    with_sql = f"WITH daily AS ({_daily(series, end)}),\n{_scored(end)},\n{_causes(end)}"
    cur = facts.cursor()
    runs = cur.execute(
        f"""{with_sql}
SELECT v, run, min(d)::DATE, max(d)::DATE, max(score), arg_max(score, d),
  max(y - expected), sum(y), sum(expected)
FROM flagged GROUP BY v, run ORDER BY 3, 1"""
    ).fetchall()
    found: dict[tuple[str, object], list[RootCause]] = {}
    for v, run, service, region, account, usage, amount in cur.execute(
        f"""{with_sql}
SELECT v, run, {", ".join(c.lower() for c in _CAUSES)}, contribution FROM causes
WHERE contribution > 0.005 ORDER BY v, run, contribution DESC, 3, 4, 5, 6"""
    ).fetchall():
        causes = found.setdefault((v, run), [])
        if len(causes) < MAX_ROOT_CAUSES:
            causes.append(RootCause(service, region, account, usage, float(amount)))
    return [
        Detected(
            None if series.value is None else v,
            start,
            stop,
            float(top),
            float(last),
            float(peak),
            float(actual),
            float(expected),
            tuple(found.get((v, run), ())),
        )
        for v, run, start, stop, top, last, peak, actual, expected in runs
    ]


def value_count(facts: Facts, series: Series, now: datetime) -> int:
    """How many values the monitor evaluates: those with usage cost in the bill."""
    daily = _daily(series, evaluated_through(facts, now))
    row = facts.cursor().execute(f"SELECT count(DISTINCT v) FROM ({daily}) WHERE y <> 0").fetchone()
    return int(row[0]) if row else 0
