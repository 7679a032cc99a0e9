"""Property tests: random and malformed requests to every JSON 1.1 operation.

Every answer is a well-formed AWS error (or a success) with status < 500, the server
stays up, and a rejected request leaves the whole state unchanged.
"""

from __future__ import annotations

import http.client
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bcm_local.services.registry import JSON_SERVICES
from bcm_local.testing import ServerProcess
from bcm_local.wire import model
from tests.shape_strategies import strategy

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/{svc}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
OPERATIONS = [
    (svc, op) for svc in JSON_SERVICES for op in sorted(model.load(svc.model_name).operations)
]


class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
        return resp.status, resp.headers, resp.read()

    def digest(self) -> str:
        _, _, body = self.request("GET", "/_bcm_local/state", b"", {})
        return str(json.loads(body)["sha256"])


@pytest.fixture(scope="module")
def conn() -> Iterator[Conn]:
    env = {
        "FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE": "off",
        "FLOCI_SERVICES_CUR_EMIT_MODE": "off",
    }
    with ServerProcess(env=env) as proc:
        yield Conn(proc.port)
    print(f"fuzzed JSON requests: {sum(FUZZED.values())} by status {dict(FUZZED)}")


FUZZED: Counter[int] = Counter()  # statuses of the fuzzed requests, printed at the end


def check_answer(conn: Conn, status: int, headers: Any, body: bytes, before: str) -> None:
    FUZZED[status] += 1
    assert status < 500, body
    if status >= 400:
        payload = json.loads(body)
        assert payload["__type"] and isinstance(payload.get("message", ""), str)
        assert headers["x-amzn-ErrorType"] == payload["__type"]
        assert conn.digest() == before, f"rejected request changed state: {payload}"


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=lambda v: getattr(v, "name", v))
def test_operation_survives_random_input(conn: Conn, service: Any, operation: str) -> None:
    op = model.load(service.model_name).operations[operation]
    inputs = strategy(model.load(service.model_name), op.input) if op.input else st.just({})

    @FUZZ
    @given(params=inputs)
    def run(params: dict[str, Any]) -> None:
        before = conn.digest()
        headers = {
            "X-Amz-Target": f"{service.target_prefix}.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": AUTH.format(svc=service.name),
        }
        status, resp_headers, body = conn.request("POST", "/", json.dumps(params).encode(), headers)
        check_answer(conn, status, resp_headers, body, before)

    run()


TARGETS = [f"{s.target_prefix}.{op}" for s, op in OPERATIONS]


@FUZZ
@given(
    target=st.one_of(st.sampled_from(TARGETS), st.text(max_size=60)),
    body=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
    content_type=st.sampled_from(
        ["application/x-amz-json-1.1", "application/json", "text/plain", "", "application/xml"]
    ),
    authorization=st.one_of(
        st.just(""),
        st.text(max_size=120),
        st.just(AUTH.format(svc="x")),
        st.just("AWS4-HMAC-SHA256"),
    ),
)
def test_garbage_requests_get_aws_errors(
    conn: Conn, target: str, body: bytes, content_type: str, authorization: str
) -> None:
    before = conn.digest()
    headers = {"X-Amz-Target": target, "Content-Type": content_type}
    if authorization:
        headers["Authorization"] = authorization
    try:
        raw_headers = {k: v.encode("latin-1").decode("latin-1") for k, v in headers.items()}
    except UnicodeEncodeError:
        return  # http.client cannot send non-latin-1 header values; nothing to test
    if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for v in raw_headers.values() for c in v):
        return  # not a valid HTTP field value (RFC 9110 5.5): the HTTP parser answers a bare 400
    status, resp_headers, resp_body = conn.request("POST", "/", body, raw_headers)
    check_answer(conn, status, resp_headers, resp_body, before)


# -- hostile bodies: invalid UTF-8, huge strings, deep nesting, odd numbers ---------------

BROKEN_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80"]
HOSTILE = st.sampled_from(
    [
        b"[" * 100_000,
        b'{"a":' * 20_000,
        b'{"MaxResults": 1e999}',
        b'{"MaxResults": 123456789012345678901234567890}',
        b'{"MaxResults": NaN}',
        b'{"NextToken": "\\ud800"}',
        b'\xef\xbb\xbf{"MaxResults": 5}',
        b'{"MaxResults": 5}{"MaxResults": 6}',
        b'{"MaxResults": 5, "MaxResults": 6}',
        b"\x00\x00\x00",
        b'"' + b"\xff" * 10 + b'"',
        b"{" + b'"k": 1,' * 50_000 + b'"k": 1}',
    ]
)


def damage(encoded: bytes, data: st.DataObject) -> bytes:
    """A request body with invalid UTF-8 inside one of its strings, or one huge string."""
    quotes = [i for i, c in enumerate(encoded) if c == ord('"')] or [len(encoded)]
    at = data.draw(st.sampled_from(quotes)) + 1
    if data.draw(st.booleans()):
        return encoded[:at] + data.draw(st.sampled_from(BROKEN_UTF8)) + encoded[at:]
    return (
        encoded[:at] + b"\xc3\xa9" * data.draw(st.sampled_from([1, 50_000, 400_000])) + encoded[at:]
    )


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=lambda v: getattr(v, "name", v))
def test_operation_survives_hostile_bodies(conn: Conn, service: Any, operation: str) -> None:
    op = model.load(service.model_name).operations[operation]
    inputs = strategy(model.load(service.model_name), op.input) if op.input else st.just({})

    @settings(FUZZ, max_examples=10)
    @given(params=inputs, hostile=HOSTILE, data=st.data())
    def run(params: dict[str, Any], hostile: bytes, data: st.DataObject) -> None:
        body = data.draw(st.sampled_from([hostile, damage(json.dumps(params).encode(), data)]))
        before = conn.digest()
        headers = {
            "X-Amz-Target": f"{service.target_prefix}.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        }
        status, resp_headers, resp_body = conn.request("POST", "/", body, headers)
        check_answer(conn, status, resp_headers, resp_body, before)

    run()


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=200), HOSTILE),
    path=st.sampled_from(["/", "//", "/?x=1", "/AWSBillingAndCostManagementDataExports"]),
    content_type=st.sampled_from(["application/x-amz-json-1.1", "application/json", ""]),
)
def test_absent_target_is_answered_as_s3(
    conn: Conn, body: bytes, path: str, content_type: str
) -> None:
    """Without X-Amz-Target a request is S3's (as on AWS's shared endpoints): an S3 error."""
    before = conn.digest()
    status, headers, resp_body = conn.request("POST", path, body, {"Content-Type": content_type})
    assert 400 <= status < 500
    assert headers["x-amz-request-id"]
    assert resp_body.startswith(b"<?xml") and b"<Code>" in resp_body
    assert conn.digest() == before


def _send_slowly(port: int, head: bytes, body: bytes, pieces: int, stop_at: int | None) -> bytes:
    import socket
    import time

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        step = max(1, len(body) // pieces)
        for index, start in enumerate(range(0, len(body), step)):
            if stop_at is not None and index == stop_at:
                return b""  # the client gives up mid-body
            sock.sendall(body[start : start + step])
            time.sleep(0.02)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
        top, _, rest = answer.partition(b"\r\n\r\n")
        lines = [line.lower() for line in top.split(b"\r\n")]
        sizes = [int(line[15:]) for line in lines if line.startswith(b"content-length:")]
        while len(rest) < sum(sizes) and (chunk := sock.recv(65536)):
            rest += chunk
        return top + b"\r\n\r\n" + rest


def test_slow_and_abandoned_bodies(conn: Conn) -> None:
    """A body that trickles in is served whole; one abandoned halfway changes nothing."""
    body = json.dumps({"ReportName": "slow-report", "Tags": [{"Key": "k", "Value": "v"}]}).encode()
    head = (
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
        "X-Amz-Target: AWSOrigamiServiceGatewayService.TagResource\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    before = conn.digest()
    assert _send_slowly(conn.port, head, body, 20, stop_at=10) == b""
    answer = _send_slowly(conn.port, head, body, 20, stop_at=None)
    assert answer.startswith(b"HTTP/1.1 400") and b"ResourceNotFoundException" in answer
    assert conn.digest() == before
    status, _, _ = conn.request("POST", "/", b"{}", {
        "X-Amz-Target": "AWSOrigamiServiceGatewayService.DescribeReportDefinitions",
        "Content-Type": "application/x-amz-json-1.1",
    })  # fmt: skip
    assert status == 200
