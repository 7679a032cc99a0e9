"""Finishing multipart uploads: CompleteMultipartUpload, Abort, ListParts, ListMultipartUploads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bcm_local.objects import checksums
from bcm_local.objects.backend import ObjectMeta
from bcm_local.objects.blobs import COPY_CHUNK, BlobStore, BlobWriter
from bcm_local.runtime import Context
from bcm_local.services.s3.buckets import owner
from bcm_local.services.s3.errors import bad_digest, owned_bucket, precondition_failed
from bcm_local.services.s3.ingest import invalid_request
from bcm_local.services.s3.multipart import (
    MIN_PART_SIZE,
    Part,
    Upload,
    _backend,
    _parts,
    _upload,
)
from bcm_local.services.s3.objects import checksum_members, commit, etag_matches
from bcm_local.wire.errors import AwsError


def _invalid_part(upload_id: str, number: int, etag: str | None) -> AwsError:
    return AwsError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not have matched the part's entity tag.",
        UploadId=upload_id,
        PartNumber=str(number),
        ETag=etag,
    )


def _chosen_parts(
    upload: Upload, requested: list[dict[str, Any]], stored: list[Part]
) -> list[Part]:
    if not requested:
        raise AwsError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
        )
    by_number = {p.number: p for p in stored}
    chosen: list[Part] = []
    for item in requested:
        number, etag = item.get("PartNumber"), item.get("ETag")
        if number is None or etag is None:
            raise _invalid_part(upload.upload_id, number or 0, etag)
        if chosen and number <= chosen[-1].number:
            raise AwsError(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part "
                "number.",
                UploadId=upload.upload_id,
            )
        part = by_number.get(number)
        if part is None or part.etag.strip('"') != etag.strip().strip('"'):
            raise _invalid_part(upload.upload_id, number, etag)
        for algorithm, value in checksums.declared(item).items():
            if part.checksums.get(algorithm) != value:
                raise _invalid_part(upload.upload_id, number, etag)
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_SIZE:
            raise AwsError(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                ProposedSize=str(part.size),
                MinSizeAllowed=str(MIN_PART_SIZE),
                PartNumber=str(part.number),
                ETag=part.etag,
            )
    return chosen


def _assemble(blobs: BlobStore, parts: list[Part], algorithms: list[str]) -> BlobWriter:
    """Concatenate the parts' files into one temporary blob (blocking)."""
    with BlobWriter(blobs, algorithms) as writer:
        for part in parts:
            with blobs.open(part.blob) as fh:
                while chunk := fh.read(COPY_CHUNK):
                    writer.write(chunk)
    return writer


def _object_checksums(upload: Upload, parts: list[Part], writer: BlobWriter) -> dict[str, str]:
    algorithm = upload.algorithm
    if algorithm is None:
        return {}
    if upload.checksum_type == "FULL_OBJECT":
        return {algorithm: checksums.b64(writer.hashers[algorithm].digest())}
    values = [p.checksums.get(algorithm) for p in parts]
    if any(v is None for v in values):
        raise invalid_request(f"The upload was created using the {algorithm} checksum "
                              "algorithm; every part must carry that checksum.")  # fmt: skip
    return {algorithm: checksums.composite(algorithm, [v for v in values if v])}


async def complete_multipart_upload(
    ctx: Context,
    Bucket: str,
    Key: str,
    UploadId: str,
    MultipartUpload: dict[str, Any] | None = None,
    IfNoneMatch: str | None = None,
    MpuObjectSize: int | None = None,
    **members: Any,
) -> dict[str, Any]:
    upload = _upload(ctx, Bucket, Key, UploadId)
    backend = _backend(ctx)
    current = backend.head(Bucket, Key)
    if IfNoneMatch is not None and current is not None and etag_matches(IfNoneMatch, current.etag):
        raise precondition_failed("If-None-Match")
    parts = _chosen_parts(upload, (MultipartUpload or {}).get("Parts", []), _parts(ctx, UploadId))
    full = [upload.algorithm] if upload.checksum_type == "FULL_OBJECT" and upload.algorithm else []
    writer = await ctx.runtime.run_blocking(_assemble, backend.blobs, parts, full)
    try:
        if MpuObjectSize is not None and MpuObjectSize != writer.size:
            raise invalid_request("The provided x-amz-mp-object-size does not match the upload.")
        sums = _object_checksums(upload, parts, writer)
        for algorithm, value in checksums.declared(members).items():
            if sums.get(algorithm, value) != value:
                raise bad_digest(algorithm)
    except BaseException:
        writer.discard()
        raise
    etag = checksums.multipart_etag([bytes.fromhex(p.etag.strip('"')) for p in parts])
    meta = ObjectMeta(
        Bucket, Key, writer.size, etag, upload.content_type, 0.0, "", upload.metadata,
        upload.headers, sums, upload.checksum_type if sums else None, len(parts),
    )  # fmt: skip
    meta = await commit(ctx, meta, Path(writer.path))
    await ctx.runtime.run_blocking(backend.drop_upload, UploadId)
    return {
        "Location": f"/{Bucket}/{Key}",
        "Bucket": Bucket,
        "Key": Key,
        "ETag": meta.etag,
        **checksum_members(meta),
    }


def abort_multipart_upload(
    ctx: Context, Bucket: str, Key: str, UploadId: str, **_: Any
) -> dict[str, Any]:
    _upload(ctx, Bucket, Key, UploadId)
    _backend(ctx).drop_upload(UploadId)
    return {}


def list_parts(
    ctx: Context,
    Bucket: str,
    Key: str,
    UploadId: str,
    MaxParts: int | None = None,
    PartNumberMarker: int | None = None,
    **_: Any,
) -> dict[str, Any]:
    upload = _upload(ctx, Bucket, Key, UploadId)
    limit = min(MaxParts if MaxParts is not None else 1000, 1000)
    found = _parts(ctx, UploadId, PartNumberMarker or 0, limit + 1)
    truncated = len(found) > limit
    found = found[:limit]
    entries = [
        {"PartNumber": p.number, "LastModified": p.modified, "ETag": p.etag, "Size": p.size}
        | {checksums.member_name(a): v for a, v in p.checksums.items() if a == upload.algorithm}
        for p in found
    ]
    return {
        "Bucket": Bucket,
        "Key": Key,
        "UploadId": UploadId,
        "PartNumberMarker": PartNumberMarker or 0,
        "NextPartNumberMarker": found[-1].number if found else 0,
        "MaxParts": limit,
        "IsTruncated": truncated,
        "Parts": entries,
        "Initiator": owner(upload.account),
        "Owner": owner(upload.account),
        "StorageClass": "STANDARD",
        "ChecksumAlgorithm": upload.algorithm,
        "ChecksumType": upload.checksum_type,
    }


def list_multipart_uploads(
    ctx: Context,
    Bucket: str,
    Prefix: str | None = None,
    KeyMarker: str | None = None,
    MaxUploads: int | None = None,
    **_: Any,
) -> dict[str, Any]:
    backend = _backend(ctx)
    owned_bucket(backend, ctx.account_id, Bucket)
    limit = min(MaxUploads if MaxUploads is not None else 1000, 1000)
    with backend.store.transaction() as db:
        rows = db.execute(
            "SELECT key, upload_id, initiated, account, algorithm, checksum_type FROM s3_uploads "
            "WHERE bucket=? AND key>? AND substr(key, 1, ?)=? ORDER BY key, initiated LIMIT ?",
            (Bucket, KeyMarker or "", len(Prefix or ""), Prefix or "", limit + 1),
        ).fetchall()
    truncated = len(rows) > limit
    rows = rows[:limit]
    uploads = [
        {
            "Key": key, "UploadId": upload_id, "Initiated": initiated, "StorageClass": "STANDARD",
            "Owner": owner(account), "Initiator": owner(account),
            "ChecksumAlgorithm": algorithm, "ChecksumType": checksum_type,
        }
        for key, upload_id, initiated, account, algorithm, checksum_type in rows
    ]  # fmt: skip
    result: dict[str, Any] = {
        "Bucket": Bucket,
        "KeyMarker": KeyMarker or "",
        "Prefix": Prefix,
        "MaxUploads": limit,
        "IsTruncated": truncated,
        "Uploads": uploads,
    }
    if truncated and rows:
        result["NextKeyMarker"], result["NextUploadIdMarker"] = rows[-1][0], rows[-1][1]
    return result
