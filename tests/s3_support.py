"""Helpers shared by the S3 tests: unique bucket names, raw HTTP requests, error codes."""

from __future__ import annotations

import http.client
import uuid
from typing import Any
from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

AUTH = (
    "AWS4-HMAC-SHA256 Credential={key}/20250101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0000"
)


def bucket_name(prefix: str = "bkt") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_bucket(s3: Any, prefix: str = "bkt") -> str:
    name = bucket_name(prefix)
    s3.create_bucket(Bucket=name)
    return name


def raw(
    endpoint: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    access_key: str = "test",
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request as written, answered as (status, lower-cased headers, body)."""
    host, port = endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    sent = {"Authorization": AUTH.format(key=access_key), **(headers or {})}
    try:
        conn.request(method, path, body=body, headers=sent)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def xml_code(body: bytes) -> str | None:
    root = ElementTree.fromstring(body)
    return root.findtext("Code")


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]
