"""AWS errors raised by operations and protocol layers, rendered by the serializers."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from typing import Any

# why a write to the data directory fails: full, over quota, too large, read-only, forbidden
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
_STORAGE_SQLITE = ("disk is full", "readonly", "unable to open", "disk I/O error")


class AwsError(Exception):
    """An error AWS would return: its code, message and the error shape's own members.

    `status` is taken from the service model when not given (400 for client errors,
    500 for faults, or the shape's `httpStatusCode`).
    """

    def __init__(self, code: str, message: str, *, status: int | None = None, **members: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.members = members


def validation_error(
    message: str,
    *,
    fields: list[tuple[str, str]] | None = None,
    reason: str = "fieldValidationFailed",
) -> AwsError:
    return AwsError(
        "ValidationException",
        message,
        Reason=reason,
        Fields=[{"Name": n, "Message": m} for n, m in fields or []],
    )


def not_found(message: str, resource_id: str, resource_type: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException", message, ResourceId=resource_id, ResourceType=resource_type
    )


def storage_trouble(exc: BaseException | None) -> str | None:
    """What is wrong with the data directory, when that is why `exc` (or its cause) happened."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
            return f"{os.strerror(exc.errno)} ({exc.filename or 'data directory'})"
        if isinstance(exc, sqlite3.Error) and any(w in str(exc) for w in _STORAGE_SQLITE):
            return f"{exc} (state database)"
        exc = exc.__cause__ or exc.__context__
    return None


def log_internal(log: logging.Logger, operation: str, exc: BaseException) -> None:
    """The log line of an operation that failed inside: one clear line for a storage
    failure (disk full, read-only data directory), the traceback for anything else."""
    trouble = storage_trouble(exc)
    if trouble:
        log.error("%s failed: cannot write to the data directory: %s", operation, trouble)
    else:
        log.exception("internal error in %s", operation)
