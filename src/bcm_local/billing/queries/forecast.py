"""GetCostForecast and GetUsageForecast: a forecast from the bill's own daily history.

The method (docs/ce-forecast.md): the metric's daily sums over the last complete days
the bill holds (up to 90, summed in DuckDB over the same facts GetCostAndUsage reads),
fitted by ordinary least squares to a straight line plus, with four weeks or more of
history, a mean offset per weekday. Each future day's mean is the fitted line there; its
prediction interval is the normal one of that fit at the level asked, and a bucket's
(and the total's) interval adds its days' variances. Nothing is random: the same bill and
clock give the same forecast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

from bcm_local.billing.queries.costs import amount
from bcm_local.billing.queries.facts import Facts
from bcm_local.billing.queries.timespan import Bucket, Span, buckets, naive
from bcm_local.wire.errors import AwsError

HISTORY_DAYS = 90
WEEKLY_FROM = 28  # days of history from which weekday offsets are fitted
DEFAULT_LEVEL = 80  # PredictionIntervalLevel when none is asked


@dataclass(frozen=True)
class Fit:
    """y(x) = intercept + slope * x + weekday[w], x in days from `origin`."""

    origin: datetime
    intercept: float
    slope: float
    weekday: tuple[float, ...]  # 7 offsets (Monday first), all 0 without weekly fit
    sigma2: float  # residual variance
    n: int
    x_mean: float
    sxx: float
    non_negative: bool  # the history never went below zero: neither does the forecast

    def day(self, moment: datetime) -> tuple[float, float]:
        """(mean, variance) of the day starting at `moment`."""
        x = (moment - self.origin).days
        mean = self.intercept + self.slope * x + self.weekday[moment.weekday()]
        spread = 1 + 1 / self.n + ((x - self.x_mean) ** 2 / self.sxx if self.sxx else 0)
        return mean, self.sigma2 * spread


def history(
    facts: Facts, metric: str, where: str, today: datetime
) -> tuple[datetime, list[float], list[str]]:
    """The first day, the daily sums of `metric` (days without a line are 0) and the
    usage units of the lines (for GetUsageForecast), over the complete days before
    today. DataUnavailableException when no line matches."""
    last = min(today, facts.through.replace(hour=0, minute=0, second=0, microsecond=0))
    first = max(facts.first, last - timedelta(days=HISTORY_DAYS))
    if last <= first:
        raise _unavailable()
    lo, hi = naive(first), naive(last)
    cur = facts.cursor()
    rows = cur.execute(
        f"""WITH sums AS (
  SELECT date_trunc('day', t) AS d, sum({metric}) AS y, count(*) AS lines
  FROM facts WHERE t >= ? AND t < ? AND ({where}) GROUP BY 1)
SELECT coalesce(y, 0), coalesce(lines, 0)
FROM generate_series(?::TIMESTAMP, ?::TIMESTAMP - INTERVAL 1 DAY, INTERVAL 1 DAY) g(d)
LEFT JOIN sums USING (d) ORDER BY g.d""",
        [lo, hi, lo, hi],
    ).fetchall()
    if not any(lines for _, lines in rows):
        raise _unavailable()
    units = [
        u
        for (u,) in cur.execute(
            f"SELECT DISTINCT unit FROM facts WHERE t >= ? AND t < ? AND ({where}) "
            f"AND unit <> '' AND {metric} <> 0 ORDER BY 1",
            [lo, hi],
        ).fetchall()
    ]
    return first, [float(y) for y, _ in rows], units


def _unavailable() -> AwsError:
    return AwsError(
        "DataUnavailableException", "Insufficient amount of historical data to generate forecast."
    )


def fit(origin: datetime, ys: list[float]) -> Fit:
    n = len(ys)
    xs = list(range(n))
    x_mean = sum(xs) / n
    y_mean = sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    slope = (
        sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0
    )
    intercept = y_mean - slope * x_mean
    residuals = [y - (intercept + slope * x) for x, y in zip(xs, ys, strict=True)]
    weekday = [0.0] * 7
    params = 2 if n > 1 else 1
    if n >= WEEKLY_FROM:
        for w in range(7):
            mine = [
                r for x, r in enumerate(residuals) if (origin + timedelta(days=x)).weekday() == w
            ]
            weekday[w] = sum(mine) / len(mine)
        residuals = [
            r - weekday[(origin + timedelta(days=x)).weekday()] for x, r in enumerate(residuals)
        ]
        params += 6
    sigma2 = sum(r * r for r in residuals) / max(n - params, 1)
    return Fit(origin, intercept, slope, tuple(weekday), sigma2, n, x_mean, sxx, min(ys) >= 0)


def forecast(f: Fit, span: Span, granularity: str, level: int | None, unit: str) -> dict[str, Any]:
    """The operation's output: Total and ForecastResultsByTime over the buckets of span."""
    z = NormalDist().inv_cdf(0.5 + (level or DEFAULT_LEVEL) / 200)
    results: list[dict[str, Any]] = []
    total_mean = total_var = 0.0
    for bucket in buckets(span, granularity):
        mean, var = _bucket(f, bucket)
        total_mean += mean
        total_var += var
        results.append({"TimePeriod": bucket.label("DAILY"), **_bounds(f, mean, var, z)})
    total = _bounds(f, total_mean, total_var, z)
    return {
        "Total": {"Amount": total["MeanValue"], "Unit": unit},
        "ForecastResultsByTime": results,
    }


def _bucket(f: Fit, bucket: Bucket) -> tuple[float, float]:
    mean = var = 0.0
    at = bucket.start
    while at < bucket.end:
        m, v = f.day(at)
        mean += max(m, 0.0) if f.non_negative else m
        var += v
        at += timedelta(days=1)
    return mean, var


def _bounds(f: Fit, mean: float, var: float, z: float) -> dict[str, str]:
    half = z * math.sqrt(var)
    lower = max(mean - half, 0.0) if f.non_negative else mean - half
    return {
        "MeanValue": amount(mean),
        "PredictionIntervalLowerBound": amount(lower),
        "PredictionIntervalUpperBound": amount(mean + half),
    }
