"""Strict mode (BCM_LOCAL_STRICT_AUTH): SigV4 signatures checked against configured secrets.

Requests are signed by botocore's own signers (the reference) and verified by
bcm_local.server.sigv4; unsigned, wrongly signed, tampered, expired or malformed
requests get AWS's errors and change nothing. The default mode stays permissive.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from unittest import mock
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

import boto3
import botocore.auth
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bcm_local.server import sigv4
from bcm_local.testing import ServerProcess
from tests.conftest import NO_RETRY, make_client

SECRET = "s3cr3t/With+Chars"
CREDENTIALS = f"test:test,111111111111:{SECRET}"
TARGET = "AWSBillingAndCostManagementDataExports.ListExports"
STALE = datetime(2020, 1, 1, 12, 0, 0)
FORGED = "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={}"
JSON_CODES = {
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
}
S3_CODES = {
    "AccessDenied",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "AuthorizationHeaderMalformed",
    "AuthorizationQueryParametersError",
    "InvalidRequest",
    "RequestTimeTooSkewed",
}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def strict() -> Iterator[ServerProcess]:
    env = {"BCM_LOCAL_STRICT_AUTH": "true", "BCM_LOCAL_CREDENTIALS": CREDENTIALS}
    with ServerProcess(env=env) as proc:
        s3 = make_client(proc.endpoint, "s3")
        s3.create_bucket(Bucket="strict-bucket")
        s3.put_object(Bucket="strict-bucket", Key="dir/a b+c.txt", Body=b"signed")
        yield proc


def signed(
    endpoint: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    service: str = "s3",
    key: str = "test",
    secret: str = "test",
) -> tuple[str, str, bytes, dict[str, str]]:
    """A request signed by botocore: (method, path with query, body, headers)."""
    request = AWSRequest(method=method, url=endpoint + path, data=body, headers=headers or {})
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    if service == "s3":
        request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    signer(Credentials(key, secret), service, "us-east-1").add_auth(request)
    parts = urlsplit(request.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return method, target, body, dict(request.headers.items())


def send(
    proc: ServerProcess, method: str, target: str, body: bytes, headers: dict[str, str]
) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def digest(proc: ServerProcess) -> str:
    with urllib.request.urlopen(proc.endpoint + "/_bcm_local/state", timeout=10) as resp:
        return str(json.load(resp)["sha256"])


def code_of(body: bytes) -> str:
    if body.startswith(b"<?xml"):
        return str(ElementTree.fromstring(body).findtext("Code"))
    return str(json.loads(body)["__type"])


def test_signed_sdk_calls_pass(strict: ServerProcess, tmp_path: Any) -> None:
    s3 = make_client(strict.endpoint, "s3")
    s3.put_object(Bucket="strict-bucket", Key="ü/é?&=.txt", Body=b"x" * 100)
    assert s3.get_object(Bucket="strict-bucket", Key="ü/é?&=.txt")["Body"].read() == b"x" * 100
    listed = s3.list_objects_v2(Bucket="strict-bucket", Prefix="ü/", Delimiter="/")
    assert listed["KeyCount"] == 1
    source = tmp_path / "big.bin"
    source.write_bytes(b"m" * (9 << 20))
    s3.upload_file(str(source), "strict-bucket", "multipart", Config=None)  # multipart + chunked
    assert s3.head_object(Bucket="strict-bucket", Key="multipart")["ContentLength"] == 9 << 20
    mine = boto3.client(
        "bcm-data-exports",
        endpoint_url=strict.endpoint,
        region_name="eu-west-1",
        aws_access_key_id="111111111111",
        aws_secret_access_key=SECRET,
        config=NO_RETRY,
    )
    assert mine.list_exports()["Exports"] == []
    cur = make_client(strict.endpoint, "cur")
    assert cur.describe_report_definitions()["ReportDefinitions"] == []


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_urls_both_versions(strict: ServerProcess, version: str) -> None:
    s3 = make_client(
        strict.endpoint, "s3", config=NO_RETRY.merge(Config(signature_version=version))
    )
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "strict-bucket", "Key": "dir/a b+c.txt"}, ExpiresIn=60
    )
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"signed"
    put = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "strict-bucket", "Key": f"put-{version}"}, ExpiresIn=60
    )
    request = urllib.request.Request(
        put, data=b"presigned put", method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200
    tampered = url.replace("dir/a", "dir/A")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(tampered, timeout=10)
    assert (err.value.code, code_of(err.value.read())) == (403, "SignatureDoesNotMatch")


def test_expired_presigned_url(strict: ServerProcess) -> None:
    request = AWSRequest(method="GET", url=strict.endpoint + "/strict-bucket/dir/a%20b%2Bc.txt")
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda: STALE):
        S3SigV4QueryAuth(Credentials("test", "test"), "s3", "us-east-1", 60).add_auth(request)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request.url, timeout=10)
    body = err.value.read()
    assert (err.value.code, code_of(body)) == (403, "AccessDenied")
    assert b"Request has expired" in body


@pytest.mark.parametrize(
    ("case", "json_answer", "s3_answer"),
    [
        ("unsigned", ("MissingAuthenticationTokenException", 400), ("AccessDenied", 403)),
        ("wrong secret", ("InvalidSignatureException", 400), ("SignatureDoesNotMatch", 403)),
        ("unknown key", ("UnrecognizedClientException", 400), ("InvalidAccessKeyId", 403)),
        ("tampered", ("InvalidSignatureException", 400), ("SignatureDoesNotMatch", 403)),
        ("skewed", ("InvalidSignatureException", 400), ("RequestTimeTooSkewed", 403)),
        ("malformed", ("IncompleteSignatureException", 400), ("AuthorizationHeaderMalformed", 400)),
        ("sigv2", ("IncompleteSignatureException", 400), ("SignatureDoesNotMatch", 403)),
    ],
)
def test_refusals_use_aws_errors(
    strict: ServerProcess, case: str, json_answer: tuple[str, int], s3_answer: tuple[str, int]
) -> None:
    json_headers = {"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"}
    requests = {
        "json": signed(strict.endpoint, "POST", "/", b"{}", json_headers, "bcm-data-exports"),
        "s3": signed(strict.endpoint, "GET", "/strict-bucket/dir/a%20b%2Bc.txt"),
    }
    for protocol, (method, target, body, headers) in requests.items():
        headers = dict(headers)
        if case == "unsigned":
            headers.pop("Authorization")
        elif case == "wrong secret":
            service = "s3" if protocol == "s3" else "bcm-data-exports"
            headers = signed(strict.endpoint, method, target, body, headers, service, "test", "no")[
                3
            ]
        elif case == "unknown key":
            headers["Authorization"] = headers["Authorization"].replace("test/", "AKIDUNKNOWN/")
        elif case == "tampered":
            if protocol == "json":
                body = b'{"MaxResults": 1}'
            else:
                target = target.replace("a%20b", "a%20B")
        elif case == "skewed":  # a good signature, made 15 minutes and more ago
            service = "s3" if protocol == "s3" else "bcm-data-exports"
            with mock.patch.object(botocore.auth, "get_current_datetime", lambda: STALE):
                headers = signed(strict.endpoint, method, target, body, headers, service)[3]
        elif case == "malformed":
            headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/garbage"
        elif case == "sigv2":
            headers.pop("X-Amz-Date")
            headers["Authorization"] = "AWS test:c2lnbmF0dXJl"
            headers["Date"] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
        before = digest(strict)
        status, _, answer = send(strict, method, target, body, headers)
        expected = json_answer if protocol == "json" else s3_answer
        assert (code_of(answer), status) == expected, answer
        assert digest(strict) == before


def test_mismatch_explains_itself_like_s3(strict: ServerProcess) -> None:
    method, target, body, headers = signed(
        strict.endpoint, "GET", "/strict-bucket/dir/a%20b%2Bc.txt", secret="wrong"
    )
    _, _, answer = send(strict, method, target, body, headers)
    root = ElementTree.fromstring(answer)
    assert root.findtext("AWSAccessKeyId") == "test"
    assert root.findtext("CanonicalRequest", "").startswith("GET\n/strict-bucket/dir/a%20b%2Bc.txt")
    assert root.findtext("StringToSign", "").startswith("AWS4-HMAC-SHA256\n")


def test_default_mode_accepts_any_credentials(server: ServerProcess) -> None:
    s3 = make_client(server.endpoint, "s3", access_key="whoever")
    assert "Buckets" in s3.list_buckets()
    status, _, _ = send(server, "GET", "/", b"", {})
    assert status == 200


@FUZZ
@given(
    field=st.sampled_from(["signature", "header", "query", "method", "path", "body", "date"]),
    data=st.data(),
)
def test_any_change_to_a_signed_request_is_refused(
    strict: ServerProcess, field: str, data: st.DataObject
) -> None:
    method, target, body, headers = signed(
        strict.endpoint,
        "PUT",
        "/strict-bucket/fuzzed?x-id=PutObject",
        b"payload",
        {"Content-Type": "text/plain", "x-amz-meta-a": "1"},
    )
    headers = dict(headers)
    if field == "signature":
        auth = headers["Authorization"]
        at = data.draw(st.integers(len(auth) - 64, len(auth) - 1))
        flipped = "0" if auth[at] != "0" else "1"
        headers["Authorization"] = auth[:at] + flipped + auth[at + 1 :]
    elif field == "header":
        name = data.draw(st.sampled_from(["Content-Type", "x-amz-meta-a", "X-Amz-Date"]))
        headers[name] = headers[name] + data.draw(st.sampled_from(["x", "0", " z"]))
    elif field == "query":
        target += "&" + quote(data.draw(st.text(min_size=1, max_size=8)), safe="") + "=1"
    elif field == "method":
        method = data.draw(st.sampled_from(["POST", "DELETE", "GET"]))
    elif field == "path":
        target = target.replace("fuzzed", data.draw(st.sampled_from(["fuzzeD", "fuzzed2", "f"])))
    elif field == "body":  # x-amz-content-sha256 is UNSIGNED-PAYLOAD: sign a real hash instead
        headers["X-Amz-Content-SHA256"] = "0" * 64
    else:
        headers["X-Amz-Date"] = "20260101T000000Z"
    before = digest(strict)
    status, _, answer = send(strict, method, target, body, headers)
    assert 400 <= status < 500 and code_of(answer) in S3_CODES, answer
    assert digest(strict) == before


@FUZZ
@given(
    authorization=st.one_of(
        st.text(max_size=100).filter(lambda t: t.isprintable() and t.isascii()),
        st.builds(
            FORGED.format,
            st.sampled_from(["test", "111111111111", "", "x"]),
            st.sampled_from(["20260101", "", "2026"]),
            st.sampled_from(["us-east-1", ""]),
            st.sampled_from(["s3", "bcm-data-exports", ""]),
            st.sampled_from(["host", "host;x-amz-date", "", "content-type"]),
            st.text(alphabet="0123456789abcdef", max_size=64),
        ),
    ),
    query=st.sampled_from(
        [
            "",
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "?AWSAccessKeyId=test",
            "?X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Signature=00&X-Amz-Expires=0",
        ]
    ),
    json_call=st.booleans(),
)
def test_garbage_credentials_are_refused(
    strict: ServerProcess, authorization: str, query: str, json_call: bool
) -> None:
    headers = {"Authorization": authorization} if authorization.strip() else {}
    if json_call:
        headers.update({"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"})
        method, target = "POST", "/" + query
    else:
        method, target = "PUT", "/strict-bucket/garbage" + query
    before = digest(strict)
    status, _, answer = send(strict, method, target, b"{}", headers)
    assert 400 <= status < 500, answer
    assert code_of(answer) in (JSON_CODES if json_call else S3_CODES), answer
    assert digest(strict) == before


# -- the verifier against botocore's signers, in process ----------------------------------

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.~ /%+=&?é", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    service=st.sampled_from(["s3", "bcm-data-exports", "cur"]),
    path=st.lists(NAMES, min_size=0, max_size=3),
    query=st.lists(st.tuples(NAMES, st.text(max_size=8)), max_size=4),
    extra=st.dictionaries(
        st.sampled_from(["x-amz-meta-a", "content-type", "x-amz-target", "x-custom"]),
        st.text(alphabet="abc  XYZ,;=/", max_size=10).map(str.strip).filter(bool),
        max_size=3,
    ),
    body=st.binary(max_size=64),
)
# dot and empty segments: botocore signs `/a/.` as `/a` and `/a//b` as `/a/b`
@example(method="GET", service="cur", path=["=", "."], query=[], extra={}, body=b"")
@example(method="GET", service="cur", path=["a", "", "b", ".."], query=[], extra={}, body=b"")
def test_verifier_agrees_with_botocore(
    method: str,
    service: str,
    path: list[str],
    query: list[tuple[str, str]],
    extra: dict[str, str],
    body: bytes,
) -> None:
    raw_path = "/" + "/".join(quote(p, safe="") for p in path)
    raw_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    url = "http://127.0.0.1:4566" + raw_path + (f"?{raw_query}" if raw_query else "")
    request = AWSRequest(method=method, url=url, data=body, headers=dict(extra))
    if service == "s3":
        request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        S3SigV4Auth(Credentials("test", "test"), service, "us-east-1").add_auth(request)
    else:
        SigV4Auth(Credentials("test", "test"), service, "us-east-1").add_auth(request)
    parts = urlsplit(request.url)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = parts.netloc
    body_hash = None if service == "s3" else __import__("hashlib").sha256(body).hexdigest()
    secrets = {"test": "test"}
    now = time.time()
    args = (method, parts.path, parts.query, headers, secrets, body_hash, now)
    assert sigv4.verify(*args) == "test"
    with pytest.raises(sigv4.SignatureError):
        sigv4.verify(method, parts.path + "x", *args[2:])
    with pytest.raises(sigv4.SignatureError):
        sigv4.verify(*args[:4], {"test": "other"}, *args[5:])


def test_strict_mode_settings_are_validated() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "bcm_local", "serve", "--credentials", "no-colon"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "BCM_LOCAL_CREDENTIALS" in proc.stderr
    assert "no-colon" not in proc.stderr  # a secret is never echoed


def test_client_error_codes_from_the_sdk(strict: ServerProcess) -> None:
    wrong = make_client(strict.endpoint, "cur", access_key="111111111111")  # secret "test"
    with pytest.raises(ClientError) as err:
        wrong.describe_report_definitions()
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"
    s3 = make_client(strict.endpoint, "s3", access_key="nobody")
    with pytest.raises(ClientError) as err:
        s3.list_buckets()
    assert err.value.response["Error"]["Code"] == "InvalidAccessKeyId"
