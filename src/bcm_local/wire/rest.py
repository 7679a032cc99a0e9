"""What a REST-XML operation (S3's) is handed and may hand back besides its output members:
the streaming payload of a blob member, and the key under which a result sets its HTTP
status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from bcm_local.wire.http import ChunkChain, Request

STATUS = "@status"  # a handler's result may set the HTTP status under this key (206, 304)


@dataclass
class StreamingPayload:
    """A streaming blob member (PutObject's Body): the request body, not yet read."""

    headers: Mapping[str, str]
    _request: Request

    def stream(self) -> AsyncIterator[bytes]:
        return self._request.stream()

    @property
    def chunk_chain(self) -> ChunkChain | None:
        """Strict auth's check of signed chunks, else None."""
        return self._request.chunk_chain
