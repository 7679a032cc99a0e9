"""Placeholder until the S3 service lands: every request is NotImplemented."""

from bcm_local.runtime import Context
from bcm_local.server.http import Request, Response


async def handle(ctx: Context, request: Request) -> Response:
    body = b"<Error><Code>NotImplemented</Code><Message>S3 is not available yet</Message></Error>"
    return Response(501, [("content-type", "application/xml")], body, operation="Unknown")
