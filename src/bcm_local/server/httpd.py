"""A small HTTP/1.1 server for the ASGI app, on uvloop + httptools.

Why not uvicorn: importing it (click, its supervisors, ssl, logging.config) costs about
80 ms of a ~200 ms cold start, which alone breaks the start-up goal; the benchmark
(`benchmarks/run.py`) measures both, and `BCM_LOCAL_HTTP_SERVER=uvicorn` switches back.
What it does: keep-alive, pipelined requests answered in order, `Expect: 100-continue`,
chunked request bodies (httptools de-chunks), back-pressure on large request bodies,
graceful shutdown on SIGINT/SIGTERM (finishes in-flight requests, then the lifespan).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import deque
from email.utils import formatdate
from functools import lru_cache
from typing import Any, cast

import httptools

from bcm_local.clock import machine_time
from bcm_local.wire.http import Message

log = logging.getLogger("bcm_local")
App = Any
HIGH_WATER = 1 << 20  # buffered request-body bytes before reading from the socket pauses
IDLE_TIMEOUT = 75.0
DISCARD_LIMIT = 64 << 20  # unread body bytes drained after an early answer before closing
DRAIN_TIMEOUT = 10.0


class _Cycle:
    """One request: its scope, its body as it arrives, and its response state."""

    def __init__(self, proto: _Connection, scope: Message, expect_continue: bool) -> None:
        self.proto = proto
        self.scope = scope
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.complete = False
        self.arrived = asyncio.Event()
        self.expect_continue = expect_continue
        self.started = False
        self.finished = False
        self.keep_alive = True
        self.head = b""  # response head, written together with the first body part
        self.discarded = 0  # body bytes dropped after the response (see _Connection._serve)

    async def receive(self) -> Message:
        if self.expect_continue and not self.complete and not self.chunks:
            self.expect_continue = False
            self.proto.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        while not self.chunks and not self.complete and not self.proto.closed:
            self.arrived.clear()
            await self.arrived.wait()
        if self.chunks:
            body = b"".join(self.chunks)
            self.chunks.clear()
            self.buffered = 0
            self.proto.resume()
            return {"type": "http.request", "body": body, "more_body": not self.complete}
        if self.proto.closed and not self.complete:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: Message) -> None:
        if self.finished:
            return
        if message["type"] == "http.response.start":
            self._start(message)
        elif message["type"] == "http.response.body":
            body = self.head + message.get("body", b"")  # one write for head and body
            self.head = b""
            if body:
                self.proto.write(body)
            if not message.get("more_body", False):
                self.finished = True
            await self.proto.drain()

    def _start(self, message: Message) -> None:
        self.started = True
        status = message["status"]
        lines = [f"HTTP/1.1 {status} {_reason(status)}".encode()]
        lines.append(b"date: " + _date())
        closing = False
        for name, value in message.get("headers", []):
            if name.lower() == b"connection" and value.lower() == b"close":
                self.keep_alive, closing = False, True
            lines.append(name + b": " + value)
        if not self.keep_alive and not closing:
            lines.append(b"connection: close")
        self.head = b"\r\n".join(lines) + b"\r\n\r\n"


def _date() -> bytes:
    return _date_of(int(machine_time()))


@lru_cache(maxsize=2)
def _date_of(second: int) -> bytes:
    return formatdate(second, usegmt=True).encode()


@lru_cache(maxsize=64)
def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Connection(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.paused = False
        self.pending: deque[_Cycle] = deque()
        self.current: _Cycle | None = None  # the request being parsed
        self.task: asyncio.Task[None] | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.idle: asyncio.TimerHandle | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.server.connections.add(self)
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        self.writable.set()
        for cycle in [self.current, *self.pending]:
            if cycle is not None:
                cycle.arrived.set()

    def data_received(self, data: bytes) -> None:
        self._cancel_idle()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(b"501 Not Implemented")
        except httptools.HttpParserError:
            self._fail(b"400 Bad Request")

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        parsed = httptools.parse_url(self.url)
        path = parsed.path.decode("latin-1")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": self.parser.get_http_version(),
            "method": self.parser.get_method().decode("ascii"),
            "scheme": "http",
            "path": path,
            "raw_path": parsed.path,
            "query_string": parsed.query or b"",
            "headers": self.headers,
            "server": self.server.address,
            "client": self.transport.get_extra_info("peername") if self.transport else None,
        }
        expect = any(k == b"expect" and v.lower() == b"100-continue" for k, v in self.headers)
        cycle = _Cycle(self, scope, expect)
        cycle.keep_alive = self.parser.should_keep_alive()
        self.current = cycle
        self.pending.append(cycle)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._serve())

    def on_body(self, body: bytes) -> None:
        cycle = self.current
        if cycle is None:
            return
        if cycle.finished:  # answered already (e.g. an error): drain the rest of the body
            cycle.discarded += len(body)
            if cycle.discarded > DISCARD_LIMIT:
                self.close()
            return
        cycle.chunks.append(body)
        cycle.buffered += len(body)
        cycle.arrived.set()
        if cycle.buffered > HIGH_WATER and self.transport and not self.paused:
            self.paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        if self.current is not None:
            self.current.complete = True
            self.current.arrived.set()
            self.current = None

    # serving
    async def _serve(self) -> None:
        while self.pending and not self.closed:
            cycle = self.pending[0]
            await self._run(cycle)
            if not cycle.complete and cycle.expect_continue:
                cycle.keep_alive = False  # answered before "100 Continue": no body will come
            elif not cycle.complete:
                await self._drain_body(cycle)
            self.pending.popleft()
            if not cycle.keep_alive or not cycle.complete:
                self.close()
                break
        self.task = None
        if not self.closed:
            self._arm_idle()
            if self.server.stopping:
                self.close()

    async def _drain_body(self, cycle: _Cycle) -> None:
        """Read and drop a body the app did not consume, so the client sees the answer."""
        cycle.chunks.clear()
        self.resume()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_TIMEOUT):
                while not cycle.complete and not self.closed:
                    cycle.arrived.clear()
                    await cycle.arrived.wait()

    async def _run(self, cycle: _Cycle) -> None:
        try:
            await self.server.app(cycle.scope, cycle.receive, cycle.send)
        except Exception:
            log.exception("unhandled error serving %s", cycle.scope["path"])
            if not cycle.started:
                await cycle.send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-length", b"0"), (b"connection", b"close")],
                    }
                )
                await cycle.send({"type": "http.response.body", "body": b""})
            cycle.keep_alive = False
        if not cycle.finished:
            cycle.keep_alive = False

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    async def drain(self) -> None:
        if not self.writable.is_set():
            await self.writable.wait()

    def resume(self) -> None:
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()

    def _fail(self, status: bytes) -> None:
        self.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        self.close()

    def _arm_idle(self) -> None:
        self._cancel_idle()
        self.idle = asyncio.get_running_loop().call_later(IDLE_TIMEOUT, self.close)

    def _cancel_idle(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
            self.idle = None


class Server:
    def __init__(self, app: App, host: str, port: int) -> None:
        self.app = app
        self.address = (host, port)
        self.connections: set[_Connection] = set()
        self.stopping = False

    async def _lifespan(self) -> asyncio.Queue[Message]:
        """Start the app's lifespan; returns the queue to send `lifespan.shutdown` on."""
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._lifespan_done = asyncio.Event()

        async def send(message: Message) -> None:
            self._lifespan_done.set()

        self._lifespan_task = asyncio.create_task(self.app({"type": "lifespan"}, inbox.get, send))
        await inbox.put({"type": "lifespan.startup"})
        await self._lifespan_done.wait()
        return inbox

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        lifespan = await self._lifespan()
        server = await loop.create_server(
            lambda: _Connection(self),
            self.address[0],
            self.address[1],
            backlog=2048,
            reuse_address=True,
        )
        await stop.wait()
        self.stopping = True
        server.close()
        for conn in list(self.connections):
            if conn.task is None:
                conn.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drained(), timeout=10)
        for conn in list(self.connections):
            conn.close()
        await lifespan.put({"type": "lifespan.shutdown"})
        await self._lifespan_task

    async def _drained(self) -> None:
        while any(c.task is not None for c in self.connections):
            await asyncio.sleep(0.02)


def run(app: App, host: str, port: int) -> None:
    import uvloop

    uvloop.run(Server(app, host, port).serve())
