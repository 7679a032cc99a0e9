"""The ASGI application: one port, every service.

Routing: `/_bcm_local/...` is the emulator's own API; a request with `X-Amz-Target` goes
to the JSON 1.1 service owning the target's prefix; everything else is S3 (path-style or
virtual-hosted).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from typing import Any

from bcm_local import __version__
from bcm_local.clock import machine_time
from bcm_local.runtime import Context, Runtime
from bcm_local.server import sigv4, sigv4_chunks
from bcm_local.server.auth import identify
from bcm_local.server.json_protocol import CONTENT_TYPE, JsonProtocol
from bcm_local.server.sigv4 import SignatureError
from bcm_local.services import registry
from bcm_local.wire import model
from bcm_local.wire.http import (
    BodyTimeout,
    BodyTooLarge,
    Message,
    Receive,
    Request,
    Response,
    Send,
    send_response,
)

access_log = logging.getLogger("bcm_local.access")
log = logging.getLogger("bcm_local")

JSON_BODY_LIMIT = 1 << 20  # AWS JSON APIs refuse bodies over a few MiB; 1 MiB is ample here
_JSON_TYPES = ("application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json")


def _json_error(code: str, message: str, status: int, request_id: str) -> Response:
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = [
        ("content-type", CONTENT_TYPE),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", code),
    ]
    return Response(status, headers, body)


class App:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.config = runtime.config
        self._protocols: dict[str, JsonProtocol] = {}
        self.max_body = int(self.config.max_body_mb) << 20

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request = _request(scope, receive, self.max_body)
        request_id = str(uuid.uuid4())
        service, response = await self._route(request, request_id)
        if not response.header("x-amzn-RequestId") and not response.header("x-amz-request-id"):
            response.headers.append(("x-amzn-RequestId", request_id))
        await send_response(send, response, head_only=request.method == "HEAD")
        elapsed = (time.perf_counter() - started) * 1000
        access_log.info(
            "%s %s %d %.1fms", service, response.operation or "-", response.status, elapsed
        )

    async def _route(self, request: Request, request_id: str) -> tuple[str, Response]:
        path = request.raw_path
        if path.startswith("/_bcm_local/"):
            return "bcm-local", await self._internal(request, path)
        if path == "/_bcm_local" and request.method in ("GET", "HEAD"):  # no bucket has "_"
            return "bcm-local", Response(302, [("Location", "/_bcm_local/")])
        target = request.headers.get("x-amz-target")
        if target is not None:
            return await self._json(request, target, request_id)
        if not self.config.s3_enabled:
            return "s3", _json_error("UnknownOperationException", "S3 is disabled", 400, request_id)
        from bcm_local.server import s3_protocol as s3

        ctx = self._context(request, request_id)
        refused = self._authenticate(request, None, s3.path_style(request.host, request.raw_path))
        if refused is not None:
            return "s3", s3.reject(ctx, request, refused.s3_error())
        return "s3", await s3.handle(ctx, request)

    async def _json(self, request: Request, target: str, request_id: str) -> tuple[str, Response]:
        prefix, _, operation = target.partition(".")
        service = registry.BY_TARGET.get(prefix)
        if service is None or not service.enabled(self.config) or not operation:
            return prefix or "-", _json_error("UnknownOperationException", "", 400, request_id)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in _JSON_TYPES:
            message = f"Unsupported Content-Type {content_type!r}; expected {CONTENT_TYPE}"
            return service.name, _json_error("SerializationException", message, 400, request_id)
        request.max_body = min(request.max_body, JSON_BODY_LIMIT)
        try:
            body = await request.body()
        except BodyTooLarge:
            message = "Request body exceeds the limit of 1048576 bytes."
            return service.name, _json_error("SerializationException", message, 413, request_id)
        except BodyTimeout:
            return service.name, _json_error(
                "RequestTimeout", "Request body timed out.", 408, request_id
            )
        refused = self._authenticate(request, hashlib.sha256(body).hexdigest())
        if refused is not None:
            err = refused.json_error()
            return service.name, _json_error(err.code, err.message, err.status or 400, request_id)
        response = await self._protocol(service).handle(
            self._context(request, request_id), operation, body
        )
        response.operation = operation
        return service.name, response

    def _protocol(self, service: registry.JsonService) -> JsonProtocol:
        """The service's JSON protocol: its botocore model and its operations table."""
        found = self._protocols.get(service.name)
        if found is None:
            found = JsonProtocol(model.load(service.model_name), service.operations())
            self._protocols[service.name] = found
        return found

    def _authenticate(
        self, request: Request, body_hash: str | None, s3_path: str | None = None
    ) -> SignatureError | None:
        """Strict mode: why the request's signature is refused (None when it is not)."""
        if not self.config.strict_auth:
            return None
        try:
            sigv4.verify(
                request.method,
                request.raw_path,
                request.query_string,
                request.headers,
                self.config.credentials,
                body_hash,
                machine_time(),
                s3_path,
            )
        except SignatureError as err:
            log.info("refused %s %s: %s (%s)", request.method, request.raw_path, err.kind, err)
            return err
        if s3_path is not None:
            request.chunk_chain = sigv4_chunks.chain_for(request.headers, self.config.credentials)
        return None

    def _context(self, request: Request, request_id: str) -> Context:
        query_credential = next((v for k, v in request.query if k == "X-Amz-Credential"), "")
        caller = identify(
            request.headers.get("authorization", ""), query_credential, self.config.default_region
        )
        endpoint = f"http://{request.host}" if request.host else ""
        return Context(self.runtime, caller.account_id, caller.region, request_id, endpoint)

    async def _internal(self, request: Request, path: str) -> Response:
        if path.rstrip("/") == "/_bcm_local/health" and request.method in ("GET", "HEAD"):
            body = {
                "version": __version__,
                "services": registry.states(self.config),
                "persistent": self.runtime.persistent,
                "uptime_seconds": self.runtime.uptime,
            }
            return _json_ok(body, "Health")
        if path.rstrip("/") == "/_bcm_local/state" and request.method == "GET":
            return _json_ok(self.runtime.store.digest(), "State")
        served = registry.file_route(self.config, path)
        if served is not None and request.method in ("GET", "HEAD"):
            service, rest = served
            response = await self.runtime.run_blocking(service.file_server(), self.runtime, rest)
            response.operation = "File"
            return response
        from bcm_local import console  # the web console and its JSON (404 for unknown paths)

        return await console.handle(self.runtime, request)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                registry.start(self.runtime)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.runtime.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _json_ok(body: dict[str, Any], operation: str) -> Response:
    data = json.dumps(body).encode()
    return Response(200, [("content-type", "application/json")], data, operation=operation)


def _request(scope: Message, receive: Receive, max_body: int) -> Request:
    headers: dict[str, str] = {}
    for raw_key, raw_value in scope["headers"]:
        key, value = raw_key.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    raw_path: Any = scope.get("raw_path") or scope["path"].encode()
    return Request(
        method=scope["method"],
        raw_path=raw_path.decode("latin-1"),
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        receive=receive,
        max_body=max_body,
    )
