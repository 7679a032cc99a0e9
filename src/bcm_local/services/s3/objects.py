"""Object operations: PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from bcm_local.objects import checksums
from bcm_local.objects.backend import (
    DEFAULT_CONTENT_TYPE,
    NoSuchBucketError,
    ObjectMeta,
    S3Backend,
    s3_backend,
)
from bcm_local.objects.names import MAX_KEY_BYTES, InvalidKey, check_key
from bcm_local.runtime import Context
from bcm_local.services.s3.errors import (
    invalid_argument,
    no_such_bucket,
    no_such_key,
    owned_bucket,
    precondition_failed,
)
from bcm_local.services.s3.ingest import content_encoding, invalid_request, receive
from bcm_local.wire.errors import AwsError
from bcm_local.wire.rest import STATUS, StreamingPayload
from bcm_local.wire.timestamps import format_time

# headers stored with an object and returned by GET/HEAD, by member name
STORED_HEADERS = ("CacheControl", "ContentDisposition", "ContentLanguage", "Expires")
_ATTEMPTS = 3  # reads racing an overwrite of the same key
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_OVERRIDES = {
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseContentType": "ContentType",
}


def _backend(ctx: Context) -> S3Backend:
    return s3_backend(ctx.runtime)


def valid_key(key: str) -> str:
    try:
        check_key(key)
    except InvalidKey as err:
        if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            raise AwsError(
                "KeyTooLongError", "Your key is too long", MaxSizeAllowed="1024"
            ) from None
        raise invalid_argument(str(err)) from None
    return key


def find(backend: S3Backend, account_id: str, bucket: str, key: str) -> ObjectMeta:
    owned_bucket(backend, account_id, bucket)
    meta = backend.head(bucket, key)
    if meta is None:
        raise no_such_key(key)
    return meta


def stored_headers(
    members: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, str]:
    """The headers kept with an object (StorageClass only when not STANDARD)."""
    kept = {name: members[name] for name in STORED_HEADERS if members.get(name)}
    encoding = content_encoding(headers) if headers is not None else members.get("ContentEncoding")
    if encoding:
        kept["ContentEncoding"] = encoding
    if members.get("StorageClass") not in (None, "STANDARD"):
        kept["StorageClass"] = members["StorageClass"]
    return kept


def checksum_members(meta: ObjectMeta) -> dict[str, Any]:
    if not meta.checksums:
        return {}
    found = {checksums.member_name(a): v for a, v in meta.checksums.items()}
    return {**found, "ChecksumType": meta.checksum_type}


async def commit(ctx: Context, meta: ObjectMeta, received_path: Any) -> ObjectMeta:
    backend = _backend(ctx)
    try:
        if backend.blobs.durable:  # fsyncs: off the event loop
            return await ctx.runtime.run_blocking(backend.commit, meta, received_path)
        return backend.commit(meta, received_path)  # a rename and a row: no thread hop
    except NoSuchBucketError:
        raise no_such_bucket(meta.bucket) from None


# -- conditions and ranges --------------------------------------------------------------


def etag_matches(header: str, etag: str) -> bool:
    bare = etag.strip('"')
    return any(
        t.strip() == "*" or t.strip().removeprefix("W/").strip('"') == bare
        for t in header.split(",")
    )


def evaluate(
    meta: ObjectMeta,
    if_match: str | None,
    if_none_match: str | None,
    modified_since: float | None,
    unmodified_since: float | None,
) -> int | None:
    """RFC 7232 as S3 applies it: 412 raised, or 304 returned, or None to go on."""
    modified = int(meta.modified)
    if if_match is not None:
        if not etag_matches(if_match, meta.etag):
            raise precondition_failed("If-Match")
    elif unmodified_since is not None and modified > unmodified_since:
        raise precondition_failed("If-Unmodified-Since")
    if if_none_match is not None:
        return 304 if etag_matches(if_none_match, meta.etag) else None
    if modified_since is not None and modified <= modified_since:
        return 304
    return None


def _conditions(meta: ObjectMeta, params: dict[str, Any], prefix: str = "") -> int | None:
    """`evaluate` with the request's If* members; a copy's source has them as CopySourceIf*."""
    return evaluate(
        meta,
        params.get(f"{prefix}IfMatch"),
        params.get(f"{prefix}IfNoneMatch"),
        params.get(f"{prefix}IfModifiedSince"),
        params.get(f"{prefix}IfUnmodifiedSince"),
    )


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a satisfiable `bytes=` range; None to send the whole object."""
    found = _RANGE.match(header.strip()) if header else None
    if found is None or not (found[1] or found[2]):
        return None
    if not found[1]:
        first, last = max(0, size - int(found[2])), size - 1
        if int(found[2]) == 0:
            first = size
    else:
        first = int(found[1])
        last = min(int(found[2]), size - 1) if found[2] else size - 1
        if found[2] and int(found[2]) < first:
            return None
    if first >= size:
        raise AwsError(
            "InvalidRange",
            "The requested range is not satisfiable",
            RangeRequested=header,
            ActualObjectSize=str(size),
        )
    return first, last


# -- operations -------------------------------------------------------------------------


async def put_object(
    ctx: Context,
    Bucket: str,
    Key: str,
    Body: StreamingPayload,
    ContentType: str | None = None,
    Metadata: dict[str, str] | None = None,
    IfMatch: str | None = None,
    IfNoneMatch: str | None = None,
    **members: Any,
) -> dict[str, Any]:
    backend = _backend(ctx)
    owned_bucket(backend, ctx.account_id, Bucket)
    key = valid_key(Key)
    if IfMatch is not None or IfNoneMatch is not None:
        _write_conditions(backend.head(Bucket, key), IfMatch, IfNoneMatch)
    received = await receive(backend.blobs, Body, members, ctx.runtime.run_blocking)
    meta = ObjectMeta(
        Bucket,
        key,
        received.size,
        received.etag,
        ContentType or DEFAULT_CONTENT_TYPE,
        metadata=Metadata or {},
        headers=stored_headers(members, dict(Body.headers)),
        checksums=received.checksums,
        checksum_type="FULL_OBJECT" if received.checksums else None,
    )
    meta = await commit(ctx, meta, received.path)
    return {"ETag": meta.etag, "Size": meta.size, **checksum_members(meta)}


def _write_conditions(
    current: ObjectMeta | None, if_match: str | None, if_none: str | None
) -> None:
    if if_none is not None and current is not None and etag_matches(if_none, current.etag):
        raise precondition_failed("If-None-Match")
    if if_match is not None and (current is None or not etag_matches(if_match, current.etag)):
        if current is None:
            raise no_such_key("")
        raise precondition_failed("If-Match")


def describe(meta: ObjectMeta, params: dict[str, Any]) -> dict[str, Any]:
    """The GET/HEAD response members of an object (the Range and checksum mode applied)."""
    out: dict[str, Any] = {
        "ETag": meta.etag,
        "LastModified": meta.modified,
        "ContentType": meta.content_type,
        "ContentLength": meta.size,
        "AcceptRanges": "bytes",
        "Metadata": meta.metadata,
        **meta.headers,
    }
    if meta.parts and params.get("PartNumber"):
        out["PartsCount"] = meta.parts
    for override, member in _OVERRIDES.items():
        if params.get(override):
            out[member] = params[override]
    if params.get("ResponseExpires") is not None:
        out["Expires"] = format_time(params["ResponseExpires"], "rfc822")
    window = byte_range(params.get("Range"), meta.size)
    if window is None:
        if params.get("ChecksumMode") == "ENABLED":
            out.update(checksum_members(meta))
        return out
    first, last = window
    out.update({STATUS: 206, "ContentLength": last - first + 1})
    out["ContentRange"] = f"bytes {first}-{last}/{meta.size}"
    return out


def _read(
    ctx: Context, Bucket: str, Key: str, params: dict[str, Any]
) -> tuple[ObjectMeta, dict[str, Any]]:
    meta = find(_backend(ctx), ctx.account_id, Bucket, Key)
    status = _conditions(meta, params)
    if status == 304:
        return meta, {STATUS: 304, "ETag": meta.etag, "LastModified": meta.modified}
    return meta, describe(meta, params)


def get_object(ctx: Context, Bucket: str, Key: str, **params: Any) -> dict[str, Any]:
    for _ in range(_ATTEMPTS):
        meta, out = _read(ctx, Bucket, Key, params)
        if out.get(STATUS) == 304:
            return out
        first = int(out["ContentRange"].split()[1].split("-")[0]) if "ContentRange" in out else 0
        try:  # taken now, the bytes outlive a concurrent overwrite that removes the blob
            out["Body"] = _backend(ctx).blobs.body(meta.blob, first, out["ContentLength"])
        except FileNotFoundError:  # overwritten between reading the row and opening the file
            continue
        return out
    raise AwsError("InternalError", "We encountered an internal error. Please try again.")


def head_object(ctx: Context, Bucket: str, Key: str, **params: Any) -> dict[str, Any]:
    return _read(ctx, Bucket, Key, params)[1]


def delete_object(ctx: Context, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
    backend = _backend(ctx)
    owned_bucket(backend, ctx.account_id, Bucket)
    backend.remove_object(Bucket, Key)
    return {}


def delete_objects(ctx: Context, Bucket: str, Delete: dict[str, Any], **_: Any) -> dict[str, Any]:
    backend = _backend(ctx)
    owned_bucket(backend, ctx.account_id, Bucket)
    targets = Delete.get("Objects", [])
    if not targets or len(targets) > 1000:
        raise AwsError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
        )
    deleted, errors = [], []
    for target in targets:
        key = target["Key"]
        try:
            valid_key(key)
        except AwsError as err:
            errors.append({"Key": key, "Code": err.code, "Message": err.message})
            continue
        backend.remove_object(Bucket, key)
        deleted.append({"Key": key})
    return {"Deleted": [] if Delete.get("Quiet") else deleted, "Errors": errors}


def parse_copy_source(source: str) -> tuple[str, str]:
    path = source.partition("?")[0]
    try:
        path = unquote(path, errors="strict")
    except UnicodeDecodeError:
        path = ""
    bucket, _, key = path.removeprefix("/").partition("/")
    if not bucket or not key:
        raise invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            source,
        )
    return bucket, key


def copy_source(ctx: Context, params: dict[str, Any]) -> ObjectMeta:
    """The object named by x-amz-copy-source, its x-amz-copy-source-if-* conditions met."""
    bucket, key = parse_copy_source(params["CopySource"])
    source = find(_backend(ctx), ctx.account_id, bucket, key)
    status = _conditions(source, params, "CopySource")
    if status == 304:
        raise precondition_failed("x-amz-copy-source-If-None-Match")
    return source


def _copy_target(source: ObjectMeta, bucket: str, key: str, params: dict[str, Any]) -> ObjectMeta:
    target = replace(source, bucket=bucket, key=key, blob="")
    if params.get("MetadataDirective") == "REPLACE":
        target = replace(
            target,
            content_type=params.get("ContentType") or DEFAULT_CONTENT_TYPE,
            metadata=params.get("Metadata") or {},
            headers=stored_headers(params),
        )
    elif (source.bucket, source.key) == (bucket, key):
        raise invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes."
        )
    if params.get("StorageClass"):
        headers = {k: v for k, v in target.headers.items() if k != "StorageClass"}
        if params["StorageClass"] != "STANDARD":
            headers["StorageClass"] = params["StorageClass"]
        target = replace(target, headers=headers)
    return target


async def copy_object(
    ctx: Context, Bucket: str, Key: str, CopySource: str, **params: Any
) -> dict[str, Any]:
    backend = _backend(ctx)
    owned_bucket(backend, ctx.account_id, Bucket)
    key = valid_key(Key)
    for attempt in range(_ATTEMPTS):
        source = copy_source(ctx, {**params, "CopySource": CopySource})
        target = _copy_target(source, Bucket, key, params)
        try:
            meta = await ctx.runtime.run_blocking(backend.copy, source, target)
            break
        except NoSuchBucketError:
            raise no_such_bucket(Bucket) from None
        except FileNotFoundError:  # the source was overwritten meanwhile: copy the new one
            if attempt == _ATTEMPTS - 1:
                raise
    result = {"ETag": meta.etag, "LastModified": meta.modified, **checksum_members(meta)}
    return {"CopyObjectResult": result}
