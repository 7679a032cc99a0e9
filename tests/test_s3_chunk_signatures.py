"""Strict auth checks every chunk signature of a signed `aws-chunked` upload: AWS's
published example (the only vectors no SDK produced), and a strict server taking and
refusing uploads, with and without a signed trailer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bcm_local.server import sigv4, sigv4_chunks
from bcm_local.services.s3.chunked import ChunkedDecoder
from bcm_local.testing import ServerProcess
from bcm_local.wire.errors import AwsError
from tests.conftest import make_client

# AWS, "Signature calculations for the Authorization header: transferring payload in
# multiple chunks", Example: PUT Object (66,560 bytes of "a" in chunks of 64 KiB + 1 KiB)
DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_KEY = "AKIAIOSFODNN7EXAMPLE"
DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_CHUNKS = (
    (65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
    (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
    (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
)
DOC_HEADERS = {
    "host": "s3.amazonaws.com",
    "x-amz-date": "20130524T000000Z",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "x-amz-content-sha256": sigv4_chunks.SIGNED_STREAMING,
    "content-encoding": "aws-chunked",
    "x-amz-decoded-content-length": "66560",
    "content-length": "66824",
    "authorization": (
        f"AWS4-HMAC-SHA256 Credential={DOC_KEY}/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        f"x-amz-decoded-content-length;x-amz-storage-class,Signature={DOC_SEED}"
    ),
}
SECRET = "test"  # make_client signs with it


def framed(chunks: list[tuple[bytes, str | None]], trailer: bytes = b"") -> bytes:
    out = b""
    for data, signature in chunks:
        extension = f";chunk-signature={signature}" if signature is not None else ""
        out += f"{len(data):x}{extension}\r\n".encode() + data + b"\r\n"
    return out[:-2] + trailer + b"\r\n"  # the zero chunk, its trailers, a blank line


def doc_body(data: bytes = b"a" * 66560, last: str = DOC_CHUNKS[2][1]) -> bytes:
    signatures = [DOC_CHUNKS[0][1], DOC_CHUNKS[1][1], last]
    return framed(list(zip([data[:65536], data[65536:], b""], signatures, strict=True)))


def decode(body: bytes, headers: dict[str, str], secrets: dict[str, str], step: int) -> bytes:
    decoder = ChunkedDecoder(sigv4_chunks.chain_for(headers, secrets))
    out = b"".join(b"".join(decoder.feed(body[i : i + step])) for i in range(0, len(body), step))
    decoder.finish()
    return out


@pytest.mark.parametrize("step", [1 << 20, 4096, 7])
def test_aws_published_example_verifies(step: int) -> None:
    secrets = {DOC_KEY: DOC_SECRET}
    when = datetime(2013, 5, 24, tzinfo=UTC).timestamp()
    path = "/examplebucket/chunkObject.txt"
    assert sigv4.verify("PUT", path, "", DOC_HEADERS, secrets, None, when, path) == DOC_KEY
    assert decode(doc_body(), DOC_HEADERS, secrets, step) == b"a" * 66560


@pytest.mark.parametrize(
    "body",
    [
        doc_body(b"a" * 70000 + b"b" + b"a" * 3),  # one byte changed
        doc_body(last="0" * 64),  # the final chunk's signature is wrong
        framed([(b"a" * 65536, DOC_CHUNKS[0][1]), (b"a" * 1024, None), (b"", DOC_CHUNKS[2][1])]),
        framed([(b"a" * 1024, DOC_CHUNKS[1][1]), (b"a" * 65536, DOC_CHUNKS[0][1])]),
    ],
    ids=["tampered", "bad-final", "unsigned-chunk", "reordered"],
)
def test_tampered_example_is_refused(body: bytes) -> None:
    with pytest.raises(AwsError) as caught:
        decode(body, DOC_HEADERS, {DOC_KEY: DOC_SECRET}, 4096)
    assert caught.value.code == "SignatureDoesNotMatch" and caught.value.status == 403


# -- through a strict server -------------------------------------------------------------


class _Streaming(S3SigV4Auth):
    """botocore's S3 signer with the streaming payload marker as the payload hash."""

    def __init__(self, mode: str) -> None:
        super().__init__(Credentials("test", SECRET), "s3", "us-east-1")
        self.mode = mode

    def payload(self, request: AWSRequest) -> str:
        return self.mode


def _sign(key: bytes, to_sign: str) -> str:
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def upload(
    endpoint: str, key: str, data: bytes, *, tamper: str = "", trailer: bool = False
) -> tuple[int, bytes]:
    """A signed aws-chunked PUT (chunks of 1000 bytes), as a Java SDK sends it over HTTP;
    `tamper`: "data" flips a byte after signing, "trailer" breaks the trailer signature."""
    mode = sigv4_chunks.SIGNED_STREAMING_TRAILER if trailer else sigv4_chunks.SIGNED_STREAMING
    headers = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data))}
    if trailer:
        headers["X-Amz-Trailer"] = "x-amz-checksum-crc32"
    request = AWSRequest(method="PUT", url=f"{endpoint}/chunky/{key}", headers=headers)
    _Streaming(mode).add_auth(request)
    date = request.headers["X-Amz-Date"]
    scope = f"{date[:8]}/us-east-1/s3/aws4_request"
    signing = sigv4.signing_key(SECRET, date[:8], "us-east-1", "s3")
    previous = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    empty = hashlib.sha256(b"").hexdigest()
    chunks = []
    for piece in [data[i : i + 1000] for i in range(0, len(data), 1000)] + [b""]:
        digest = hashlib.sha256(piece).hexdigest()
        to_sign = f"AWS4-HMAC-SHA256-PAYLOAD\n{date}\n{scope}\n{previous}\n{empty}\n{digest}"
        previous = _sign(signing, to_sign)
        chunks.append((piece, previous))
    if tamper == "data":
        chunks[0] = (b"X" + chunks[0][0][1:], chunks[0][1])
    lines = b""
    if trailer:
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        canonical = f"x-amz-checksum-crc32:{crc}\n"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        signature = _sign(
            signing, f"AWS4-HMAC-SHA256-TRAILER\n{date}\n{scope}\n{previous}\n{digest}"
        )
        if tamper == "trailer":
            signature = "f" * 64
        lines = f"x-amz-checksum-crc32:{crc}\r\nx-amz-trailer-signature:{signature}\r\n".encode()
    body = framed(chunks, lines)
    parts = urlsplit(request.url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        sent = {k: v for k, v in request.headers.items()} | {"Content-Length": str(len(body))}
        connection.request("PUT", parts.path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    env = {"BCM_LOCAL_STRICT_AUTH": "true", "BCM_LOCAL_CREDENTIALS": f"test:{SECRET}"}
    with ServerProcess(env=env) as proc:
        make_client(proc.endpoint, "s3").create_bucket(Bucket="chunky")
        yield proc.endpoint


@pytest.mark.parametrize("trailer", [False, True], ids=["chunks", "chunks+trailer"])
def test_strict_server_stores_signed_chunks(endpoint: str, trailer: bool) -> None:
    data = bytes(range(256)) * 10
    status, answer = upload(endpoint, f"ok-{trailer}", data, trailer=trailer)
    assert status == 200, answer
    s3 = make_client(endpoint, "s3")
    stored = s3.get_object(Bucket="chunky", Key=f"ok-{trailer}", ChecksumMode="ENABLED")
    assert stored["Body"].read() == data
    if trailer:
        assert (
            stored["ChecksumCRC32"]
            == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        )


@pytest.mark.parametrize(
    ("tamper", "trailer"), [("data", False), ("data", True), ("trailer", True)]
)
def test_strict_server_refuses_a_broken_chain_and_keeps_nothing(
    endpoint: str, tamper: str, trailer: bool
) -> None:
    key = f"bad-{tamper}-{trailer}"
    status, answer = upload(endpoint, key, b"z" * 2500, tamper=tamper, trailer=trailer)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer
    s3 = make_client(endpoint, "s3")
    assert s3.list_objects_v2(Bucket="chunky", Prefix=key).get("KeyCount") == 0
