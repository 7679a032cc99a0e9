"""AWS errors raised by operations and protocol layers, rendered by the serializers."""

from __future__ import annotations

from typing import Any


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
