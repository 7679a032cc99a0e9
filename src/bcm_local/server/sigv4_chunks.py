"""Signed `aws-chunked` uploads, checked in strict mode (AWS "Transferring payload in
multiple chunks", "Including trailing headers").

With `x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD` every chunk carries a
signature chained from the previous one, the first from the request's own (seed)
signature; the final zero-size chunk is signed too. The `-TRAILER` variant adds
`x-amz-trailer-signature`, over the trailing headers as `name:value\\n` lines in order.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from bcm_local.server.sigv4 import MISMATCH, SignatureError, claim_of, signing_key
from bcm_local.wire.errors import AwsError
from bcm_local.wire.http import EMPTY_SHA256

SIGNED_STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_STREAMING_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"


@dataclass
class ChunkChain:
    key: bytes
    timestamp: str
    scope: str
    previous: str  # the last verified signature (at first: the request's)
    trailer: bool  # the trailing headers are signed too

    def chunk(self, signature: str | None, digest: str) -> None:
        """A chunk whose data has SHA-256 hex `digest`; AwsError when its signature is wrong."""
        head = f"AWS4-HMAC-SHA256-PAYLOAD\n{self.timestamp}\n{self.scope}\n{self.previous}"
        self._advance(signature, f"{head}\n{EMPTY_SHA256}\n{digest}")

    def trailers(self, signature: str | None, canonical: bytes) -> None:
        digest = hashlib.sha256(canonical).hexdigest()
        head = f"AWS4-HMAC-SHA256-TRAILER\n{self.timestamp}\n{self.scope}\n{self.previous}"
        self._advance(signature, f"{head}\n{digest}")

    def _advance(self, signature: str | None, to_sign: str) -> None:
        expected = hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()
        provided = (signature or "").lower()
        if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
            raise mismatch(to_sign, provided)
        self.previous = expected


def mismatch(to_sign: str, provided: str) -> AwsError:
    err = SignatureError("mismatch", MISMATCH, StringToSign=to_sign, SignatureProvided=provided)
    return err.s3_error()


def chain_for(headers: Mapping[str, str], secrets: Mapping[str, str]) -> ChunkChain | None:
    """The chain of a request whose seed signature was verified; None unless it streams
    signed chunks (the header form: a presigned URL cannot)."""
    mode = headers.get("x-amz-content-sha256", "")
    if mode not in (SIGNED_STREAMING, SIGNED_STREAMING_TRAILER) or "authorization" not in headers:
        return None
    claim = claim_of(headers, {})
    key = signing_key(secrets[claim.access_key], claim.date, claim.region, claim.service)
    trailer = mode == SIGNED_STREAMING_TRAILER
    return ChunkChain(key, claim.timestamp, claim.scope, claim.signature.lower(), trailer)
