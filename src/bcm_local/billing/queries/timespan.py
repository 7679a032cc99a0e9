"""Cost Explorer's time: a DateInterval (Start inclusive, End exclusive) read as UTC, and
the buckets a granularity cuts it into (days, calendar months clipped to the interval,
hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bcm_local.billing.scenario.periods import add_months, month_start
from bcm_local.wire.errors import AwsError

GRANULARITIES = ("DAILY", "MONTHLY", "HOURLY")
HOURLY_DAYS = 14  # CE keeps hourly (and resource-level) data for the last 14 days


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def parse(value: str, member: str) -> datetime:
    """A YYYY-MM-DD date (midnight UTC) or YYYY-MM-DDTHH:MM:SSZ."""
    try:
        if "T" in value:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise invalid(
            f"{member} {value!r} is not a valid date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ."
        ) from None


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime

    @classmethod
    def of(cls, interval: dict[str, str], granularity: str = "DAILY") -> Span:
        start = parse(interval["Start"], "Start")
        end = parse(interval["End"], "End")
        if granularity != "HOURLY":  # days and months start at midnight
            start = start.replace(hour=0, minute=0, second=0)
            end = end.replace(hour=0, minute=0, second=0)
        if end <= start:
            raise invalid("Start date (and hour) should be before end date (and hour)")
        return cls(start, end)


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime

    def label(self, granularity: str) -> dict[str, str]:
        return {"Start": stamp(self.start, granularity), "End": stamp(self.end, granularity)}


def stamp(moment: datetime, granularity: str) -> str:
    if granularity == "HOURLY":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%d")


def buckets(span: Span, granularity: str) -> list[Bucket]:
    out: list[Bucket] = []
    at = span.start
    while at < span.end:
        if granularity == "MONTHLY":
            nxt = add_months(month_start(at), 1)
        elif granularity == "DAILY":
            nxt = at + timedelta(days=1)
        else:
            nxt = at + timedelta(hours=1)
        out.append(Bucket(at, min(nxt, span.end)))
        at = nxt
    return out


def bucket_sql(granularity: str) -> str:
    """The SQL of a fact's bucket start (its `t` is the line's usage start, UTC)."""
    return {
        "DAILY": "date_trunc('day', t)",
        "MONTHLY": "date_trunc('month', t)",
        "HOURLY": "date_trunc('hour', t)",
    }[granularity]


def recent(span: Span, now: datetime, what: str) -> None:
    """`span` must start inside the last 14 days (hourly and resource-level data)."""
    first = (now - timedelta(days=HOURLY_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    if span.start < first:
        raise invalid(
            f"{what} is only available for the last {HOURLY_DAYS} days: Start must be on or "
            f"after {stamp(first, 'DAILY')}."
        )


def naive(moment: datetime) -> datetime:
    """UTC without tzinfo: how the facts hold time."""
    return moment.astimezone(UTC).replace(tzinfo=None)
