"""Property tests: random and malformed requests to every S3 operation.

Like test_fuzz_json.py for the JSON services: requests are built from the botocore model
(each operation's method, URI template, query and header members, XML payload) and then
damaged, or are plain garbage (methods, paths, query strings, headers, bodies, broken or
hostile XML, bad SigV4). Every answer is a well-formed S3 error document (or a success)
with status < 500 (501 NotImplemented, S3's answer to an operation it does not support,
excepted), the server stays up, and a rejected request leaves the state unchanged.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bcm_local.server.s3_protocol import OPERATIONS
from bcm_local.testing import ServerProcess
from bcm_local.wire import model
from tests.conftest import make_client
from tests.shape_strategies import strategy
from tests.test_fuzz_json import Conn, _send_slowly

S3 = model.load("s3")
OWN, OTHER, MISSING = "fuzz-own-bucket", "fuzz-other-bucket", "fuzz-missing-bucket"
KEYS = ["k1", "dir/k2", "mpu"]
AUTH = (
    "AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
FUZZ = settings(
    max_examples=int(os.environ.get("BCM_LOCAL_FUZZ_EXAMPLES", "20")),  # per operation
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FRAMING = {"content-length", "transfer-encoding", "expect"}  # HTTP's own: a bare 400 if bad
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd]")
_FIELD = re.compile(r"[\x20-\x7e\x80-\xff\t]*")  # what HTTP/1.1 lets a header value carry


class Fixture:
    """The server, the resources the fuzzed requests aim at, and how to restore them."""

    def __init__(self, proc: ServerProcess) -> None:
        self.proc = proc
        self.conn = Conn(proc.port)
        self.s3 = make_client(proc.endpoint, "s3")
        self.upload_id = ""
        self.statuses: Counter[int] = Counter()  # of the fuzzed requests sent
        make_client(proc.endpoint, "s3", "111111111111").create_bucket(Bucket=OTHER)
        self.restore()

    def restore(self) -> None:
        """Put back what a successful fuzzed request (a delete, a completion) removed."""
        if OWN not in [b["Name"] for b in self.s3.list_buckets()["Buckets"]]:
            self.s3.create_bucket(Bucket=OWN)
        for key in KEYS[:2]:
            self.s3.put_object(Bucket=OWN, Key=key, Body=key.encode() * 10)
        self.upload_id = self.s3.create_multipart_upload(Bucket=OWN, Key="mpu")["UploadId"]


@pytest.fixture(scope="module")
def fx() -> Iterator[Fixture]:
    env = {
        "FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE": "off",
        "FLOCI_SERVICES_CUR_EMIT_MODE": "off",
        "BCM_LOCAL_MAX_BODY_MB": "4",
    }
    with ServerProcess(env=env) as proc:
        f = Fixture(proc)
        yield f
        print(f"fuzzed S3 requests: {sum(f.statuses.values())} by status {dict(f.statuses)}")


def sendable(headers: dict[str, str]) -> bool:
    return all(_FIELD.fullmatch(v) for v in headers.values())


def check_s3_answer(method: str, status: int, headers: Any, body: bytes) -> None:
    assert status < 500 or status == 501, body
    assert headers["x-amz-request-id"]
    if status < 400:
        return
    if method == "HEAD":
        assert body == b""
        return
    assert headers["content-type"] == "application/xml", body
    root = ElementTree.fromstring(body)
    assert root.tag == "Error" and root.findtext("Code") and root.findtext("RequestId"), body
    assert root.findtext("Message") is not None
    if status == 501:
        assert root.findtext("Code") == "NotImplemented"
    assert b"root:x:0:0" not in body  # no external entity was ever resolved


def exchange(
    fx: Fixture, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, Any, bytes]:
    """One fuzzed request, its answer checked; state unchanged when it was refused."""
    before = fx.conn.digest()
    status, resp_headers, resp_body = fx.conn.request(method, path, body, headers)
    fx.statuses[status] += 1
    check_s3_answer(method, status, resp_headers, resp_body)
    if status >= 400:
        assert fx.conn.digest() == before, f"refused request changed state: {resp_body[:300]!r}"
    elif method in ("DELETE", "POST"):
        fx.restore()
    return status, resp_headers, resp_body


# -- strategies --------------------------------------------------------------------------

JUNK_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "-1", "0", "99999999999999999999", "1e400", "nan", "true", "*", "%"]),
    st.sampled_from(['"etag"', "bytes=0-", "bytes=-5", "bytes=5-1", "bytes=a-b", "STANDARD"]),
    st.sampled_from(["Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]),
    st.sampled_from(["0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59+14:00", "2026-13-45"]),
    st.sampled_from([f"{OWN}/k1", f"/{OTHER}/k1", f"{MISSING}/x", "/", "%FF%FE", "a?versionId=1"]),
    st.sampled_from(["aws-chunked", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "UNSIGNED-PAYLOAD"]),
    st.sampled_from(["CRC32", "crc64nvme", "SHA1", "MD5", "AAAAAA==", "1B2M2Y8AsgTpgAmY7PhCfg=="]),
    st.just("x" * 9000),
)
BUCKETS = st.one_of(
    st.just(OWN),
    st.just(OWN),
    st.just(OWN),
    st.sampled_from([OTHER, MISSING]),
    st.sampled_from(["", "UPPER", "a", "..", "%2e%2e", "%00", "%FF", "b" * 70, "192.168.1.1"]),
    st.text(max_size=12).map(lambda t: quote(t, safe="")),
)
KEY_PATHS = st.one_of(
    st.sampled_from(KEYS),
    st.sampled_from(KEYS),
    st.sampled_from(["..%2F..%2Fescape", "%00", "%C0%AF", "%", "%zz", "k" * 1100, "a//b", "."]),
    st.text(max_size=40).map(lambda t: quote(t, safe="/")),
)


def _scalar(name: str) -> st.SearchStrategy[str]:
    shape = S3.shape(name)
    if shape["type"] in ("structure", "list", "map", "blob"):
        return JUNK_TEXT
    return st.one_of(strategy(S3, name).map(str), JUNK_TEXT)


def _located(op: Any, location: str) -> dict[str, tuple[str, st.SearchStrategy[str]]]:
    shape = S3.shape(op.input) if op.input else {}
    return {
        name: (spec["locationName"], _scalar(spec["shape"]))
        for name, spec in shape.get("members", {}).items()
        if spec.get("location") == location and spec["locationName"].lower() not in FRAMING
    }


def to_xml(shape_name: str, value: Any, tag: str) -> str:
    """A value as REST-XML writes it (whatever its type: junk stays junk)."""
    shape = S3.shapes.get(shape_name, {"type": "string"})
    if shape["type"] != "structure" or not isinstance(value, dict):
        if isinstance(value, list):
            return f"<{tag}>" + "".join(to_xml("String", v, "member") for v in value) + f"</{tag}>"
        return f"<{tag}>{escape(_NOT_XML.sub('', str(value)))}</{tag}>"
    inner = []
    for name, item in value.items():
        spec = shape["members"].get(name, {"shape": "String"})
        child = spec.get("locationName", name)
        member = S3.shapes.get(spec["shape"], {"type": "string"})
        if member["type"] == "list" and isinstance(item, list):
            item_shape, item_tag = member["member"]["shape"], member["member"].get("locationName")
            parts = "".join(to_xml(item_shape, v, item_tag or child) for v in item)
            inner.append(parts if member.get("flattened") else f"<{child}>{parts}</{child}>")
        else:
            inner.append(to_xml(spec["shape"], item, child))
    return f"<{tag}>{''.join(inner)}</{tag}>"


def _payload(op: Any) -> st.SearchStrategy[bytes]:
    shape = S3.shape(op.input) if op.input else {}
    payload = shape.get("payload")
    if not payload:
        return st.one_of(st.just(b""), st.binary(max_size=64))
    spec = shape["members"][payload]
    target = S3.shape(spec["shape"])
    if target["type"] != "structure":
        return st.one_of(st.binary(max_size=2048), st.just(b"z" * 70_000))
    tag = spec.get("locationName", spec["shape"])
    docs = strategy(S3, spec["shape"]).map(lambda v: to_xml(spec["shape"], v, tag).encode())
    return st.one_of(docs, docs, docs.map(lambda d: d[: len(d) // 2]), XML_HOSTILE)


XML_HOSTILE = st.sampled_from(
    [
        b"<Delete><Object><Key>k1</Key></Object>",  # truncated
        b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;"
        b"&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;"
        b"&c;&c;&c;&c;&c;&c;&c;'><!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'>]>"
        b"<Delete><Object><Key>&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;</Key></Object></Delete>",
        b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        b"<CreateBucketConfiguration><LocationConstraint>&x;</LocationConstraint>"
        b"</CreateBucketConfiguration>",
        b"<a>" * 50_000 + b"</a>" * 50_000,
        b"<Delete><Object><Key>\xff\xfe</Key></Object></Delete>",
        b"<?xml version='1.0' encoding='utf-16'?><Delete/>",
        b"\xef\xbb\xbf<Delete><Quiet>maybe</Quiet><Object><Key></Key></Object></Delete>",
        b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part>"
        b"</CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>99999999999999999999999</PartNumber>"
        b"<ETag>e</ETag></Part></CompleteMultipartUpload>",
        b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>",
        b"not xml at all",
    ]
)
AUTHS = st.one_of(
    st.sampled_from(
        [AUTH.format(key="test"), AUTH.format(key="test"), AUTH.format(key="111111111111")]
    ),
    st.sampled_from(["", "AWS test:c2ln", "AWS4-HMAC-SHA256", "Bearer x", "AWS4-HMAC-SHA256 ,,,"]),
    st.text(max_size=80),
)


@st.composite
def operation_requests(draw: st.DrawFn, name: str) -> tuple[str, str, bytes, dict[str, str]]:
    op = S3.operations[name]
    template, _, literal = op.http["requestUri"].partition("?")
    labels = {"{Bucket}": draw(BUCKETS), "{Key+}": draw(KEY_PATHS), "{Key}": draw(KEY_PATHS)}
    path = template
    for label, value in labels.items():
        path = path.replace(label, value)
    query = [q for q in literal.split("&") if q]
    for name, (wire, values) in _located(op, "querystring").items():
        if name == "UploadId" and draw(st.booleans()):
            query.append(f"{wire}=UPLOAD")  # the live upload (filled in at send time)
        elif draw(st.booleans()):
            query.append(f"{wire}={quote(draw(values), safe='')}")
    headers = {"Authorization": draw(AUTHS)}
    for _, (wire, values) in _located(op, "header").items():
        if draw(st.integers(0, 3)) == 0:
            headers[wire] = draw(values)
    body = draw(_payload(op))
    target = path + ("?" + "&".join(query) if query else "")
    return op.http["method"], target, body, headers


S3_OPERATIONS = sorted(OPERATIONS)


def run_example(fx: Fixture, method: str, target: str, body: bytes, headers: dict) -> None:
    headers = {k: v for k, v in headers.items() if v != "" or k != "Authorization"}
    if not sendable(headers):
        return  # not a valid HTTP field value: the HTTP parser answers a bare 400
    exchange(fx, method, target.replace("UPLOAD", fx.upload_id), body, headers)


@pytest.mark.parametrize("operation", S3_OPERATIONS)
def test_s3_operation_survives_random_input(fx: Fixture, operation: str) -> None:
    @FUZZ
    @given(request=operation_requests(operation))
    def run(request: tuple[str, str, bytes, dict[str, str]]) -> None:
        run_example(fx, *request)

    run()


QUERY_NAMES = sorted(
    {q.partition("=")[0] for o in S3.operations.values() for q in
     o.http["requestUri"].partition("?")[2].split("&") if q}
    | {wire for o in S3.operations.values() for wire, _ in _located(o, "querystring").values()}
)  # fmt: skip
HEADER_NAMES = sorted(
    {wire for o in S3.operations.values() for wire, _ in _located(o, "header").values()}
)


@settings(FUZZ, max_examples=150)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"]),
    bucket=BUCKETS,
    key=st.one_of(st.none(), KEY_PATHS),
    query=st.lists(st.tuples(st.sampled_from(QUERY_NAMES), JUNK_TEXT), max_size=4),
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), JUNK_TEXT, max_size=5),
    auth=AUTHS,
    body=st.one_of(st.just(b""), st.binary(max_size=300), XML_HOSTILE),
)
def test_s3_garbage_requests_get_s3_errors(
    fx: Fixture,
    method: str,
    bucket: str,
    key: str | None,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    auth: str,
    body: bytes,
) -> None:
    path = f"/{bucket}" + (f"/{key}" if key is not None else "")
    if query:
        path += "?" + "&".join(f"{k}={quote(v, safe='')}" if v else k for k, v in query)
    run_example(fx, method, path, body, {**headers, "Authorization": auth})


def test_oversized_and_lying_bodies(fx: Fixture) -> None:
    """Bodies over the limit (4 MiB here), declared sizes far beyond it, and wrong sizes."""
    big = b"o" * (5 << 20)
    status, _, body = exchange(
        fx, "PUT", f"/{OWN}/big", big, {"Authorization": AUTH.format(key="x")}
    )
    assert (status, ElementTree.fromstring(body).findtext("Code")) == (400, "EntityTooLarge")
    status, _, body = exchange(
        fx, "POST", f"/{OWN}?delete", b"<Delete>" + b" " * (5 << 20) + b"</Delete>", {}
    )
    assert status == 400
    import socket

    with socket.create_connection(("127.0.0.1", fx.proc.port), timeout=10) as sock:
        sock.sendall(
            f"PUT /{OWN}/huge HTTP/1.1\r\nHost: x\r\nContent-Length: {10 << 30}\r\n\r\n".encode()
        )
        answer = b""
        while b"</Error>" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400") and b"EntityTooLarge" in answer
    headers = {"x-amz-decoded-content-length": "50", "Content-Encoding": "aws-chunked",
               "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}  # fmt: skip
    status, _, body = exchange(fx, "PUT", f"/{OWN}/short", b"5\r\nhello\r\n0\r\n\r\n", headers)
    assert (status, ElementTree.fromstring(body).findtext("Code")) == (400, "IncompleteBody")
    assert fx.s3.list_objects_v2(Bucket=OWN, Prefix="big")["KeyCount"] == 0


def test_slow_and_abandoned_uploads(fx: Fixture) -> None:
    """A body that trickles in is stored whole; one abandoned halfway leaves no object."""
    body = bytes(range(256)) * 400
    head = (
        f"PUT /{OWN}/slow HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        f"Authorization: {AUTH.format(key='test')}\r\n\r\n"
    ).encode()
    before = fx.conn.digest()
    assert _send_slowly(fx.proc.port, head, body, 25, stop_at=12) == b""
    assert fx.conn.digest() == before
    answer = _send_slowly(fx.proc.port, head, body, 25, stop_at=None)
    assert answer.startswith(b"HTTP/1.1 200")
    assert fx.s3.get_object(Bucket=OWN, Key="slow")["Body"].read() == body
