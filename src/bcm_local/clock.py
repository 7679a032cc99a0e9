"""The emulator's one clock: every "what time is it" in bcm-local asks it.

`BCM_LOCAL_NOW` (`--now`) pins it: an ISO 8601 date (`2026-11-20`, midnight UTC) or a UTC
timestamp (`2026-11-20T12:00:00Z`; an offset is converted to UTC, none means UTC). A
pinned clock starts at that instant when the process starts and ticks at real speed from
there, so the current billing period, how far into it the bill runs, execution and export
timestamps, S3 LastModified and the console all follow it, and the same seed, scenario,
settings and clock give the same bill. Empty (the default) is the machine's clock.

Two readings are about the machine, not the emulated world, and stay on the machine's
time whatever the setting: `machine_time()` for the HTTP `Date` header and for checking a
client's SigV4 request time (clients sign with the machine's clock, and botocore corrects
its skew from `Date`). No other module reads the wall clock; tests/test_clock.py checks.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

ACCEPTED = (
    "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|+HH:MM] (UTC), or empty for the machine's clock"
)
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def parse(value: str) -> datetime | None:
    """The instant a BCM_LOCAL_NOW value pins (None: the machine's clock); ValueError
    names the value and the accepted forms."""
    text = value.strip()
    if not text:
        return None
    problem = f"{value!r} is not a date or UTC timestamp; accepted: {ACCEPTED}"
    candidate = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    if len(candidate) < 10 or candidate[4:5] != "-" or candidate[7:8] != "-":
        raise ValueError(problem)
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        raise ValueError(problem) from None
    if len(candidate) > 10 and "T" not in candidate[10:11].upper():
        raise ValueError(problem)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if not _EARLIEST <= moment < _LATEST:
        raise ValueError(f"{value!r} is outside the years 2000-2099 the bill can be built for")
    return moment


def machine_time() -> float:
    """The machine's time (seconds since the epoch): only for the HTTP Date header and
    for checking the time a client signed a request with."""
    return time.time()


class Clock:
    """Pinned at `start` (ticking at real speed from when it was made), or the machine's
    clock when `start` is None."""

    def __init__(self, start: datetime | None = None) -> None:
        self.pinned = start
        self._origin = time.monotonic()

    def time(self) -> float:
        """Now, in seconds since the epoch."""
        if self.pinned is None:
            return time.time()
        return self.pinned.timestamp() + (time.monotonic() - self._origin)

    def now(self) -> datetime:
        """Now, as an aware UTC datetime."""
        if self.pinned is None:
            return datetime.now(UTC)
        return self.pinned + timedelta(seconds=time.monotonic() - self._origin)

    def describe(self) -> str:
        """What `bcm-local status` and the console say: 'machine' or the pinned start."""
        if self.pinned is None:
            return "machine"
        return "pinned at " + self.pinned.strftime("%Y-%m-%dT%H:%M:%SZ")
