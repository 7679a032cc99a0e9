"""Billing periods: the current month (up to `now`) and optional backfilled months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bcm_local.billing import ids


@dataclass(frozen=True)
class Period:
    index: int  # 0 = oldest
    start: datetime
    end: datetime  # first instant of the next month
    active_hours: int  # hours with usage: the whole month, or up to `now` for the current one
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
    current = month_start(now)
    periods: list[Period] = []
    for back in range(backfill_months, -1, -1):
        start = add_months(current, -back)
        end = add_months(start, 1)
        if back == 0:
            elapsed = now.astimezone(UTC) - start
            hours = max(
                1,
                min(
                    int(elapsed / timedelta(hours=1)) + 1,
                    int((end - start).total_seconds() // 3600),
                ),
            )
            invoice = None
        else:
            hours = int((end - start).total_seconds() // 3600)
            invoice = ids.number(10, account_id, seed, start.isoformat())
        periods.append(Period(len(periods), start, end, hours, invoice))
    return periods
