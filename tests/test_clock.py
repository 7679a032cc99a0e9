"""The emulator's one clock (BCM_LOCAL_NOW / --now): what it accepts, who may read the wall
clock, what a pinned clock moves (timestamps, S3 LastModified, status, the console), and
what a bad value does to `serve` and `emit` (nothing starts)."""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from bcm_local import clock
from bcm_local.testing import ServerProcess, free_port
from tests.conftest import make_client
from tests.dataexports_support import spec

SRC = Path(__file__).resolve().parents[1] / "src" / "bcm_local"

# calls that read the wall clock: (module or class, attribute)
_WALL = {
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "gmtime"),
    ("time", "localtime"),
    ("time", "ctime"),
    ("time", "asctime"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}
# time.gmtime(x) / localtime(x) with an argument format a given instant: not a reading
_ONLY_WITHOUT_ARGS = {"gmtime", "localtime", "ctime", "asctime"}


def _wall_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        attr = node.func.attr
        if (name, attr) not in _WALL or (attr in _ONLY_WITHOUT_ARGS and node.args):
            continue
        found.append(f"{path.relative_to(SRC)}:{node.lineno}: {name}.{attr}()")
    return found


def test_no_module_reads_the_wall_clock_but_the_clock() -> None:
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 50
    reads = [hit for m in modules if m.name != "clock.py" for hit in _wall_reads(m)]
    assert reads == [], "read the emulator's clock (bcm_local.clock) instead:\n" + "\n".join(reads)
    # the checker does see a read where there is one
    assert _wall_reads(SRC / "clock.py")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("2026-11-20T12:00:00Z", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20T12:00Z", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20T12:00:00.250000Z", datetime(2026, 11, 20, 12, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-20T12:00:00", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20T14:00:00+02:00", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2028-02-29T23:59:59Z", datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("", None),
        ("  ", None),
    ],
)
def test_accepted_forms(value: str, expected: datetime | None) -> None:
    assert clock.parse(value) == expected


@pytest.mark.parametrize(
    "value",
    ["tomorrow", "2026-13-01", "2027-02-29", "20261120", "2026-11-20 12:00", "12:00", "1999-12-31"],
)
def test_rejected_forms_name_the_value_and_the_forms(value: str) -> None:
    with pytest.raises(ValueError) as info:
        clock.parse(value)
    assert repr(value) in str(info.value)


def test_a_pinned_clock_ticks_from_its_start() -> None:
    start = datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)
    pinned = clock.Clock(start)
    first = pinned.now()
    assert start <= first < start + timedelta(seconds=5)
    assert pinned.now() >= first
    assert abs(pinned.time() - pinned.now().timestamp()) < 1
    machine = clock.Clock(None)
    assert abs(machine.time() - clock.machine_time()) < 5
    assert machine.describe() == "machine" and pinned.describe().startswith("pinned at 2026-02-28")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bcm_local", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("serve", "--now", "next tuesday"), {}),
        (("serve",), {"BCM_LOCAL_NOW": "next tuesday"}),
    ],
)
def test_a_malformed_clock_stops_serve_before_it_listens(
    args: tuple[str, ...], env: dict[str, str]
) -> None:
    port = free_port()
    proc = _cli(*args, "--port", str(port), env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "BCM_LOCAL_NOW" in lines[0] and "'next tuesday'" in lines[0]
    assert "YYYY-MM-DD" in lines[0]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # nothing listened there


def test_a_malformed_clock_stops_emit_before_it_writes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _cli("emit", "--table", "FOCUS_1_2_AWS", "--out", str(out), "--now", "2026-02-30")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "BCM_LOCAL_NOW" in lines[0] and "'2026-02-30'" in lines[0]
    assert not out.exists()


def test_emit_takes_the_clock(tmp_path: Path) -> None:
    proc = _cli(
        "emit", "--table", "FOCUS_1_2_AWS", "--out", str(tmp_path), "--now", "2027-03-05T08:10:00Z"
    )
    assert proc.returncode == 0, proc.stderr
    folders = sorted(p.name for p in (tmp_path / "export" / "data").iterdir())
    assert folders == ["BILLING_PERIOD=2027-03"]


PINNED = "2027-03-05T08:10:00Z"


@pytest.fixture(scope="module")
def pinned() -> Iterator[ServerProcess]:
    with ServerProcess(env={"BCM_LOCAL_NOW": PINNED}) as proc:
        yield proc


def test_timestamps_and_last_modified_follow_the_pinned_clock(pinned: ServerProcess) -> None:
    start = datetime(2027, 3, 5, 8, 10, tzinfo=UTC)
    s3 = make_client(pinned.endpoint, "s3")
    s3.create_bucket(Bucket="my-billing")
    s3.put_object(Bucket="my-billing", Key="hello.txt", Body=b"hi")
    modified = s3.head_object(Bucket="my-billing", Key="hello.txt")["LastModified"]
    assert start <= modified < start + timedelta(minutes=10)
    bde = make_client(pinned.endpoint, "bcm-data-exports")
    arn = bde.create_export(Export=spec("pinned"))["ExportArn"]
    status = bde.get_export(ExportArn=arn)["ExportStatus"]
    assert start <= status["CreatedAt"] < start + timedelta(minutes=10)
    [run] = bde.list_executions(ExportArn=arn)["Executions"]
    assert run["ExecutionStatus"]["StatusCode"] == "DELIVERY_SUCCESS"
    assert start <= run["ExecutionStatus"]["CompletedAt"] < start + timedelta(minutes=10)
    listing = s3.list_objects_v2(Bucket="my-billing", Prefix="focus/")["Contents"]
    assert all(start <= o["LastModified"] < start + timedelta(minutes=10) for o in listing)
    # the HTTP Date header stays on the machine's clock (clients correct their skew by it)
    headers = s3.head_object(Bucket="my-billing", Key="hello.txt")["ResponseMetadata"]
    sent = parsedate_to_datetime(headers["HTTPHeaders"]["date"])
    assert abs(sent.timestamp() - clock.machine_time()) < 120


def test_status_and_console_show_a_pinned_clock(pinned: ServerProcess) -> None:
    proc = _cli("status", "--endpoint", pinned.endpoint)
    assert proc.returncode == 0, proc.stderr
    assert "Clock: pinned at 2027-03-05T08:10:00Z" in proc.stdout
    with urllib.request.urlopen(pinned.endpoint + "/_bcm_local/", timeout=10) as resp:
        page = resp.read().decode()
    assert 'data-pinned="2027-03-05T08:10:00Z"' in page
    with urllib.request.urlopen(pinned.endpoint + "/_bcm_local/api/summary", timeout=10) as r:
        summary = json.load(r)
    assert summary["clock"]["pinned"] == "2027-03-05T08:10:00Z"
    assert summary["clock"]["now"] >= "2027-03-05T08:10:00Z"


def test_the_machine_clock_is_the_default_and_shows_nothing() -> None:
    with ServerProcess(env={"BCM_LOCAL_NOW": ""}) as proc:
        proc_status = _cli("status", "--endpoint", proc.endpoint)
        assert proc_status.returncode == 0 and "Clock:" not in proc_status.stdout
        with urllib.request.urlopen(proc.endpoint + "/_bcm_local/", timeout=10) as resp:
            assert "data-pinned" not in resp.read().decode()
        s3 = make_client(proc.endpoint, "s3")
        s3.create_bucket(Bucket="machine-clock")
        s3.put_object(Bucket="machine-clock", Key="k", Body=b"x")
        modified = s3.head_object(Bucket="machine-clock", Key="k")["LastModified"]
        assert abs(modified.timestamp() - clock.machine_time()) < 120
