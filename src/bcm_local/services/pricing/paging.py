"""The Price List API's NextToken: a position in one request's answer, signed
(services/pagination.py) and bound to the request's other parameters (MaxResults
may change between pages) and to the price list publication it was read from.

A forged token, or one from another request, is an InvalidNextTokenException; a token
from an earlier publication (the clock has entered a new month since) is an
ExpiredNextTokenException, since the answer it continues has been replaced.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bcm_local.runtime import Context
from bcm_local.services import pagination
from bcm_local.services.pricing.offers import current
from bcm_local.wire.errors import AwsError

DEFAULT_SIZE = 100


def _request(operation: str, request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return "pricing:" + hashlib.sha256(f"{operation}\n{canonical}".encode()).hexdigest()[:32]


def page(
    ctx: Context,
    operation: str,
    request: dict[str, Any],
    items: list[Any],
    token: str | None,
    size: int | None,
) -> tuple[list[Any], str | None]:
    """The page of `items` that `token` (NextToken) and `size` (MaxResults) ask for, and
    the token of the next one (None at the end); `request` is the rest of the request."""
    bound = _request(operation, request)
    version = current(ctx).version
    start = _offset(ctx, bound, version, token)
    end = start + (size or DEFAULT_SIZE)
    if end >= len(items):
        return items[start:end], None
    return items[start:end], pagination.encode(ctx.store, f"{bound}:{version}", end)


def _offset(ctx: Context, request: str, version: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        listing, offset = pagination.read(ctx.store, token)
    except pagination.BadToken:
        raise _invalid() from None
    issued_for, _, issued_in = listing.rpartition(":")
    if issued_for != request or offset < 0:
        raise _invalid()
    if issued_in != version:
        raise AwsError(
            "ExpiredNextTokenException",
            "The pagination token expired: a new price list has been published since. "
            "Try again without a pagination token.",
        )
    return offset


def _invalid() -> AwsError:
    return AwsError(
        "InvalidNextTokenException",
        "The pagination token is invalid. Try again without a pagination token.",
    )
