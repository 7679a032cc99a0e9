"""Opaque, tamper-evident NextTokens shared by every List/Describe operation.

A token carries the position (the last record's sequence number) and the listing it
belongs to, signed with a secret kept in the store, so it survives restarts; a forged,
altered or foreign token is rejected with the caller's chosen error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable

from bcm_local.store import Record, Store


class BadToken(Exception):
    pass


def _secret(store: Store) -> bytes:
    return store.meta("pagination-secret", secrets.token_hex(32)).encode()


def encode(store: Store, listing: str, seq: int) -> str:
    payload = json.dumps({"l": listing, "s": seq}, separators=(",", ":")).encode()
    mac = hmac.new(_secret(store), payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(payload + mac).decode()


def decode(store: Store, listing: str, token: str) -> int:
    found, seq = read(store, token)
    if found != listing:
        raise BadToken(token)
    return seq


def read(store: Store, token: str) -> tuple[str, int]:
    """(the listing, the position) of a genuine token; BadToken otherwise."""
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        payload, mac = raw[:-16], raw[-16:]
        expected = hmac.new(_secret(store), payload, hashlib.sha256).digest()[:16]
        data = json.loads(payload)
    except (ValueError, UnicodeError):
        raise BadToken(token) from None
    if not hmac.compare_digest(mac, expected) or not isinstance(data, dict):
        raise BadToken(token)
    listing, seq = data.get("l"), data.get("s")
    if not isinstance(listing, str) or not isinstance(seq, int):
        raise BadToken(token)
    return listing, seq


def page(
    store: Store,
    ns: str,
    prefix: str,
    max_results: int,
    token: str | None,
    on_bad_token: Callable[[str], Exception],
) -> tuple[list[Record], str | None]:
    """One page of records under `prefix`; the token for the next page or None."""
    listing = f"{ns}:{prefix}"
    try:
        after = decode(store, listing, token) if token else 0
    except BadToken:
        raise on_bad_token(token or "") from None
    rows = store.scan(ns, prefix, after_seq=after, limit=max_results + 1)
    if len(rows) <= max_results:
        return rows, None
    rows = rows[:max_results]
    return rows, encode(store, listing, rows[-1].seq)
