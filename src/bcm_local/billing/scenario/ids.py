"""Deterministic identifiers in AWS's formats, derived from the seed and a name."""

from __future__ import annotations

import hashlib
import uuid


def digest(*parts: object) -> bytes:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()


def hex_id(n: int, *parts: object) -> str:
    return digest(*parts).hex()[:n]


def number(n: int, *parts: object) -> str:
    return str(int.from_bytes(digest(*parts)[:8], "big") % 10**n).zfill(n)


def uuid_of(*parts: object) -> str:
    return str(uuid.UUID(bytes=digest(*parts)[:16], version=4))


def sku(*parts: object) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = digest("sku", *parts)
    return "".join(alphabet[b % len(alphabet)] for b in raw[:16])


def variant(n: int, *parts: object) -> int:
    return digest("variant", *parts)[0] % n
