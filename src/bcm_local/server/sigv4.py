"""SigV4 verification for the optional strict mode (`BCM_LOCAL_STRICT_AUTH`).

The request is checked as received: its method, raw path, raw query string and the
headers it names in `SignedHeaders`, against the secret configured for its access key
(`BCM_LOCAL_CREDENTIALS`). Both forms are accepted: the `Authorization` header and a
presigned URL (`X-Amz-Signature` in the query). For S3 streaming uploads
(`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) this verifies the seed signature; the chunks'
signatures are checked as the body arrives (server/sigv4_chunks.py). A failure is a
`SignatureError` whose `kind` picks AWS's error for each protocol (`json_error()`,
`s3_error()`).

Canonical request (AWS "Create a canonical request for Signature Version 4"):
method, canonical URI (S3: the path as sent; other services: the normalised path
URI-encoded again), canonical query (every pair decoded, re-encoded with only
`A-Za-z0-9-_.~` left bare, sorted), the signed headers `name:trimmed value`, the signed
header list, and the payload hash (S3: `x-amz-content-sha256`, or `UNSIGNED-PAYLOAD`
for a presigned URL; JSON: the SHA-256 of the body).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote

from bcm_local.server import sigv2
from bcm_local.wire.errors import AwsError

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_SKEW = 15 * 60  # seconds AWS tolerates between the request time and its own clock
MAX_EXPIRES = 7 * 24 * 3600
_STAMP = "%Y%m%dT%H%M%SZ"

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)
_INVALID_TOKEN = "The security token included in the request is invalid."
# kind -> (code, status) of the JSON 1.1 services (AWS answers these with 400)
_JSON = {
    "missing": ("MissingAuthenticationTokenException", 400),
    "malformed": ("IncompleteSignatureException", 400),
    "unsupported": ("IncompleteSignatureException", 400),
    "unknown_key": ("UnrecognizedClientException", 400),
    "mismatch": ("InvalidSignatureException", 400),
    "skewed": ("InvalidSignatureException", 400),
    "expired": ("InvalidSignatureException", 400),
}
# kind -> (code, status) of S3
_S3 = {
    "missing": ("AccessDenied", 403),
    "malformed": ("AuthorizationHeaderMalformed", 400),
    "malformed_query": ("AuthorizationQueryParametersError", 400),
    "unsupported": ("InvalidRequest", 400),
    "unknown_key": ("InvalidAccessKeyId", 403),
    "mismatch": ("SignatureDoesNotMatch", 403),
    "skewed": ("RequestTimeTooSkewed", 403),
    "expired": ("AccessDenied", 403),
}


class SignatureError(Exception):
    """Why a request is not authentic; `details` become S3 error members."""

    def __init__(self, kind: str, message: str, **details: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details

    def json_error(self) -> AwsError:
        code, status = _JSON[self.kind.removesuffix("_query")]
        message = _INVALID_TOKEN if self.kind == "unknown_key" else self.message
        return AwsError(code, message, status=status)

    def s3_error(self) -> AwsError:
        code, status = _S3[self.kind]
        message = "Access Denied" if self.kind == "missing" else self.message
        return AwsError(code, message, status=status, **self.details)


@dataclass(frozen=True)
class Claim:
    """What a request says about its signature."""

    access_key: str
    date: str
    region: str
    service: str
    timestamp: str  # ISO 8601 basic, as signed
    signed_headers: tuple[str, ...]
    signature: str
    presigned: bool
    expires: int = 0

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def _malformed(presigned: bool, message: str) -> SignatureError:
    return SignatureError("malformed_query" if presigned else "malformed", message)


def _parse_credential(value: str, presigned: bool) -> tuple[str, str, str, str]:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise _malformed(
            presigned,
            f"Credential should be scoped to a valid region, service and date: {value!r}.",
        )
    return parts[0], parts[1], parts[2], parts[3]


def _header_claim(authorization: str, headers: Mapping[str, str]) -> Claim:
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme != ALGORITHM:
        raise SignatureError(
            "unsupported",
            "The authorization mechanism you have provided is not supported. "
            f"Please use {ALGORITHM}.",
        )
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            fields[name.strip()] = value.strip()
    missing = [f for f in ("Credential", "SignedHeaders", "Signature") if not fields.get(f)]
    if missing:
        raise _malformed(False, f"Authorization header requires {', '.join(missing)}.")
    key, date, region, service = _parse_credential(fields["Credential"], False)
    return Claim(
        key, date, region, service, _header_time(headers),
        tuple(fields["SignedHeaders"].split(";")), fields["Signature"], False,
    )  # fmt: skip


def _header_time(headers: Mapping[str, str]) -> str:
    stamp = headers.get("x-amz-date")
    if stamp:
        return stamp.strip()
    date = headers.get("date")
    if not date:
        raise _malformed(False, "Authorization requires an X-Amz-Date or Date header.")
    try:
        return parsedate_to_datetime(date).astimezone(UTC).strftime(_STAMP)
    except (TypeError, ValueError):
        raise _malformed(False, f"Invalid Date header: {date!r}.") from None


def _query_claim(query: Mapping[str, str]) -> Claim:
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        raise SignatureError("malformed_query", f"X-Amz-Algorithm only supports {ALGORITHM!r}.")
    needed = ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
    missing = [n for n in needed if not query.get(n)]
    if missing:
        raise SignatureError("malformed_query", f"Query-string authentication requires {missing}.")
    expires = query.get("X-Amz-Expires", "")
    if not expires.isdigit() or not 0 < int(expires) <= MAX_EXPIRES:
        raise SignatureError(
            "malformed_query",
            "X-Amz-Expires must be a number of seconds between 1 and 604800.",
        )
    key, date, region, service = _parse_credential(query["X-Amz-Credential"], True)
    return Claim(
        key, date, region, service, query["X-Amz-Date"],
        tuple(query["X-Amz-SignedHeaders"].split(";")), query["X-Amz-Signature"], True,
        int(expires),
    )  # fmt: skip


def claim_of(headers: Mapping[str, str], query: Mapping[str, str]) -> Claim:
    """The signature a request claims; SignatureError when it has none or it is malformed."""
    authorization = headers.get("authorization")
    if authorization:
        return _header_claim(authorization, headers)
    if "X-Amz-Signature" in query or "X-Amz-Credential" in query or "X-Amz-Algorithm" in query:
        return _query_claim(query)
    raise SignatureError("missing", "Request is missing Authentication Token")


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(query_string: str, presigned: bool) -> str:
    pairs = []
    for item in query_string.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        name, value = unquote(name, errors="replace"), unquote(value, errors="replace")
        if presigned and name == "X-Amz-Signature":
            continue
        pairs.append((_encode(name), _encode(value)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _remove_dot_segments(path: str) -> str:
    """The path as botocore signs it: empty and `.` segments dropped, `..` pops one, a
    trailing slash kept only after a segment (`/a/.` -> `/a`, `//` -> `/`)."""
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment and segment != ".":
            out.append(segment)
    trailing = "/" if path.endswith("/") and out else ""
    return "/" + "/".join(out) + trailing


def canonical_uri(raw_path: str, service: str) -> str:
    if service == "s3":
        return raw_path or "/"
    return quote(_remove_dot_segments(raw_path or "/"), safe="/~")


def canonical_request(
    method: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    claim: Claim,
    payload_hash: str,
) -> str:
    lines = []
    for name in claim.signed_headers:
        value = headers.get(name)
        if value is None:
            raise SignatureError("mismatch", MISMATCH)
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "\n".join(
        [
            method.upper(),
            canonical_uri(raw_path, claim.service),
            canonical_query(query_string, claim.presigned),
            "".join(lines),
            ";".join(claim.signed_headers),
            payload_hash,
        ]
    )


def string_to_sign(claim: Claim, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{claim.timestamp}\n{claim.scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def _check_time(claim: Claim, now: float) -> None:
    try:
        moment = datetime.strptime(claim.timestamp, _STAMP).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise _malformed(claim.presigned, f"Invalid X-Amz-Date {claim.timestamp!r}.") from None
    if claim.timestamp[:8] != claim.date:
        raise _malformed(
            claim.presigned, "Invalid credential date. Date is not the same as X-Amz-Date."
        )
    server_time = datetime.fromtimestamp(now, UTC).strftime(_STAMP)
    if claim.presigned:
        if now > moment + claim.expires:
            raise SignatureError(
                "expired", "Request has expired", Expires=str(claim.expires), ServerTime=server_time
            )
        return
    if abs(now - moment) > MAX_SKEW:
        raise SignatureError(
            "skewed",
            f"Signature expired: {claim.timestamp} is now earlier than the allowed window "
            f"around {server_time} (15 min.)",
            RequestTime=claim.timestamp,
            ServerTime=server_time,
            MaxAllowedSkewMilliseconds=str(MAX_SKEW * 1000),
        )


def _payload_hash(claim: Claim, headers: Mapping[str, str], body_hash: str | None) -> str:
    declared = headers.get("x-amz-content-sha256")
    if body_hash is not None:  # the body was read: the signature covers it
        if declared and declared != body_hash:
            raise SignatureError("mismatch", MISMATCH)
        return body_hash
    if declared:
        return declared
    if claim.presigned:
        return UNSIGNED_PAYLOAD
    raise SignatureError(
        "malformed", "Missing required header for this request: x-amz-content-sha256"
    )


def verify(
    method: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    secrets: Mapping[str, str],
    body_hash: str | None,
    now: float,
    s3_path: str | None = None,
) -> str:
    """Check the request's signature; its access key when authentic, else SignatureError.

    `body_hash` is the SHA-256 hex of a body already read (JSON services), None when the
    body is still to come (S3, which checks `x-amz-content-sha256` against it later).
    `s3_path` is the path-style path of an S3 request (SigV2 signs it), None otherwise.
    """
    query: dict[str, Any] = {}
    for item in query_string.split("&"):
        name, _, value = item.partition("=")
        query.setdefault(unquote(name, errors="replace"), unquote(value, errors="replace"))
    if sigv2.is_v2(headers.get("authorization", ""), query):
        if s3_path is None:
            raise SignatureError("unsupported", f"Only {ALGORITHM} is supported.")
        return _verify_v2(method, s3_path, query_string, headers, query, secrets, now)
    claim = claim_of(headers, query)
    if "host" not in claim.signed_headers:
        raise _malformed(
            claim.presigned, "'Host' must be a 'SignedHeader' in the AWS Authorization."
        )
    secret = _secret(secrets, claim.access_key)
    _check_time(claim, now)
    canonical = canonical_request(
        method, raw_path, query_string, headers, claim, _payload_hash(claim, headers, body_hash)
    )
    to_sign = string_to_sign(claim, canonical)
    key = signing_key(secret, claim.date, claim.region, claim.service)
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    _compare(
        expected, claim.signature.lower(), claim.access_key, to_sign, CanonicalRequest=canonical
    )
    return claim.access_key


def _secret(secrets: Mapping[str, str], access_key: str) -> str:
    secret = secrets.get(access_key)
    if secret is None:
        raise SignatureError(
            "unknown_key",
            "The AWS Access Key Id you provided does not exist in our records.",
            AWSAccessKeyId=access_key,
        )
    return secret


def _compare(expected: str, provided: str, access_key: str, to_sign: str, **details: str) -> None:
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "surrogatepass")):
        raise SignatureError(
            "mismatch",
            MISMATCH,
            AWSAccessKeyId=access_key,
            StringToSign=to_sign,
            SignatureProvided=provided,
            **details,
        )


def _verify_v2(
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    secrets: Mapping[str, str],
    now: float,
) -> str:
    authorization = headers.get("authorization", "")
    if authorization:
        access_key, sep, provided = authorization[4:].rpartition(":")
        if not sep or not access_key or not provided:
            raise _malformed(False, "The authorization header is malformed.")
        moment = sigv2.request_time(headers)
        if moment is None:
            raise _malformed(False, "AWS authentication requires a valid Date or x-amz-date header")
        date = "" if "x-amz-date" in headers else headers.get("date", "").strip()
        if abs(now - moment) > MAX_SKEW:
            raise SignatureError(
                "skewed",
                "The difference between the request time and the current time is too large.",
                MaxAllowedSkewMilliseconds=str(MAX_SKEW * 1000),
            )
    else:
        access_key, provided, date = query["AWSAccessKeyId"], query.get("Signature", ""), ""
        date = query.get("Expires", "")
        if not date.isdigit() or not provided:
            raise _malformed(True, "Query-string authentication requires the Signature, Expires "
                             "and AWSAccessKeyId parameters")  # fmt: skip
        if now > int(date):
            raise SignatureError("expired", "Request has expired", Expires=date)
    secret = _secret(secrets, access_key)
    to_sign = sigv2.string_to_sign(method, path, query_string, headers, date)
    _compare(sigv2.signature(secret, to_sign), provided, access_key, to_sign)
    return access_key
