"""Body integrity: aws-chunked bodies with trailing checksums (every algorithm boto3 has),
Content-MD5, x-amz-content-sha256, header checksums; corrupt bodies are refused."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock
from urllib.parse import urlparse

import pytest
from botocore import httpchecksum
from botocore.exceptions import ClientError
from s3_support import error_code, new_bucket, raw, xml_code

from bcm_local.objects import checksums
from bcm_local.testing import ServerProcess

ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"]
BODY = b"integrity " * 300_000  # ~3 MiB: several 1 MiB aws-chunked chunks


@pytest.fixture(scope="module")
def s3(client: Callable[..., Any]) -> Any:
    return client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    return new_bucket(s3, "integrity")


@pytest.fixture
def trailers() -> Iterator[None]:
    """boto3 sends aws-chunked bodies with trailing checksums only over https; make it
    believe the endpoint is https so the real SDK encoder runs against this http server."""

    def as_https(url: str) -> Any:
        return urlparse(url)._replace(scheme="https")

    with mock.patch.object(httpchecksum, "urlparse", as_https):
        yield


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _expected(algorithm: str, data: bytes) -> str:
    hasher = checksums.HASHERS[algorithm]()
    hasher.update(data)
    return checksums.b64(hasher.digest())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_aws_chunked_trailer_each_algorithm(
    s3: Any, bucket: str, trailers: None, algorithm: str
) -> None:
    sent: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> None:
        sent.update({k.lower(): _text(v) for k, v in request.headers.items()})

    s3.meta.events.register("before-send.s3.PutObject", capture)
    key = f"chunked/{algorithm}"
    try:
        put = s3.put_object(
            Bucket=bucket, Key=key, Body=io.BytesIO(BODY), ChecksumAlgorithm=algorithm
        )
    finally:
        s3.meta.events.unregister("before-send.s3.PutObject", capture)
    assert "aws-chunked" in sent["content-encoding"]
    assert sent["x-amz-trailer"] == f"x-amz-checksum-{algorithm.lower()}"
    value = _expected(algorithm, BODY)
    assert put[f"Checksum{algorithm}"] == value
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == BODY
    assert got[f"Checksum{algorithm}"] == value
    assert "ContentEncoding" not in got  # aws-chunked is transport, not the object's encoding
    assert got["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"'


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_header_checksum_each_algorithm(s3: Any, bucket: str, algorithm: str) -> None:
    put = s3.put_object(
        Bucket=bucket, Key=f"header/{algorithm}", Body=b"abc", ChecksumAlgorithm=algorithm
    )
    assert put[f"Checksum{algorithm}"] == _expected(algorithm, b"abc")
    wrong = _expected(algorithm, b"abd")
    with pytest.raises(ClientError) as exc:
        s3.put_object(
            Bucket=bucket, Key="header/bad", Body=b"abc", **{f"Checksum{algorithm}": wrong}
        )
    assert error_code(exc) == ("BadDigest", 400)


def _chunked(data: bytes, trailer: str, signed: bool = False, size: int = 65536) -> bytes:
    sig = ";chunk-signature=" + "0" * 64 if signed else ""
    out = b""
    for at in range(0, len(data), size):
        piece = data[at : at + size]
        out += f"{len(piece):x}{sig}\r\n".encode() + piece + b"\r\n"
    return out + f"0{sig}\r\n".encode() + trailer.encode() + b"\r\n"


def _chunked_headers(data: bytes, payload: str, trailer_name: str | None) -> dict[str, str]:
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": payload,
        "x-amz-decoded-content-length": str(len(data)),
    }
    if trailer_name:
        headers["x-amz-trailer"] = trailer_name
    return headers


def test_raw_unsigned_trailer_and_corruption(server: ServerProcess, bucket: str) -> None:
    data = b"0123456789" * 20_000
    good = f"x-amz-checksum-crc32:{_expected('CRC32', data)}\r\n"
    headers = _chunked_headers(data, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32")
    status, got, _ = raw(server.endpoint, "PUT", f"/{bucket}/raw-ok", _chunked(data, good), headers)
    assert status == 200 and got["x-amz-checksum-crc32"] == _expected("CRC32", data)
    status, _, body = raw(server.endpoint, "GET", f"/{bucket}/raw-ok")
    assert body == data
    bad = f"x-amz-checksum-crc32:{_expected('CRC32', data + b'!')}\r\n"
    status, _, body = raw(
        server.endpoint, "PUT", f"/{bucket}/raw-bad", _chunked(data, bad), headers
    )
    assert (status, xml_code(body)) == (400, "BadDigest")
    flipped = bytearray(_chunked(data, good))
    flipped[100] ^= 0xFF  # a corrupted byte in the payload
    status, _, body = raw(server.endpoint, "PUT", f"/{bucket}/raw-bad", bytes(flipped), headers)
    assert (status, xml_code(body)) == (400, "BadDigest")
    status, _, body = raw(
        server.endpoint, "PUT", f"/{bucket}/raw-bad", _chunked(data, "\r\n"), headers
    )
    assert (status, xml_code(body)) == (400, "InvalidRequest")
    status, _, body = raw(server.endpoint, "GET", f"/{bucket}/raw-bad")
    assert (status, xml_code(body)) == (404, "NoSuchKey")


def test_raw_signed_streaming(server: ServerProcess, bucket: str) -> None:
    data = b"signed-stream " * 10_000
    headers = _chunked_headers(data, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", None)
    status, _, _ = raw(
        server.endpoint, "PUT", f"/{bucket}/signed", _chunked(data, "", signed=True), headers
    )
    assert status == 200
    assert raw(server.endpoint, "GET", f"/{bucket}/signed")[2] == data
    trailer = f"x-amz-checksum-sha256:{_expected('SHA256', data)}\r\n"
    trailer += f"x-amz-trailer-signature:{'0' * 64}\r\n"
    headers = _chunked_headers(
        data, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "x-amz-checksum-sha256"
    )
    status, got, _ = raw(
        server.endpoint, "PUT", f"/{bucket}/signed-trailer", _chunked(data, trailer, True), headers
    )
    assert status == 200 and got["x-amz-checksum-sha256"] == _expected("SHA256", data)


def test_raw_truncated_and_wrong_length(server: ServerProcess, bucket: str) -> None:
    data = b"x" * 1000
    headers = _chunked_headers(data, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", None)
    status, _, body = raw(
        server.endpoint, "PUT", f"/{bucket}/trunc", _chunked(data, "")[:-10], headers
    )
    assert (status, xml_code(body)) == (400, "IncompleteBody")
    headers["x-amz-decoded-content-length"] = "999"
    status, _, body = raw(server.endpoint, "PUT", f"/{bucket}/trunc", _chunked(data, ""), headers)
    assert (status, xml_code(body)) == (400, "IncompleteBody")


def test_content_md5(s3: Any, bucket: str, server: ServerProcess) -> None:
    good = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    assert s3.put_object(Bucket=bucket, Key="md5", Body=b"body", ContentMD5=good)["ETag"]
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"body", ContentMD5=wrong)
    assert error_code(exc) == ("BadDigest", 400)
    status, _, body = raw(
        server.endpoint, "PUT", f"/{bucket}/md5", b"body", {"Content-MD5": "nope"}
    )
    assert (status, xml_code(body)) == (400, "InvalidDigest")
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == b"body"


def test_content_sha256(server: ServerProcess, bucket: str) -> None:
    data = b"payload"
    good = {"x-amz-content-sha256": hashlib.sha256(data).hexdigest()}
    assert raw(server.endpoint, "PUT", f"/{bucket}/sha", data, good)[0] == 200
    bad = {"x-amz-content-sha256": hashlib.sha256(b"other").hexdigest()}
    status, _, body = raw(server.endpoint, "PUT", f"/{bucket}/sha", data, bad)
    assert (status, xml_code(body)) == (400, "XAmzContentSHA256Mismatch")


def test_pure_python_crcs_match_the_check_values() -> None:
    assert checksums.crc32c_py(b"123456789", 0) == 0xE3069283
    assert checksums.crc64nvme_py(b"123456789", 0) == 0xAE8B14860A799888
    assert checksums.crc64nvme(b"123456789", 0) == 0xAE8B14860A799888
    half = checksums.crc64nvme_py(b"12345", 0)
    assert checksums.crc64nvme_py(b"6789", half) == 0xAE8B14860A799888
