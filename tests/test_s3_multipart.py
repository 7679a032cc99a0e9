"""Multipart uploads over boto3: ETag rules, part checks, listing, abort, copy, checksums."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
from s3_support import error_code, new_bucket

MIB = 1 << 20


@pytest.fixture(scope="module")
def s3(client: Callable[..., Any]) -> Any:
    return client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    return new_bucket(s3, "multipart")


def _upload(s3: Any, bucket: str, key: str, parts: list[bytes], **create: Any) -> dict[str, Any]:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        etag = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
    return {"UploadId": upload_id, "Parts": done}


def test_complete_and_etag_rule(s3: Any, bucket: str) -> None:
    parts = [b"a" * (5 * MIB), b"b" * (5 * MIB), b"tail"]
    up = _upload(s3, bucket, "mpu/obj", parts, ContentType="text/csv", Metadata={"k": "v"})
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mpu/obj",
        UploadId=up["UploadId"],
        MultipartUpload={"Parts": up["Parts"]},
    )
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert done["ETag"] == f'"{digest}-3"'
    got = s3.get_object(Bucket=bucket, Key="mpu/obj")
    assert got["Body"].read() == b"".join(parts)
    assert (got["ContentType"], got["Metadata"], got["ETag"]) == (
        "text/csv",
        {"k": "v"},
        done["ETag"],
    )
    with pytest.raises(ClientError) as exc:  # the upload is gone once completed
        s3.list_parts(Bucket=bucket, Key="mpu/obj", UploadId=up["UploadId"])
    assert error_code(exc) == ("NoSuchUpload", 404)


def test_entity_too_small(s3: Any, bucket: str) -> None:
    up = _upload(s3, bucket, "small", [b"x" * 100, b"y"])
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="small",
            UploadId=up["UploadId"],
            MultipartUpload={"Parts": up["Parts"]},
        )
    assert error_code(exc) == ("EntityTooSmall", 400)
    single = s3.complete_multipart_upload(  # a single small part is fine
        Bucket=bucket,
        Key="small",
        UploadId=up["UploadId"],
        MultipartUpload={"Parts": up["Parts"][1:]},
    )
    assert single["ETag"].endswith('-1"')
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == b"y"


def test_invalid_part_and_order(s3: Any, bucket: str) -> None:
    up = _upload(s3, bucket, "bad", [b"x" * (5 * MIB), b"y"])
    cases = [
        ([{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}], "InvalidPart"),
        ([{"PartNumber": 3, "ETag": up["Parts"][0]["ETag"]}], "InvalidPart"),
        (list(reversed(up["Parts"])), "InvalidPartOrder"),
        ([], "MalformedXML"),
    ]
    for parts, code in cases:
        with pytest.raises(ClientError) as exc:
            s3.complete_multipart_upload(
                Bucket=bucket, Key="bad", UploadId=up["UploadId"], MultipartUpload={"Parts": parts}
            )
        assert error_code(exc) == (code, 400)
    with pytest.raises(ClientError) as exc:
        s3.upload_part(
            Bucket=bucket, Key="bad", UploadId=up["UploadId"], PartNumber=10001, Body=b""
        )
    assert error_code(exc) == ("InvalidArgument", 400)


def test_no_such_upload(s3: Any, bucket: str) -> None:
    calls = [
        lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId="nope", PartNumber=1, Body=b""),
        lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId="nope"),
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId="nope"),
        lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId="nope",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]},
        ),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == ("NoSuchUpload", 404)


def test_list_parts_pages_and_abort(s3: Any, bucket: str) -> None:
    up = _upload(s3, bucket, "listed", [b"1", b"2", b"3"])
    first = s3.list_parts(Bucket=bucket, Key="listed", UploadId=up["UploadId"], MaxParts=2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2]
    assert first["IsTruncated"] is True
    rest = s3.list_parts(
        Bucket=bucket, Key="listed", UploadId=up["UploadId"],
        PartNumberMarker=first["NextPartNumberMarker"],
    )  # fmt: skip
    assert [(p["PartNumber"], p["Size"]) for p in rest["Parts"]] == [(3, 1)]
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix="listed")["Uploads"]
    assert [u["UploadId"] for u in uploads] == [up["UploadId"]]
    s3.abort_multipart_upload(Bucket=bucket, Key="listed", UploadId=up["UploadId"])
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket, Prefix="listed")
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="listed")
    assert error_code(exc) == ("404", 404)


def test_upload_part_copy(s3: Any, bucket: str) -> None:
    source = bytes(range(256)) * (24 * 1024)  # 6 MiB
    s3.put_object(Bucket=bucket, Key="copy-src", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copy-dst")["UploadId"]
    first = s3.upload_part_copy(
        Bucket=bucket, Key="copy-dst", UploadId=upload_id, PartNumber=1,
        CopySource=f"{bucket}/copy-src", CopySourceRange=f"bytes=0-{5 * MIB - 1}",
    )["CopyPartResult"]  # fmt: skip
    second = s3.upload_part_copy(
        Bucket=bucket, Key="copy-dst", UploadId=upload_id, PartNumber=2,
        CopySource=f"{bucket}/copy-src", CopySourceRange=f"bytes={5 * MIB}-{len(source) - 1}",
    )["CopyPartResult"]  # fmt: skip
    s3.complete_multipart_upload(
        Bucket=bucket, Key="copy-dst", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first["ETag"]},
                                   {"PartNumber": 2, "ETag": second["ETag"]}]},
    )  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="copy-dst")["Body"].read() == source


def test_composite_crc32_checksum(s3: Any, bucket: str) -> None:
    parts = [b"p" * (5 * MIB), b"q" * 10]
    up = _upload(s3, bucket, "crc", parts, ChecksumAlgorithm="CRC32")
    listed = s3.list_parts(Bucket=bucket, Key="crc", UploadId=up["UploadId"])["Parts"]
    raw_sums = [zlib.crc32(p).to_bytes(4, "big") for p in parts]
    assert [p["ChecksumCRC32"] for p in listed] == [base64.b64encode(r).decode() for r in raw_sums]
    for part, entry in zip(up["Parts"], listed, strict=True):
        part["ChecksumCRC32"] = entry["ChecksumCRC32"]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="crc", UploadId=up["UploadId"], MultipartUpload={"Parts": up["Parts"]}
    )
    expected = base64.b64encode(zlib.crc32(b"".join(raw_sums)).to_bytes(4, "big")).decode()
    assert done["ChecksumCRC32"] == f"{expected}-2"
    head = s3.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (f"{expected}-2", "COMPOSITE")


def test_full_object_crc32(s3: Any, bucket: str) -> None:
    parts = [b"r" * (5 * MIB), b"s" * 7]
    up = _upload(s3, bucket, "full", parts, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="full", UploadId=up["UploadId"], MultipartUpload={"Parts": up["Parts"]}
    )
    whole = base64.b64encode(zlib.crc32(b"".join(parts)).to_bytes(4, "big")).decode()
    assert (done["ChecksumCRC32"], done["ChecksumType"]) == (whole, "FULL_OBJECT")
    got = s3.get_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)  # botocore validates the full-object CRC32


def test_boto3_transfer_manager(s3: Any, bucket: str, tmp_path: Any) -> None:
    source = tmp_path / "up.bin"
    source.write_bytes(bytes(range(256)) * (64 * 1024))  # 16 MiB
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(str(source), bucket, "transfer/up.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="transfer/up.bin")
    assert head["ContentLength"] == 16 * MIB and head["ETag"].endswith('-4"')
    target = tmp_path / "down.bin"
    s3.download_file(bucket, "transfer/up.bin", str(target), Config=config)
    assert target.read_bytes() == source.read_bytes()


def test_integers_outside_the_models_range_are_invalid_arguments(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="ranges")["UploadId"]
    for call, kwargs in (
        (s3.list_parts, {"Key": "ranges", "UploadId": upload, "PartNumberMarker": 1 << 63}),
        (s3.list_parts, {"Key": "ranges", "UploadId": upload, "MaxParts": -(1 << 40)}),
        (s3.list_objects_v2, {"MaxKeys": 1 << 31}),
    ):
        with pytest.raises(ClientError) as caught:
            call(Bucket=bucket, **kwargs)
        error = caught.value.response["Error"]
        assert error["Code"] == "InvalidArgument" and "integer range" in error["Message"]
    listed = s3.list_parts(Bucket=bucket, Key="ranges", UploadId=upload, MaxParts=5)
    assert listed["MaxParts"] == 5 and listed.get("Parts", []) == []
