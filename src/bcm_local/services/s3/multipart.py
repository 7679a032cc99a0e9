"""Multipart uploads: Create, UploadPart(Copy), Complete, Abort, ListParts, ListMultipartUploads.

ETag of the result: md5 of the parts' binary md5s, then `-N`. Every part but the last must
be at least 5 MiB. Completing concatenates the part files into one new blob.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from bcm_local.objects import checksums
from bcm_local.objects.backend import DEFAULT_CONTENT_TYPE, ObjectMeta, S3Backend, s3_backend
from bcm_local.objects.blobs import COPY_CHUNK, BlobWriter
from bcm_local.runtime import Context
from bcm_local.services.s3.errors import invalid_argument, no_such_upload, owned_bucket
from bcm_local.services.s3.ingest import invalid_request, receive
from bcm_local.services.s3.objects import (
    copy_source,
    stored_headers,
    valid_key,
)
from bcm_local.wire.errors import AwsError
from bcm_local.wire.rest import StreamingPayload

MIN_PART_SIZE = 5 << 20
MAX_PART_NUMBER = 10000


@dataclass(frozen=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    account: str
    initiated: float
    content_type: str
    metadata: dict[str, str]
    headers: dict[str, str]
    algorithm: str | None
    checksum_type: str | None


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str
    checksums: dict[str, str] = field(default_factory=dict)
    modified: float = 0.0
    blob: str = ""


def _backend(ctx: Context) -> S3Backend:
    return s3_backend(ctx.runtime)


def _upload(ctx: Context, bucket: str, key: str, upload_id: str) -> Upload:
    backend = _backend(ctx)
    owned_bucket(backend, ctx.account_id, bucket)
    with backend.store.transaction() as db:
        row = db.execute(
            "SELECT upload_id, bucket, key, account, initiated, content_type, metadata, headers, "
            "algorithm, checksum_type FROM s3_uploads WHERE upload_id=? AND bucket=? AND key=?",
            (upload_id, bucket, key),
        ).fetchone()
    if row is None:
        raise no_such_upload(upload_id)
    upload_id, bucket, key, account, initiated, content_type, meta, headers, algo, kind = row
    return Upload(
        upload_id, bucket, key, account, initiated, content_type,
        json.loads(meta), json.loads(headers), algo, kind,
    )  # fmt: skip


def _parts(ctx: Context, upload_id: str, after: int = 0, limit: int = -1) -> list[Part]:
    with _backend(ctx).store.transaction() as db:
        rows = db.execute(
            "SELECT part_number, size, etag, checksums, modified, blob FROM s3_parts "
            "WHERE upload_id=? AND part_number>? ORDER BY part_number LIMIT ?",
            (upload_id, after, limit),
        ).fetchall()
    return [
        Part(n, size, etag, json.loads(sums), at, blob) for n, size, etag, sums, at, blob in rows
    ]


def _checksum_type(algorithm: str | None, requested: str | None) -> str | None:
    if algorithm is None:
        if requested:
            raise invalid_request(
                "The x-amz-checksum-type header requires x-amz-checksum-algorithm."
            )
        return None
    if algorithm not in checksums.HASHERS:
        raise invalid_request(f"Checksum algorithm {algorithm} is not supported.")
    if requested == "FULL_OBJECT" and algorithm not in checksums.FULL_OBJECT_CAPABLE:
        raise invalid_request(f"The FULL_OBJECT checksum type cannot be used with {algorithm}.")
    if requested == "COMPOSITE" and algorithm == "CRC64NVME":
        raise invalid_request("The COMPOSITE checksum type cannot be used with CRC64NVME.")
    return requested or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")


def create_multipart_upload(
    ctx: Context,
    Bucket: str,
    Key: str,
    ContentType: str | None = None,
    Metadata: dict[str, str] | None = None,
    ChecksumAlgorithm: str | None = None,
    ChecksumType: str | None = None,
    **members: Any,
) -> dict[str, Any]:
    backend = _backend(ctx)
    owned_bucket(backend, ctx.account_id, Bucket)
    key = valid_key(Key)
    algorithm = ChecksumAlgorithm.upper() if ChecksumAlgorithm else None
    checksum_type = _checksum_type(algorithm, ChecksumType)
    upload_id = secrets.token_urlsafe(48)
    with backend.store.transaction() as db:
        db.execute(
            "INSERT INTO s3_uploads(upload_id, bucket, key, account, initiated, content_type, "
            "metadata, headers, algorithm, checksum_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upload_id, Bucket, key, ctx.account_id, round(ctx.clock.time(), 3),
                ContentType or DEFAULT_CONTENT_TYPE, json.dumps(Metadata or {}),
                json.dumps(stored_headers(members)), algorithm, checksum_type,
            ),
        )  # fmt: skip
    return {
        "Bucket": Bucket,
        "Key": key,
        "UploadId": upload_id,
        "ChecksumAlgorithm": algorithm,
        "ChecksumType": checksum_type,
    }


def _check_part_number(number: int) -> None:
    if not 1 <= number <= MAX_PART_NUMBER:
        raise invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            str(number),
        )


def _save_part(ctx: Context, upload: Upload, part: Part, temp: Path) -> Part:
    """Install a part's bytes and row (blocking); replaces an earlier part of that number."""
    backend = _backend(ctx)
    blob = backend.blobs.install(temp)
    old = None
    try:
        with backend.store.transaction() as db:
            if not db.execute(
                "SELECT 1 FROM s3_uploads WHERE upload_id=?", (upload.upload_id,)
            ).fetchone():
                raise no_such_upload(upload.upload_id)
            old = db.execute(
                "SELECT blob FROM s3_parts WHERE upload_id=? AND part_number=?",
                (upload.upload_id, part.number),
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO s3_parts(upload_id, part_number, size, etag, checksums, "
                "modified, blob) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.upload_id, part.number, part.size, part.etag,
                    json.dumps(part.checksums), round(ctx.clock.time(), 3), blob,
                ),
            )  # fmt: skip
    except BaseException:
        backend.blobs.remove([blob])
        raise
    backend.blobs.remove([old[0] if old else None])
    return part


def _part_checksums(upload: Upload, found: dict[str, str]) -> dict[str, Any]:
    return {checksums.member_name(a): v for a, v in found.items() if a == upload.algorithm}


async def upload_part(
    ctx: Context,
    Bucket: str,
    Key: str,
    UploadId: str,
    PartNumber: int,
    Body: StreamingPayload,
    **members: Any,
) -> dict[str, Any]:
    upload = _upload(ctx, Bucket, Key, UploadId)
    _check_part_number(PartNumber)
    if upload.algorithm and not members.get("ChecksumAlgorithm"):
        members = {**members, "ChecksumAlgorithm": upload.algorithm}
    received = await receive(_backend(ctx).blobs, Body, members, ctx.runtime.run_blocking)
    part = Part(PartNumber, received.size, received.etag, received.checksums)
    await ctx.runtime.run_blocking(_save_part, ctx, upload, part, received.path)
    return {"ETag": part.etag, **_part_checksums(upload, part.checksums)}


def _copy_range(source: BinaryIO, first: int, length: int, writer: BlobWriter) -> Path:
    with writer, source as fh:
        fh.seek(first)
        while length > 0:
            chunk = fh.read(min(COPY_CHUNK, length))
            if not chunk:
                break
            writer.write(chunk)
            length -= len(chunk)
    return writer.path


def _source_window(source: ObjectMeta, params: dict[str, Any]) -> tuple[int, int]:
    """(first, last) byte of the copy source to copy: x-amz-copy-source-range, or all."""
    first, last = 0, source.size - 1
    if params.get("CopySourceRange"):
        text = params["CopySourceRange"].removeprefix("bytes=")
        try:
            first, last = (int(n) for n in text.split("-", 1))
        except ValueError:
            first, last = -1, -1
        if not 0 <= first <= last < source.size:
            raise invalid_argument(
                "The x-amz-copy-source-range value must be of the form bytes=first-last where "
                "first and last are the zero-based offsets of the first and last bytes to copy",
                "x-amz-copy-source-range",
                params["CopySourceRange"],
            )
    return first, last


async def upload_part_copy(
    ctx: Context, Bucket: str, Key: str, UploadId: str, PartNumber: int, **params: Any
) -> dict[str, Any]:
    upload = _upload(ctx, Bucket, Key, UploadId)
    _check_part_number(PartNumber)
    backend = _backend(ctx)
    for _ in range(3):
        source = copy_source(ctx, params)
        first, last = _source_window(source, params)
        try:  # opened now: an overwrite of the source key cannot pull the bytes away
            handle = backend.blobs.open(source.blob)
            break
        except FileNotFoundError:  # overwritten between reading its row and opening it
            continue
    else:
        raise AwsError("InternalError", "We encountered an internal error. Please try again.")
    writer = BlobWriter(backend.blobs, [upload.algorithm] if upload.algorithm else [])
    temp = await ctx.runtime.run_blocking(_copy_range, handle, first, last - first + 1, writer)
    sums = {a: checksums.b64(h.digest()) for a, h in writer.hashers.items()}
    part = Part(PartNumber, writer.size, f'"{writer.md5.hexdigest()}"', sums)
    await ctx.runtime.run_blocking(_save_part, ctx, upload, part, temp)
    result = {"ETag": part.etag, "LastModified": ctx.clock.time()}
    return {"CopyPartResult": {**result, **_part_checksums(upload, sums)}}
