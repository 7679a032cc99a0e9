"""S3's front door: virtual-hosted or path-style addressing, model-driven routing through
the REST-XML protocol, the operations table, and per-bucket request counters."""

from __future__ import annotations

import logging
import sqlite3
from functools import cache
from urllib.parse import unquote

from bcm_local.objects.backend import s3_backend
from bcm_local.runtime import Context
from bcm_local.server.rest_xml import Handler, RestXmlProtocol
from bcm_local.services.s3 import buckets, completion, listing, multipart, objects
from bcm_local.services.s3.errors import STATUSES
from bcm_local.wire import model
from bcm_local.wire.errors import AwsError
from bcm_local.wire.http import Request, Response

OPERATIONS: dict[str, Handler] = {
    "CreateBucket": buckets.create_bucket,
    "HeadBucket": buckets.head_bucket,
    "DeleteBucket": buckets.delete_bucket,
    "ListBuckets": buckets.list_buckets,
    "GetBucketLocation": buckets.get_bucket_location,
    "GetBucketAcl": buckets.get_bucket_acl,
    "GetBucketVersioning": buckets.get_bucket_versioning,
    "GetBucketEncryption": buckets.get_bucket_encryption,
    "GetBucketOwnershipControls": buckets.get_bucket_ownership_controls,
    "GetBucketRequestPayment": buckets.get_bucket_request_payment,
    "GetBucketLogging": buckets.get_bucket_logging,
    "GetBucketAccelerateConfiguration": buckets.get_bucket_accelerate_configuration,
    "GetBucketNotificationConfiguration": buckets.get_bucket_notification_configuration,
    "GetBucketPolicy": buckets.get_bucket_policy,
    "GetBucketTagging": buckets.get_bucket_tagging,
    "GetBucketCors": buckets.get_bucket_cors,
    "GetBucketWebsite": buckets.get_bucket_website,
    "GetBucketLifecycleConfiguration": buckets.get_bucket_lifecycle_configuration,
    "GetPublicAccessBlock": buckets.get_public_access_block,
    "GetObjectAcl": buckets.get_object_acl,
    "GetObjectTagging": buckets.get_object_tagging,
    "PutObject": objects.put_object,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "DeleteObject": objects.delete_object,
    "DeleteObjects": objects.delete_objects,
    "CopyObject": objects.copy_object,
    "ListObjectsV2": listing.list_objects_v2,
    "ListObjects": listing.list_objects,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": completion.complete_multipart_upload,
    "AbortMultipartUpload": completion.abort_multipart_upload,
    "ListParts": completion.list_parts,
    "ListMultipartUploads": completion.list_multipart_uploads,
}

# XML document roots, where they differ from `<OutputShape minus Output>Result`
ROOTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "GetBucketLocation": "LocationConstraint",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetObjectTagging": "Tagging",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "ListParts": "ListPartsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "DeleteObjects": "DeleteResult",
}

# request classes for the per-bucket counters (AWS bills PUT/COPY/POST/LIST vs GET and others)
_PUT = {"PutObject", "CopyObject", "UploadPart", "UploadPartCopy", "CreateMultipartUpload"}
_PUT |= {"CompleteMultipartUpload", "DeleteObjects", "CreateBucket"}
_LIST = {"ListObjects", "ListObjectsV2", "ListParts", "ListMultipartUploads"}
_FREE = {"DeleteObject", "DeleteBucket", "AbortMultipartUpload", "Unknown"}


log = logging.getLogger("bcm_local")


@cache
def _protocol() -> RestXmlProtocol:
    return RestXmlProtocol(model.load("s3"), OPERATIONS, ROOTS, STATUSES)


def path_style(host: str, raw_path: str) -> str:
    """The request path as path-style: `bucket.localhost:4566/key` -> `/bucket/key`."""
    hostname = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else ""
    if hostname.endswith(".localhost"):
        bucket = hostname.removesuffix(".localhost").removesuffix(".s3")
        if bucket and bucket != "s3":
            return f"/{bucket}{raw_path if raw_path.startswith('/') else '/' + raw_path}"
    return raw_path


def reject(ctx: Context, request: Request, err: AwsError) -> Response:
    """S3's answer to a request refused before routing (strict-mode authentication)."""
    return _protocol().reject(ctx, request, err)


async def handle(ctx: Context, request: Request) -> Response:
    path = path_style(request.host, request.raw_path or "/")
    response = await _protocol().handle(ctx, request, path)
    bucket = unquote(path.split("/", 2)[1]) if path.count("/") >= 1 else ""
    # AWS does not bill a bucket's owner for other accounts' refused requests
    if bucket and response.operation not in _FREE and response.status != 403:
        kind = (
            "put"
            if response.operation in _PUT
            else "list"
            if response.operation in _LIST
            else "get"
        )
        try:
            s3_backend(ctx.runtime).count_request(bucket, kind, ctx.account_id)
        except sqlite3.Error as err:  # metering never fails the request it meters
            log.warning("request to %s not counted: %s", bucket, err)
    return response
