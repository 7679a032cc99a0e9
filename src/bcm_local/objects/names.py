"""Bucket-name and key rules (the general-purpose bucket naming rules of AWS)."""

from __future__ import annotations

import re

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_KEY_BYTES = 1024


class InvalidKey(ValueError):
    """A key S3 refuses: empty, over 1024 bytes of UTF-8, or not encodable."""


def valid_bucket_name(name: str) -> bool:
    return (
        bool(_BUCKET.match(name))
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not _IP.match(name)
        and not name.startswith(_BAD_PREFIXES)
        and not name.endswith(_BAD_SUFFIXES)
    )


def check_key(key: str) -> None:
    if not key:
        raise InvalidKey("empty key")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidKey("key is not valid UTF-8") from None
    if size > MAX_KEY_BYTES:
        raise InvalidKey("key longer than 1024 bytes")
