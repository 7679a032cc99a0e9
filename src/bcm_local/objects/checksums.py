"""The checksums S3 computes and verifies: MD5 (ETag, Content-MD5) and the flexible ones.

CRC32C and CRC64-NVME use awscrt when it is importable (it is fast, C); otherwise a
table-driven pure-Python CRC, correct but slow, so the server needs no native extra.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import zlib
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


@cache
def _table(poly: int) -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        rows.append(crc)
    return tuple(rows)


def _crc_py(poly: int, width: int) -> Callable[[bytes, int], int]:
    mask = (1 << width) - 1

    def crc(data: bytes, value: int) -> int:
        table = _table(poly)
        value ^= mask
        for byte in data:
            value = table[(value ^ byte) & 0xFF] ^ (value >> 8)
        return value ^ mask

    return crc


def _crt(name: str) -> Callable[[bytes, int], int] | None:
    try:
        module = importlib.import_module("awscrt.checksums")
    except ImportError:
        return None
    fn: Callable[[bytes, int], int] | None = getattr(module, name, None)
    return fn


crc32c: Callable[[bytes, int], int] = _crt("crc32c") or _crc_py(0x82F63B78, 32)
crc64nvme: Callable[[bytes, int], int] = _crt("crc64nvme") or _crc_py(0x9A6C9329AC4BC9B5, 64)
crc32c_py = _crc_py(0x82F63B78, 32)
crc64nvme_py = _crc_py(0x9A6C9329AC4BC9B5, 64)


class _Crc:
    def __init__(self, fn: Callable[[bytes, int], int], width: int) -> None:
        self.fn, self.width, self.value = fn, width, 0

    def update(self, data: bytes, /) -> None:
        self.value = self.fn(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self.width // 8, "big")


def _zlib_crc32(data: bytes, value: int) -> int:
    return zlib.crc32(data, value)


HASHERS: dict[str, Callable[[], Hasher]] = {
    "CRC32": lambda: _Crc(_zlib_crc32, 32),
    "CRC32C": lambda: _Crc(crc32c, 32),
    "CRC64NVME": lambda: _Crc(crc64nvme, 64),
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
    "MD5": hashlib.md5,
}
DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
DIGEST_SIZES |= {"SHA512": 64, "MD5": 16}
# algorithms whose multipart checksum can be FULL_OBJECT (CRCs) vs COMPOSITE only
FULL_OBJECT_CAPABLE = {"CRC32", "CRC32C", "CRC64NVME"}
HEADER_PREFIX = "x-amz-checksum-"


def header_name(algorithm: str) -> str:
    return HEADER_PREFIX + algorithm.lower()


def member_name(algorithm: str) -> str:
    return "Checksum" + algorithm


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def decode(value: str, algorithm: str) -> bytes | None:
    """The raw digest of a base64 checksum value, or None when it is malformed."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == DIGEST_SIZES[algorithm] else None


def composite(algorithm: str, part_values: list[str]) -> str:
    """AWS's COMPOSITE multipart checksum: hash of the parts' raw checksums, then `-N`."""
    hasher = HASHERS[algorithm]()
    for value in part_values:
        hasher.update(base64.b64decode(value))
    return f"{b64(hasher.digest())}-{len(part_values)}"


def multipart_etag(part_md5s: list[bytes]) -> str:
    return f'"{hashlib.md5(b"".join(part_md5s)).hexdigest()}-{len(part_md5s)}"'


def declared(members: dict[str, Any]) -> dict[str, str]:
    """The `Checksum<ALG>` members a request carries, by algorithm."""
    return {a: members[member_name(a)] for a in HASHERS if members.get(member_name(a))}
