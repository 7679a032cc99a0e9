"""`aws-chunked` request bodies (SigV4 streaming): `<hex-size>[;chunk-signature=…]\r\n`,
the bytes, `\r\n`, … then a zero-size chunk followed by trailer lines and a blank line.
Sizes, framing and trailers are always checked; the chunks' signatures when strict auth
hands the decoder the request's `ChunkChain`."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from bcm_local.wire.errors import AwsError
from bcm_local.wire.http import EMPTY_SHA256, ChunkChain

_MAX_LINE = 8192


def incomplete() -> AwsError:
    return AwsError("IncompleteBody", "The request body terminated unexpectedly")


class ChunkedDecoder:
    def __init__(self, chain: ChunkChain | None = None) -> None:
        self.buffer = bytearray()
        self.remaining = 0  # bytes left in the current chunk
        self.state = "size"  # size | data | crlf | trailer | done
        self.trailers: dict[str, str] = {}
        self.chain = chain
        self.signature: str | None = None  # the current chunk's, then the trailers'
        self.digest = hashlib.sha256()
        self.signed_trailers = bytearray()  # `name:value\n` lines, as signed

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        out: list[bytes] = []
        while self.buffer and self.state != "done":
            if self.state == "data":
                take = min(self.remaining, len(self.buffer))
                out.append(bytes(self.buffer[:take]))
                del self.buffer[:take]
                self.remaining -= take
                if self.chain is not None:
                    self.digest.update(out[-1])
                if self.remaining == 0:
                    self.state = "crlf"
                    if self.chain is not None:
                        self.chain.chunk(self.signature, self.digest.hexdigest())
                continue
            if self.state == "crlf":
                if len(self.buffer) < 2:
                    break
                if self.buffer[:2] != b"\r\n":
                    raise incomplete()
                del self.buffer[:2]
                self.state = "size"
                continue
            line = self._line()
            if line is None:
                break
            self._on_line(line)
        return out

    def _line(self) -> bytes | None:
        end = self.buffer.find(b"\r\n")
        if end < 0:
            if len(self.buffer) > _MAX_LINE:
                raise incomplete()
            return None
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    def _on_line(self, line: bytes) -> None:
        if self.state == "size":
            size_text, _, extension = line.partition(b";")
            try:
                size = int(size_text.strip(), 16)
            except ValueError:
                raise incomplete() from None
            if size < 0:
                raise incomplete()
            self.remaining = size
            self.state = "data" if size else "trailer"
            if self.chain is not None:
                self._signed(self.chain, extension, size)
        elif not line:
            self.state = "done"
        else:
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise incomplete()
            name, value = name.strip().lower(), value.strip()
            self.trailers[name] = value
            if name == "x-amz-trailer-signature":
                self.signature = value
            else:
                self.signed_trailers += f"{name}:{value}\n".encode("latin-1")

    def _signed(self, chain: ChunkChain, extension: bytes, size: int) -> None:
        name, _, value = extension.decode("latin-1").partition("=")
        self.signature = value.strip() if name.strip() == "chunk-signature" else None
        self.digest = hashlib.sha256()
        if size == 0:  # the final chunk is signed too
            chain.chunk(self.signature, EMPTY_SHA256)
            self.signature = None

    def finish(self) -> None:
        # a body may end right after the zero chunk's trailers without the final blank line
        if self.state == "trailer" and not self.buffer:
            self.state = "done"
        if self.state != "done":
            raise incomplete()
        if self.chain is not None and self.chain.trailer:
            self.chain.trailers(self.signature, bytes(self.signed_trailers))


async def decode(source: AsyncIterator[bytes], decoder: ChunkedDecoder) -> AsyncIterator[bytes]:
    async for data in source:
        for piece in decoder.feed(data):
            yield piece
    decoder.finish()
