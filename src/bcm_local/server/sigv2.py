"""S3's legacy signature (SigV2, `Authorization: AWS key:signature` and presigned URLs with
`AWSAccessKeyId`/`Signature`/`Expires`), verified in strict mode because boto3 still
presigns S3 URLs with it by default. Only S3 accepts it; sigv4.py dispatches here.

String to sign (AWS "Signing and authenticating REST requests"): method, Content-MD5,
Content-Type, the date (empty when `x-amz-date` is sent; `Expires` for a presigned URL),
the `x-amz-*` headers sorted, and the resource: the path-style path plus the
sub-resources of interest from the query string, sorted, their values decoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

SUBRESOURCES = frozenset(
    [
        "accelerate",
        "acl",
        "cors",
        "defaultObjectAcl",
        "location",
        "logging",
        "partNumber",
        "policy",
        "requestPayment",
        "torrent",
        "versioning",
        "versionId",
        "versions",
        "website",
        "uploads",
        "uploadId",
        "response-content-type",
        "response-content-language",
        "response-expires",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "delete",
        "lifecycle",
        "tagging",
        "restore",
        "storageClass",
        "notification",
        "replication",
        "analytics",
        "metrics",
        "inventory",
        "select",
        "select-type",
        "object-lock",
    ]
)


def is_v2(authorization: str, query: Mapping[str, str]) -> bool:
    return authorization.startswith("AWS ") or "AWSAccessKeyId" in query


def canonical_resource(path: str, query_string: str) -> str:
    picked = []
    for item in query_string.split("&"):
        name, sep, value = item.partition("=")
        if name in SUBRESOURCES:
            picked.append((name, f"{name}={unquote(value)}" if sep else name))
    picked.sort(key=lambda pair: pair[0])
    return path + ("?" + "&".join(p for _, p in picked) if picked else "")


def string_to_sign(
    method: str, path: str, query_string: str, headers: Mapping[str, str], date: str
) -> str:
    amz = sorted((k, v.strip()) for k, v in headers.items() if k.startswith("x-amz-"))
    lines = [
        method.upper(),
        headers.get("content-md5", "").strip(),
        headers.get("content-type", "").strip(),
        date,
        *(f"{k}:{v}" for k, v in amz),
        canonical_resource(path, query_string),
    ]
    return "\n".join(lines)


def signature(secret: str, to_sign: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def request_time(headers: Mapping[str, str]) -> float | None:
    """The header-signed request's time (x-amz-date or Date), None when absent or bad."""
    raw = headers.get("x-amz-date") or headers.get("date")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None
