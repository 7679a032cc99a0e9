"""Shared by the sharded-emission tests: an unsharded delivery made by `bcm-local emit`,
and the comparison of two deliveries' rows with DuckDB (the files as read back)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

NOW = "2026-05-27T12:00:00Z"
SETTINGS = {
    "BCM_LOCAL_NOW": NOW,
    "BCM_LOCAL_BILLING_SCALE": "3",
    "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1",
}
CUR = "COST_AND_USAGE_REPORT"
HOURLY = {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE"}
PERIODS = ("2026-04", "2026-05")


def emit(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bcm_local", "emit", "--out", str(out), "--scale", "3"]
    return subprocess.run(
        [*command, "--months", "1", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BCM_LOCAL_NOW": NOW},
    )


def unsharded(out: Path, table: str, props: dict[str, str]) -> Path:
    args = ["--table", table, "--workers", "1"]
    for name, value in props.items():
        args += ["--property", f"{name}={value}"]
    done = emit(out, *args)
    assert done.returncode == 0, done.stderr
    return out


def rows(folder: Path, period: str) -> str:
    return f"'{folder}/export/data/BILLING_PERIOD={period}/*.parquet'"


def assert_same_rows(one: Path, other: Path, id_column: str) -> None:
    for period in PERIODS:
        a, b = rows(one, period), rows(other, period)
        for x, y in ((a, b), (b, a)):
            left = duckdb.sql(f"SELECT count(*) FROM (FROM {x} EXCEPT ALL FROM {y})").fetchall()
            assert left == [(0,)], period
        counts = [
            duckdb.sql(f"SELECT count(*), count(DISTINCT {id_column}) FROM {f}").fetchall()
            for f in (a, b)
        ]
        assert counts[0] == counts[1] and counts[0][0][0] > 0


def manifest(folder: Path, period: str) -> dict[str, Any]:
    path = folder / f"export/metadata/BILLING_PERIOD={period}/export-Manifest.json"
    found: dict[str, Any] = json.loads(path.read_text())
    return found
