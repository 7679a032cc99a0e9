"""ListObjectsV2 and ListObjects (v1): prefix, delimiter roll-up, markers and tokens."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from bcm_local.objects.backend import ObjectMeta, S3Backend, next_prefix, s3_backend
from bcm_local.runtime import Context
from bcm_local.services.s3.buckets import owner
from bcm_local.services.s3.errors import invalid_argument, owned_bucket

_BATCH = 1000
MAX_KEYS = 1000
Item = ObjectMeta | str  # an object, or a common prefix


def walk(
    backend: S3Backend, bucket: str, prefix: str, delimiter: str, marker: str, limit: int
) -> tuple[list[Item], bool]:
    """Up to `limit` objects and common prefixes after `marker`; and whether more follow."""
    items: list[Item] = []
    after, lower = marker, prefix
    while limit > 0:
        page = backend.scan(bucket, prefix, after, _BATCH, lower)
        skip: str | None = None
        for obj in page:
            common = _common_prefix(obj.key, prefix, delimiter)
            if common is not None and common <= marker:
                skip = common  # rolled up before the marker: already listed
                break
            if len(items) == limit:
                return items, True
            if common is not None:
                items.append(common)
                skip = common
                break
            items.append(obj)
            after = obj.key
        if skip is not None:
            following = next_prefix(skip)
            if following is None:
                break
            lower = following
        elif len(page) < _BATCH:
            break
    return items, False


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return key[: at + len(delimiter)] if at >= 0 else None


def _limit(max_keys: int | None) -> int:
    if max_keys is None:
        return MAX_KEYS
    if max_keys < 0:
        raise invalid_argument(
            "Provided max-keys not an integer or within integer range", "max-keys", str(max_keys)
        )
    return min(max_keys, MAX_KEYS)


def _encoder(encoding_type: str | None) -> Callable[[str | None], str | None]:
    if encoding_type != "url":
        return lambda value: value
    return lambda value: None if value is None else quote(value, safe="/")


def _token(marker: str) -> str:
    return base64.urlsafe_b64encode(b"1" + marker.encode("utf-8")).decode()


def _untoken(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        if raw[:1] == b"1":
            return raw[1:].decode("utf-8")
    except (binascii.Error, ValueError, UnicodeError):
        pass
    raise invalid_argument(
        "The continuation token provided is incorrect", "continuation-token", token
    )


def _entry(
    obj: ObjectMeta, encode: Callable[[str | None], str | None], owner_id: str | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": encode(obj.key),
        "LastModified": obj.modified,
        "ETag": obj.etag,
        "Size": obj.size,
        "StorageClass": obj.headers.get("StorageClass", "STANDARD"),
    }
    if obj.checksums:
        entry["ChecksumAlgorithm"] = sorted(obj.checksums)
        entry["ChecksumType"] = obj.checksum_type
    if owner_id is not None:
        entry["Owner"] = owner(owner_id)  # objects belong to the bucket owner
    return entry


def _listing(
    ctx: Context,
    bucket: str,
    prefix: str | None,
    delimiter: str | None,
    marker: str,
    max_keys: int | None,
    encoding_type: str | None,
    fetch_owner: bool,
) -> tuple[dict[str, Any], list[Item], bool]:
    backend = s3_backend(ctx.runtime)
    owned_bucket(backend, ctx.account_id, bucket)
    limit = _limit(max_keys)
    items, truncated = walk(backend, bucket, prefix or "", delimiter or "", marker, limit)
    encode = _encoder(encoding_type)
    result: dict[str, Any] = {
        "Name": bucket,
        "Prefix": encode(prefix or ""),
        "Delimiter": encode(delimiter),
        "MaxKeys": limit,
        "EncodingType": encoding_type,
        "IsTruncated": truncated,
        "Contents": [
            _entry(i, encode, ctx.account_id if fetch_owner else None)
            for i in items
            if isinstance(i, ObjectMeta)
        ],
        "CommonPrefixes": [{"Prefix": encode(i)} for i in items if isinstance(i, str)],
    }
    return result, items, truncated


def _last(items: list[Item]) -> str:
    item = items[-1]
    return item if isinstance(item, str) else item.key


def list_objects_v2(
    ctx: Context,
    Bucket: str,
    Prefix: str | None = None,
    Delimiter: str | None = None,
    MaxKeys: int | None = None,
    ContinuationToken: str | None = None,
    StartAfter: str | None = None,
    EncodingType: str | None = None,
    FetchOwner: bool = False,
    **_: Any,
) -> dict[str, Any]:
    marker = _untoken(ContinuationToken) if ContinuationToken is not None else ""
    marker = max(marker, StartAfter or "")
    result, items, truncated = _listing(
        ctx, Bucket, Prefix, Delimiter, marker, MaxKeys, EncodingType, FetchOwner
    )
    result["KeyCount"] = len(items)
    result["ContinuationToken"] = ContinuationToken
    result["StartAfter"] = _encoder(EncodingType)(StartAfter)
    if truncated:
        result["NextContinuationToken"] = _token(_last(items))
    return result


def list_objects(
    ctx: Context,
    Bucket: str,
    Prefix: str | None = None,
    Delimiter: str | None = None,
    MaxKeys: int | None = None,
    Marker: str | None = None,
    EncodingType: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    result, items, truncated = _listing(
        ctx, Bucket, Prefix, Delimiter, Marker or "", MaxKeys, EncodingType, True
    )
    encode = _encoder(EncodingType)
    result["Marker"] = encode(Marker or "")
    if truncated and Delimiter:
        result["NextMarker"] = encode(_last(items))
    return result
