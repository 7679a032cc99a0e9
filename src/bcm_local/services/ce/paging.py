"""Cost Explorer's NextPageToken: the position in one request's answer, signed
(services/pagination.py) and bound to the request's other parameters. A token from
another request is a RequestChangedException, a forged one InvalidNextTokenException."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bcm_local.services import pagination
from bcm_local.store import Store
from bcm_local.wire.errors import AwsError


def _listing(operation: str, account: str, params: dict[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{operation}\n{account}\n{canonical}".encode()).hexdigest()
    return f"ce:{digest[:32]}"


class Pager:
    def __init__(
        self, store: Store, operation: str, account: str, params: dict[str, Any], size: int
    ) -> None:
        self.store = store
        self.size = max(1, size)
        self.listing = _listing(operation, account, params)

    def offset(self, token: str | None) -> int:
        if not token:
            return 0
        try:
            listing, offset = pagination.read(self.store, token)
        except pagination.BadToken:
            raise AwsError("InvalidNextTokenException", "Invalid NextPageToken.") from None
        if listing != self.listing:
            raise AwsError(
                "RequestChangedException",
                "The request parameters changed since the NextPageToken was issued.",
            )
        return offset

    def token(self, offset: int) -> str:
        return pagination.encode(self.store, self.listing, offset)

    def items(self, items: list[Any], token: str | None) -> tuple[list[Any], str | None]:
        """One page of a flat list and the token for the next (None at the end)."""
        start = self.offset(token)
        end = start + self.size
        return items[start:end], (self.token(end) if end < len(items) else None)

    def answer(self, member: str, items: list[Any], token: str | None) -> dict[str, Any]:
        """`{member: one page of items}`, with the NextPageToken when more follow."""
        page, following = self.items(items, token)
        return {member: page, **({"NextPageToken": following} if following else {})}

    def results(
        self, results: list[dict[str, Any]], token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ResultsByTime: up to `size` groups (a period without groups counts
        as one); a period whose groups do not fit continues on the next page."""
        start = self.offset(token)
        end = start + self.size
        page: list[dict[str, Any]] = []
        at = 0
        for entry in results:
            groups = entry["Groups"]
            width = max(1, len(groups))
            if at + width > start and at < end:
                lo, hi = max(start - at, 0), min(end - at, width)
                page.append({**entry, "Groups": groups[lo:hi]} if groups else entry)
            at += width
            if at >= end:
                break
        total = sum(max(1, len(e["Groups"])) for e in results)
        return page, (self.token(end) if end < total else None)


def listed(
    store: Store, listing: str, items: list[Any], token: str | None, size: int
) -> tuple[list[Any], str | None]:
    """One page of a definitions listing (NextToken, MaxResults): a token from another
    listing, or forged, is an InvalidNextTokenException."""
    try:
        start = pagination.decode(store, listing, token) if token else 0
    except pagination.BadToken:
        raise AwsError("InvalidNextTokenException", "Invalid NextToken.") from None
    end = start + size
    return items[start:end], (pagination.encode(store, listing, end) if end < len(items) else None)
