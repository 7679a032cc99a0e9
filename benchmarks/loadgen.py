"""A small closed-loop HTTP/1.1 load generator over asyncio streams.

Each of `clients` connections sends prebuilt, SigV4-signed requests back to back over
keep-alive and records each request's latency. Requests are signed once with botocore
(real headers, real Authorization) and replayed; the emulator's default mode does not
re-verify signatures, and moto does not either, so both servers see identical bytes.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREDS = Credentials("test", "test")


def signed(
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    service: str = "s3",
    region: str = "us-east-1",
) -> bytes:
    """Raw bytes of one signed HTTP/1.1 request."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if service == "s3":
        request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        S3SigV4Auth(CREDS, service, region).add_auth(request)
    else:
        SigV4Auth(CREDS, service, region).add_auth(request)
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target or '/'} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() != "host"]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_call(endpoint: str, target: str, body: bytes, service: str) -> bytes:
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    return signed("POST", endpoint + "/", body, headers, service=service)


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    bytes_received: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes_received / self.seconds / 1e6 if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")


async def _read_response(reader: asyncio.StreamReader, head_only: bool) -> tuple[int, int, bool]:
    """(status, body length, whether the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, keep = 0, True
    for line in head.split(b"\r\n"):
        lowered = line.lower()
        if lowered.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        elif lowered.startswith(b"connection:") and b"close" in lowered:
            keep = False
    if length and not head_only:
        await reader.readexactly(length)
    return status, length, keep


async def _client(
    host: str,
    port: int,
    make: Callable[[int], bytes],
    deadline: float,
    counter: list[int],
    result: Result,
    head_only: bool,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            index = counter[0]
            counter[0] += 1
            payload = make(index)
            started = time.perf_counter()
            writer.write(payload)
            status, length, keep = await _read_response(reader, head_only)
            if not keep:  # e.g. moto's werkzeug answers every request with Connection: close
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            result.latencies.append(time.perf_counter() - started)
            result.requests += 1
            result.bytes_received += length
            result.errors += status >= 400
    finally:
        writer.close()


async def _run(
    endpoint: str, make: Callable[[int], bytes], clients: int, seconds: float, head_only: bool
) -> Result:
    parts = urlsplit(endpoint)
    result = Result(0, 0, 0.0, [], 0)
    counter = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _client(
                parts.hostname or "127.0.0.1",
                parts.port or 80,
                make,
                deadline,
                counter,
                result,
                head_only,
            )
            for _ in range(clients)
        )
    )
    result.seconds = time.perf_counter() - started
    return result


def run(
    endpoint: str,
    requests: Sequence[bytes] | Callable[[int], bytes],
    clients: int,
    seconds: float = 3.0,
    head_only: bool = False,
) -> Result:
    """Drive `clients` connections for `seconds`; `requests` is cycled or built per index."""
    if callable(requests):
        make = requests
    else:
        pool = list(requests)
        make = lambda i: pool[i % len(pool)]  # noqa: E731
    return asyncio.run(_run(endpoint, make, clients, seconds, head_only))


def once(endpoint: str, raw: bytes) -> tuple[int, float]:
    """Send one request on a fresh connection; (status, seconds)."""

    async def go() -> tuple[int, float]:
        parts = urlsplit(endpoint)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        started = time.perf_counter()
        writer.write(raw)
        status, _, _ = await _read_response(reader, False)
        elapsed = time.perf_counter() - started
        writer.close()
        return status, elapsed

    return asyncio.run(go())


def run_clients(
    endpoint: str,
    makers: Sequence[Callable[[int], bytes]],
    counters: Sequence[list[int]],
    seconds: float,
) -> Result:
    """One connection per maker, each with its own request sequence and index (`counters`,
    kept by the caller across calls), so a client's calls can build on each other."""

    async def go() -> Result:
        parts = urlsplit(endpoint)
        result = Result(0, 0, 0.0, [], 0)
        started = time.perf_counter()
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        await asyncio.gather(
            *(
                _client(host, port, make, started + seconds, counter, result, False)
                for make, counter in zip(makers, counters, strict=True)
            )
        )
        result.seconds = time.perf_counter() - started
        return result

    return asyncio.run(go())
