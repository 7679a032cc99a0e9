"""The server process itself: health, JSON 1.1 protocol errors, start-up and shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from bcm_local.testing import ServerProcess, free_port

TARGET = "AWSBillingAndCostManagementDataExports"


def post(
    endpoint: str, target: str | None, body: bytes, content_type: str = "application/x-amz-json-1.1"
) -> tuple[int, Any, Any]:
    headers = {"Content-Type": content_type}
    if target is not None:
        headers["X-Amz-Target"] = target
    req = urllib.request.Request(endpoint + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.loads(err.read() or b"{}")


def test_health_reports_version_and_services(server: ServerProcess) -> None:
    health = server.health()
    assert health["version"]
    assert health["services"] == {
        "bcm-data-exports": "running",
        "cur": "running",
        "ce": "running",
        "billing": "running",
        "pricing": "running",
        "s3": "running",
    }
    assert health["persistent"] is False


def test_every_response_has_a_request_id(server: ServerProcess) -> None:
    status, headers, _ = post(server.endpoint, f"{TARGET}.ListExports", b"{}")
    assert status == 200
    assert len(headers["x-amzn-RequestId"]) == 36


@pytest.mark.parametrize(
    ("target", "body", "content_type", "status", "code"),
    [
        (
            f"{TARGET}.NoSuchOperation",
            b"{}",
            "application/x-amz-json-1.1",
            400,
            "UnknownOperationException",
        ),
        (
            "NoSuchService.ListExports",
            b"{}",
            "application/x-amz-json-1.1",
            400,
            "UnknownOperationException",
        ),
        (
            f"{TARGET}.ListExports",
            b"{not json",
            "application/x-amz-json-1.1",
            400,
            "SerializationException",
        ),
        (
            f"{TARGET}.ListExports",
            b"[1, 2]",
            "application/x-amz-json-1.1",
            400,
            "SerializationException",
        ),
        (
            f"{TARGET}.ListExports",
            b"\xff\xfe",
            "application/x-amz-json-1.1",
            400,
            "SerializationException",
        ),
        (f"{TARGET}.ListExports", b"{}", "text/plain", 400, "SerializationException"),
        (
            f"{TARGET}.ListExports",
            b'{"MaxResults": 0}',
            "application/x-amz-json-1.1",
            400,
            "ValidationException",
        ),
        (
            f"{TARGET}.ListExports",
            b'{"MaxResults": "ten"}',
            "application/x-amz-json-1.1",
            400,
            "ValidationException",
        ),
        (
            f"{TARGET}.ListExports",
            b'{"MaxResults": true}',
            "application/x-amz-json-1.1",
            400,
            "ValidationException",
        ),
    ],
)
def test_protocol_errors_are_aws_errors(
    server: ServerProcess, target: str, body: bytes, content_type: str, status: int, code: str
) -> None:
    got_status, headers, payload = post(server.endpoint, target, body, content_type)
    assert (got_status, payload["__type"]) == (status, code)
    assert headers["x-amzn-ErrorType"] == code
    assert "message" in payload


def test_validation_error_names_field_and_reason(server: ServerProcess) -> None:
    status, _, payload = post(server.endpoint, f"{TARGET}.ListExports", b'{"MaxResults": 301}')
    assert status == 400
    assert payload["Reason"] == "fieldValidationFailed"
    assert payload["Fields"] == [
        {"Name": "maxResults", "Message": "Member must have value less than or equal to 300"}
    ]
    assert payload["Message"].startswith("1 validation error detected: Value '301' at 'maxResults'")


def test_wrong_type_is_cannot_parse(server: ServerProcess) -> None:
    _, _, payload = post(server.endpoint, f"{TARGET}.ListExports", b'{"MaxResults": "x"}')
    assert payload["Reason"] == "cannotParse"


def test_oversized_json_body_is_rejected(server: ServerProcess) -> None:
    status, _, payload = post(server.endpoint, f"{TARGET}.ListExports", b" " * (2 << 20) + b"{}")
    assert status == 413
    assert payload["__type"] == "SerializationException"


def test_slow_client_does_not_block_others(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as slow:
        slow.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
            b"X-Amz-Target: " + TARGET.encode() + b".ListExports\r\n"
            b"Content-Type: application/x-amz-json-1.1\r\n\r\n{"
        )
        status, _, _ = post(server.endpoint, f"{TARGET}.ListExports", b"{}")
        assert status == 200


def test_unknown_internal_path_is_404(server: ServerProcess) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.endpoint + "/_bcm_local/nope", timeout=5)
    assert err.value.code == 404


def test_console_without_trailing_slash_redirects(server: ServerProcess) -> None:
    with urllib.request.urlopen(server.endpoint + "/_bcm_local", timeout=5) as answer:
        assert answer.geturl() == server.endpoint + "/_bcm_local/"
        assert answer.status == 200


def test_disabled_service_answers_like_unknown_one() -> None:
    env = {"FLOCI_SERVICES_BCM_DATA_EXPORTS_ENABLED": "false"}
    with ServerProcess(env=env) as proc:
        assert proc.health()["services"]["bcm-data-exports"] == "disabled"
        status, _, payload = post(proc.endpoint, f"{TARGET}.ListExports", b"{}")
        assert (status, payload["__type"]) == (400, "UnknownOperationException")


def test_cli_flag_overrides_environment() -> None:
    with ServerProcess(
        env={"FLOCI_SERVICES_CUR_ENABLED": "true"}, args=("--cur-enabled", "false")
    ) as proc:
        assert proc.health()["services"]["cur"] == "disabled"


def test_bad_setting_is_a_clear_startup_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bcm_local", "serve", "--bcm-data-exports-emit-mode", "hourly"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE" in proc.stderr


def test_unwritable_data_dir_is_a_clear_startup_error(tmp_path: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = subprocess.run(
        [sys.executable, "-m", "bcm_local", "serve", "--data-dir", str(blocker / "sub")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "cannot use data directory" in proc.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_shuts_down_cleanly_on_signal(sig: int) -> None:
    proc = ServerProcess().start()
    assert proc.stop(sig) == 0


def listening_addresses(port: int) -> set[str]:
    """Addresses with a TCP socket listening on `port`, read from /proc/net/tcp{,6}."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            with open(table) as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = b"".join(
                    bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8)
                )
                found.add(socket.inet_ntop(family, raw))
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc/net/tcp")
@pytest.mark.parametrize(
    ("args", "expected"), [((), {"127.0.0.1"}), (("--host", "0.0.0.0"), {"0.0.0.0"})]
)
def test_binds_loopback_by_default(args: tuple[str, ...], expected: set[str]) -> None:
    with ServerProcess(args=args) as proc:
        assert listening_addresses(proc.port) == expected  # the kernel's own word


def test_loopback_server_is_not_reachable_from_outside() -> None:
    with ServerProcess() as proc:
        host_ip = socket.gethostbyname(socket.gethostname())
        if host_ip.startswith("127."):
            pytest.skip("machine has no non-loopback address")
        with pytest.raises(OSError):
            socket.create_connection((host_ip, proc.port), timeout=1).close()


def test_python_dash_m_entry_point_serves() -> None:
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "bcm_local", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_bcm_local/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("server did not start")
    finally:
        child.terminate()
        assert child.wait(15) == 0


def test_pytest_plugin_fixture_serves_boto3(bcm_local_endpoint: str) -> None:
    """The fixture users get from `bcm_local.testing` (pytest11 entry point)."""
    import boto3

    client = boto3.client("bcm-data-exports", endpoint_url=bcm_local_endpoint)
    assert client.list_exports()["Exports"] == []
    s3 = boto3.client("s3", endpoint_url=bcm_local_endpoint)
    s3.create_bucket(Bucket="plugin-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["plugin-bucket"]


def test_plugin_is_registered_as_pytest11_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert names.get("bcm_local") == "bcm_local.testing"


def test_uvicorn_fallback_serves_json_and_s3() -> None:
    import boto3

    with ServerProcess(env={"BCM_LOCAL_HTTP_SERVER": "uvicorn"}) as proc:
        kw = {
            "endpoint_url": proc.endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }
        assert boto3.client("bcm-data-exports", **kw).list_exports()["Exports"] == []
        s3 = boto3.client("s3", **kw)
        s3.create_bucket(Bucket="via-uvicorn")
        s3.put_object(Bucket="via-uvicorn", Key="k", Body=b"hello")
        assert s3.get_object(Bucket="via-uvicorn", Key="k")["Body"].read() == b"hello"


def test_access_log_has_one_line_per_request() -> None:
    proc = ServerProcess(env={"BCM_LOCAL_LOG_LEVEL": "info"}).start()
    post(proc.endpoint, f"{TARGET}.ListExports", b"{}")
    post(proc.endpoint, f"{TARGET}.ListExports", b'{"MaxResults": 0}')
    proc.stop()
    lines = [ln for ln in proc.log.splitlines() if "bcm_local.access" in ln]
    assert any(ln.endswith("ms") and "bcm-data-exports ListExports 200" in ln for ln in lines)
    assert any("bcm-data-exports ListExports 400" in ln for ln in lines)
