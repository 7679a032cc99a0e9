"""Every table, in every layout, format and compression, delivered at a pinned clock, has
the bytes recorded in tests/digests.json: a change to what users receive is never an
accident of moving code. A deliberate change re-records them:

    .venv/bin/python -m tests.test_digests      # rewrites tests/digests.json

The bytes depend on the Parquet and CSV writers, so the record names the DuckDB version
(pinned in pyproject.toml) it was made with; another version is a failure that says so.

Deliveries: every Data Exports table with its property variants, as Parquet and as
gzipped CSV, in the seed's layout and in AWS's (chunked, with a large hourly export that
the run writer writes); legacy CUR reports in CSV/GZIP, CSV/ZIP and Parquet at each time
unit; and `bcm-local emit`. Execution and assembly ids are blanked in keys; manifests are
compared with ids and timestamps blanked.

The machine's time zone must not matter (DuckDB's ICU zone follows it unless told): the
deliveries run in three zones, so a record made anywhere holds everywhere."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from bcm_local.testing import ServerProcess, export_body
from tests.conftest import make_client
from tests.cur_support import ATHENA, definition, keys

RECORD = Path(__file__).with_name("digests.json")
CLOCK = "2026-10-27T15:00:00Z"
BUCKET = "digests"
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64}")
_STAMP = re.compile(r"\d{8}T\d{6}(\.\d+)?Z|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")

CUR = "COST_AND_USAGE_REPORT"
_CUR_VARIANTS: dict[str, dict[str, str]] = {
    "cur-default": {},
    "cur-hourly": {"TIME_GRANULARITY": "HOURLY"},
    "cur-monthly": {"TIME_GRANULARITY": "MONTHLY"},
    "cur-resources": {"INCLUDE_RESOURCES": "TRUE"},
    "cur-split": {"INCLUDE_RESOURCES": "TRUE", "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "TRUE"},
    "cur-extras": {
        "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "TRUE",
        "INCLUDE_CAPACITY_RESERVATION_DATA": "TRUE",
        "INCLUDE_IAM_PRINCIPAL_DATA": "TRUE",
    },
}
EXPORTS: dict[str, tuple[str, dict[str, dict[str, str]] | None]] = {
    **{name: (f"SELECT * FROM {CUR}", {CUR: props}) for name, props in _CUR_VARIANTS.items()},
    "focus12": ("SELECT * FROM FOCUS_1_2_AWS", None),
    "focus12-hourly": (
        "SELECT * FROM FOCUS_1_2_AWS",
        {"FOCUS_1_2_AWS": {"TIME_GRANULARITY": "HOURLY"}},
    ),
    "focus10": ("SELECT * FROM FOCUS_1_0_AWS", None),
    "recommendations": ("SELECT * FROM COST_OPTIMIZATION_RECOMMENDATIONS", None),
    "dashboard": ("SELECT * FROM COST_AND_USAGE_DASHBOARD", None),
    "carbon": ("SELECT * FROM CARBON_EMISSIONS", None),
    "query": (
        "SELECT line_item_usage_account_id AS account, product.region AS region, "
        "resource_tags.user_team, line_item_unblended_cost FROM COST_AND_USAGE_REPORT "
        "WHERE line_item_unblended_cost > 0.5",
        {CUR: {"INCLUDE_RESOURCES": "TRUE"}},
    ),
}
# large enough (>= 100k rows a month at this scale) for the run writer
RUN_WRITER: dict[str, tuple[str, dict[str, dict[str, str]] | None]] = {
    "runs-cur": (
        f"SELECT * FROM {CUR}",
        {CUR: {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE"}},
    ),
    "runs-focus": (
        "SELECT * FROM FOCUS_1_2_AWS",
        {"FOCUS_1_2_AWS": {"TIME_GRANULARITY": "HOURLY"}},
    ),
}
LEGACY: dict[str, dict[str, Any]] = {
    "legacy-gzip-daily": {},
    "legacy-gzip-hourly": {"TimeUnit": "HOURLY"},
    "legacy-zip-monthly": {"TimeUnit": "MONTHLY", "Compression": "ZIP"},
    "legacy-split": {"AdditionalSchemaElements": ["RESOURCES", "SPLIT_COST_ALLOCATION_DATA"]},
    "legacy-parquet": {"TimeUnit": "HOURLY", **ATHENA},
    "legacy-redshift": {"AdditionalArtifacts": ["REDSHIFT", "QUICKSIGHT"]},
}


# the zone each part runs in: none of them may change a byte
ZONES = {"floci": "UTC", "aws": "America/St_Johns", "emit": "Asia/Kathmandu"}


def _env(layout: str, scale: int) -> dict[str, str]:
    return {
        "TZ": ZONES[layout],
        "BCM_LOCAL_NOW": CLOCK,
        "BCM_LOCAL_EXPORT_LAYOUT": layout,
        "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1",
        "BCM_LOCAL_BILLING_SCALE": str(scale),
        "BCM_LOCAL_EXPORT_CHUNK_MB": "2",
        "BCM_LOCAL_DATA_EXPORTS_QUOTAS": "",
        "BCM_LOCAL_CUR_REPORT_LIMIT": "100",
    }


def _collect(s3: Any, prefix: str, into: dict[str, str]) -> None:
    for key in keys(s3, BUCKET, prefix):
        raw = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        name = _ID.sub("<id>", key)
        if key.endswith((".json", ".sql", ".yml")):  # they name the delivery's keys
            text = _STAMP.sub("<time>", _ID.sub("<id>", raw.decode()))
            into[name] = "json:" + hashlib.sha256(text.encode()).hexdigest()
        else:
            into[name] = hashlib.sha256(raw).hexdigest()


def _server_deliveries(
    layout: str, scale: int, exports: dict[str, Any], legacy: bool
) -> dict[str, str]:
    found: dict[str, str] = {}
    with ServerProcess(env=_env(layout, scale)) as proc:
        s3 = make_client(proc.endpoint, "s3")
        s3.create_bucket(Bucket=BUCKET)
        bde = make_client(proc.endpoint, "bcm-data-exports")
        for name, (query, tables) in exports.items():
            for fmt in ("PARQUET", "TEXT_OR_CSV"):
                body = export_body(
                    f"{name}-{fmt.lower()}", query, bucket=BUCKET, fmt=fmt, tables=tables
                )
                bde.create_export(Export=body)
        if legacy:
            cur = make_client(proc.endpoint, "cur")
            for name, changes in LEGACY.items():
                cur.put_report_definition(
                    ReportDefinition=definition(name, S3Bucket=BUCKET, **changes)
                )
        _collect(s3, "", found)
    return {f"{layout}/{k}": v for k, v in found.items()}


def _emitted() -> dict[str, str]:
    found: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as out:
        for table, props in (("FOCUS_1_2_AWS", []), (CUR, ["INCLUDE_RESOURCES=TRUE"])):
            args = ["--table", table, "--out", out, "--name", table.lower(), "--months", "1"]
            for prop in props:
                args += ["--property", prop]
            for fmt in ("parquet", "csv"):
                done = subprocess.run(
                    [sys.executable, "-m", "bcm_local", "emit", *args, "--format", fmt],
                    env={**os.environ, "BCM_LOCAL_NOW": CLOCK, "TZ": ZONES["emit"]},
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                assert done.returncode == 0, done.stderr
        for path in sorted(Path(out).rglob("*")):
            if path.is_file() and not path.name.endswith(".json"):
                found[f"emit/{path.relative_to(out)}"] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return found


def deliveries() -> dict[str, str]:
    found = _server_deliveries("floci", 1, EXPORTS, legacy=True)
    found |= _server_deliveries("aws", 1, EXPORTS, legacy=True)
    found |= _server_deliveries("aws", 3, RUN_WRITER, legacy=False)
    found |= _emitted()
    return dict(sorted(found.items()))


def test_deliveries_have_the_recorded_bytes() -> None:
    record = json.loads(RECORD.read_text())
    assert record["duckdb"] == duckdb.__version__, (
        f"tests/digests.json was recorded with DuckDB {record['duckdb']}, this is "
        f"{duckdb.__version__}: its writers' bytes differ; re-record (python -m tests.test_digests)"
    )
    found = deliveries()
    assert len(found) > 150
    changed = sorted(k for k in found if record["files"].get(k) != found[k])
    missing = sorted(set(record["files"]) - set(found))
    assert not changed and not missing, (
        f"{len(changed)} files differ from tests/digests.json, {len(missing)} are missing; "
        f"first: {(changed + missing)[:5]}"
    )


if __name__ == "__main__":
    os.environ["BCM_LOCAL_NOW"] = CLOCK
    files = deliveries()
    RECORD.write_text(
        json.dumps({"duckdb": duckdb.__version__, "clock": CLOCK, "files": files}, indent=1) + "\n"
    )
    print(f"recorded {len(files)} files in {RECORD}")
