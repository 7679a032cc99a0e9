"""Legacy CUR deliveries (synchronous emit mode, the default): files, layout, manifests and
artifacts as AWS writes them, readable by pandas, pyarrow and DuckDB, and a ReportStatus
that tells the truth."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.cur_support import (
    ATHENA,
    PARQUET,
    Tenant,
    body,
    csv_frame,
    definition,
    keys,
    parquet_table,
    reports,
)

STAMP = re.compile(r"^\d{8}T\d{6}Z$")
PERIOD = re.compile(r"^\d{6}01-\d{6}01$")
ASSEMBLY = re.compile(r"^[0-9a-f-]{36}$")
MANIFEST_KEYS = [
    "assemblyId",
    "account",
    "columns",
    "charset",
    "compression",
    "contentType",
    "reportId",
    "reportName",
    "billingPeriod",
    "bucket",
    "reportKeys",
    "additionalArtifactKeys",
]


@pytest.fixture
def tenant(server: ServerProcess) -> Tenant:
    return Tenant(server.endpoint)


def period_of(key: str) -> str:
    period = key.split("/")[2]
    assert PERIOD.match(period), key
    return period


# -- status -----------------------------------------------------------------------------


def test_a_delivered_report_says_success(tenant: Tenant) -> None:
    status = tenant.put("ok")["ReportStatus"]
    assert status["lastStatus"] == "SUCCESS"
    assert STAMP.match(status["lastDelivery"])


def test_a_missing_bucket_says_error_no_bucket_until_it_exists(tenant: Tenant) -> None:
    missing = f"{tenant.bucket}-missing"
    tenant.cur.put_report_definition(ReportDefinition=definition("nb", S3Bucket=missing))
    assert reports(tenant.cur)["nb"]["ReportStatus"]["lastStatus"] == "ERROR_NO_BUCKET"
    tenant.s3.create_bucket(Bucket=missing)
    tenant.cur.modify_report_definition(
        ReportName="nb", ReportDefinition=definition("nb", S3Bucket=missing)
    )
    assert reports(tenant.cur)["nb"]["ReportStatus"]["lastStatus"] == "SUCCESS"


def test_a_bucket_of_another_account_says_error_permissions(server: ServerProcess) -> None:
    owner, other = Tenant(server.endpoint), Tenant(server.endpoint)
    other.cur.put_report_definition(ReportDefinition=definition("perm", S3Bucket=owner.bucket))
    assert reports(other.cur)["perm"]["ReportStatus"]["lastStatus"] == "ERROR_PERMISSIONS"
    assert owner.objects() == []


# -- textORcsv --------------------------------------------------------------------------


def test_csv_create_new_report_layout_manifest_and_artifacts(tenant: Tenant) -> None:
    tenant.put("csv", AdditionalArtifacts=["REDSHIFT", "QUICKSIGHT"])
    found = tenant.objects()
    data = [k for k in found if k.endswith(".csv.gz")]
    assert len(data) == 1
    prefix, report, period, assembly, name = data[0].split("/")
    assert (prefix, report, name) == ("reports", "csv", "csv-1.csv.gz")
    assert ASSEMBLY.match(assembly)
    folder = f"reports/csv/{period}"
    assert found == sorted(
        [
            "aws-programmatic-access-test-object",
            f"{folder}/csv-Manifest.json",
            f"{folder}/{assembly}/csv-1.csv.gz",
            f"{folder}/{assembly}/csv-Manifest.json",
            f"{folder}/{assembly}/csv-RedshiftCommands.sql",
            f"{folder}/{assembly}/csv-RedshiftManifest.json",
            f"reports/csv/QuickSight/csv-{period}-QuickSightManifest.json",
        ]
    )
    latest = tenant.manifest(f"{folder}/csv-Manifest.json")
    assert latest == tenant.manifest(f"{folder}/{assembly}/csv-Manifest.json")
    assert list(latest) == MANIFEST_KEYS
    start, end = period.split("-")
    assert latest["billingPeriod"] == {"start": f"{start}T000000.000Z", "end": f"{end}T000000.000Z"}
    assert latest["assemblyId"] == assembly
    assert latest["account"] == tenant.account
    assert latest["bucket"] == tenant.bucket
    assert latest["reportName"] == "csv"
    assert re.fullmatch(r"[0-9a-f]{64}", latest["reportId"])
    assert (latest["compression"], latest["contentType"], latest["charset"]) == (
        "GZIP",
        "text/csv",
        "UTF-8",
    )
    assert latest["reportKeys"] == data
    assert latest["additionalArtifactKeys"] == [
        {
            "artifactType": "RedshiftCommands",
            "name": f"{folder}/{assembly}/csv-RedshiftCommands.sql",
        },
        {
            "artifactType": "RedshiftManifest",
            "name": f"{folder}/{assembly}/csv-RedshiftManifest.json",
        },
        {
            "artifactType": "QuickSightManifest",
            "name": f"reports/csv/QuickSight/csv-{period}-QuickSightManifest.json",
        },
    ]
    frame = csv_frame(tenant.s3, tenant.bucket, data[0])
    headers = [f"{c['category']}/{c['name']}" for c in latest["columns"]]
    assert list(frame.columns) == headers
    assert {"identity/LineItemId", "lineItem/UnblendedCost", "lineItem/ResourceId"} <= set(headers)
    types = {f"{c['category']}/{c['name']}": c["type"] for c in latest["columns"]}
    assert types["identity/TimeInterval"] == "Interval"
    assert types["lineItem/UsageStartDate"] == "DateTime"
    assert types["lineItem/UnblendedCost"] == "BigDecimal"


def test_redshift_and_quicksight_files_point_at_the_data(tenant: Tenant) -> None:
    import json

    tenant.put("rs", AdditionalArtifacts=["REDSHIFT", "QUICKSIGHT"])
    found = tenant.objects()
    data = next(k for k in found if k.endswith(".csv.gz"))
    rs_manifest = next(k for k in found if k.endswith("-RedshiftManifest.json"))
    assert tenant.manifest(rs_manifest) == {
        "entries": [{"url": f"s3://{tenant.bucket}/{data}", "mandatory": True}]
    }
    commands = body(tenant.s3, tenant.bucket, rs_manifest.replace("Manifest.json", "Commands.sql"))
    sql = commands.decode()
    period = period_of(data)
    assert f"create table AWSBilling{period[:6]}(" in sql
    assert "lineItem_UnblendedCost DECIMAL" in sql
    assert f"copy AWSBilling{period[:6]} from 's3://{tenant.bucket}/{rs_manifest}'" in sql
    assert "GZIP" in sql and "manifest;" in sql
    quicksight = next(k for k in found if k.endswith("-QuickSightManifest.json"))
    qs = json.loads(body(tenant.s3, tenant.bucket, quicksight))
    assert qs["fileLocations"] == [{"URIs": [f"s3://{tenant.bucket}/{data}"]}]
    assert qs["globalUploadSettings"]["containsHeader"] == "true"


def test_each_create_new_delivery_gets_its_own_assembly(tenant: Tenant) -> None:
    tenant.put("twice")
    tenant.modify("twice", S3Prefix="reports")
    data = [k for k in tenant.objects() if k.endswith(".csv.gz")]
    assert len(data) == 2
    assemblies = {k.split("/")[3] for k in data}
    assert len(assemblies) == 2
    latest = tenant.manifest(f"reports/twice/{period_of(data[0])}/twice-Manifest.json")
    assert latest["assemblyId"] in assemblies
    assert (
        tenant.manifest(f"{latest['reportKeys'][0].rpartition('/')[0]}/twice-Manifest.json")
        == latest
    )


def test_csv_zip_overwrite_report_is_replaced_in_place(tenant: Tenant) -> None:
    tenant.put("ow", Compression="ZIP", ReportVersioning="OVERWRITE_REPORT")
    first = tenant.objects("reports/ow/")
    period = period_of(first[0])
    assert first == [f"reports/ow/{period}/ow-1.csv.zip", f"reports/ow/{period}/ow-Manifest.json"]
    frame = csv_frame(tenant.s3, tenant.bucket, first[0])
    assert "lineItem/UnblendedCost" in frame.columns
    tenant.modify("ow", Compression="ZIP", ReportVersioning="OVERWRITE_REPORT")
    assert tenant.objects("reports/ow/") == first
    tenant.modify("ow", Compression="GZIP", ReportVersioning="OVERWRITE_REPORT")
    assert tenant.objects("reports/ow/") == [
        f"reports/ow/{period}/ow-1.csv.gz",
        f"reports/ow/{period}/ow-Manifest.json",
    ]
    assert tenant.manifest(f"reports/ow/{period}/ow-Manifest.json")["compression"] == "GZIP"


def test_an_empty_prefix_starts_keys_with_a_slash(tenant: Tenant) -> None:
    tenant.put("np", S3Prefix="", ReportVersioning="OVERWRITE_REPORT")
    data = [k for k in tenant.objects() if k.endswith(".csv.gz")]
    assert len(data) == 1 and data[0].startswith("/np/")


def test_report_id_is_stable_across_deliveries(tenant: Tenant) -> None:
    tenant.put("stable", ReportVersioning="OVERWRITE_REPORT")
    key = next(k for k in tenant.objects() if k.endswith("Manifest.json"))
    first = tenant.manifest(key)
    tenant.modify("stable", ReportVersioning="OVERWRITE_REPORT", S3Region="us-west-2")
    second = tenant.manifest(key)
    assert first["reportId"] == second["reportId"]
    assert first["assemblyId"] != second["assemblyId"]


# -- schema elements --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elements", "present", "absent"),
    [
        ([], set(), {"lineItem/ResourceId", "splitLineItem/SplitCost"}),
        (["RESOURCES"], {"lineItem/ResourceId"}, {"splitLineItem/SplitCost"}),
        (
            ["RESOURCES", "SPLIT_COST_ALLOCATION_DATA"],
            {"lineItem/ResourceId", "splitLineItem/SplitCost", "splitLineItem/ParentResourceId"},
            set(),
        ),
        (
            ["MANUAL_DISCOUNT_COMPATIBILITY"],
            {"discount/BundledDiscount"},
            {"discount/TotalDiscount"},
        ),
    ],
)
def test_schema_elements_choose_the_columns(
    tenant: Tenant, elements: list[str], present: set[str], absent: set[str]
) -> None:
    tenant.put("cols", AdditionalSchemaElements=elements, ReportVersioning="OVERWRITE_REPORT")
    data = next(k for k in tenant.objects() if k.endswith(".csv.gz"))
    columns = set(csv_frame(tenant.s3, tenant.bucket, data).columns)
    assert present <= columns
    assert not absent & columns
    assert not any(c.startswith(("capacityReservation", "tags/")) for c in columns)


# -- Parquet and Athena -----------------------------------------------------------------


def test_parquet_create_new_report_layout(tenant: Tenant) -> None:
    tenant.put("pq", **PARQUET)
    found = tenant.objects()
    data = [k for k in found if k.endswith(".parquet")]
    assert len(data) == 1
    prefix, report, again, year, month, assembly, name = data[0].split("/")
    assert (prefix, report, again, name) == ("reports", "pq", "pq", "pq-00001.snappy.parquet")
    assert re.fullmatch(r"year=\d{4}", year) and re.fullmatch(r"month=[1-9]\d?", month)
    folder = f"reports/pq/pq/{year}/{month}"
    assert f"{folder}/pq-Manifest.json" in found
    latest = tenant.manifest(f"{folder}/{assembly}/pq-Manifest.json")
    assert (latest["compression"], latest["contentType"]) == ("Parquet", "Parquet")
    table = parquet_table(tenant.s3, tenant.bucket, data[0])
    assert table.column_names == [c["name"] for c in latest["columns"]]
    assert {"identity_line_item_id", "line_item_unblended_cost"} <= set(table.column_names)
    assert str(table.schema.field("line_item_unblended_cost").type) == "double"
    assert str(table.schema.field("line_item_usage_start_date").type).startswith("timestamp")


def test_athena_delivery_layout_and_helpers(tenant: Tenant) -> None:
    import yaml

    tenant.put("Athena-Report", **ATHENA)
    found = tenant.objects()
    base = "reports/Athena-Report"
    data = [k for k in found if k.endswith(".parquet") and "/year=" in k]
    assert len(data) == 1
    folder = data[0].rpartition("/")[0]
    assert data[0] == f"{folder}/Athena-Report-00001.snappy.parquet"
    assert folder.startswith(f"{base}/Athena-Report/year=")
    period = next(k for k in found if k.endswith("-create-table.sql")).split("/")[2]
    assert found == sorted(
        [
            "aws-programmatic-access-test-object",
            f"{base}/cost_and_usage_data_status/cost_and_usage_data_status.parquet",
            f"{base}/crawler-cfn.yml",
            f"{base}/{period}/Athena-Report-create-table.sql",
            data[0],
            f"{folder}/Athena-Report-Manifest.json",
        ]
    )
    status_key = f"{base}/cost_and_usage_data_status/cost_and_usage_data_status.parquet"
    status = parquet_table(tenant.s3, tenant.bucket, status_key)
    assert status.to_pylist() == [{"status": "READY"}]

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load(body(tenant.s3, tenant.bucket, f"{base}/crawler-cfn.yml"), Loader=Loader)
    resources = template["Resources"]
    assert resources["AWSCURDatabase"]["Properties"]["DatabaseInput"]["Name"] == (
        "athenacurcfn_athena_report"
    )
    crawler = resources["AWSCURCrawler"]["Properties"]
    assert crawler["Name"] == "AWSCURCrawler-Athena-Report"
    assert crawler["Targets"]["S3Targets"][0]["Path"] == (
        f"s3://{tenant.bucket}/{base}/Athena-Report"
    )
    sql = body(tenant.s3, tenant.bucket, f"{base}/{period}/Athena-Report-create-table.sql").decode()
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS athenacurcfn_athena_report.athena_report(" in sql
    assert "`line_item_unblended_cost` double" in sql
    assert f"LOCATION 's3://{tenant.bucket}/{base}/Athena-Report/'" in sql


def test_athena_parquet_reads_as_a_hive_partitioned_dataset(tenant: Tenant, tmp_path: Any) -> None:
    import duckdb

    tenant.put("hive", **ATHENA)
    for key in tenant.objects("reports/hive/hive/"):
        target = tmp_path / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body(tenant.s3, tenant.bucket, key))
    rows = duckdb.sql(
        f"SELECT year, month, count(*) AS n, sum(line_item_unblended_cost) AS cost FROM "
        f"read_parquet('{tmp_path}/reports/hive/hive/*/*/*.parquet', hive_partitioning=true) "
        "GROUP BY ALL"
    ).fetchall()
    assert len(rows) == 1
    year, month, count, cost = rows[0]
    assert int(year) >= 2024 and 1 <= int(month) <= 12 and count > 0 and cost > 0


def test_csv_reads_the_same_in_pandas_and_duckdb(tenant: Tenant, tmp_path: Any) -> None:
    import duckdb

    tenant.put("same", ReportVersioning="OVERWRITE_REPORT")
    key = next(k for k in tenant.objects() if k.endswith(".csv.gz"))
    local = tmp_path / "same.csv.gz"
    local.write_bytes(body(tenant.s3, tenant.bucket, key))
    frame = csv_frame(tenant.s3, tenant.bucket, key)
    total = duckdb.sql(
        f"SELECT sum(\"lineItem/UnblendedCost\"), count(*) FROM read_csv('{local}', header=true)"
    ).fetchall()[0]
    assert total[1] == len(frame)
    assert total[0] == pytest.approx(frame["lineItem/UnblendedCost"].astype(float).sum())


# -- emit modes -------------------------------------------------------------------------


def _poll(check: Callable[[], bool], seconds: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_emit_mode_off_never_delivers() -> None:
    with ServerProcess(env={"FLOCI_SERVICES_CUR_EMIT_MODE": "off"}) as proc:
        tenant = Tenant(proc.endpoint)
        assert "ReportStatus" not in tenant.put("off")
        assert tenant.objects() == []


def test_daily_mode_delivers_on_the_shared_scheduler() -> None:
    env = {"FLOCI_SERVICES_CUR_EMIT_MODE": "daily", "BCM_LOCAL_DAILY_INTERVAL_SECONDS": "0.2"}
    with ServerProcess(env=env) as proc:
        tenant = Tenant(proc.endpoint)
        tenant.cur.put_report_definition(ReportDefinition=definition("d", S3Bucket=tenant.bucket))

        def delivered() -> bool:
            status = reports(tenant.cur)["d"].get("ReportStatus", {})
            return bool(status.get("lastStatus") == "SUCCESS")

        assert _poll(delivered)
        assert any(k.endswith(".csv.gz") for k in tenant.objects())


def test_default_report_limit_is_five(server: ServerProcess) -> None:
    from tests.cur_support import error_of

    tenant = Tenant(server.endpoint)
    for i in range(5):
        tenant.put(f"lim{i}", ReportVersioning="OVERWRITE_REPORT")
    code, message, _ = error_of(
        tenant.cur.put_report_definition,
        ReportDefinition=definition("lim5", S3Bucket=tenant.bucket),
    )
    assert code == "ReportLimitReachedException"
    assert message == (
        "This account already has 5 reports defined. To define a new report, "
        "you must delete an existing report."
    )


def test_status_survives_a_restart(tmp_path: Any) -> None:
    with ServerProcess(data_dir=tmp_path) as first:
        tenant = Tenant(first.endpoint)
        status = tenant.put("persist")["ReportStatus"]
        found = tenant.objects()
    with ServerProcess(data_dir=tmp_path) as second:
        cur = make_client(second.endpoint, "cur", tenant.account)
        s3 = make_client(second.endpoint, "s3", tenant.account)
        assert reports(cur)["persist"]["ReportStatus"] == status
        assert keys(s3, tenant.bucket) == found
        data = next(k for k in found if k.endswith(".csv.gz"))
        assert len(csv_frame(s3, tenant.bucket, data)) > 0
