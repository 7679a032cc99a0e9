"""The ceiling for large S3 bodies on this machine: a bare uvloop HTTP server with no S3
in it, measured by the same wrk in the same run.

    python benchmarks/ceiling.py PORT

GET answers 8 MiB from memory in 1 MiB writes with flow control (what any server must
push through loopback). PUT reads the body and computes its MD5 on worker threads (S3's
ETag of a single PUT is the body's MD5; hashlib releases the GIL), then answers 200.
No parsing, routing, storage or XML: if bcm-local is close to this, the row is bound by
the machine, not by the emulator.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

BODY = b"x" * (8 << 20)
CHUNK = 1 << 20
POOL = ThreadPoolExecutor(4)


class Bare(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport  # uvloop's transports are not asyncio.Transport
        self.buffer = bytearray()
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.writable = asyncio.Event()
        self.writable.set()
        self.task = asyncio.get_running_loop().create_task(self.serve())

    def data_received(self, data: bytes) -> None:
        self.queue.put_nowait(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.task.cancel()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    async def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += await self.queue.get()
        data, self.buffer = bytes(self.buffer[:size]), self.buffer[size:]
        return data

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while b"\r\n\r\n" not in self.buffer:
                self.buffer += await self.queue.get()
            head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
            self.buffer = bytearray(rest)
            lines = head.decode("latin-1").split("\r\n")
            length = next(
                (int(v) for k, _, v in (ln.partition(": ") for ln in lines[1:])
                 if k.lower() == "content-length"),
                0,
            )  # fmt: skip
            if lines[0].startswith("PUT"):
                md5 = hashlib.md5()
                while length > 0:
                    piece = await self.read(min(CHUNK, length))
                    length -= len(piece)
                    await loop.run_in_executor(POOL, md5.update, piece)
                etag = md5.hexdigest().encode()
                self.transport.write(
                    b'HTTP/1.1 200 OK\r\nETag: "%s"\r\nContent-Length: 0\r\n\r\n' % etag
                )
                continue
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY))
            view = memoryview(BODY)
            for start in range(0, len(BODY), CHUNK):
                await self.writable.wait()
                self.transport.write(view[start : start + CHUNK])


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Bare, "127.0.0.1", port)
    await server.serve_forever()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(int(sys.argv[1])))
