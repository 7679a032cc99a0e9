"""Large legacy reports are split like AWS splits them: `<report>-1.csv.gz`, `-2`, ... and
`<report>-00001.snappy.parquet`, ... above BCM_LOCAL_EXPORT_CHUNK_MB (the Data Exports
writer's setting), all listed in the manifest's reportKeys and the Redshift manifest."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator

import pandas as pd
import pytest

from bcm_local.testing import ServerProcess
from tests.cur_support import ATHENA, Tenant, body, csv_frame, definition, parquet_table

SCENARIO = {
    "resources": [
        {"kind": "ec2", "type": "m5.large", "count": 12, "name": "web", "tags": {"team": "shop"}},
        {"kind": "s3", "size_gb": 50, "name": "logs", "tags": {"team": "ops", "env": "prod"}},
    ]
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    scenario = tmp_path_factory.mktemp("scenario") / "small.json"
    scenario.write_text(json.dumps(SCENARIO))
    env = {
        "BCM_LOCAL_EXPORT_CHUNK_MB": "0.02",
        "BCM_LOCAL_BILLING_SCENARIO": str(scenario),
        # the closed month is a whole month: thousands of rows whatever the clock
        "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1",
    }
    with ServerProcess(env=env) as proc:
        yield proc


@pytest.fixture
def tenant(server: ServerProcess) -> Tenant:
    return Tenant(server.endpoint, "chunks")


def _latest_manifest(t: Tenant, report: str) -> dict[str, object]:
    """The latest manifest of the closed (full) month."""
    found = t.objects(f"reports/{report}/")
    closed, _current = [
        k for k in found if k.count("/") == 3 and k.endswith(f"{report}-Manifest.json")
    ]
    return t.manifest(closed)


def test_csv_report_is_split_into_numbered_chunks(tenant: Tenant) -> None:
    report = definition(
        "big",
        S3Bucket=tenant.bucket,
        AdditionalArtifacts=["REDSHIFT"],
        TimeUnit="HOURLY",
        AdditionalSchemaElements=["RESOURCES"],  # a line per instance: many chunks' worth
    )
    tenant.cur.put_report_definition(ReportDefinition=report)
    latest = _latest_manifest(tenant, "big")
    data = latest["reportKeys"]
    assert isinstance(data, list) and len(data) > 1
    folder = data[0].rpartition("/")[0]
    assert data == [f"{folder}/big-{n}.csv.gz" for n in range(1, len(data) + 1)]
    assert sorted(k for k in tenant.objects(folder) if k.endswith(".gz")) == data
    frames = [csv_frame(tenant.s3, tenant.bucket, k) for k in data]
    headers = [f"{c['category']}/{c['name']}" for c in latest["columns"]]  # type: ignore[union-attr,index]
    assert all(list(f.columns) == headers for f in frames)  # every chunk has the header
    rows = pd.concat(frames)
    assert rows["identity/LineItemId"].is_unique
    # ordered by usage start across the chunks, as one file would be
    assert rows["lineItem/UsageStartDate"].is_monotonic_increasing
    redshift = tenant.manifest(f"{folder}/big-RedshiftManifest.json")
    assert [e["url"] for e in redshift["entries"]] == [f"s3://{tenant.bucket}/{k}" for k in data]


def test_redshift_commands_map_user_tags(tenant: Tenant) -> None:
    report = definition("rs", S3Bucket=tenant.bucket, AdditionalArtifacts=["REDSHIFT"])
    tenant.cur.put_report_definition(ReportDefinition=report)
    latest = _latest_manifest(tenant, "rs")
    folder = latest["reportKeys"][0].rpartition("/")[0]  # type: ignore[index]
    sql = body(tenant.s3, tenant.bucket, f"{folder}/rs-RedshiftCommands.sql").decode()
    tags = [c["name"] for c in latest["columns"] if c["category"] == "resourceTags"]  # type: ignore[union-attr]
    assert {"user:env", "user:team"} <= set(tags)
    table = re.search(r"create table (AWSBilling\d{6})\(", sql)
    assert table
    name = table.group(1)
    assert re.search(r"\n  userTag0 VARCHAR\(512\)", sql) and "resourceTags_" not in sql
    assert sql.index(f"copy {name} from") < sql.index(f"create table {name}_tagMapping(")
    inserts = re.findall(
        rf"insert into {name}_tagMapping\(remappedUserTag, userTag\) values \('(userTag\d+)', "
        r"'([^']+)'\);",
        sql,
    )
    assert inserts == [(f"userTag{n}", tag) for n, tag in enumerate(tags)]


def test_zip_chunks_each_hold_one_csv(tenant: Tenant) -> None:
    report = definition(
        "zipped",
        S3Bucket=tenant.bucket,
        Compression="ZIP",
        ReportVersioning="OVERWRITE_REPORT",
        TimeUnit="HOURLY",
        AdditionalSchemaElements=["RESOURCES"],
    )
    tenant.cur.put_report_definition(ReportDefinition=report)
    data = _latest_manifest(tenant, "zipped")["reportKeys"]
    assert isinstance(data, list) and len(data) > 1
    for n, key in enumerate(data, 1):
        assert key.endswith(f"/zipped-{n}.csv.zip")
        with zipfile.ZipFile(io.BytesIO(body(tenant.s3, tenant.bucket, key))) as zf:
            assert zf.namelist() == [f"zipped-{n}.csv"]
    # delivered again in place: the same chunk keys, no leftovers
    tenant.cur.modify_report_definition(ReportName="zipped", ReportDefinition=report)
    folder = data[0].rpartition("/")[0] + "/"
    again = [k for k in tenant.objects(folder) if k.endswith(".csv.zip")]
    assert sorted(again) == sorted(data)


def test_parquet_chunks_and_totals_match_the_csv_report(tenant: Tenant) -> None:
    parquet = definition("pq", S3Bucket=tenant.bucket, TimeUnit="HOURLY", **ATHENA)
    tenant.cur.put_report_definition(ReportDefinition=parquet)
    found = tenant.objects("reports/pq/pq/")
    folders = {k.rpartition("/")[0] for k in found if k.endswith(".snappy.parquet")}
    closed = min(folders, key=lambda f: [int(n) for n in re.findall(r"=(\d+)", f)])
    data = sorted(k for k in found if k.endswith(".snappy.parquet") and k.startswith(closed + "/"))
    assert len(data) > 1
    assert [k.rpartition("/")[2] for k in data] == [
        f"pq-{n:05d}.snappy.parquet" for n in range(1, len(data) + 1)
    ]
    key = f"{closed}/pq-Manifest.json"
    assert tenant.manifest(key)["reportKeys"] == data
    parquet_total = sum(
        sum(
            parquet_table(tenant.s3, tenant.bucket, k)
            .column("line_item_unblended_cost")
            .to_pylist()
        )
        for k in data
    )
    csv = definition("flat", S3Bucket=tenant.bucket, TimeUnit="HOURLY")
    tenant.cur.put_report_definition(ReportDefinition=csv)
    csv_keys = _latest_manifest(tenant, "flat")["reportKeys"]
    assert isinstance(csv_keys, list)
    frames = pd.concat([csv_frame(tenant.s3, tenant.bucket, k) for k in csv_keys])
    assert frames["lineItem/UnblendedCost"].astype(float).sum() == pytest.approx(parquet_total)
