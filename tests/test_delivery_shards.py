"""Sharded emission (issue 21): the union of the shards is the unsharded delivery, row for
row (account and resource groups) or byte for byte (one shard a period); bad plans, a
missing shard and a dying worker leave no manifest; a re-run replaces one shard's files."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

import bcm_local
from bcm_local.delivery.shards import ShardError
from bcm_local.delivery.shards.local import run_local
from tests.shards_support import (
    CUR,
    HOURLY,
    PERIODS,
    SETTINGS,
    assert_same_rows,
    emit,
    manifest,
    rows,
    unsharded,
)


def test_resource_shards_of_cur2_are_the_unsharded_rows(tmp_path: Path) -> None:
    whole = unsharded(tmp_path / "whole", CUR, HOURLY)
    tasks = bcm_local.shards(
        out=tmp_path / "sharded",
        table=CUR,
        properties=HOURLY,
        by="resource",
        groups=3,
        settings=SETTINGS,
    )
    assert [str(t.key) for t in tasks][:3] == [f"2026-04/resource/{g}-of-3" for g in (1, 2, 3)]
    results = [bcm_local.run_shard(t) for t in reversed(tasks)]  # any order
    keys = bcm_local.finish(tasks, results)
    assert_same_rows(whole, tmp_path / "sharded", "identity_line_item_id")
    for period in PERIODS:
        listed = manifest(tmp_path / "sharded", period)["dataFiles"]
        names = [key.rsplit("/", 1)[1] for key in listed]
        assert names == [f"export-{g:05d}-00001.snappy.parquet" for g in (1, 2, 3)]
        assert all(any(k.endswith(n) for k in keys) for n in names)
        assert (
            manifest(tmp_path / "sharded", period)["columns"] == manifest(whole, period)["columns"]
        )
    totals = [
        duckdb.sql(
            f"SELECT round(sum(line_item_unblended_cost), 6) FROM {rows(f, '2026-04')}"
        ).fetchall()
        for f in (whole, tmp_path / "sharded")
    ]
    assert totals[0] == totals[1]


def test_account_shards_of_focus_keep_each_account_whole(tmp_path: Path) -> None:
    whole = unsharded(tmp_path / "whole", "FOCUS_1_2_AWS", {})
    done = emit(
        tmp_path / "sharded",
        "--table",
        "FOCUS_1_2_AWS",
        "--shards",
        "2",
        "--shard-by",
        "account",
        "--workers",
        "2",
    )
    assert done.returncode == 0, done.stderr
    assert_same_rows(whole, tmp_path / "sharded", "ChargePeriodStart")
    folder = tmp_path / "sharded/export/data/BILLING_PERIOD=2026-05"
    per_file = [
        {a for (a,) in duckdb.sql(f"SELECT DISTINCT SubAccountId FROM '{p}'").fetchall()}
        for p in sorted(folder.iterdir())
    ]
    assert len(per_file) == 2 and not per_file[0] & per_file[1] and all(per_file)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_shard_a_period_writes_the_unsharded_bytes(tmp_path: Path, fmt: str) -> None:
    props = ["--property", "INCLUDE_RESOURCES=TRUE", "--format", fmt]
    one = emit(tmp_path / "one", "--table", CUR, "--workers", "1", *props)
    two = emit(tmp_path / "two", "--table", CUR, "--workers", "2", *props)
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    data = sorted(
        p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*/data/**/*.*")
    )
    assert len(data) == 2
    for path in data:
        assert (tmp_path / "one" / path).read_bytes() == (tmp_path / "two" / path).read_bytes()


def test_progress_reports_each_shard(tmp_path: Path) -> None:
    done = emit(
        tmp_path,
        "--table",
        CUR,
        "--property",
        "INCLUDE_RESOURCES=TRUE",
        "--shards",
        "2",
        "--workers",
        "2",
        "--progress",
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("bcm-local emit:")]
    assert len(lines) == 4 and lines[-1].startswith("bcm-local emit: 4/4 shards, ")
    assert all(" rows/s | 2026-0" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard-by", "owner"], "unknown shard key 'owner'"),
        (["--shards", "0"], "at least 1"),
        (["--shards", "3", "--shard-by", "period"], "one shard per billing period"),
        (["--shards", "40", "--shard-by", "account"], "do not divide the work"),
        (["--shards", "2", "--property", "INCLUDE_RESOURCES=FALSE"], "INCLUDE_RESOURCES=FALSE"),
        (["--shards", "2", "--query", f"SELECT * FROM {CUR} LIMIT 5"], "LIMIT"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_plans_are_refused_clearly(tmp_path: Path, args: list[str], message: str) -> None:
    table = [] if "--query" in args else ["--table", CUR]
    done = emit(tmp_path / "out", *table, *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.rglob("*Manifest.json"))


def test_a_missing_shard_writes_no_manifest_and_a_rerun_replaces_only_its_files(
    tmp_path: Path,
) -> None:
    tasks = bcm_local.shards(
        out=tmp_path, table=CUR, properties=HOURLY, by="resource", groups=3, settings=SETTINGS
    )
    results = [bcm_local.run_shard(t) for t in tasks[:-1]]
    with pytest.raises(ShardError, match=r"1 of 6 shards have no result .*2026-05/resource/3-of-3"):
        bcm_local.finish(tasks, [*results, None])
    assert not list(tmp_path.rglob("*Manifest.json"))
    results.append(bcm_local.run_shard(tasks[-1]))
    bcm_local.finish(tasks, results)
    folder = tmp_path / "export/data/BILLING_PERIOD=2026-04"
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()}
    surplus = folder / "export-00002-00002.snappy.parquet"  # of an earlier, larger run
    surplus.write_bytes(b"stale")
    again = bcm_local.run_shard(tasks[1])
    assert again == replace(results[1], seconds=again.seconds, peak_rss_mib=again.peak_rss_mib)
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()}
    assert set(after) == set(before)  # the surplus part went
    changed = {name for name in after if after[name][0] != before[name][0]}
    assert changed == {"export-00002-00001.snappy.parquet"}
    assert all(after[name][1] == before[name][1] for name in after)


class _Dies:
    """Unpickled in a worker, it ends the worker's process at once."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return os._exit, (17,)


def test_a_worker_that_dies_stops_the_delivery_before_any_manifest(tmp_path: Path) -> None:
    tasks = bcm_local.shards(out=tmp_path, table=CUR, settings=SETTINGS)
    doomed = [tasks[0], replace(tasks[1], values={**tasks[1].values, "dies": _Dies()})]
    with pytest.raises(ShardError, match="worker process died"):
        run_local(doomed, workers=2)
    assert not list(tmp_path.rglob("*Manifest.json"))


def test_on_a_terminal_progress_is_a_bar_across_shards(tmp_path: Path) -> None:
    import pty
    import select
    import subprocess
    import sys

    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "bcm_local", "emit", "--out", str(tmp_path), "--scale", "3"]
    running = subprocess.Popen(
        [*command, "--table", CUR, "--property", "INCLUDE_RESOURCES=TRUE", "--shards", "2"],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={**os.environ, "BCM_LOCAL_NOW": "2026-05-27T12:00:00Z", "COLUMNS": "160"},
    )
    os.close(follower)
    drawn = b""
    # read while it draws (a full terminal would stop it), until nobody writes any more
    while select.select([leader], [], [], 120.0)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every writer is gone
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert running.wait(timeout=300) == 0
    text = drawn.decode(errors="replace")
    assert "2/2" in text and "shards" in text and "rows/s" in text and "ETA" in text


def test_a_folder_on_another_file_system_gets_whole_files(tmp_path: Path) -> None:
    from bcm_local.delivery.sink import FolderSink

    other = Path("/dev/shm")
    if not other.is_dir() or other.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system here")
    root = Path(tempfile.mkdtemp(dir=other))
    try:
        staged = tmp_path / "part"
        staged.write_bytes(b"rows")
        FolderSink(root, tmp_path).put_file("a/b/export-00001.snappy.parquet", staged, "x")
        assert (root / "a/b/export-00001.snappy.parquet").read_bytes() == b"rows"
        assert not staged.exists() and [p.name for p in (root / "a/b").iterdir()] == [
            "export-00001.snappy.parquet"
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
