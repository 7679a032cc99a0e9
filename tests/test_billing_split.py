"""Split cost allocation data (ECS tasks / EKS pods on EC2) and the CUR 2.0 `tags` column,
checked on files a real server delivers: exports created with boto3, read back from its S3
with pyarrow and queried with DuckDB."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from billing_support import dataset, fetch, view

from bcm_local.billing.model.columns import cur_tag_key
from bcm_local.billing.scenario.definition import ScenarioError, from_dict
from bcm_local.testing import ServerProcess
from tests.cur_support import definition, reports
from tests.dataexports_support import spec

CUR = "COST_AND_USAGE_REPORT"
BUCKET = "split-data"
SPLIT = "INCLUDE_SPLIT_COST_ALLOCATION_DATA"
# the amortized cost of an instance row, per AWS's line item types
AMORTIZED = (
    "CASE line_item_line_item_type "
    "WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost "
    "WHEN 'DiscountedUsage' THEN reservation_effective_cost ELSE line_item_unblended_cost END"
)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """The bill includes a closed (full) month, so there is data whatever today's date."""
    with ServerProcess(env={"BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1"}) as proc:
        yield proc


@pytest.fixture(scope="module")
def deliver(client: Callable[..., Any]) -> Callable[..., pa.Table]:
    """Deliver `query` under `props` (floci layout: one file) and read the file back."""
    s3, bde = client("s3"), client("bcm-data-exports")
    s3.create_bucket(Bucket=BUCKET)
    counter = iter(range(1000))

    def run(query: str, props: dict[str, str] | None = None) -> pa.Table:
        name = f"split-{next(counter)}"
        changes: dict[str, Any] = {
            "DataQuery.QueryStatement": query,
            "DestinationConfigurations.S3Destination.S3Bucket": BUCKET,
            "DestinationConfigurations.S3Destination.S3Prefix": name,
        }
        if props is not None:
            table = query.split(" FROM ")[1].split()[0]
            changes["DataQuery.TableConfigurations"] = {table: props}
        arn = bde.create_export(Export=spec(name, **changes))["ExportArn"]
        [run] = bde.list_executions(ExportArn=arn)["Executions"]
        assert run["ExecutionStatus"]["StatusCode"] == "DELIVERY_SUCCESS"
        found = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{name}/")["Contents"]
        [key] = [o["Key"] for o in found if o["Key"].endswith(".parquet")]
        return pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))

    return run


@pytest.fixture(scope="module")
def cur(deliver: Callable[..., pa.Table]) -> pa.Table:
    props = {SPLIT: "TRUE", "INCLUDE_RESOURCES": "TRUE", "TIME_GRANULARITY": "HOURLY"}
    return deliver(f"SELECT * FROM {CUR}", props)


def _sql(**tables: pa.Table) -> Any:
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    return con


def test_tasks_split_their_instance_cost_exactly(cur: pa.Table) -> None:
    con = _sql(cur=cur)
    con.sql(
        f"SELECT line_item_resource_id AS id, line_item_usage_start_date AS t, "
        f"sum({AMORTIZED}) AS cost, sum(pricing_public_on_demand_cost) AS od FROM cur "
        "WHERE line_item_usage_type LIKE '%BoxUsage%' "
        "AND line_item_line_item_type <> 'SavingsPlanNegation' GROUP BY ALL"
    ).to_view("parents")
    con.sql(
        "SELECT split_line_item_parent_resource_id AS id, line_item_usage_start_date AS t, "
        "sum(split_line_item_split_cost + split_line_item_unused_cost) AS cost, "
        "sum(split_line_item_public_on_demand_split_cost "
        "+ split_line_item_public_on_demand_unused_cost) AS od, count(*) AS n "
        "FROM cur WHERE split_line_item_parent_resource_id IS NOT NULL GROUP BY ALL"
    ).to_view("tasks")
    joined = con.sql(
        "SELECT p.cost, s.cost, p.od, s.od FROM parents p JOIN tasks s USING (id, t)"
    ).fetchall()
    [(hosts,)] = con.sql(
        "SELECT count(*) FROM parents WHERE id IN (SELECT id FROM tasks)"
    ).fetchall()
    [(slots,)] = con.sql("SELECT count(*) FROM tasks").fetchall()
    assert len(joined) == hosts == slots > 0
    for parent, split, parent_od, split_od in joined:
        assert split == pytest.approx(parent, rel=1e-9, abs=1e-12)
        assert split_od == pytest.approx(parent_od, rel=1e-9, abs=1e-12)
    # Savings Plan covered hosts split their amortized (SP) cost, others their on-demand cost
    types = con.sql(
        "SELECT DISTINCT line_item_line_item_type FROM cur WHERE line_item_resource_id IN "
        "(SELECT split_line_item_parent_resource_id FROM cur) AND line_item_usage_type "
        "LIKE '%BoxUsage%'"
    ).fetchall()
    assert {t for (t,) in types} >= {"Usage", "SavingsPlanCoveredUsage"}


def test_usage_ratios_and_task_records(cur: pa.Table) -> None:
    con = _sql(cur=cur)
    rows = con.sql(
        "SELECT line_item_product_code, line_item_usage_type, line_item_operation, "
        "line_item_resource_id, split_line_item_parent_resource_id, line_item_unblended_cost, "
        "line_item_usage_amount, split_line_item_reserved_usage, split_line_item_actual_usage, "
        "split_line_item_split_usage, split_line_item_split_usage_ratio, "
        "split_line_item_unused_cost, split_line_item_net_split_cost "
        "FROM cur WHERE split_line_item_parent_resource_id IS NOT NULL"
    ).fetchall()
    assert {(r[0], r[1].split("-", 1)[-1] if r[1].startswith("USW2") else r[1]) for r in rows} == {
        ("AmazonECS", "ECS-EC2-vCPU-Hours"),
        ("AmazonECS", "ECS-EC2-GB-Hours"),
        ("AmazonEKS", "EKS-EC2-vCPU-Hours"),
        ("AmazonEKS", "EKS-EC2-GB-Hours"),
    }
    for (
        product,
        _usage,
        op,
        task,
        parent,
        cost,
        amount,
        reserved,
        actual,
        split,
        ratio,
        *rest,
    ) in rows:
        assert op == ("ECSTask-EC2" if product == "AmazonECS" else "EKSPod-EC2")
        assert task.startswith(("arn:aws:ecs:", "arn:aws:eks:")) and parent.startswith("i-0")
        assert cost == 0  # the instance's own rows carry the cost; totals do not change
        assert amount == reserved and split == pytest.approx(max(reserved, actual))
        assert 0 < ratio <= 1 and rest[0] >= 0 and rest[1] is None  # no EDP: no net columns
    sums = con.sql(
        "SELECT sum(split_line_item_split_usage_ratio) AS r, "
        "bool_and(split_line_item_unused_cost > 0) = (sum(split_line_item_split_usage_ratio) "
        "< 1 - 1e-9) AS unused_iff_spare FROM cur "
        "WHERE split_line_item_parent_resource_id IS NOT NULL "
        "GROUP BY split_line_item_parent_resource_id, line_item_usage_start_date, "
        "line_item_usage_type"
    ).fetchall()
    assert all(r <= 1 + 1e-9 and ok for r, ok in sums)
    assert any(r < 1 - 1e-9 for r, _ in sums)


def test_split_records_need_the_property_and_keep_totals(
    cur: pa.Table, deliver: Callable[..., pa.Table]
) -> None:
    query = "SELECT line_item_product_code, line_item_unblended_cost FROM COST_AND_USAGE_REPORT"
    plain = deliver(query, {"INCLUDE_RESOURCES": "TRUE", "TIME_GRANULARITY": "HOURLY"})
    assert not {"AmazonECS", "AmazonEKS"} & set(plain.column("line_item_product_code").to_pylist())
    assert sum(plain.column("line_item_unblended_cost").to_pylist()) == pytest.approx(
        sum(cur.column("line_item_unblended_cost").to_pylist())
    )
    # aggregated (no resources): task records of one host and slot merge, ratios add up
    merged = deliver(f"SELECT * FROM {CUR}", {SPLIT: "TRUE", "TIME_GRANULARITY": "HOURLY"})
    [(ratio,)] = (
        _sql(merged=merged)
        .sql(
            "SELECT max(split_line_item_split_usage_ratio) FROM merged "
            "WHERE split_line_item_parent_resource_id IS NOT NULL"
        )
        .fetchall()
    )
    assert 0 < ratio <= 1 + 1e-9
    focus = deliver("SELECT ServiceName, BilledCost FROM FOCUS_1_2_AWS")
    assert "Amazon Elastic Container Service" not in focus.column("ServiceName").to_pylist()


def test_tags_carry_resource_cost_category_and_principal_tags(
    deliver: Callable[..., pa.Table],
) -> None:
    columns = "line_item_product_code, line_item_line_item_type, resource_tags, cost_category, tags"
    with_iam = deliver(
        f"SELECT {columns}, line_item_iam_principal FROM {CUR}",
        {"INCLUDE_IAM_PRINCIPAL_DATA": "TRUE", "INCLUDE_RESOURCES": "TRUE"},
    ).to_pylist()
    without = deliver(f"SELECT {columns} FROM {CUR}", {"INCLUDE_RESOURCES": "TRUE"}).to_pylist()
    for row in [*with_iam, *without]:
        tags = dict(row["tags"])
        resource = {k.removeprefix("resourceTags/") for k in tags if k.startswith("resourceTags/")}
        assert {cur_tag_key(k) for k in resource} == set(dict(row["resource_tags"]))
        categories = {f"costCategory/{k}": v for k, v in dict(row["cost_category"]).items()}
        assert categories.items() <= tags.items()
    bedrock = [
        r
        for r in with_iam
        if r["line_item_product_code"] == "AmazonBedrock"
        and r["line_item_line_item_type"] == "Usage"
    ]
    assert bedrock and all(
        r["line_item_iam_principal"].endswith(":role/assistant-service")
        and dict(r["tags"])["iamPrincipal/team"] == "data-science"
        and dict(r["tags"])["iamPrincipal/project"] == "assistant"
        and dict(r["tags"])["resourceTags/team"] == "data"
        for r in bedrock
    )
    principal_keys = {k for r in with_iam for k, _ in r["tags"] if k.startswith("iamPrincipal/")}
    assert principal_keys == {"iamPrincipal/team", "iamPrincipal/project"}
    assert not [k for r in without for k, _ in r["tags"] if k.startswith("iamPrincipal/")]
    # FOCUS Tags: the same principal tags on the same usage
    focus = deliver("SELECT ServiceName, ChargeCategory, Tags FROM FOCUS_1_2_AWS").to_pylist()
    models = [
        dict(r["Tags"])
        for r in focus
        if r["ServiceName"] == "Amazon Bedrock" and r["ChargeCategory"] == "Usage"
    ]
    assert models and all(
        t["iamPrincipal/team"] == "data-science" and t["team"] == "data" for t in models
    )
    others = [dict(r["Tags"]) for r in focus if r["ServiceName"] != "Amazon Bedrock"]
    assert not [k for t in others for k in t if k.startswith("iamPrincipal/")]


def test_legacy_report_carries_split_line_items(client: Callable[..., Any]) -> None:
    import gzip

    import pandas as pd

    s3, legacy = client("s3"), client("cur")
    s3.create_bucket(Bucket="split-legacy")
    report = definition(
        "split",
        S3Bucket="split-legacy",
        AdditionalSchemaElements=["RESOURCES", "SPLIT_COST_ALLOCATION_DATA"],
    )
    legacy.put_report_definition(ReportDefinition=report)
    assert reports(legacy)["split"]["ReportStatus"]["lastStatus"] == "SUCCESS"
    found = s3.list_objects_v2(Bucket="split-legacy", Prefix="reports/split/")["Contents"]
    key, _current = sorted(o["Key"] for o in found if o["Key"].endswith(".csv.gz"))
    raw = gzip.decompress(s3.get_object(Bucket="split-legacy", Key=key)["Body"].read())
    frame = pd.read_csv(io.BytesIO(raw), low_memory=False)
    tasks = frame[frame["splitLineItem/ParentResourceId"].notna()]
    assert len(tasks) and set(tasks["lineItem/ProductCode"]) == {"AmazonECS", "AmazonEKS"}
    assert (tasks["splitLineItem/SplitUsageRatio"] <= 1).all()


def test_scaled_fleets_point_tasks_at_their_own_instance_copies() -> None:
    data = dataset("DAILY", BCM_LOCAL_BILLING_SCALE="2")
    view(data, "cur", CUR, {SPLIT: "TRUE", "INCLUDE_RESOURCES": "TRUE"})
    parents = fetch(data, "SELECT DISTINCT split_line_item_parent_resource_id FROM cur")
    instances = {
        r
        for (r,) in fetch(
            data, "SELECT line_item_resource_id FROM cur WHERE line_item_usage_type LIKE '%Box%'"
        )
    }
    found = {p for (p,) in parents if p is not None}
    assert len(found) == 2 * 11 and found <= instances  # 6 web + 3 api + 2 etl, twice


def test_scenario_checks_container_fields() -> None:
    base = {"kind": "ec2", "type": "m5.large", "containers": "ecs", "tasks": 2}
    cases = {
        "containers": {**base, "containers": "k8s", "task_vcpu": 1, "task_memory_gb": 1},
        "task_vcpu": {**base, "task_vcpu": 1.5, "task_memory_gb": 1},  # 3 of 2 vCPUs
        "task_memory_gb": {**base, "task_vcpu": 1},
        "tasks": {**base, "tasks": 0, "task_vcpu": 1, "task_memory_gb": 1},
    }
    for field, resource in cases.items():
        with pytest.raises(ScenarioError, match=rf"scenario.resources\[0\].{field}:"):
            from_dict({"resources": [resource]})
    with pytest.raises(ScenarioError, match=r"scenario.resources\[0\].principal:"):
        from_dict({"resources": [{"kind": "bedrock", "principal": "nobody"}]})
    with pytest.raises(ScenarioError, match=r"scenario.iam_principals\[0\].kind:"):
        from_dict({"resources": [], "iam_principals": [{"key": "a", "name": "a", "kind": "x"}]})
