"""Receiving an object body: aws-chunked decoding, size limits, and every integrity check
S3 makes (Content-MD5, x-amz-content-sha256, flexible checksums in headers or trailers).

The body streams to a temporary blob file; nothing is held in memory whole.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcm_local.objects import checksums
from bcm_local.objects.blobs import BlobStore, BlobWriter
from bcm_local.services.s3.chunked import ChunkedDecoder, decode, incomplete
from bcm_local.services.s3.errors import bad_digest
from bcm_local.wire.errors import AwsError
from bcm_local.wire.rest import StreamingPayload

MAX_OBJECT_SIZE = 5 << 30  # PutObject / UploadPart limit
OFFLOAD_BYTES = 1 << 20  # bodies are hashed and written in batches of this on a worker
Offload = Callable[..., Awaitable[Any]]  # Runtime.run_blocking
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Received:
    path: Path
    size: int
    md5: bytes
    checksums: dict[str, str]  # algorithm -> base64, for the algorithms the client used

    @property
    def etag(self) -> str:
        return f'"{self.md5.hex()}"'


def invalid_request(message: str) -> AwsError:
    return AwsError("InvalidRequest", message)


def too_large() -> AwsError:
    return AwsError(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        MaxSizeAllowed=str(MAX_OBJECT_SIZE),
    )


def content_encoding(headers: Mapping[str, str]) -> str | None:
    """The object's own Content-Encoding: the header less the `aws-chunked` transport token."""
    tokens = [t.strip() for t in headers.get("content-encoding", "").split(",")]
    kept = [t for t in tokens if t and t.lower() != "aws-chunked"]
    return ",".join(kept) or None


def _expected_md5(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was not valid.")
    return raw


def _algorithms(
    headers: Mapping[str, str], members: Mapping[str, Any]
) -> tuple[set[str], set[str]]:
    """(algorithms to compute, algorithms whose value arrives in the trailer)."""
    trailer: set[str] = set()
    for name in filter(
        None, (n.strip().lower() for n in headers.get("x-amz-trailer", "").split(","))
    ):
        algorithm = name.removeprefix(checksums.HEADER_PREFIX).upper()
        if not name.startswith(checksums.HEADER_PREFIX) or algorithm not in checksums.HASHERS:
            raise invalid_request(f"The trailer header {name} is not supported.")
        trailer.add(algorithm)
    wanted = set(checksums.declared(dict(members))) | trailer
    asked = members.get("ChecksumAlgorithm")
    if asked:
        if asked.upper() not in checksums.HASHERS:
            raise invalid_request(f"Checksum algorithm {asked} is not supported.")
        if asked.upper() not in wanted and len(wanted) > 0:
            raise invalid_request(
                f"Value for x-amz-sdk-checksum-algorithm header is invalid: {asked} does not "
                "match the checksum header sent."
            )
        wanted.add(asked.upper())
    if len(wanted) > 1:
        raise invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    return wanted, trailer


async def receive(
    blobs: BlobStore,
    body: StreamingPayload,
    members: Mapping[str, Any],
    offload: Offload | None = None,
) -> Received:
    """Stream the body into a new blob and verify it; raises the S3 error on failure.
    With `offload`, large bodies are hashed on worker threads (hashlib releases the GIL),
    so concurrent uploads use every core while the event loop keeps receiving."""
    headers = body.headers
    expected_md5 = _expected_md5(members.get("ContentMD5"))
    wanted, trailer = _algorithms(headers, members)
    declared = checksums.declared(dict(members))
    for algorithm, value in declared.items():
        if checksums.decode(value, algorithm) is None:
            raise invalid_request(
                f"Value for {checksums.header_name(algorithm)} header is invalid."
            )
    payload_hash = headers.get("x-amz-content-sha256", "")
    signed = bool(_SHA256_HEX.match(payload_hash))
    chunked = payload_hash.startswith("STREAMING-") or "aws-chunked" in headers.get(
        "content-encoding", ""
    )
    decoded_length = _decoded_length(headers) if chunked else None
    decoder = ChunkedDecoder(body.chunk_chain) if chunked else None
    writer = BlobWriter(blobs, wanted | ({"SHA256"} if signed else set()))
    try:
        source: AsyncIterator[bytes] = body.stream()
        if decoder is not None:
            source = decode(source, decoder)
        batch: list[bytes] = []
        batched = 0
        async for piece in source:
            batch.append(piece)
            batched += len(piece)
            if writer.size + batched > MAX_OBJECT_SIZE:
                raise too_large()
            if batched >= OFFLOAD_BYTES:
                await _write(writer, b"".join(batch), offload)
                batch, batched = [], 0
        await _write(writer, b"".join(batch), offload)
        writer.close()
        if decoded_length is not None and decoded_length != writer.size:
            raise incomplete()
        if expected_md5 is not None and writer.md5.digest() != expected_md5:
            raise AwsError(
                "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
        if signed and writer.hashers["SHA256"].digest().hex() != payload_hash:
            raise AwsError(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ClientComputedContentSHA256=payload_hash,
                S3ComputedContentSHA256=writer.hashers["SHA256"].digest().hex(),
            )
        computed = {a: checksums.b64(writer.hashers[a].digest()) for a in wanted}
        _verify(computed, declared, trailer, decoder.trailers if decoder else {})
    except BaseException:
        writer.discard()
        raise
    return Received(writer.path, writer.size, writer.md5.digest(), computed)


async def _write(writer: BlobWriter, data: bytes, offload: Offload | None) -> None:
    if offload is not None and len(data) >= OFFLOAD_BYTES:
        await offload(writer.write, data)
    elif data:
        writer.write(data)


def _decoded_length(headers: Mapping[str, str]) -> int | None:
    raw = headers.get("x-amz-decoded-content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise AwsError("InvalidArgument", "x-amz-decoded-content-length is not a number")
    if int(raw) > MAX_OBJECT_SIZE:
        raise too_large()
    return int(raw)


def _verify(
    computed: dict[str, str],
    declared: dict[str, str],
    trailer: set[str],
    trailers: dict[str, str],
) -> None:
    for algorithm in trailer:
        value = trailers.get(checksums.header_name(algorithm))
        if value is None:
            raise invalid_request(f"The {checksums.header_name(algorithm)} trailer was not sent.")
        if checksums.decode(value, algorithm) is None:
            raise invalid_request(
                f"Value for {checksums.header_name(algorithm)} trailing header is invalid."
            )
        declared = {**declared, algorithm: value}
    for algorithm, value in declared.items():
        if computed.get(algorithm) != value:
            raise bad_digest(algorithm)
