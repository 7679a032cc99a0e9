"""Bucket operations, plus the bucket sub-resources clients read along the way
(versioning, ACL, encryption, ...) answered with the defaults of a fresh AWS bucket."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from bcm_local.objects.backend import S3Backend, s3_backend
from bcm_local.objects.names import valid_bucket_name
from bcm_local.runtime import Context
from bcm_local.services.s3.errors import no_such_key, owned_bucket
from bcm_local.wire.errors import AwsError

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_LEGACY_REGIONS = {"EU": "eu-west-1"}
US_EAST_1 = "us-east-1"


def owner(account_id: str) -> dict[str, str]:
    return {"ID": hashlib.sha256(account_id.encode()).hexdigest(), "DisplayName": account_id}


def _backend(ctx: Context) -> S3Backend:
    return s3_backend(ctx.runtime)


def _region(ctx: Context, config: dict[str, Any] | None) -> str:
    constraint: str | None = (config or {}).get("LocationConstraint")
    if constraint:
        region = _LEGACY_REGIONS.get(constraint, constraint)
        if constraint == US_EAST_1 or not _REGION.match(region):
            raise AwsError(
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
                LocationConstraint=constraint,
            )
        return region
    if ctx.region != US_EAST_1:
        raise AwsError(
            "IllegalLocationConstraintException",
            "The unspecified location constraint is incompatible for the region specific "
            "endpoint this request was sent to.",
        )
    return US_EAST_1


def create_bucket(
    ctx: Context, Bucket: str, CreateBucketConfiguration: dict[str, Any] | None = None, **_: Any
) -> dict[str, Any]:
    if not valid_bucket_name(Bucket):
        raise AwsError("InvalidBucketName", "The specified bucket is not valid.", BucketName=Bucket)
    region = _region(ctx, CreateBucketConfiguration)
    backend = _backend(ctx)
    if backend.insert_bucket(ctx.account_id, Bucket, region) is None:
        existing = backend.bucket(Bucket)
        if existing is None or existing.account != ctx.account_id:
            raise AwsError(
                "BucketAlreadyExists",
                "The requested bucket name is not available. The bucket namespace is shared by "
                "all users of the system. Please select a different name and try again.",
                BucketName=Bucket,
            )
        if not (existing.region == US_EAST_1 and region == US_EAST_1):
            raise AwsError(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
                BucketName=Bucket,
            )
    return {"Location": f"/{Bucket}", "BucketArn": f"arn:aws:s3:::{Bucket}"}


def head_bucket(ctx: Context, Bucket: str, **_: Any) -> dict[str, Any]:
    bucket = owned_bucket(_backend(ctx), ctx.account_id, Bucket)
    return {"BucketRegion": bucket.region, "BucketArn": f"arn:aws:s3:::{Bucket}"}


def delete_bucket(ctx: Context, Bucket: str, **_: Any) -> dict[str, Any]:
    backend = _backend(ctx)
    owned_bucket(backend, ctx.account_id, Bucket)
    if not backend.drop_bucket(Bucket):
        raise AwsError(
            "BucketNotEmpty", "The bucket you tried to delete is not empty", BucketName=Bucket
        )
    return {}


def list_buckets(
    ctx: Context,
    MaxBuckets: int | None = None,
    ContinuationToken: str | None = None,
    Prefix: str | None = None,
    BucketRegion: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    buckets = [
        b
        for b in _backend(ctx).buckets_of(ctx.account_id)
        if b.name.startswith(Prefix or "")
        and (BucketRegion is None or b.region == BucketRegion)
        and b.name > (ContinuationToken or "")
    ]
    result: dict[str, Any] = {"Owner": owner(ctx.account_id), "Prefix": Prefix}
    if MaxBuckets is not None and len(buckets) > MaxBuckets:
        buckets = buckets[:MaxBuckets]
        result["ContinuationToken"] = buckets[-1].name if buckets else None
    result["Buckets"] = [
        {"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region} for b in buckets
    ]
    return result


def get_bucket_location(ctx: Context, Bucket: str, **_: Any) -> dict[str, Any]:
    bucket = owned_bucket(_backend(ctx), ctx.account_id, Bucket)
    return {"LocationConstraint": "" if bucket.region == US_EAST_1 else bucket.region}


# -- defaults of a fresh bucket -------------------------------------------------------------


def _acl(account_id: str) -> dict[str, Any]:
    grantee = {**owner(account_id), "Type": "CanonicalUser"}
    return {
        "Owner": owner(account_id),
        "Grants": [{"Grantee": grantee, "Permission": "FULL_CONTROL"}],
    }


def get_bucket_acl(ctx: Context, Bucket: str, **_: Any) -> dict[str, Any]:
    owned_bucket(_backend(ctx), ctx.account_id, Bucket)
    return _acl(ctx.account_id)


def get_object_acl(ctx: Context, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
    backend = _backend(ctx)
    owned_bucket(backend, ctx.account_id, Bucket)
    if backend.head(Bucket, Key) is None:
        raise no_such_key(Key)
    return _acl(ctx.account_id)


def get_object_tagging(ctx: Context, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
    get_object_acl(ctx, Bucket, Key)
    return {"TagSet": []}


def _fixed(result: dict[str, Any]) -> Any:
    def operation(ctx: Context, Bucket: str, **_: Any) -> dict[str, Any]:
        owned_bucket(_backend(ctx), ctx.account_id, Bucket)
        return result

    return operation


def _missing(code: str, message: str) -> Any:
    def operation(ctx: Context, Bucket: str, **_: Any) -> dict[str, Any]:
        owned_bucket(_backend(ctx), ctx.account_id, Bucket)
        raise AwsError(code, message, BucketName=Bucket)

    return operation


get_bucket_versioning = _fixed({})
get_bucket_encryption = _fixed(
    {
        "ServerSideEncryptionConfiguration": {
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BucketKeyEnabled": False,
                }
            ]
        }
    }
)
get_bucket_ownership_controls = _fixed(
    {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}
)
get_bucket_request_payment = _fixed({"Payer": "BucketOwner"})
get_bucket_logging = _fixed({})
get_bucket_accelerate_configuration = _fixed({})
get_bucket_notification_configuration = _fixed({})
get_bucket_policy = _missing("NoSuchBucketPolicy", "The bucket policy does not exist")
get_bucket_tagging = _missing("NoSuchTagSet", "The TagSet does not exist")
get_bucket_cors = _missing("NoSuchCORSConfiguration", "The CORS configuration does not exist")
get_bucket_website = _missing(
    "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"
)
get_bucket_lifecycle_configuration = _missing(
    "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"
)
get_public_access_block = _missing(
    "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"
)
