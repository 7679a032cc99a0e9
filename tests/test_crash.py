"""SIGKILL at random moments, then restart on the same data directory.

Storms of create/update/delete calls (bcm-data-exports, cur) and of uploads run from
several threads, each thread owning its resources so their history is known: what was
acknowledged, and the one call that was in flight when the server died. After each
crash and restart every acknowledged operation is there, the in-flight one is either
wholly applied or not at all, every object in S3 is complete (bytes match its ETag and
size), no temporary file survives, and executions interrupted mid-delivery are
DELIVERY_FAILURE / INTERNAL_FAILURE. Kill moments come from a seeded RNG.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.cur_support import definition
from tests.dataexports_support import spec

INTERRUPTED: set[str] = set()
IN_PROGRESS = {"INITIATION_IN_PROCESS", "QUERY_QUEUED", "QUERY_IN_PROCESS", "DELIVERY_IN_PROCESS"}
ROUNDS = 3
STATS = {"crashes": 0, "acknowledged": 0, "in_flight": 0, "verified": 0, "interrupted_runs": 0}


@dataclass
class Thread:
    """One storm thread's knowledge: acknowledged state per resource, and the call in flight."""

    names: list[str]
    acked: dict[str, Any] = field(default_factory=dict)  # name -> version (None: absent)
    pending: dict[str, Any] = field(default_factory=dict)  # name -> version it would leave
    errors: list[str] = field(default_factory=list)


def storm(
    threads: list[Thread], step: Callable[[Thread, random.Random], None], seed: int
) -> list[threading.Thread]:
    def run(index: int, owner: Thread) -> None:
        rng = random.Random(seed * 100 + index)
        while True:
            try:
                step(owner, rng)
            except BotoCoreError:
                return  # the server died under this call: it stays pending
            except ClientError as err:  # an answer the storm never expects
                owner.errors.append(str(err))
                return

    started = [
        threading.Thread(target=run, args=(i, t), daemon=True) for i, t in enumerate(threads)
    ]
    for thread in started:
        thread.start()
    return started


def crash(server: ServerProcess, started: list[threading.Thread], after: float) -> None:
    time.sleep(after)
    server.kill()
    STATS["crashes"] += 1
    for thread in started:
        thread.join(60)


def settle(owner: Thread, name: str, actual: Any) -> None:
    """Check `actual` against what the thread knows, then take it as the new truth."""
    allowed = [owner.acked.get(name)]
    if name in owner.pending:
        allowed.append(owner.pending[name])
        STATS["in_flight"] += 1
    assert actual in allowed, (name, actual, allowed)
    owner.acked[name] = actual
    owner.pending.pop(name, None)
    STATS["verified"] += 1


def call(owner: Thread, name: str, leaves: Any, fn: Callable[[], Any]) -> None:
    owner.pending[name] = leaves
    fn()
    owner.acked[name] = leaves
    owner.pending.pop(name)
    STATS["acknowledged"] += 1


def check_objects(s3: Any, bucket: str) -> int:
    """Every listed object is complete: its bytes match its size and ETag."""
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            data = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            assert len(data) == obj["Size"], obj["Key"]
            if "-" not in obj["ETag"]:
                assert obj["ETag"] == f'"{hashlib.md5(data).hexdigest()}"', obj["Key"]
            if obj["Key"].endswith(".parquet"):
                assert data[:4] == data[-4:] == b"PAR1", obj["Key"]
            count += 1
    return count


def no_temp_files(data_dir: Path) -> None:
    assert [p for p in (data_dir / "s3" / "tmp").rglob("*") if p.is_file()] == []


# -- bcm-data-exports --------------------------------------------------------------------


def export_version(name: str, n: int) -> dict[str, Any]:
    return spec(
        name, Description=f"v{n}", **{"DestinationConfigurations.S3Destination.S3Prefix": f"p{n}"}
    )


def test_sigkill_during_a_data_exports_storm(tmp_path: Path) -> None:
    env = {"BCM_LOCAL_DATA_EXPORTS_QUOTAS": ""}
    threads = [Thread([f"t{i}-e{j}" for j in range(3)]) for i in range(4)]
    arns: dict[str, str] = {}
    versions = iter(range(1, 1_000_000))
    rng = random.Random(20261123)

    def step(owner: Thread, r: random.Random) -> None:
        name = r.choice(owner.names)
        arn = f"arn:aws:bcm-data-exports:us-east-1:000000000000:export/{name}"
        if owner.acked.get(name) is None:
            n = next(versions)
            tags = [{"Key": "created", "Value": str(n)}]
            call(
                owner,
                name,
                n,
                lambda: bde.create_export(Export=export_version(name, n), ResourceTags=tags),
            )
            arns[name] = arn
        elif r.random() < 0.7:
            n = next(versions)
            call(
                owner,
                name,
                n,
                lambda: bde.update_export(ExportArn=arn, Export=export_version(name, n)),
            )
        else:
            call(owner, name, None, lambda: bde.delete_export(ExportArn=arn))

    for round_ in range(ROUNDS):
        with ServerProcess(data_dir=tmp_path, env=env) as server:
            s3 = make_client(server.endpoint, "s3")
            s3.create_bucket(Bucket="my-billing")
            bde = make_client(server.endpoint, "bcm-data-exports")
            crash(server, storm(threads, step, round_), rng.uniform(0.5, 2.0))
        with ServerProcess(data_dir=tmp_path, env=env) as server:
            bde = make_client(server.endpoint, "bcm-data-exports")
            s3 = make_client(server.endpoint, "s3")
            listed = {e["ExportName"] for e in bde.list_exports()["Exports"]}
            for owner in threads:
                assert owner.errors == []
                for name in owner.names:
                    actual = _export_state(
                        bde, f"arn:aws:bcm-data-exports:us-east-1:000000000000:export/{name}", name
                    )
                    assert (actual is not None) == (name in listed)
                    settle(owner, name, actual)
            check_objects(s3, "my-billing")
            no_temp_files(tmp_path)
    print(f"crash figures after the data exports storm: {STATS}")


def _export_state(bde: Any, arn: str, name: str) -> int | None:
    try:
        got = bde.get_export(ExportArn=arn)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "ResourceNotFoundException"
        return None
    export = got["Export"]
    n = int(export["Description"][1:])
    assert export == {"ExportArn": arn, **export_version(name, n)}  # whole, never torn
    tags = bde.list_tags_for_resource(ResourceArn=arn)["ResourceTags"]
    assert len(tags) == 1 and tags[0]["Key"] == "created"
    for run in bde.list_executions(ExportArn=arn)["Executions"]:
        status = run["ExecutionStatus"]
        assert status["StatusCode"] not in IN_PROGRESS, status
        if status["StatusCode"] == "DELIVERY_FAILURE":
            assert status["StatusReason"] == "INTERNAL_FAILURE"
            INTERRUPTED.add(run["ExecutionId"])
            STATS["interrupted_runs"] = len(INTERRUPTED)
    return n


def test_sigkill_during_a_large_export(tmp_path: Path) -> None:
    env = {"BCM_LOCAL_BILLING_BACKFILL_MONTHS": "6", "BCM_LOCAL_BILLING_SCALE": "50"}
    server = ServerProcess(data_dir=tmp_path, env=env).start()
    try:
        make_client(server.endpoint, "s3").create_bucket(Bucket="my-billing")
        bde = make_client(server.endpoint, "bcm-data-exports")
        arn = "arn:aws:bcm-data-exports:us-east-1:000000000000:export/large"
        creating = threading.Thread(
            target=lambda: _ignore_death(lambda: bde.create_export(Export=spec("large"))),
            daemon=True,
        )
        creating.start()
        watcher = make_client(server.endpoint, "bcm-data-exports")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:  # the export appears once CreateExport's transaction commits
                runs = watcher.list_executions(ExportArn=arn)
            except ClientError:
                runs = {}
            codes = [r["ExecutionStatus"]["StatusCode"] for r in runs.get("Executions", [])]
            if "DELIVERY_IN_PROCESS" in codes:
                break
            time.sleep(0.005)
        else:
            raise AssertionError("the delivery never started")
        server.kill()
        STATS["crashes"] += 1
        creating.join(30)
    finally:
        server.stop()
    with ServerProcess(data_dir=tmp_path, env=env) as server:
        bde = make_client(server.endpoint, "bcm-data-exports")
        [run] = bde.list_executions(ExportArn=arn)["Executions"]
        status = bde.get_execution(ExportArn=arn, ExecutionId=run["ExecutionId"])["ExecutionStatus"]
        assert (status["StatusCode"], status["StatusReason"]) == (
            "DELIVERY_FAILURE",
            "INTERNAL_FAILURE",
        )
        assert status["CompletedAt"] >= status["CreatedAt"]
        export_status = bde.get_export(ExportArn=arn)["ExportStatus"]
        assert (export_status["StatusCode"], export_status["StatusReason"]) == (
            "UNHEALTHY",
            "INTERNAL_FAILURE",
        )
        s3 = make_client(server.endpoint, "s3")
        check_objects(s3, "my-billing")  # nothing, or only whole files
        no_temp_files(tmp_path)
        STATS["verified"] += 1
        INTERRUPTED.add(run["ExecutionId"])
        STATS["interrupted_runs"] = len(INTERRUPTED)


def _ignore_death(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except BotoCoreError:
        return None


# -- cur ---------------------------------------------------------------------------------


def test_sigkill_during_a_cur_storm(tmp_path: Path) -> None:
    env = {"BCM_LOCAL_CUR_REPORT_LIMIT": "1000"}
    threads = [Thread([f"t{i}-r{j}" for j in range(3)]) for i in range(4)]
    versions = iter(range(1, 1_000_000))
    rng = random.Random(6)

    def report(name: str, n: int) -> dict[str, Any]:
        return definition(name, S3Prefix=f"p{n}")

    def step(owner: Thread, r: random.Random) -> None:
        name = r.choice(owner.names)
        n = next(versions)
        if owner.acked.get(name) is None:
            tags = [{"Key": "created", "Value": str(n)}]
            call(
                owner,
                name,
                n,
                lambda: cur.put_report_definition(ReportDefinition=report(name, n), Tags=tags),
            )
        elif r.random() < 0.7:
            call(
                owner,
                name,
                n,
                lambda: cur.modify_report_definition(
                    ReportName=name, ReportDefinition=report(name, n)
                ),
            )
        else:
            call(owner, name, None, lambda: cur.delete_report_definition(ReportName=name))

    for round_ in range(ROUNDS):
        with ServerProcess(data_dir=tmp_path, env=env) as server:
            make_client(server.endpoint, "s3").create_bucket(Bucket="cur-bucket")
            cur = make_client(server.endpoint, "cur")
            crash(server, storm(threads, step, round_), rng.uniform(0.5, 2.0))
        with ServerProcess(data_dir=tmp_path, env=env) as server:
            cur = make_client(server.endpoint, "cur")
            pages = cur.get_paginator("describe_report_definitions").paginate()
            found = {r["ReportName"]: r for p in pages for r in p["ReportDefinitions"]}
            for owner in threads:
                assert owner.errors == []
                for name in owner.names:
                    actual = None
                    if name in found:
                        actual = int(found[name]["S3Prefix"][1:])
                        expected = {
                            **report(name, actual),
                            "AdditionalArtifacts": [],
                            "RefreshClosedReports": True,
                            "ReportVersioning": "CREATE_NEW_REPORT",
                        }
                        assert {k: found[name].get(k) for k in expected} == expected
                        tags = cur.list_tags_for_resource(ReportName=name)["Tags"]
                        assert [t["Key"] for t in tags] == ["created"]
                    settle(owner, name, actual)
            check_objects(make_client(server.endpoint, "s3"), "cur-bucket")
            no_temp_files(tmp_path)
    print(f"crash figures after the cur storm: {STATS}")


# -- S3 uploads --------------------------------------------------------------------------


def test_sigkill_during_uploads(tmp_path: Path) -> None:
    threads = [Thread([f"t{i}/k{j}" for j in range(3)]) for i in range(4)]
    rng = random.Random(99)
    multipart = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)

    def body_of(n: int) -> bytes:
        size = [10_000, 1 << 20, 3 << 20, 11 << 20][n % 4]
        return hashlib.sha256(str(n).encode()).digest() * (size // 32)

    counter = iter(range(1, 1_000_000))

    def step(owner: Thread, r: random.Random) -> None:
        key = r.choice(owner.names)
        n = next(counter)
        if owner.acked.get(key) is not None and r.random() < 0.2:
            call(owner, key, None, lambda: s3.delete_object(Bucket="up-bucket", Key=key))
        elif n % 4 == 3:  # 11 MiB: a multipart upload
            import io

            call(
                owner,
                key,
                n,
                lambda: s3.upload_fileobj(
                    io.BytesIO(body_of(n)), "up-bucket", key, Config=multipart
                ),
            )
        else:
            call(owner, key, n, lambda: s3.put_object(Bucket="up-bucket", Key=key, Body=body_of(n)))

    for round_ in range(ROUNDS):
        with ServerProcess(data_dir=tmp_path) as server:
            s3 = make_client(server.endpoint, "s3")
            if round_ == 0:
                s3.create_bucket(Bucket="up-bucket")
            crash(server, storm(threads, step, round_), rng.uniform(0.3, 1.5))
        with ServerProcess(data_dir=tmp_path) as server:
            s3 = make_client(server.endpoint, "s3")
            for owner in threads:
                assert owner.errors == []
                for key in owner.names:
                    try:
                        data = s3.get_object(Bucket="up-bucket", Key=key)["Body"].read()
                        actual = next(
                            n
                            for n in [owner.acked.get(key), owner.pending.get(key)]
                            if n is not None and body_of(n) == data
                        )
                    except ClientError as err:
                        assert err.response["Error"]["Code"] == "NoSuchKey"
                        actual = None
                    except StopIteration:
                        raise AssertionError(
                            f"{key}: bytes of no version that was written"
                        ) from None
                    settle(owner, key, actual)
            check_objects(s3, "up-bucket")
            no_temp_files(tmp_path)
            uploads = s3.list_multipart_uploads(Bucket="up-bucket").get("Uploads", [])
            for upload in uploads:  # unfinished multipart uploads stay listable and abortable
                s3.abort_multipart_upload(
                    Bucket="up-bucket", Key=upload["Key"], UploadId=upload["UploadId"]
                )
    objects = s3_blob_count(tmp_path)
    assert objects == sum(1 for t in threads for k in t.names if t.acked.get(k) is not None)
    print(f"crash figures after the upload storm: {STATS}")


def s3_blob_count(data_dir: Path) -> int:
    return sum(1 for p in (data_dir / "s3" / "blobs").rglob("*") if p.is_file())
