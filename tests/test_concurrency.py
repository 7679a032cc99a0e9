"""Concurrent clients on one resource: every read sees a whole version, nothing is torn.

tests/test_dataexports_concurrency.py already covers 50 concurrent CreateExport calls of
one name, quotas under concurrency, and reads during concurrent updates. This module adds
deletes and re-creates to that mix, concurrent PutObject (and reads) on one S3 key, and
concurrent PutReportDefinition of one name.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from bcm_local.services.dataexports.exports import EXECUTIONS, EXPORTS, NAMES
from bcm_local.store import Store
from bcm_local.testing import ServerProcess
from tests.conftest import NO_RETRY, make_client
from tests.cur_support import definition
from tests.dataexports_support import spec

WIDE = NO_RETRY.merge(Config(max_pool_connections=50))


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except ClientError as err:
        return str(err.response["Error"]["Code"]), None


def version(n: int) -> dict[str, Any]:
    """Export `torn` at version n: the version is written in two places that must agree."""
    return spec(
        "torn", Description=f"v{n}", **{"DestinationConfigurations.S3Destination.S3Prefix": f"p{n}"}
    )


def check_whole(export: dict[str, Any]) -> int:
    n = int(export["Description"][1:])
    assert export == {"ExportArn": export["ExportArn"], **version(n)}, export
    return n


def test_update_delete_get_on_one_export_never_tear(tmp_path: Path) -> None:
    rng = random.Random(8)
    plans = [[rng.choice("cudgle") for _ in range(14)] for _ in range(8)]
    with ServerProcess(data_dir=tmp_path) as proc:
        make_client(proc.endpoint, "s3").create_bucket(Bucket="my-billing")
        bde = make_client(proc.endpoint, "bcm-data-exports", config=WIDE)
        arn = bde.create_export(Export=version(0))["ExportArn"]
        counter = iter(range(1, 10_000))

        def worker(plan: list[str]) -> list[str]:
            seen = []
            for step in plan:
                n = next(counter)
                if step == "c":
                    code, _ = outcome(lambda n=n: bde.create_export(Export=version(n)))
                    assert code in ("ok", "ValidationException")
                elif step == "u":
                    code, _ = outcome(
                        lambda n=n: bde.update_export(ExportArn=arn, Export=version(n))
                    )
                    assert code in ("ok", "ResourceNotFoundException")
                elif step == "d":
                    code, _ = outcome(lambda: bde.delete_export(ExportArn=arn))
                    assert code in ("ok", "ResourceNotFoundException")
                elif step == "g":
                    code, got = outcome(lambda: bde.get_export(ExportArn=arn))
                    assert code in ("ok", "ResourceNotFoundException")
                    if got:
                        check_whole(got["Export"])
                elif step == "l":
                    code, got = outcome(lambda: bde.list_exports())
                    for ref in got["Exports"] if got else []:
                        assert (ref["ExportName"], ref["ExportArn"]) == ("torn", arn)
                else:
                    code, got = outcome(lambda: bde.list_executions(ExportArn=arn))
                    for run in got["Executions"] if got else []:
                        code2, full = outcome(
                            lambda run=run: bde.get_execution(
                                ExportArn=arn, ExecutionId=run["ExecutionId"]
                            )
                        )
                        assert code2 in ("ok", "ResourceNotFoundException")
                        if full:
                            check_whole(full["Export"])
                seen.append(code)
            return seen

        with ThreadPoolExecutor(8) as pool:
            results = [c for codes in pool.map(worker, plans) for c in codes]
        assert "ok" in results
        listed = bde.list_exports()["Exports"]
        assert len(listed) <= 1
    store = Store(tmp_path / "state.sqlite3")
    try:
        exports = store.scan(EXPORTS)
        names = store.scan(NAMES)
        assert len(exports) == len(names) == len(listed)
        for run in store.scan(EXECUTIONS):  # no run outlives its export, none is left running
            assert run.key.rpartition("::")[0] in {e.key for e in exports}
            assert run.value["ExecutionStatus"]["StatusCode"].startswith(("DELIVERY_", "QUERY_"))
            check_whole(run.value["Export"])
    finally:
        store.close()


def test_concurrent_puts_of_one_key_leave_one_whole_version(
    client: Callable[..., Any], tmp_path: Path
) -> None:
    s3 = client("s3", config=WIDE)
    s3.create_bucket(Bucket="race-bucket")
    bodies = [
        bytes([i]) * (200_000 + 37_000 * i) + hashlib.sha256(bytes([i])).digest() for i in range(24)
    ]
    md5s = {f'"{hashlib.md5(b).hexdigest()}"': b for b in bodies}

    def put(body: bytes) -> str:
        return str(s3.put_object(Bucket="race-bucket", Key="contended", Body=body)["ETag"])

    def read(i: int) -> None:
        if i % 2:  # a copy of the contended key is one whole version too
            _, copied = outcome(
                lambda: s3.copy_object(
                    Bucket="race-bucket", Key=f"copy{i}", CopySource="race-bucket/contended"
                )
            )
            if copied:
                got = s3.get_object(Bucket="race-bucket", Key=f"copy{i}")
                assert md5s[got["ETag"]] == got["Body"].read()
                s3.delete_object(Bucket="race-bucket", Key=f"copy{i}")
            return
        _, got = outcome(lambda: s3.get_object(Bucket="race-bucket", Key="contended"))
        if got:
            data = got["Body"].read()
            assert md5s.get(got["ETag"]) == data and len(data) == got["ContentLength"]

    with ThreadPoolExecutor(32) as pool:
        writes = pool.map(put, bodies)
        reads = pool.map(read, range(60))
        etags = list(writes)
        list(reads)
    assert sorted(etags) == sorted(md5s)  # every writer was told its own ETag
    final = s3.get_object(Bucket="race-bucket", Key="contended")
    data = final["Body"].read()
    assert md5s[final["ETag"]] == data
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="race-bucket")["Contents"]] == ["contended"]


def test_concurrent_puts_leave_no_stray_blob(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path) as proc:
        s3 = make_client(proc.endpoint, "s3", config=WIDE)
        s3.create_bucket(Bucket="race-bucket")
        with ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda i: s3.put_object(Bucket="race-bucket", Key="k", Body=b"%d" % i * 9999),
                    range(32),
                )
            )
    blobs = [p for p in (tmp_path / "s3" / "blobs").rglob("*") if p.is_file()]
    temps = [p for p in (tmp_path / "s3" / "tmp").rglob("*") if p.is_file()]
    assert (len(blobs), temps) == (1, [])


def test_concurrent_put_report_definitions_of_one_name(client: Callable[..., Any]) -> None:
    cur = client("cur", access_key="313131313131", config=WIDE)
    body = definition("raced", S3Bucket="nowhere-bucket")
    with ThreadPoolExecutor(30) as pool:
        codes = [
            c
            for c, _ in pool.map(
                lambda _: outcome(lambda: cur.put_report_definition(ReportDefinition=body)),
                range(30),
            )
        ]
    assert codes.count("ok") == 1
    assert set(codes) == {"ok", "DuplicateReportNameException"}
    [report] = cur.describe_report_definitions()["ReportDefinitions"]
    assert report["ReportName"] == "raced"


def test_concurrent_put_report_definitions_respect_the_limit(client: Callable[..., Any]) -> None:
    cur = client("cur", access_key="323232323232", config=WIDE)
    with ThreadPoolExecutor(20) as pool:
        codes = [
            c
            for c, _ in pool.map(
                lambda i: outcome(
                    lambda: cur.put_report_definition(ReportDefinition=definition(f"r{i}"))
                ),
                range(20),
            )
        ]
    assert codes.count("ok") == 5
    assert set(codes) == {"ok", "ReportLimitReachedException"}
    assert len(cur.describe_report_definitions()["ReportDefinitions"]) == 5
