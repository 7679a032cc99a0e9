"""Hourly usage shapes: factor arrays per (pattern, variant) for one billing period.

Instance-hour meters use shapes bounded by 1 (flat, business, batch, autoscale: variant v is
the v-th instance of an autoscaled fleet, running only when load needs it); volume meters
(requests, bytes, GB-seconds) use web, serverless and growth. Every shape except flat
carries the month-over-month growth; web-like shapes carry the weekday cycle and the spike.
All randomness comes from the seed, so the same seed gives the same factors.

A `Spike` is a burst of one service's or account's usage on one day of a month given
relative to the clock (months back, day of that month): the model multiplies the hourly
factors of the lines it hits over its hours (billing/model/build.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bcm_local.billing.scenario.periods import add_months

VARIANTS = 8
PATTERN_IDS = {
    name: i
    for i, name in enumerate(
        ("flat", "growth", "web", "serverless", "batch", "business", "autoscale", "once")
    )
}


@dataclass(frozen=True)
class Shape:
    growth_per_month: float = 0.06
    noise: float = 0.05
    spike_day: int = 12  # day of the month (current month only), 0 = no spike
    spike_start_hour: int = 14
    spike_hours: int = 5
    spike_factor: float = 4.0


@dataclass(frozen=True)
class Spike:
    """Usage of `service` (a line_item_product_code) and/or `account` (a scenario account
    key) times `factor` for `hours` hours from `start_hour` on day `day` of the month
    `months_back` months before the current one (1: the previous, closed month)."""

    service: str = ""
    account: str = ""
    months_back: int = 1
    day: int = 14
    factor: float = 5.0
    start_hour: int = 0
    hours: int = 24


def spike_hours(spike: Spike, period_start: datetime, hours: int, current: datetime) -> slice:
    """The hours of the period (from its start) the spike covers; empty when it falls in
    another period or after the hours the period holds so far."""
    if add_months(current, -spike.months_back) != period_start:
        return slice(0, 0)
    first = (spike.day - 1) * 24 + spike.start_hour
    return slice(min(first, hours), min(first + spike.hours, hours))


def _hours_since_epoch(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() // 3600)


def factors(
    pattern: str,
    variant: int,
    period_start: datetime,
    hours: int,
    seed: int,
    shape: Shape,
    current_month_start: datetime,
) -> Any:
    """numpy float64 array of `hours` factors starting at `period_start`."""
    import numpy as np

    h0 = _hours_since_epoch(period_start)
    absolute = np.arange(h0, h0 + hours, dtype=np.float64)
    if pattern in ("flat", "once"):
        return np.ones(hours)
    hour_of_day = absolute % 24
    weekday = ((absolute // 24) + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    weekend = weekday >= 5
    months_from_now = (absolute - _hours_since_epoch(current_month_start)) / 730.0
    trend = (1.0 + shape.growth_per_month) ** months_from_now
    rng = np.random.default_rng([seed, PATTERN_IDS[pattern], variant, h0])
    noise = np.clip(1.0 + shape.noise * rng.standard_normal(hours), 0.5, 1.5)
    diurnal = 0.5 - 0.5 * np.cos((hour_of_day - 2.0 - variant * 0.25) / 24.0 * 2 * np.pi)
    load = (0.45 + 0.55 * diurnal) * np.where(weekend, 0.7, 1.0) * trend * noise
    spike = _spike_mask(period_start, hours, shape, current_month_start)
    if pattern == "business":
        return np.where(~weekend & (hour_of_day >= 8) & (hour_of_day < 20), 1.0, 0.0)
    if pattern == "batch":
        return np.where((hour_of_day >= 1) & (hour_of_day < 5), 1.0, 0.0)
    if pattern == "growth":
        return np.asarray(trend * (1.0 + 0.002 * (absolute - h0) / 24.0))
    if pattern == "web":
        return np.asarray(load * np.where(spike, shape.spike_factor, 1.0))
    if pattern == "serverless":
        return np.asarray(load**2 * 1.6 * noise * np.where(spike, shape.spike_factor, 1.0))
    if pattern == "autoscale":
        fleet = load * np.where(spike, shape.spike_factor, 1.0) * 3.0
        return np.asarray(np.clip(np.round(fleet - variant, 2), 0.0, 1.0))
    raise ValueError(f"unknown pattern {pattern!r}")


def _spike_mask(period_start: datetime, hours: int, shape: Shape, current: datetime) -> Any:
    import numpy as np

    mask = np.zeros(hours, dtype=bool)
    if shape.spike_day <= 0 or period_start != current:
        return mask
    first = (shape.spike_day - 1) * 24 + shape.spike_start_hour
    mask[max(first, 0) : max(first + shape.spike_hours, 0)] = True
    return mask
