"""Bodies around the memory tier's limit (MEMORY_BLOB_BYTES): without a data directory
small bodies stay in memory and large ones go to files; with one, everything is a file.
Every S3 path that reads bytes back must give the same answer either side of the limit."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_client
from s3_support import new_bucket

from bcm_local.objects.blobs import MEMORY_BLOB_BYTES
from bcm_local.testing import ServerProcess

SIZES = [0, 1, MEMORY_BLOB_BYTES - 1, MEMORY_BLOB_BYTES, MEMORY_BLOB_BYTES + 1]


@pytest.fixture(scope="module", params=["memory", "data-dir"])
def s3(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data_dir: Path | None = None
    if request.param == "data-dir":
        data_dir = tmp_path_factory.mktemp("tier")
    with ServerProcess(data_dir=data_dir) as server:
        yield make_client(server.endpoint, "s3")


@pytest.mark.parametrize("size", SIZES)
def test_get_range_copy_and_overwrite(s3: Any, size: int) -> None:
    bucket = new_bucket(s3, "tier")
    body = os.urandom(size)
    put = s3.put_object(Bucket=bucket, Key="k", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body
    if size > 2:
        got = s3.get_object(Bucket=bucket, Key="k", Range=f"bytes=1-{size - 2}")
        assert got["Body"].read() == body[1:-1]
        assert got["ContentRange"] == f"bytes 1-{size - 2}/{size}"
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"new")  # the copy keeps the old bytes
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"new"
    s3.delete_object(Bucket=bucket, Key="copy")
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("k", 3)]


def test_multipart_from_parts_either_side_of_the_limit(s3: Any) -> None:
    bucket = new_bucket(s3, "tier-mpu")
    first, last = os.urandom(5 << 20), os.urandom(MEMORY_BLOB_BYTES // 2)
    s3.put_object(Bucket=bucket, Key="source", Body=last)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    one = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=first)
    two = s3.upload_part_copy(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "source"},
    )
    parts = [
        {"PartNumber": 1, "ETag": one["ETag"]},
        {"PartNumber": 2, "ETag": two["CopyPartResult"]["ETag"]},
    ]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == first + last
