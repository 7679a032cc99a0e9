"""Where delivered files go: one small object-sink interface, over the built-in S3 or over
an external S3-compatible endpoint (BCM_LOCAL_DELIVERY_S3_ENDPOINT: MinIO, a real bucket,
another emulator) through botocore. Data Exports and legacy CUR write only through it.

Opening a sink checks that the bucket exists and may be written; both kinds raise the
built-in backend's NoSuchBucketError / AccessDeniedError (also from later writes), so
each service maps them to its own outcome (INSUFFICIENT_PERMISSION; ERROR_NO_BUCKET /
ERROR_PERMISSIONS) however the files travel. Files above the part size go to an external
endpoint as multipart uploads.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from bcm_local.objects.backend import AccessDeniedError, NoSuchBucketError

if TYPE_CHECKING:
    from bcm_local.runtime import Runtime

__all__ = ["AccessDeniedError", "FolderSink", "NoSuchBucketError", "ObjectSink", "open_sink"]

MIN_PART_BYTES = 5 << 20  # S3's smallest part (all but the last)


class ObjectSink(Protocol):
    bucket: str

    def scratch_dir(self) -> Path: ...

    def put_file(self, key: str, path: Path, content_type: str) -> None: ...

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    def list_keys(self, prefix: str) -> list[str]: ...

    def delete(self, key: str) -> None: ...


def open_sink(
    runtime: Runtime, account_id: str, bucket: str, owner: str | None = None
) -> ObjectSink:
    """A sink writing into `bucket`, which must exist and belong to `owner` (default: the
    calling account; on an external endpoint: be reachable with the configured keys)."""
    if runtime.config.delivery_s3_endpoint:
        return ExternalSink(runtime.config, runtime.root / "delivery-scratch", bucket, owner)
    return BuiltinSink(runtime, account_id, bucket, owner)


class BuiltinSink:
    def __init__(self, runtime: Runtime, account_id: str, bucket: str, owner: str | None) -> None:
        from bcm_local.objects.backend import s3_backend

        self.backend = s3_backend(runtime)
        self.bucket = bucket
        found = self.backend.bucket(bucket)
        if found is None:
            raise NoSuchBucketError(bucket)
        if found.account != (owner or account_id):
            raise AccessDeniedError(bucket)
        self.account = found.account

    def scratch_dir(self) -> Path:
        return self.backend.scratch_dir()  # same file system: objects are moved in, not copied

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self.backend.put_object_from_file(self.account, self.bucket, key, path, content_type)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.backend.put_object_bytes(self.account, self.bucket, key, data, content_type)

    def list_keys(self, prefix: str) -> list[str]:
        return [key for key, _size in self.backend.list_keys(self.bucket, prefix)]

    def delete(self, key: str) -> None:
        self.backend.delete_object(self.account, self.bucket, key)


_CLIENTS: dict[tuple[str, ...], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def s3_client(config: Any) -> Any:
    """The botocore S3 client of the external endpoint (cached: clients are thread-safe and
    slow to build)."""
    endpoint = str(config.delivery_s3_endpoint)
    key = (
        endpoint,
        str(config.delivery_s3_access_key_id),
        str(config.delivery_s3_secret_access_key),
        str(config.delivery_s3_region),
    )
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            import botocore.session
            from botocore.config import Config

            host = urlparse(endpoint).hostname or ""
            style = "auto" if not endpoint or host.endswith("amazonaws.com") else "path"
            _CLIENTS[key] = botocore.session.Session().create_client(
                "s3",
                endpoint_url=endpoint or None,
                region_name=key[3] or "us-east-1",
                aws_access_key_id=key[1] or None,
                aws_secret_access_key=key[2] or None,
                config=Config(
                    s3={"addressing_style": style},
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=10,
                    read_timeout=300,
                ),
            )
        return _CLIENTS[key]


@contextmanager
def _translated(bucket: str) -> Iterator[None]:
    """ClientErrors that mean a missing or forbidden bucket become the backend's errors."""
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("NoSuchBucket", "404", "NotFound") and status == 404:
            raise NoSuchBucketError(bucket) from err
        if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled") or status == 403:
            raise AccessDeniedError(bucket) from err
        raise


class ExternalSink:
    """An S3 endpoint (BCM_LOCAL_DELIVERY_S3_*; no endpoint: AWS's) as the sink; files
    are staged in `scratch` first."""

    def __init__(self, config: Any, scratch: Path, bucket: str, owner: str | None) -> None:
        self.client = s3_client(config)
        self.bucket = bucket
        self.owner = owner
        self.part_bytes = max(int(float(config.delivery_s3_part_mb) * 2**20), MIN_PART_BYTES)
        self.scratch = scratch
        self.scratch.mkdir(parents=True, exist_ok=True)
        with _translated(bucket):
            self.client.head_bucket(Bucket=bucket, **self._owner())

    def _owner(self) -> dict[str, str]:
        return {"ExpectedBucketOwner": self.owner} if self.owner else {}

    def scratch_dir(self) -> Path:
        return self.scratch

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        if path.stat().st_size > self.part_bytes:
            self._multipart(key, path, content_type)
            return
        with _translated(self.bucket), path.open("rb") as body:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, **self._owner()
            )

    def _multipart(self, key: str, path: Path, content_type: str) -> None:
        with _translated(self.bucket):
            upload = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type, **self._owner()
            )["UploadId"]
            try:
                parts: list[dict[str, Any]] = []
                with path.open("rb") as src:
                    while chunk := src.read(self.part_bytes):
                        number = len(parts) + 1
                        etag = self.client.upload_part(
                            Bucket=self.bucket,
                            Key=key,
                            UploadId=upload,
                            PartNumber=number,
                            Body=chunk,
                            **self._owner(),
                        )["ETag"]
                        parts.append({"PartNumber": number, "ETag": etag})
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload,
                    MultipartUpload={"Parts": parts},
                    **self._owner(),
                )
            except BaseException:
                self._abort(key, upload)
                raise

    def _abort(self, key: str, upload: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        # if this fails too, the upload expires by the endpoint's own lifecycle rules
        with suppress(BotoCoreError, ClientError):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        with _translated(self.bucket):
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **self._owner()
            )

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        with _translated(self.bucket):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, **self._owner()
            )
            for page in pages:
                keys += [item["Key"] for item in page.get("Contents", [])]
        return keys

    def delete(self, key: str) -> None:
        with _translated(self.bucket):
            self.client.delete_object(Bucket=self.bucket, Key=key, **self._owner())


class FolderSink:
    """A local folder as the sink (`bcm-local emit`): keys are paths under `root`; files
    arrive whole (moved, or written aside then renamed), never half-written."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root, self.scratch = root, scratch
        self.bucket = str(root)

    def scratch_dir(self) -> Path:
        return self.scratch

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        dest = self.root / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, dest)
        except OSError as err:
            if err.errno != errno.EXDEV:
                raise
            # another file system: copied beside the object, then renamed over it
            aside = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
            try:
                shutil.copyfile(path, aside)
                os.replace(aside, dest)
            finally:
                aside.unlink(missing_ok=True)
            path.unlink()

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        aside = self.scratch / f"put-{uuid.uuid4().hex}"
        aside.write_bytes(data)
        self.put_file(key, aside, content_type)

    def list_keys(self, prefix: str) -> list[str]:
        folder = self.root / prefix.rpartition("/")[0]
        if not folder.is_dir():
            return []
        found = (p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file())
        return sorted(k for k in found if k.startswith(prefix))

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)
