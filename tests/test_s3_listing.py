"""ListObjectsV2 / ListObjects: prefixes, delimiters, pages, markers, url encoding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from s3_support import error_code, new_bucket, raw, xml_code

from bcm_local.testing import ServerProcess

KEYS = ["a.txt", "dir/x.txt", "dir/y.txt", "dir/sub/z.txt", "dir2/q.txt", "e", "f g+h.txt"]


@pytest.fixture(scope="module")
def s3(client: Callable[..., Any]) -> Any:
    return client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = new_bucket(s3, "listing")
    for key in KEYS:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    return name


def test_v2_everything(s3: Any, bucket: str) -> None:
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == sorted(KEYS)
    assert listed["KeyCount"] == len(KEYS)
    assert listed["IsTruncated"] is False
    first = listed["Contents"][0]
    assert first["Size"] == len(first["Key"]) and first["StorageClass"] == "STANDARD"
    assert first["ETag"].startswith('"')


def test_v2_delimiter_and_prefix(s3: Any, bucket: str) -> None:
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir/", "dir2/"]
    assert [o["Key"] for o in top["Contents"]] == ["a.txt", "e", "f g+h.txt"]
    inner = s3.list_objects_v2(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in inner["Contents"]] == ["dir/x.txt", "dir/y.txt"]
    assert [p["Prefix"] for p in inner["CommonPrefixes"]] == ["dir/sub/"]
    assert inner["Prefix"] == "dir/"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="nothing")


def test_v2_pages_with_tokens(s3: Any, bucket: str) -> None:
    seen: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 2, "Delimiter": "/"}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        assert page["KeyCount"] <= 2
        seen += [o["Key"] for o in page.get("Contents", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert sorted(seen) == ["a.txt", "dir/", "dir2/", "e", "f g+h.txt"]


def test_v2_paginator_and_start_after(s3: Any, bucket: str) -> None:
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 3}
    )
    assert [o["Key"] for p in pages for o in p["Contents"]] == sorted(KEYS)
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="dir/y.txt")
    assert [o["Key"] for o in after["Contents"]] == ["dir2/q.txt", "e", "f g+h.txt"]


def test_v2_bad_token_and_max_keys(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="not-a-token!")
    assert error_code(exc) == ("InvalidArgument", 400)
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=0)["KeyCount"] == 0
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="no-such-bucket-for-listing")
    assert error_code(exc) == ("NoSuchBucket", 404)


def test_url_encoding_raw(server: ServerProcess, bucket: str) -> None:
    status, _, body = raw(
        server.endpoint, "GET", f"/{bucket}?list-type=2&prefix=f&encoding-type=url"
    )
    assert status == 200
    assert b"<Key>f%20g%2Bh.txt</Key>" in body
    assert b"<EncodingType>url</EncodingType>" in body
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult')
    status, _, body = raw(server.endpoint, "GET", f"/{bucket}?list-type=2&encoding-type=nope")
    assert (status, xml_code(body)) == (400, "InvalidArgument")


def test_v1_markers(s3: Any, bucket: str) -> None:
    listed = s3.list_objects(Bucket=bucket, Marker="dir/sub/z.txt")
    assert [o["Key"] for o in listed["Contents"]] == [
        "dir/x.txt",
        "dir/y.txt",
        "dir2/q.txt",
        "e",
        "f g+h.txt",
    ]
    assert listed["Contents"][0]["Owner"]["ID"]
    page = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert page["IsTruncated"] is True
    assert page["NextMarker"] == "dir/"
    rest = s3.list_objects(Bucket=bucket, Delimiter="/", Marker=page["NextMarker"])
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["dir2/"]
    paged = s3.get_paginator("list_objects").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    )
    assert [o["Key"] for p in paged for o in p["Contents"]] == sorted(KEYS)


def _expected(keys: set[str], prefix: str, delimiter: str) -> list[str]:
    out: set[str] = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        at = key.find(delimiter, len(prefix)) if delimiter else -1
        out.add(key[: at + len(delimiter)] if at >= 0 else key)
    return sorted(out)


_alphabet = st.sampled_from(["a", "b", "/", "-", "é", "ø"])


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    keys=st.sets(st.text(_alphabet, min_size=1, max_size=6), min_size=1, max_size=12),
    prefix=st.text(_alphabet, max_size=2),
    delimiter=st.sampled_from(["", "/", "-"]),
    page=st.integers(min_value=1, max_value=4),
)
def test_paged_listing_matches_a_model(
    s3: Any, keys: set[str], prefix: str, delimiter: str, page: int
) -> None:
    bucket = new_bucket(s3, "prop")
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page}
    if delimiter:
        kwargs["Delimiter"] = delimiter
    for result in s3.get_paginator("list_objects_v2").paginate(**kwargs):
        seen += [o["Key"] for o in result.get("Contents", [])]
        seen += [p["Prefix"] for p in result.get("CommonPrefixes", [])]
    assert sorted(seen) == _expected(keys, prefix, delimiter)
    assert len(seen) == len(set(seen))
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    s3.delete_bucket(Bucket=bucket)
