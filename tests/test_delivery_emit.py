"""`bcm-local emit`: the export pipeline into a local folder, without a server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from billing_support import expected_schema


def emit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bcm_local", "emit", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_emit_parquet_with_backfill_and_a_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "org.json"
    scenario.write_text(json.dumps({"resources": [{"kind": "s3", "size_gb": 100, "name": "logs"}]}))
    done = emit(
        "--table",
        "FOCUS_1_2_AWS",
        "--format",
        "parquet",
        "--out",
        str(tmp_path / "out"),
        "--scenario",
        str(scenario),
        "--months",
        "1",
        "--name",
        "focus",
    )
    assert done.returncode == 0, done.stderr
    written = [Path(line) for line in done.stdout.split()]
    data = sorted(p for p in written if p.suffix == ".parquet")
    manifests = sorted(p for p in written if p.name == "focus-Manifest.json")
    assert len(data) == 2 and len(manifests) == 2
    assert all("/focus/data/BILLING_PERIOD=" in str(p) for p in data)
    for path in data:
        table = pq.read_table(path)
        assert table.schema.equals(expected_schema("FOCUS_1_2_AWS"))
        assert set(table.column("ResourceId").drop_null().to_pylist()) == {"logs"}
    manifest = json.loads(manifests[0].read_text())
    assert manifest["dataFiles"][0].endswith(data[0].name)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".emit-")]


def test_emit_csv_with_a_query(tmp_path: Path) -> None:
    done = emit(
        "--query",
        "SELECT line_item_product_code, product.vcpu AS vcpu FROM "
        "COST_AND_USAGE_REPORT WHERE line_item_unblended_cost > 0 LIMIT 20",
        "--format",
        "csv",
        "--out",
        str(tmp_path),
        "--property",
        "TIME_GRANULARITY=HOURLY",
    )
    assert done.returncode == 0, done.stderr
    (csv,) = [Path(p) for p in done.stdout.split() if p.endswith(".csv.gz")]
    frame = pd.read_csv(csv)
    assert list(frame.columns) == ["line_item_product_code", "vcpu"] and len(frame) == 20


def test_emit_reports_errors(tmp_path: Path) -> None:
    done = emit("--query", "SELECT nope FROM FOCUS_1_2_AWS", "--out", str(tmp_path))
    assert done.returncode == 2 and "not a subset" in done.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("resources:\n  - kind: ec3\n")
    done = emit("--table", "FOCUS_1_2_AWS", "--out", str(tmp_path), "--scenario", str(bad))
    assert done.returncode == 2 and "scenario.resources[0].kind" in done.stderr


def test_emit_progress_flag_reports_periods_files_and_rows(tmp_path: Path) -> None:
    done = emit(
        "--table",
        "FOCUS_1_2_AWS",
        "--out",
        str(tmp_path),
        "--months",
        "1",
        "--progress",
        "--workers",
        "1",
    )
    assert done.returncode == 0, done.stderr
    data = [Path(p) for p in done.stdout.split() if p.endswith(".parquet")]
    assert len(data) == 2 and all(
        Path(p).exists() for p in done.stdout.split()
    )  # stdout: paths only
    lines = [line for line in done.stderr.splitlines() if line.startswith("bcm-local emit:")]
    assert len(lines) == 2 and "\r" not in done.stderr  # not a terminal: plain lines
    assert lines[0].startswith("bcm-local emit: 1/2 periods, 1 files, ")
    assert lines[1].startswith("bcm-local emit: 2/2 periods, 2 files, ")
    per_period = [int(line.rsplit(": ", 1)[1].split()[2].replace(",", "")) for line in lines]
    assert per_period == [pq.read_metadata(p).num_rows for p in sorted(data)]
    quiet = emit("--table", "FOCUS_1_2_AWS", "--out", str(tmp_path / "quiet"))
    assert quiet.returncode == 0 and quiet.stderr == ""  # no terminal, no flag: silent
