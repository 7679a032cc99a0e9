"""Minimal request/response types over ASGI; protocol layers and S3 see only these."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qsl

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class ChunkChain(Protocol):
    """Strict auth's check of a signed aws-chunked body, chunk by chunk (the server's
    server/sigv4_chunks.py makes one; S3's chunk decoder feeds it)."""

    trailer: bool  # the trailing headers are signed too

    def chunk(self, signature: str | None, digest: str) -> None: ...

    def trailers(self, signature: str | None, canonical: bytes) -> None: ...


Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY_IDLE_TIMEOUT = 30.0  # seconds a client may pause mid-body before the request fails


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass


@dataclass
class Request:
    method: str
    raw_path: str
    query_string: str
    headers: dict[str, str]
    receive: Receive
    max_body: int
    chunk_chain: ChunkChain | None = None  # strict auth, signed aws-chunked body
    _body: bytes | None = None
    _consumed: bool = False

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)

    async def stream(self) -> AsyncIterator[bytes]:
        """The body in chunks as they arrive; raises BodyTooLarge / BodyTimeout."""
        if self._body is not None:
            yield self._body
            return
        if self._consumed:
            return
        self._consumed = True
        declared = self.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            raise BodyTooLarge()
        seen = 0
        while True:
            try:
                async with asyncio.timeout(BODY_IDLE_TIMEOUT):  # no task per chunk
                    message = await self.receive()
            except TimeoutError:
                raise BodyTimeout() from None
            if message["type"] == "http.disconnect":
                raise BodyTimeout()
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_body:
                raise BodyTooLarge()
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def body(self) -> bytes:
        if self._body is None:
            self._body = b"".join([chunk async for chunk in self.stream()])
        return self._body


@dataclass
class FileBody:
    path: Path
    offset: int
    length: int
    handle: BinaryIO | None = None  # opened early: its bytes stay readable if `path` is replaced


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    file: FileBody | None = None
    operation: str = ""  # for the access log

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


def header_bytes(value: str) -> bytes:
    """A header value on the wire: as is when Latin-1 can carry it, else RFC 2047
    (`=?UTF-8?B?...?=`), as S3 answers non-ASCII metadata."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        encoded = base64.b64encode(value.encode("utf-8", "surrogatepass")).decode()
        return f"=?UTF-8?B?{encoded}?=".encode()


async def send_response(send: Send, response: Response, head_only: bool = False) -> None:
    length = response.file.length if response.file else len(response.body)
    headers = [(k.lower().encode("latin-1"), header_bytes(v)) for k, v in response.headers]
    if not any(k == b"content-length" for k, _ in headers):
        headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if head_only:
        if response.file is not None and response.file.handle is not None:
            response.file.handle.close()
        await send({"type": "http.response.body", "body": b""})
        return
    if response.file is None:
        await send({"type": "http.response.body", "body": response.body})
        return
    await _send_file(send, response.file)


async def _send_file(send: Send, body: FileBody, chunk: int = 1 << 20) -> None:
    remaining = body.length
    with body.handle or body.path.open("rb") as fh:
        fh.seek(body.offset)
        while remaining > 0:
            data = fh.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            await send({"type": "http.response.body", "body": data, "more_body": remaining > 0})
    if remaining > 0 or body.length == 0:  # a short file, or an empty one: end the response
        await send({"type": "http.response.body", "body": b""})
