"""Billing periods: the current month (up to `now`) and optional backfilled months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bcm_local.billing.scenario import ids


@dataclass(frozen=True)
class Period:
    index: int  # 0 = oldest
    start: datetime
    end: datetime  # first instant of the next month
    active_hours: int  # hours with usage: the whole month, or through the hour of `now`
    invoice_id: str | None  # closed months have an invoice

    @property
    def total_hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m")


def month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1, day=1)


def billing_periods(
    now: datetime, backfill_months: int, account_id: str, seed: int
) -> list[Period]:
    """The open month (the one `now` falls in) after `backfill_months` closed ones.

    The open month's bill runs through the hour `now` falls in: at 12:30 it holds the
    hours from the 1st at 00:00 to 13:00 (the hour under way counted whole, so what was
    used a minute ago is on the bill), and at 00:30 on the 1st it holds one hour. No
    line starts after `now`. Closed months are whole and carry their invoice id; the open
    month has none yet."""
    current = month_start(now)
    periods: list[Period] = []
    for back in range(backfill_months, -1, -1):
        start = add_months(current, -back)
        end = add_months(start, 1)
        if back == 0:
            elapsed = int((now.astimezone(UTC) - start) // timedelta(hours=1))
            hours = min(elapsed + 1, int((end - start) // timedelta(hours=1)))
            invoice = None
        else:
            hours = int((end - start) // timedelta(hours=1))
            invoice = ids.number(10, account_id, seed, start.isoformat())
        periods.append(Period(len(periods), start, end, hours, invoice))
    return periods
