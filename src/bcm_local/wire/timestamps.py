"""AWS timestamps on the wire: rfc822 (headers), iso8601 (XML and JSON), unixTimestamp."""

from __future__ import annotations

import math
import time
from datetime import datetime
from email.utils import formatdate, parsedate_to_datetime


def parse_time(raw: str, time_format: str) -> float | None:
    """Epoch seconds of a header/XML timestamp; None when it does not parse (AWS ignores it)."""
    try:
        if time_format == "rfc822":
            return parsedate_to_datetime(raw).timestamp()
        if time_format == "unixTimestamp":
            return float(raw)
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def format_time(value: float | datetime, time_format: str) -> str:
    epoch = value.timestamp() if isinstance(value, datetime) else float(value)
    if time_format == "rfc822":
        return formatdate(epoch, usegmt=True)
    if time_format == "unixTimestamp":
        return str(int(epoch))
    # as datetime.fromtimestamp(epoch).isoformat(timespec="milliseconds"), without it
    fraction, whole = math.modf(epoch)
    micros = round(fraction * 1e6)
    seconds, micros = divmod(int(whole) * 1_000_000 + micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros // 1000:03d}Z"
