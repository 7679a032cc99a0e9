"""S3 error codes with their documented HTTP status, and the common ones as helpers."""

from __future__ import annotations

from bcm_local.objects.backend import AccessDeniedError, Bucket, NoSuchBucketError, S3Backend
from bcm_local.wire.errors import AwsError

# codes the botocore model does not carry (or carries without a status)
STATUSES = {
    "AccessDenied": 403,
    "BadDigest": 400,
    "BucketNotEmpty": 409,
    "EntityTooLarge": 400,
    "EntityTooSmall": 400,
    "IllegalLocationConstraintException": 400,
    "IncompleteBody": 400,
    "InternalError": 500,
    "InvalidArgument": 400,
    "InvalidBucketName": 400,
    "InvalidDigest": 400,
    "InvalidLocationConstraint": 400,
    "InvalidPart": 400,
    "InvalidPartOrder": 400,
    "InvalidRange": 416,
    "InvalidURI": 400,
    "KeyTooLongError": 400,
    "MalformedXML": 400,
    "MethodNotAllowed": 405,
    "NoSuchBucketPolicy": 404,
    "NoSuchCORSConfiguration": 404,
    "NoSuchLifecycleConfiguration": 404,
    "NoSuchPublicAccessBlockConfiguration": 404,
    "NoSuchTagSet": 404,
    "NoSuchWebsiteConfiguration": 404,
    "NotImplemented": 501,
    "PreconditionFailed": 412,
    "RequestTimeout": 400,
    "XAmzContentSHA256Mismatch": 400,
}


def no_such_bucket(bucket: str) -> AwsError:
    return AwsError("NoSuchBucket", "The specified bucket does not exist", BucketName=bucket)


def no_such_key(key: str) -> AwsError:
    return AwsError("NoSuchKey", "The specified key does not exist.", Key=key)


def no_such_upload(upload_id: str) -> AwsError:
    return AwsError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.",
        UploadId=upload_id,
    )


def access_denied() -> AwsError:
    return AwsError("AccessDenied", "Access Denied")


def precondition_failed(condition: str) -> AwsError:
    return AwsError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        Condition=condition,
    )


def bad_digest(what: str) -> AwsError:
    return AwsError("BadDigest", f"The {what} you specified did not match the calculated checksum.")


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> AwsError:
    return AwsError("InvalidArgument", message, ArgumentName=name, ArgumentValue=value)


def owned_bucket(backend: S3Backend, account_id: str, name: str) -> Bucket:
    """The bucket, when the caller owns it; NoSuchBucket / AccessDenied otherwise."""
    try:
        return backend.owned(account_id, name)
    except NoSuchBucketError:
        raise no_such_bucket(name) from None
    except AccessDeniedError:
        raise access_denied() from None
