"""Property tests: random and malformed requests to every JSON 1.1 operation.

Every answer is a well-formed AWS error (or a success) with status < 500, the server
stays up, and a rejected request leaves the whole state unchanged.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bcm_local.server import model
from bcm_local.services.registry import JSON_SERVICES
from bcm_local.testing import ServerProcess
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


def check_answer(conn: Conn, status: int, headers: Any, body: bytes, before: str) -> None:
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
