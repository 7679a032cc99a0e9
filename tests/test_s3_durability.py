"""Persistence and crash safety of the built-in S3, and its in-process backend API."""

from __future__ import annotations

import hashlib
import http.client
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import make_client
from s3_support import AUTH, error_code, raw, xml_code

from bcm_local import settings
from bcm_local.objects.backend import AccessDeniedError, NoSuchBucketError, s3_backend
from bcm_local.runtime import Runtime
from bcm_local.testing import ServerProcess

BLOB = re.compile(r"^[0-9a-f]{32}$")


def _blob_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "s3" / "blobs").rglob("*") if p.is_file()]


def _temp_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "s3" / "tmp").rglob("*") if p.is_file()]


def test_restart_keeps_buckets_and_objects(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path) as server:
        s3 = make_client(server.endpoint, "s3")
        s3.create_bucket(Bucket="durable-bucket")
        s3.put_object(Bucket="durable-bucket", Key="a/b.txt", Body=b"kept", Metadata={"m": "1"})
        s3.put_object(Bucket="durable-bucket", Key="gone", Body=b"x")
        s3.delete_object(Bucket="durable-bucket", Key="gone")
        upload = s3.create_multipart_upload(Bucket="durable-bucket", Key="mpu")["UploadId"]
        s3.upload_part(Bucket="durable-bucket", Key="mpu", UploadId=upload, PartNumber=1, Body=b"p")
    with ServerProcess(data_dir=tmp_path) as server:
        s3 = make_client(server.endpoint, "s3")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["durable-bucket"]
        got = s3.get_object(Bucket="durable-bucket", Key="a/b.txt")
        assert (got["Body"].read(), got["Metadata"]) == (b"kept", {"m": "1"})
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="durable-bucket")["Contents"]] == [
            "a/b.txt"
        ]
        parts = s3.list_parts(Bucket="durable-bucket", Key="mpu", UploadId=upload)["Parts"]
        assert [p["Size"] for p in parts] == [1]
    assert len(_blob_files(tmp_path)) == 2  # the object and the part; nothing else


def _slow_upload(endpoint: str, path: str, total: int, sent: list[int]) -> None:
    host, port = endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("PUT", path)
        conn.putheader("Content-Length", str(total))
        conn.putheader("Authorization", AUTH.format(key="test"))
        conn.endheaders()
        chunk = b"k" * (256 << 10)
        while sent[0] < total:
            conn.send(chunk)
            sent[0] += len(chunk)
            time.sleep(0.005)
    except OSError:
        pass  # the server died mid-body, as intended
    finally:
        conn.close()


def test_sigkill_mid_upload_leaves_no_partial_object(tmp_path: Path) -> None:
    server = ServerProcess(data_dir=tmp_path).start()
    try:
        s3 = make_client(server.endpoint, "s3")
        s3.create_bucket(Bucket="crash-bucket")
        s3.put_object(Bucket="crash-bucket", Key="big", Body=b"old version")
        sent = [0]
        total = 200 << 20
        thread = threading.Thread(
            target=_slow_upload, args=(server.endpoint, "/crash-bucket/big", total, sent)
        )
        thread.start()
        deadline = time.monotonic() + 20

        def partial() -> list[Path]:  # the body being written, under an id no row names yet
            return [p for p in _blob_files(tmp_path) if p.stat().st_size > (1 << 20)]

        while time.monotonic() < deadline and not partial():
            time.sleep(0.02)
        assert partial(), "the upload never reached the server's disk"
        server.kill()
        thread.join(30)
        assert sent[0] < total
    finally:
        server.stop()
    with ServerProcess(data_dir=tmp_path) as server:
        s3 = make_client(server.endpoint, "s3")
        assert s3.get_object(Bucket="crash-bucket", Key="big")["Body"].read() == b"old version"
    assert _temp_files(tmp_path) == []
    assert len(_blob_files(tmp_path)) == 1


def test_orphans_are_collected_at_start(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path) as server:
        s3 = make_client(server.endpoint, "s3")
        s3.create_bucket(Bucket="gc-bucket")
        s3.put_object(Bucket="gc-bucket", Key="keep", Body=b"keep")
    orphan = tmp_path / "s3" / "blobs" / "ab" / ("ab" + "0" * 30)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"orphan")
    (tmp_path / "s3" / "tmp" / "leftover.tmp").write_bytes(b"half")
    with ServerProcess(data_dir=tmp_path) as server:
        s3 = make_client(server.endpoint, "s3")
        assert s3.get_object(Bucket="gc-bucket", Key="keep")["Body"].read() == b"keep"
    assert not orphan.exists()
    assert _temp_files(tmp_path) == []
    assert len(_blob_files(tmp_path)) == 1


def test_names_never_reach_the_filesystem(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    keys = ["../../escape.txt", "/etc/passwd", "..\\..\\win", "a/./../b", "ü/😀", "x" * 1024]
    with ServerProcess(data_dir=data_dir) as server:
        s3 = make_client(server.endpoint, "s3")
        s3.create_bucket(Bucket="fs-bucket")
        for key in keys:
            s3.put_object(Bucket="fs-bucket", Key=key, Body=key.encode())
        for path in ["/..%2F..%2Fboom/key", "/%2E%2E/key", "/fs-bucket%00/key"]:
            status, _, body = raw(server.endpoint, "PUT", path, b"x")
            assert (status, xml_code(body)) == (404, "NoSuchBucket"), path
        for key in keys:
            assert s3.get_object(Bucket="fs-bucket", Key=key)["Body"].read() == key.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    stored = [p for p in data_dir.rglob("*") if p.is_file() and "blobs" in p.parts]
    assert len(stored) == len(keys) and all(BLOB.match(p.name) for p in stored)


def _runtime(data_dir: Path) -> Runtime:
    return Runtime(settings.load(env={}, flags={"data_dir": str(data_dir)}))


def test_backend_api_is_shared_with_the_server(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    backend = s3_backend(runtime)
    assert s3_backend(runtime) is backend
    backend.create_bucket("111111111111", "exports-bucket", "eu-west-1")
    backend.create_bucket("111111111111", "exports-bucket", "eu-west-1")  # idempotent for the owner
    src = backend.scratch_dir() / "report.csv"
    report = b"a,b\n1,2\n"
    src.write_bytes(report)
    etag = backend.put_object_from_file(
        "111111111111", "exports-bucket", "cur/report.csv", src, "text/csv"
    )
    assert etag == f'"{hashlib.md5(report).hexdigest()}"' and not src.exists()
    backend.put_object_bytes("111111111111", "exports-bucket", "cur/manifest.json", b"{}")
    assert backend.list_keys("exports-bucket", "cur/") == [
        ("cur/manifest.json", 2),
        ("cur/report.csv", 8),
    ]
    assert backend.read_object("exports-bucket", "cur/report.csv") == b"a,b\n1,2\n"
    assert backend.read_object("exports-bucket", "cur/manifest.json") == b"{}"
    assert backend.read_object("exports-bucket", "absent") is None
    assert backend.bucket_owner("exports-bucket") == "111111111111"
    assert backend.bucket_region("exports-bucket") == "eu-west-1"
    with pytest.raises(NoSuchBucketError):
        backend.put_object_bytes("111111111111", "no-such-bucket", "k", b"")
    with pytest.raises(AccessDeniedError):
        backend.put_object_bytes("222222222222", "exports-bucket", "k", b"")
    with pytest.raises(AccessDeniedError):
        backend.create_bucket("222222222222", "exports-bucket", "us-east-1")
    backend.delete_object("111111111111", "exports-bucket", "cur/manifest.json")
    runtime.close()

    with ServerProcess(data_dir=tmp_path) as server:
        s3 = make_client(server.endpoint, "s3", access_key="111111111111", region_name="eu-west-1")
        got = s3.get_object(Bucket="exports-bucket", Key="cur/report.csv")
        assert (got["Body"].read(), got["ContentType"], got["ETag"]) == (
            b"a,b\n1,2\n",
            "text/csv",
            etag,
        )
        s3.head_object(Bucket="exports-bucket", Key="cur/report.csv")
        s3.list_objects_v2(Bucket="exports-bucket")
        s3.put_object(Bucket="exports-bucket", Key="more", Body=b"123")
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket="exports-bucket", Key="cur/manifest.json")
        assert error_code(exc) == ("NoSuchKey", 404)

    runtime = _runtime(tmp_path)
    try:
        stats = s3_backend(runtime).bucket_stats("111111111111")
        assert len(stats) == 1
        row: Any = stats[0]
        assert (row.name, row.region, row.object_count, row.total_bytes) == (
            "exports-bucket",
            "eu-west-1",
            2,
            11,
        )
        assert (row.get_requests, row.put_requests, row.list_requests) == (3, 1, 1)
        assert s3_backend(runtime).bucket_stats("222222222222") == []
    finally:
        runtime.close()
