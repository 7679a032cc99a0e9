"""`aws-chunked` request bodies (SigV4 streaming): `<hex-size>[;chunk-signature=…]\r\n`,
the bytes, `\r\n`, … then a zero-size chunk followed by trailer lines and a blank line.
Signatures are not verified (no secrets here); sizes, framing and trailers are."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bcm_local.server.errors import AwsError

_MAX_LINE = 8192


def incomplete() -> AwsError:
    return AwsError("IncompleteBody", "The request body terminated unexpectedly")


class ChunkedDecoder:
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.remaining = 0  # bytes left in the current chunk
        self.state = "size"  # size | data | crlf | trailer | done
        self.trailers: dict[str, str] = {}

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        out: list[bytes] = []
        while self.buffer and self.state != "done":
            if self.state == "data":
                take = min(self.remaining, len(self.buffer))
                out.append(bytes(self.buffer[:take]))
                del self.buffer[:take]
                self.remaining -= take
                if self.remaining == 0:
                    self.state = "crlf"
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
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise incomplete() from None
            if size < 0:
                raise incomplete()
            self.remaining = size
            self.state = "data" if size else "trailer"
        elif not line:
            self.state = "done"
        else:
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise incomplete()
            self.trailers[name.strip().lower()] = value.strip()

    def finish(self) -> None:
        # a body may end right after the zero chunk's trailers without the final blank line
        if self.state == "trailer" and not self.buffer:
            self.state = "done"
        if self.state != "done":
            raise incomplete()


async def decode(source: AsyncIterator[bytes], decoder: ChunkedDecoder) -> AsyncIterator[bytes]:
    async for data in source:
        for piece in decoder.feed(data):
            yield piece
    decoder.finish()
