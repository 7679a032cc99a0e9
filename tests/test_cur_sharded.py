"""Legacy CUR reports written as shards (BCM_LOCAL_EXPORT_WORKERS, BCM_LOCAL_EXPORT_SHARDS):
the files read back from the server's S3 hold the rows, columns and artifacts a server
writing in its own process delivers, each shard's files in the report's own format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.cur_support import ATHENA, definition

# each report in an account of its own: an account's bill includes its buckets' requests,
# and a sharded delivery writes more files than an unsharded one
ACCOUNTS = {"csv": "123456789011", "pq": "123456789012", "summed": "123456789013"}
ENV = {"BCM_LOCAL_BILLING_SCALE": "3", "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1"}
SHARDED = {"BCM_LOCAL_EXPORT_WORKERS": "2", "BCM_LOCAL_EXPORT_SHARDS": "2"}
REPORTS = {
    "csv": definition("csv", TimeUnit="HOURLY", ReportVersioning="OVERWRITE_REPORT"),
    "pq": definition("pq", **ATHENA),
    "summed": definition("summed", AdditionalSchemaElements=[]),  # account groups
}


def deliver(server: ServerProcess, folder: Path) -> list[str]:
    """Each report's files, downloaded under `folder` / its bucket."""
    found = []
    for name, report in REPORTS.items():
        bucket = f"cur-{name}"
        s3 = make_client(server.endpoint, "s3", ACCOUNTS[name])
        s3.create_bucket(Bucket=bucket)
        cur = make_client(server.endpoint, "cur", ACCOUNTS[name])
        cur.put_report_definition(ReportDefinition={**report, "S3Bucket": bucket})
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
        for key in keys:
            path = folder / bucket / key.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        found += [f"{bucket}/{key.lstrip('/')}" for key in keys]
    return found


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[str]]]:
    found = {}
    for name, env in (("plain", ENV), ("sharded", {**ENV, **SHARDED})):
        folder = tmp_path_factory.mktemp(name)
        with ServerProcess(env=env) as server:
            found[name] = (folder, deliver(server, folder))
    return found


def _manifest(folder: Path, keys: list[str], report: str, month: str) -> dict[str, Any]:
    """The report's manifest of the billing period starting `month` (YYYYMMDD)."""
    for key in keys:
        if key.endswith(f"/{report}-Manifest.json"):
            found: dict[str, Any] = json.loads((folder / key).read_text())
            if found["billingPeriod"]["start"].startswith(month):
                return found
    raise AssertionError(f"no manifest of {report} for {month}")


def _rows(folder: Path, report: str, files: list[str], parquet: bool) -> str:
    paths = ", ".join(f"'{folder / f'cur-{report}' / f.lstrip('/')}'" for f in files)
    read = f"read_parquet([{paths}])" if parquet else f"read_csv([{paths}], all_varchar=true)"
    return f"(SELECT * FROM {read})"


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_a_sharded_report_is_the_unsharded_one(
    both: dict[str, tuple[Path, list[str]]], report: str
) -> None:
    parquet = REPORTS[report]["Format"] == "Parquet"
    for month in ("20260401", "20260501"):
        plain = _manifest(*both["plain"], report, month)
        sharded = _manifest(*both["sharded"], report, month)
        assert sharded["columns"] == plain["columns"]
        assert sharded["billingPeriod"] == plain["billingPeriod"]
        files = sharded["reportKeys"]
        names = [f.rsplit("/", 1)[1] for f in files]
        if parquet:
            assert names == [f"{report}-0000{g}-00001.snappy.parquet" for g in (1, 2)]
        else:
            assert names == [f"{report}-{g}-1.csv.gz" for g in (1, 2)]
        a = _rows(both["plain"][0], report, plain["reportKeys"], parquet)
        b = _rows(both["sharded"][0], report, files, parquet)
        for x, y in ((a, b), (b, a)):
            assert duckdb.sql(f"SELECT count(*) FROM ({x} EXCEPT ALL {y})").fetchall() == [(0,)]
    plain_keys = {k for k in both["plain"][1] if not k.endswith((".gz", "parquet", ".json"))}
    sharded_keys = {k for k in both["sharded"][1] if not k.endswith((".gz", "parquet", ".json"))}
    assert plain_keys == sharded_keys  # the same artifacts (Athena status, SQL, crawler)
