"""A full disk and an unwritable data directory: clear errors, never a corrupt store.

The data directory is a tiny tmpfs (`mount -t tmpfs -o size=...`; remounted read-only for
the unwritable cases) when this process may mount, as root in a container usually can.
Without that permission the disk-full case falls back to RLIMIT_FSIZE (512 KiB, inherited
by the server from the test process at start; the server ignores SIGXFSZ, so an
over-large write fails with EFBIG instead of killing it), which only S3's object writes
are sure to hit, and the read-only cases fall back to a directory without write
permission (which root ignores: skipped then).
"""

from __future__ import annotations

import contextlib
import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.cur_support import definition
from tests.dataexports_support import spec

CAN_MOUNT = os.geteuid() == 0 and os.environ.get("BCM_LOCAL_TEST_NO_MOUNT") != "1"
ENV = {"FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE": "off", "FLOCI_SERVICES_CUR_EMIT_MODE": "off"}


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, timeout=30).returncode == 0


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "6m") -> Iterator[bool]:
    """A tmpfs at `path` when mounting is permitted; yields whether it is one."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = CAN_MOUNT and _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def set_writable(path: Path, mounted: bool, writable: bool) -> None:
    if mounted:
        assert _mount("-o", f"remount,{'rw' if writable else 'ro'}", str(path))
    else:
        path.chmod(0o755 if writable else 0o555)


def error_of(call: Any, **kw: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call(**kw)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def stop_and_read_log(server: ServerProcess) -> str:
    assert server.stop() == 0
    return server.log


def integrity(data_dir: Path) -> str:
    with contextlib.closing(sqlite3.connect(data_dir / "state.sqlite3")) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def start_fails(data_dir: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "bcm_local", "serve", "--port", "0", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "cannot use data directory" in proc.stderr and "Traceback" not in proc.stderr
    return proc.stderr


class Clients:
    def __init__(self, server: ServerProcess) -> None:
        self.s3 = make_client(server.endpoint, "s3")
        self.bde = make_client(server.endpoint, "bcm-data-exports")
        self.cur = make_client(server.endpoint, "cur")

    def exports(self) -> list[str]:
        return sorted(e["ExportName"] for e in self.bde.list_exports()["Exports"])

    def reports(self) -> list[str]:
        found = self.cur.describe_report_definitions()["ReportDefinitions"]
        return sorted(r["ReportName"] for r in found)

    def objects(self) -> dict[str, bytes]:
        listed = self.s3.list_objects_v2(Bucket="fault-bucket").get("Contents", [])
        return {
            o["Key"]: self.s3.get_object(Bucket="fault-bucket", Key=o["Key"])["Body"].read()
            for o in listed
        }


def fill(mount: Path) -> Path:
    filler = mount / "filler"
    with filler.open("wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * (1 << 16))
            fh.flush()
    return filler


@contextlib.contextmanager
def file_size_limit(limit: int | None) -> Iterator[None]:
    """Processes started inside inherit RLIMIT_FSIZE = `limit` (None: unchanged)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if limit is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_disk_full_gives_clear_errors_and_keeps_the_store(tmp_path: Path) -> None:
    mount = tmp_path / "tiny"
    with tmpfs(mount) as mounted:
        data = mount / "data"
        server = ServerProcess(data_dir=data, env=ENV)
        with file_size_limit(None if mounted else 512 << 10):  # fallback: files of 512 KiB
            server.start()
        c = Clients(server)
        c.s3.create_bucket(Bucket="fault-bucket")
        c.s3.put_object(Bucket="fault-bucket", Key="before", Body=b"kept")
        c.bde.create_export(Export=spec("before"))
        c.cur.put_report_definition(ReportDefinition=definition("before"))
        if mounted:
            filler = fill(mount)

        big = os.urandom(1 << 20)
        assert error_of(c.s3.put_object, Bucket="fault-bucket", Key="during", Body=big) == (
            "InternalError",
            500,
        )
        if mounted:
            assert error_of(c.bde.create_export, Export=spec("during")) == (
                "InternalServerException",
                500,
            )
            assert error_of(c.cur.put_report_definition, ReportDefinition=definition("during")) == (
                "InternalErrorException",
                500,
            )
        assert server.health()["services"]["s3"] == "running"  # still up; reads still work
        assert c.objects() == {"before": b"kept"}
        assert c.exports() == ["before"] and c.reports() == ["before"]

        if mounted:
            filler.unlink()
        after = big if mounted else b"small enough"
        c.s3.put_object(Bucket="fault-bucket", Key="after", Body=after)  # room again: it works
        c.bde.create_export(Export=spec("during"))  # nothing of the failed attempt was left
        log = stop_and_read_log(server)
        assert "PutObject failed: cannot write to the data directory" in log, log
        if mounted:
            assert "CreateExport failed: cannot write to the data directory" in log
            assert "PutReportDefinition failed: cannot write to the data directory" in log
        assert "Traceback" not in log

        assert integrity(data) == "ok"
        with ServerProcess(data_dir=data, env=ENV) as server:
            c = Clients(server)
            assert c.objects() == {"before": b"kept", "after": after}
            assert c.exports() == ["before", "during"] and c.reports() == ["before"]
        assert [p for p in (data / "s3" / "tmp").rglob("*") if p.is_file()] == []


@pytest.mark.skipif(not CAN_MOUNT, reason="needs a filesystem that can be filled (tmpfs)")
def test_start_on_a_full_disk_is_a_clear_error(tmp_path: Path) -> None:
    mount = tmp_path / "tiny"
    with tmpfs(mount, "1m"):
        fill(mount)
        start_fails(mount / "data")


def test_unwritable_data_dir(tmp_path: Path) -> None:
    """Read-only at start-up: a clear error, the store intact. (Becoming read-only while the
    server runs cannot be staged: a filesystem with files open for writing refuses to be
    remounted read-only; the failure path is the disk-full one, tested above.)"""
    mount = tmp_path / "ro"
    with tmpfs(mount) as mounted:
        if not mounted and os.geteuid() == 0:
            pytest.skip("root ignores permissions and cannot mount here")
        set_writable(mount, mounted, False)  # an empty data directory
        start_fails(mount)
        set_writable(mount, mounted, True)
        with ServerProcess(data_dir=mount, env=ENV) as server:
            c = Clients(server)
            c.s3.create_bucket(Bucket="fault-bucket")
            c.s3.put_object(Bucket="fault-bucket", Key="before", Body=b"kept")
            c.bde.create_export(Export=spec("before"))
        set_writable(mount, mounted, False)  # a data directory holding a store
        start_fails(mount)
        set_writable(mount, mounted, True)
        assert integrity(mount) == "ok"
        with ServerProcess(data_dir=mount, env=ENV) as server:
            c = Clients(server)
            assert c.objects() == {"before": b"kept"} and c.exports() == ["before"]
