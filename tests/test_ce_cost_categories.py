"""Cost categories (`ce`) on a real server with boto3: definitions and their versions,
AWS's errors, and a category applied to the bill, so that the CUR 2.0 file delivered
afterwards carries it (`cost_category` and `tags`) for the months it is in force, and
Cost Explorer's COST_CATEGORY groups, filters and GetCostCategories equal that file. The
expected values are the rules evaluated in Python on the file's own rows."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bcm_local.testing import ServerProcess, export_body
from tests import ce_support as cs
from tests.conftest import code_of, make_client

START = "2026-04-01T00:00:00Z"  # the bill holds March to May 2026 (cs.ENV)
RULES = [
    {"Value": "Stores", "Rule": {"Tags": {"Key": "team", "Values": ["storefront"]}}},
    {"Value": "Compute", "Rule": {"Dimensions": {"Key": "SERVICE_CODE", "Values": ["AmazonEC2"]}}},
    {
        "Value": "Taxed",
        "Rule": {
            "And": [
                {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Tax"]}},
                {"Not": {"Dimensions": {"Key": "REGION", "Values": ["us-west-2"]}}},
            ]
        },
    },
    {"Type": "INHERITED_VALUE", "InheritedValue": {"DimensionName": "TAG", "DimensionKey": "team"}},
]


def team_of(row: cs.Row) -> str | None:
    """RULES on one row of the file, in order, as AWS applies them (Default: Other)."""
    for rule in RULES:
        if "Rule" in rule:
            if cs.matches(row, rule["Rule"]):
                return str(rule["Value"])
        elif row.tags.get("team"):
            return row.tags["team"]
    return "Other"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env=cs.ENV) as running:
        yield running


@pytest.fixture(scope="module")
def team(ce: Any) -> str:
    made = ce.create_cost_category_definition(
        Name="Team",
        RuleVersion="CostCategoryExpression.v1",
        Rules=RULES,
        DefaultValue="Other",
        EffectiveStart=START,
        ResourceTags=[{"Key": "owner", "Value": "finops"}],
    )
    assert made["EffectiveStart"] == START
    return str(made["CostCategoryArn"])


@pytest.fixture(scope="module")
def delivered(server: ServerProcess, team: str) -> cs.Delivered:
    """The CUR 2.0 export, delivered once the category exists."""
    return cs.Delivered(server)


def test_a_category_reads_back_with_its_versions(ce: Any, team: str) -> None:
    described = ce.describe_cost_category_definition(CostCategoryArn=team)["CostCategory"]
    assert described["Name"] == "Team" and described["EffectiveStart"] == START
    assert described["DefaultValue"] == "Other" and "EffectiveEnd" not in described
    assert described["Rules"][0] == {**RULES[0], "Type": "REGULAR"}
    assert described["ProcessingStatus"] == [{"Component": "COST_EXPLORER", "Status": "APPLIED"}]
    listed = ce.list_cost_category_definitions()["CostCategoryReferences"]
    mine = next(r for r in listed if r["CostCategoryArn"] == team)
    assert mine["NumberOfRules"] == len(RULES)
    assert mine["Values"] == ["Stores", "Compute", "Taxed", "Other"]
    assert ce.list_tags_for_resource(ResourceArn=team)["ResourceTags"] == [
        {"Key": "owner", "Value": "finops"}
    ]
    assert not [
        r
        for r in ce.list_cost_category_definitions(EffectiveOn="2026-03-15T00:00:00Z")[
            "CostCategoryReferences"
        ]
        if r["CostCategoryArn"] == team
    ]  # not in force in March


def test_versions_over_time_and_deletion(ce: Any) -> None:
    arn = ce.create_cost_category_definition(
        Name="Versioned",
        RuleVersion="CostCategoryExpression.v1",
        Rules=[{"Value": "A", "Rule": {"Dimensions": {"Key": "REGION", "Values": ["us-east-1"]}}}],
        EffectiveStart="2026-03-01T00:00:00Z",
    )["CostCategoryArn"]
    updated = ce.update_cost_category_definition(
        CostCategoryArn=arn,
        RuleVersion="CostCategoryExpression.v1",
        Rules=[{"Value": "B", "Rule": {"Dimensions": {"Key": "REGION", "Values": ["us-east-1"]}}}],
        EffectiveStart="2026-05-01T00:00:00Z",
    )
    assert updated["EffectiveStart"] == "2026-05-01T00:00:00Z"
    march = ce.describe_cost_category_definition(
        CostCategoryArn=arn, EffectiveOn="2026-04-10T00:00:00Z"
    )["CostCategory"]
    assert march["Rules"][0]["Value"] == "A"
    assert march["EffectiveStart"] == "2026-03-01T00:00:00Z"
    assert march["EffectiveEnd"] == "2026-05-01T00:00:00Z"
    now = ce.describe_cost_category_definition(CostCategoryArn=arn)["CostCategory"]
    assert now["Rules"][0]["Value"] == "B" and "EffectiveEnd" not in now
    # a failed update leaves the version in force
    bad = [{"Value": "C", "Rule": {"Dimensions": {"Key": "SERVICE", "Values": ["x"]}}}]
    assert (
        code_of(
            ce.update_cost_category_definition,
            CostCategoryArn=arn,
            RuleVersion="CostCategoryExpression.v1",
            Rules=bad,
        )
        == "ValidationException"
    )
    assert ce.describe_cost_category_definition(CostCategoryArn=arn)["CostCategory"] == now
    ended = ce.delete_cost_category_definition(CostCategoryArn=arn)
    assert ended["EffectiveEnd"] == "2026-05-01T00:00:00Z"  # this month on, uncategorized
    assert code_of(ce.describe_cost_category_definition, CostCategoryArn=arn) == (
        "ResourceNotFoundException"
    )
    kept = ce.describe_cost_category_definition(
        CostCategoryArn=arn, EffectiveOn="2026-04-10T00:00:00Z"
    )["CostCategory"]
    assert kept["Rules"][0]["Value"] == "A"


def test_errors_are_aws_s(ce: Any, team: str) -> None:
    def create(**kw: Any) -> str:
        body = {"Name": "Bad", "RuleVersion": "CostCategoryExpression.v1", "Rules": RULES[:1]}
        return code_of(ce.create_cost_category_definition, **{**body, **kw})

    rule = RULES[0]["Rule"]
    assert create(Name="Team") == "ValidationException"  # the name is taken
    assert create(EffectiveStart="2026-04-02T00:00:00Z") == "ValidationException"
    assert create(EffectiveStart="2026-06-01T00:00:00Z") == "ValidationException"  # future
    assert create(EffectiveStart="2025-04-01T00:00:00Z") == "ValidationException"  # > 12 months
    unknown = {"Dimensions": {"Key": "INSTANCE_TYPE", "Values": ["m5.large"]}}
    assert create(Rules=[{"Value": "x", "Rule": unknown}]) == "ValidationException"
    either = {"Or": [rule, unknown]}
    assert create(Rules=[{"Value": "x", "Rule": either}]) == "ValidationException"
    missing = {"CostCategories": {"Key": "Nope", "Values": ["x"]}}
    assert create(Rules=[{"Value": "x", "Rule": missing}]) == "ValidationException"
    itself = {"CostCategories": {"Key": "Bad", "Values": ["x"]}}
    assert create(Rules=[{"Value": "x", "Rule": itself}]) == "ValidationException"
    assert create(Rules=[{"Type": "INHERITED_VALUE"}]) == "ValidationException"
    no_tag = {"Tags": {"Key": "no-such-tag", "Values": ["x"]}}
    assert create(Rules=[{"Value": "x", "Rule": no_tag}]) == "ValidationException"
    split = {"Source": "Stores", "Targets": ["Nowhere"], "Method": "EVEN"}
    assert create(SplitChargeRules=[split]) == "ValidationException"
    fixed = {
        "Source": "",
        "Targets": ["Stores"],
        "Method": "FIXED",
        "Parameters": [{"Type": "ALLOCATION_PERCENTAGES", "Values": ["90"]}],
    }
    assert create(SplitChargeRules=[fixed]) == "ValidationException"  # not 100 %
    gone = f"arn:aws:ce::{cs.ACCOUNT}:costcategory/00000000-0000-0000-0000-000000000000"
    assert code_of(ce.describe_cost_category_definition, CostCategoryArn=gone) == (
        "ResourceNotFoundException"
    )
    assert code_of(
        ce.tag_resource, ResourceArn=gone, ResourceTags=[{"Key": "a", "Value": "b"}]
    ) == ("ResourceNotFoundException")
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert code_of(ce.tag_resource, ResourceArn=team, ResourceTags=many) == "TooManyTagsException"


def test_split_charge_rules_are_kept(ce: Any) -> None:
    splits = [
        {
            "Source": "Shared",
            "Targets": ["Web", "Data"],
            "Method": "FIXED",
            "Parameters": [{"Type": "ALLOCATION_PERCENTAGES", "Values": ["60", "40"]}],
        }
    ]
    rules = [
        {"Value": v, "Rule": {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [a]}}}
        for v, a in (("Shared", "111111111111"), ("Web", "222222222222"), ("Data", "333333333333"))
    ]
    arn = ce.create_cost_category_definition(
        Name="Split", RuleVersion="CostCategoryExpression.v1", Rules=rules, SplitChargeRules=splits
    )["CostCategoryArn"]
    described = ce.describe_cost_category_definition(CostCategoryArn=arn)["CostCategory"]
    assert described["SplitChargeRules"] == splits
    ce.delete_cost_category_definition(CostCategoryArn=arn)


def test_the_delivered_file_carries_the_category_where_it_is_in_force(
    delivered: cs.Delivered,
) -> None:
    rows = delivered.rows
    before = [r for r in rows if r.t < cs.parse_time("2026-04-01")]
    after = [r for r in rows if r.t >= cs.parse_time("2026-04-01")]
    assert before and after
    assert all("Team" not in r.categories for r in before)
    for row in after:
        assert row.categories.get("Team") == team_of(row), row
    assert {r.categories["Team"] for r in after} >= {"Stores", "Compute", "Taxed", "Other"}
    assert {r.categories["Team"] for r in after} & {"platform", "data"}  # inherited
    tags = delivered.table.column("tags").to_pylist()
    starts = delivered.table.column("line_item_usage_start_date").to_pylist()
    for found, start in zip(tags, starts, strict=True):
        if start.replace(tzinfo=None) >= cs.parse_time("2026-04-01").replace(tzinfo=None):
            assert "costCategory/Team" in dict(found)


def test_cost_explorer_groups_and_filters_by_the_category_as_the_file_does(
    delivered: cs.Delivered, ce: Any
) -> None:
    groups = [{"Type": "COST_CATEGORY", "Key": "Team"}]
    for granularity in ("MONTHLY", "DAILY"):
        request = {
            "TimePeriod": {"Start": f"{delivered.first:%Y-%m-%d}", "End": "2026-05-27"},
            "Granularity": granularity,
            "Metrics": list(cs.METRICS),
            "GroupBy": groups,
            "Filter": cs.NOT_BUCKETS,
        }
        got = cs.answered(ce, **request)
        end = cs.parse_time("2026-05-27")
        want = cs.expected(
            delivered.rows, delivered.first, end, granularity, cs.NOT_BUCKETS, groups
        )
        assert set(got) == set(want)
        for key, sums in want.items():
            for metric in cs.METRICS:
                assert abs(got[key][metric] - sums[metric]) < 1e-6, (key, metric)
    stores = {"And": [cs.NOT_BUCKETS, {"CostCategories": {"Key": "Team", "Values": ["Stores"]}}]}
    span = {"Start": "2026-04-01", "End": "2026-05-27"}
    got = cs.answered(
        ce, TimePeriod=span, Granularity="MONTHLY", Metrics=["UnblendedCost"], Filter=stores
    )
    want = cs.expected(
        delivered.rows,
        cs.parse_time("2026-04-01"),
        cs.parse_time("2026-05-27"),
        "MONTHLY",
        stores,
        [],
    )
    assert {k: round(v["UnblendedCost"], 6) for k, v in got.items()} == {
        k: round(v["UnblendedCost"], 6) for k, v in want.items()
    }
    names = ce.get_cost_categories(TimePeriod=span)
    assert "Team" in names["CostCategoryNames"] and names["TotalSize"] >= 1
    found = ce.get_cost_categories(TimePeriod=span, CostCategoryName="Team")
    wanted = {
        r.categories["Team"]
        for r in delivered.rows
        if cs.parse_time("2026-04-01") <= r.t < cs.parse_time("2026-05-27")
    }
    assert set(found["CostCategoryValues"]) == wanted
    march = ce.get_cost_categories(
        TimePeriod={"Start": "2026-03-01", "End": "2026-04-01"}, CostCategoryName="Team"
    )
    assert march["CostCategoryValues"] == []


def test_legacy_cur_has_a_column_per_category(server: ServerProcess, team: str) -> None:
    cur = make_client(server.endpoint, "cur", cs.ACCOUNT)
    s3 = make_client(server.endpoint, "s3", cs.ACCOUNT)
    s3.create_bucket(Bucket="legacy-categories")
    cur.put_report_definition(
        ReportDefinition={
            "ReportName": "categorized",
            "TimeUnit": "DAILY",
            "Format": "textORcsv",
            "Compression": "GZIP",
            "AdditionalSchemaElements": ["RESOURCES"],
            "S3Bucket": "legacy-categories",
            "S3Prefix": "legacy",
            "S3Region": "us-east-1",
            "RefreshClosedReports": True,
            "ReportVersioning": "OVERWRITE_REPORT",
        }
    )
    listed = s3.list_objects_v2(Bucket="legacy-categories", Prefix="legacy/").get("Contents", [])
    files = [o["Key"] for o in listed if o["Key"].endswith(".csv.gz") and "/2026" in o["Key"]]
    assert files, listed
    import pyarrow.csv as pacsv

    values: dict[str, set[str]] = {}
    for key in files:
        body = gzip.decompress(s3.get_object(Bucket="legacy-categories", Key=key)["Body"].read())
        table = pacsv.read_csv(io.BytesIO(body))
        if "/20260301-" in key:  # before the category: no column, as in AWS
            assert "costCategory/Team" not in table.column_names, key
            continue
        assert "costCategory/Team" in table.column_names, key
        values.setdefault(key, set()).update(
            str(v) for v in table.column("costCategory/Team").to_pylist() if v
        )
    assert len(values) >= 2
    assert all({"Stores", "Compute", "Other"} <= found for found in values.values())


def test_categories_survive_a_restart(tmp_path: Path) -> None:
    with ServerProcess(data_dir=tmp_path, env=cs.ENV) as running:
        client = make_client(running.endpoint, "ce", cs.ACCOUNT)
        arn = client.create_cost_category_definition(
            Name="Kept", RuleVersion="CostCategoryExpression.v1", Rules=RULES[:2]
        )["CostCategoryArn"]
    with ServerProcess(data_dir=tmp_path, env=cs.ENV) as running:
        client = make_client(running.endpoint, "ce", cs.ACCOUNT)
        kept = client.describe_cost_category_definition(CostCategoryArn=arn)["CostCategory"]
        assert kept["Name"] == "Kept" and len(kept["Rules"]) == 2
        span = {"Start": "2026-05-01", "End": "2026-05-27"}
        values = client.get_cost_categories(TimePeriod=span, CostCategoryName="Kept")
        assert set(values["CostCategoryValues"]) == {"Stores", "Compute"}


def _parquet_rows(server: ServerProcess, bucket: str, prefix: str) -> pa.Table:
    s3 = make_client(server.endpoint, "s3", cs.ACCOUNT)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    parts = [
        pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))
        for o in listed
        if o["Key"].endswith(".parquet")
    ]
    assert parts, listed
    return pa.concat_tables(parts)


def test_done_when_a_category_through_a_view_agrees_in_cur_focus_and_ce(
    server: ServerProcess, ce: Any, team: str
) -> None:
    """Issue 19's test: a category and a billing view; CUR 2.0 and FOCUS exports through
    the view (FOCUS 1.0 carries x_CostCategories; AWS's FOCUS 1.2 table has no category
    column, so its total is checked); CE grouped by the category through the view. Per
    month and value the sums are equal and cover exactly the view's accounts. Member
    accounts only: the payer's Support fee follows the emulator's own bucket usage, which
    grows with every request. Savings Plan covered usage is left out on all sides (FOCUS
    bills it at 0, CUR 2.0 nets it against its negation)."""
    billing = make_client(server.endpoint, "billing", cs.ACCOUNT)
    accounts = sorted(
        {
            v["Value"]
            for v in ce.get_dimension_values(
                TimePeriod={"Start": "2026-03-01", "End": "2026-05-27"}, Dimension="LINKED_ACCOUNT"
            )["DimensionValues"]
        }
        - {cs.ACCOUNT}
    )
    allowed = accounts[:2]
    view = billing.create_billing_view(
        name="two teams",
        sourceViews=[f"arn:aws:billing::{cs.ACCOUNT}:billingview/primary"],
        dataFilterExpression={"dimensions": {"key": "LINKED_ACCOUNT", "values": allowed}},
    )["arn"]
    s3 = make_client(server.endpoint, "s3", cs.ACCOUNT)
    s3.create_bucket(Bucket="viewed")
    exports = make_client(server.endpoint, "bcm-data-exports", cs.ACCOUNT)
    for name, table, query in (
        ("cur-view", "COST_AND_USAGE_REPORT", "SELECT * FROM COST_AND_USAGE_REPORT"),
        ("focus-view", "FOCUS_1_0_AWS", "SELECT * FROM FOCUS_1_0_AWS"),
        ("focus12-view", "FOCUS_1_2_AWS", "SELECT * FROM FOCUS_1_2_AWS"),
    ):
        body = export_body(
            name, query, bucket="viewed", prefix=name, tables={table: {"BILLING_VIEW_ARN": view}}
        )
        exports.create_export(Export=body)
    cur = _parquet_rows(server, "viewed", "cur-view/").to_pylist()
    focus = _parquet_rows(server, "viewed", "focus-view/").to_pylist()
    focus12 = _parquet_rows(server, "viewed", "focus12-view/").to_pylist()
    end = cs.parse_time("2026-05-27").replace(tzinfo=None)
    covered = ("SavingsPlanCoveredUsage", "SavingsPlanNegation")

    def month(moment: Any) -> str:
        return f"{moment:%Y-%m}"

    cur_sums: dict[tuple[str, str], float] = {}
    for r in cur:
        if r["line_item_line_item_type"] in covered:
            continue
        if r["line_item_usage_start_date"].replace(tzinfo=None) >= end:
            continue
        key = (month(r["line_item_usage_start_date"]), dict(r["cost_category"]).get("Team", ""))
        cur_sums[key] = cur_sums.get(key, 0.0) + r["line_item_net_unblended_cost"]
    focus_sums: dict[tuple[str, str], float] = {}
    for r in focus:
        if r["ChargePeriodStart"].replace(tzinfo=None) >= end:
            continue
        key = (month(r["ChargePeriodStart"]), dict(r["x_CostCategories"] or {}).get("Team", ""))
        focus_sums[key] = focus_sums.get(key, 0.0) + r["BilledCost"]
    not_covered = {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(covered)}}}
    answered = cs.answered(
        ce,
        TimePeriod={"Start": "2026-03-01", "End": "2026-05-27"},
        Granularity="MONTHLY",
        Metrics=["NetUnblendedCost"],
        GroupBy=[{"Type": "COST_CATEGORY", "Key": "Team"}],
        Filter=not_covered,
        BillingViewArn=view,
    )
    ce_sums = {
        (month(start), keys[0].removeprefix("Team$")): sums["NetUnblendedCost"]
        for (start, keys), sums in answered.items()
    }
    assert {k for k, v in cur_sums.items() if abs(v) > 1e-9} == {
        k for k, v in ce_sums.items() if abs(v) > 1e-9
    }
    for key, value in cur_sums.items():
        assert abs(ce_sums.get(key, 0.0) - value) < 1e-6, key
        assert abs(focus_sums.get(key, 0.0) - value) < 1e-6, key
    assert {k[1] for k in cur_sums if k[0] == "2026-03"} == {""}  # before the category
    assert len({k[1] for k in cur_sums if k[0] == "2026-05"}) >= 2
    assert {r["line_item_usage_account_id"] for r in cur} == set(allowed)
    assert {r["SubAccountId"] for r in focus} == set(allowed)
    billing.create_billing_view(
        name="by team",
        sourceViews=[f"arn:aws:billing::{cs.ACCOUNT}:billingview/primary"],
        dataFilterExpression={"costCategories": {"key": "Team", "values": ["Stores"]}},
    )
    used = ce.list_cost_category_resource_associations(CostCategoryArn=team)
    assert [a["CostCategoryName"] for a in used["CostCategoryResourceAssociations"]] == ["Team"]
    assert {r["SubAccountId"] for r in focus12} == set(allowed)  # 1.2 has no category column
    total = sum(
        r["BilledCost"] for r in focus12 if r["ChargePeriodStart"].replace(tzinfo=None) < end
    )
    assert abs(total - sum(cur_sums.values())) < 1e-6
