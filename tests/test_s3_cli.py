"""The AWS CLI against the built-in S3: `aws s3 mb/cp/ls/sync/rm` and `aws s3api`."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from s3_support import bucket_name


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_mb_cp_multipart_ls_rm(cli: Callable[..., Any], tmp_path: Path) -> None:
    bucket = bucket_name("cli")
    cli("s3", "mb", f"s3://{bucket}")
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (80 * 1024))  # 20 MiB: the CLI uses multipart (8 MiB parts)
    cli("s3", "cp", str(big), f"s3://{bucket}/data/big.bin")
    head = cli("s3api", "head-object", "--bucket", bucket, "--key", "data/big.bin")
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].endswith('-3"')
    back = tmp_path / "back.bin"
    cli("s3", "cp", f"s3://{bucket}/data/big.bin", str(back))
    assert _md5(back) == _md5(big)
    listing = cli("s3", "ls", f"s3://{bucket}/data/")
    assert "big.bin" in listing and str(big.stat().st_size) in listing
    assert "PRE data/" in cli("s3", "ls", f"s3://{bucket}")
    assert bucket in cli("s3", "ls")
    cli("s3", "rm", "--recursive", f"s3://{bucket}/")
    assert cli("s3api", "list-objects-v2", "--bucket", bucket).get("KeyCount", 0) == 0
    cli("s3", "rb", f"s3://{bucket}")


def test_sync_both_ways(cli: Callable[..., Any], tmp_path: Path) -> None:
    bucket = bucket_name("sync")
    cli("s3", "mb", f"s3://{bucket}")
    src = tmp_path / "src"
    for rel in ["a.txt", "nested/b.csv", "nested/deeper/c.json", "space name.txt"]:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(f"content of {rel}")
    cli("s3", "sync", str(src), f"s3://{bucket}/mirror")
    listed = cli("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "mirror/")
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted(
        f"mirror/{r}" for r in ["a.txt", "nested/b.csv", "nested/deeper/c.json", "space name.txt"]
    )
    # sync compares sizes and times: give the local files the objects' LastModified (the
    # server's clock, pinned by the suite, need not be the file system's)
    for obj in listed["Contents"]:
        moment = datetime.fromisoformat(obj["LastModified"].replace("Z", "+00:00")).timestamp()
        os.utime(src / obj["Key"].removeprefix("mirror/"), (moment, moment))
    again = cli("s3", "sync", str(src), f"s3://{bucket}/mirror")  # nothing changed: no uploads
    assert not again or "upload:" not in again
    dest = tmp_path / "dest"
    cli("s3", "sync", f"s3://{bucket}/mirror", str(dest))
    assert (dest / "nested/deeper/c.json").read_text() == "content of nested/deeper/c.json"
    (src / "a.txt").unlink()
    cli("s3", "sync", "--delete", str(src), f"s3://{bucket}/mirror")
    keys = [o["Key"] for o in cli("s3api", "list-objects-v2", "--bucket", bucket)["Contents"]]
    assert "mirror/a.txt" not in keys and len(keys) == 3


def test_s3api_round_trip(cli: Callable[..., Any], tmp_path: Path) -> None:
    bucket = bucket_name("s3api")
    cli("s3api", "create-bucket", "--bucket", bucket)
    body = tmp_path / "body.txt"
    body.write_text("via s3api")
    put = cli(
        "s3api", "put-object", "--bucket", bucket, "--key", "k.txt", "--body", str(body),
        "--content-type", "text/plain", "--metadata", json.dumps({"team": "billing"}),
    )  # fmt: skip
    assert put["ETag"] == f'"{_md5(body)}"'
    out = tmp_path / "out.txt"
    got = cli("s3api", "get-object", "--bucket", bucket, "--key", "k.txt", str(out))
    assert out.read_text() == "via s3api"
    assert got["Metadata"] == {"team": "billing"} and got["ContentType"] == "text/plain"
    cli(
        "s3api",
        "copy-object",
        "--bucket",
        bucket,
        "--key",
        "k2.txt",
        "--copy-source",
        f"{bucket}/k.txt",
    )
    assert cli("s3api", "get-bucket-location", "--bucket", bucket)["LocationConstraint"] is None
    listed = cli("s3api", "list-objects", "--bucket", bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["k.txt", "k2.txt"]
    deleted = cli(
        "s3api", "delete-objects", "--bucket", bucket,
        "--delete", json.dumps({"Objects": [{"Key": "k.txt"}, {"Key": "k2.txt"}]}),
    )  # fmt: skip
    assert len(deleted["Deleted"]) == 2
    failed = cli("s3api", "head-bucket", "--bucket", bucket_name("absent"), check=False)
    assert failed.returncode != 0 and "404" in failed.stderr
    cli("s3api", "delete-bucket", "--bucket", bucket)


def test_cli_errors(cli: Callable[..., Any]) -> None:
    missing = cli("s3", "ls", f"s3://{bucket_name('nope')}", check=False)
    assert missing.returncode != 0 and "NoSuchBucket" in missing.stderr
    taken = bucket_name("taken")
    cli("s3", "mb", f"s3://{taken}")
    other = cli("s3", "mb", f"s3://{taken}", check=False, env={"AWS_ACCESS_KEY_ID": "111111111111"})
    assert other.returncode != 0 and "BucketAlreadyExists" in other.stderr
