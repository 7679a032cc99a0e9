"""S3 objects over boto3: put/get/head/delete/copy, ranges, conditional requests, keys."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_support import error_code, new_bucket, raw, xml_code

from bcm_local.testing import ServerProcess
from tests.conftest import TEST_NOW

PINNED = datetime.fromisoformat(TEST_NOW.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def s3(client: Callable[..., Any]) -> Any:
    return client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    return new_bucket(s3, "objects")


def test_put_get_head_round_trip(s3: Any, bucket: str) -> None:
    body = b"hello, objects"
    put = s3.put_object(
        Bucket=bucket,
        Key="docs/hello.txt",
        Body=body,
        ContentType="text/plain",
        Metadata={"Owner": "me", "purpose": "test"},
        CacheControl="max-age=60",
        ContentDisposition="attachment",
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="docs/hello.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "me", "purpose": "test"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "attachment"
    assert got["ETag"] == put["ETag"]
    head = s3.head_object(Bucket=bucket, Key="docs/hello.txt")
    assert head["ContentLength"] == len(body)
    assert head["AcceptRanges"] == "bytes"
    # the server's clock is pinned (tests/conftest.py): LastModified is on it, not the machine's
    assert 0 <= head["LastModified"].timestamp() - PINNED.timestamp() < 3600
    overridden = s3.get_object(
        Bucket=bucket, Key="docs/hello.txt", ResponseContentType="application/x-test"
    )
    assert overridden["ContentType"] == "application/x-test"


def test_default_content_type_and_empty_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_overwrite_and_delete(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="over", Body=b"one")
    s3.put_object(Bucket=bucket, Key="over", Body=b"two")
    assert s3.get_object(Bucket=bucket, Key="over")["Body"].read() == b"two"
    assert s3.delete_object(Bucket=bucket, Key="over")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=bucket, Key="over")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="over")
    assert error_code(exc) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="over")
    assert error_code(exc) == ("404", 404)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="no-such-bucket-anywhere", Key="k", Body=b"")
    assert error_code(exc) == ("NoSuchBucket", 404)


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-3", b"0123", "bytes 0-3/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
    ],
)
def test_ranges(s3: Any, bucket: str, header: str, expected: bytes, content_range: str) -> None:
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    got = s3.get_object(Bucket=bucket, Key="digits", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == content_range
    assert got["Body"].read() == expected


def test_unsatisfiable_and_ignored_ranges(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="digits", Range="bytes=10-20")
    assert error_code(exc) == ("InvalidRange", 416)
    whole = s3.get_object(Bucket=bucket, Key="digits", Range="lines=1-2")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert whole["Body"].read() == b"0123456789"


def test_conditional_get(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="cond", Body=b"v1")["ETag"]
    past, future = PINNED - timedelta(days=1), PINNED + timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="cond", IfMatch=etag)["Body"].read() == b"v1"
    assert s3.get_object(Bucket=bucket, Key="cond", IfModifiedSince=past)["Body"].read() == b"v1"
    failing = [
        ({"IfMatch": '"0000"'}, ("PreconditionFailed", 412)),
        ({"IfUnmodifiedSince": past}, ("PreconditionFailed", 412)),
        ({"IfNoneMatch": etag}, ("304", 304)),
        ({"IfModifiedSince": future}, ("304", 304)),
    ]
    for kwargs, expected in failing:
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key="cond", **kwargs)
        assert error_code(exc) == expected, kwargs
    # If-Match true wins over a failing If-Unmodified-Since, as in AWS
    got = s3.get_object(Bucket=bucket, Key="cond", IfMatch=etag, IfUnmodifiedSince=past)
    assert got["Body"].read() == b"v1"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="cond", IfMatch='"nope"')
    assert error_code(exc) == ("412", 412)


def test_conditional_put(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert error_code(exc) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


def test_copy_object(s3: Any, bucket: str) -> None:
    src = s3.put_object(
        Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/x", Metadata={"a": "1"}
    )
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == src["ETag"]
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (
        b"copy me",
        "text/x",
        {"a": "1"},
    )
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=f"{bucket}/src",
        MetadataDirective="REPLACE",
        ContentType="text/y",
        Metadata={"b": "2"},
    )
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert (head["ContentType"], head["Metadata"]) == ("text/y", {"b": "2"})
    s3.delete_object(Bucket=bucket, Key="src")  # the copy owns its bytes
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"copy me"


def test_copy_errors(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="self", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="self", CopySource=f"{bucket}/self")
    assert error_code(exc) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="x", CopySource=f"{bucket}/missing")
    assert error_code(exc) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(
            Bucket=bucket, Key="x", CopySource=f"{bucket}/self", CopySourceIfMatch='"zz"'
        )
    assert error_code(exc) == ("PreconditionFailed", 412)


def test_delete_objects(s3: Any, bucket: str) -> None:
    keys = [f"batch/{i}" for i in range(5)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k} for k in [*keys, "batch/absent"]]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == sorted([*keys, "batch/absent"])
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="batch/")
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}], "Quiet": True})
    assert "Deleted" not in quiet


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/abs/path",
        "a/../../b",
        "unicode/日本語/ключ/😀.txt",
        "spaces and+plus&amp;?#%.txt",
        "..",
        "k" * 1024,
    ],
)
def test_awkward_keys_round_trip(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)
    assert [o["Key"] for o in listed["Contents"]] == [key]
    s3.delete_object(Bucket=bucket, Key=key)


def test_key_too_long(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"")
    assert error_code(exc) == ("KeyTooLongError", 400)


def test_raw_traversal_paths_stay_in_bucket(server: ServerProcess, s3: Any, bucket: str) -> None:
    status, _, _ = raw(server.endpoint, "PUT", f"/{bucket}/..%2F..%2F..%2Fescape", body=b"z")
    assert status == 200
    assert s3.get_object(Bucket=bucket, Key="../../../escape")["Body"].read() == b"z"
    status, _, body = raw(server.endpoint, "GET", f"/{bucket}/%00nul")
    assert (status, xml_code(body)) == (404, "NoSuchKey")
    status, _, body = raw(server.endpoint, "GET", f"/{bucket}/%FF%FE")
    assert (status, xml_code(body)) == (400, "InvalidURI")


def test_large_object_streams(s3: Any, bucket: str) -> None:
    body = bytes(range(256)) * (12 * 4096)  # 12 MiB
    s3.put_object(Bucket=bucket, Key="large", Body=body)
    got = s3.get_object(Bucket=bucket, Key="large")
    assert hashlib.md5(got["Body"].read()).digest() == hashlib.md5(body).digest()
    part = s3.get_object(Bucket=bucket, Key="large", Range="bytes=5000000-5000099")
    assert part["Body"].read() == body[5000000:5000100]


def test_presigned_urls(s3: Any, bucket: str) -> None:
    import urllib.request

    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "presigned"}, ExpiresIn=60
    )
    request = urllib.request.Request(put_url, data=b"signed body", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "presigned"}, ExpiresIn=60
    )
    with urllib.request.urlopen(get_url, timeout=10) as resp:
        assert resp.read() == b"signed body"


def test_non_latin1_response_override_is_rfc2047_encoded(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="disposition", Body=b"x")
    wanted = "attachment; filename=Ā.txt"  # U+0100: Latin-1 cannot carry it
    encoded = "=?UTF-8?B?" + base64.b64encode(wanted.encode()).decode() + "?="
    for call in (s3.get_object, s3.head_object):
        got = call(Bucket=bucket, Key="disposition", ResponseContentDisposition=wanted)
        assert got["ContentDisposition"] == encoded
