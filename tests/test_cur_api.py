"""The legacy CUR management plane (`cur`): every operation, error and rule, with boto3
and the AWS CLI against a real server (deliveries off: see test_cur_delivery.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from bcm_local.testing import ServerProcess
from tests.conftest import make_client, run_cli
from tests.cur_support import definition, error_of, fresh_account, reports

LIMIT = 7
NO_CLIENT_CHECKS = Config(
    retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=False
)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    env = {"FLOCI_SERVICES_CUR_EMIT_MODE": "off", "BCM_LOCAL_CUR_REPORT_LIMIT": str(LIMIT)}
    with ServerProcess(env=env) as proc:
        yield proc


@pytest.fixture
def account() -> str:
    """A fresh account per test, so report limits and names never collide."""
    return fresh_account()


@pytest.fixture
def cur(server: ServerProcess, account: str) -> Any:
    return make_client(server.endpoint, "cur", account)


@pytest.fixture
def raw(server: ServerProcess, account: str) -> Any:
    """A client that sends what it is given, for the server's own validation."""
    return make_client(server.endpoint, "cur", account, config=NO_CLIENT_CHECKS)


# -- Put / Describe ---------------------------------------------------------------------


def test_put_then_describe_returns_the_definition_with_defaults(cur: Any) -> None:
    assert set(cur.put_report_definition(ReportDefinition=definition("daily"))) == {
        "ResponseMetadata"
    }
    got = reports(cur)["daily"]
    assert got == {
        **definition("daily"),
        "AdditionalArtifacts": [],
        "RefreshClosedReports": True,
        "ReportVersioning": "CREATE_NEW_REPORT",
    }


def test_every_optional_member_round_trips(cur: Any, account: str) -> None:
    full = definition(
        "full",
        TimeUnit="HOURLY",
        Compression="ZIP",
        AdditionalSchemaElements=[
            "RESOURCES",
            "SPLIT_COST_ALLOCATION_DATA",
            "MANUAL_DISCOUNT_COMPATIBILITY",
        ],
        AdditionalArtifacts=["REDSHIFT", "QUICKSIGHT"],
        RefreshClosedReports=False,
        ReportVersioning="OVERWRITE_REPORT",
        S3Region="eu-west-1",
        BillingViewArn=f"arn:aws:billing::{account}:billingview/primary",
    )
    cur.put_report_definition(ReportDefinition=full)
    assert reports(cur)["full"] == full


def test_report_status_is_absent_until_a_delivery_ran(cur: Any) -> None:
    cur.put_report_definition(ReportDefinition=definition("quiet"))
    assert "ReportStatus" not in reports(cur)["quiet"]


def test_status_sent_by_the_caller_is_ignored(raw: Any) -> None:
    sent = definition("sneaky", ReportStatus={"lastStatus": "SUCCESS"})
    raw.put_report_definition(ReportDefinition=sent)
    assert "ReportStatus" not in reports(raw)["sneaky"]


def test_duplicate_name_is_refused(cur: Any) -> None:
    cur.put_report_definition(ReportDefinition=definition("twice"))
    code, message, status = error_of(
        cur.put_report_definition, ReportDefinition=definition("twice", TimeUnit="HOURLY")
    )
    assert (code, message, status) == (
        "DuplicateReportNameException",
        "A report with the name twice already exists.",
        400,
    )


def test_names_are_case_sensitive(cur: Any) -> None:
    cur.put_report_definition(ReportDefinition=definition("Case"))
    cur.put_report_definition(ReportDefinition=definition("case"))
    assert {"Case", "case"} <= set(reports(cur))


def test_report_limit_and_room_after_a_delete(cur: Any) -> None:
    for i in range(LIMIT):
        cur.put_report_definition(ReportDefinition=definition(f"r{i}"))
    code, message, _ = error_of(cur.put_report_definition, ReportDefinition=definition("extra"))
    assert code == "ReportLimitReachedException"
    assert f"already has {LIMIT} reports" in message
    cur.delete_report_definition(ReportName="r0")
    cur.put_report_definition(ReportDefinition=definition("extra"))
    assert len(reports(cur)) == LIMIT


# -- pagination -------------------------------------------------------------------------


def test_describe_pages_by_five_in_creation_order(cur: Any) -> None:
    names = [f"p{i}" for i in range(LIMIT)]
    for name in names:
        cur.put_report_definition(ReportDefinition=definition(name))
    first = cur.describe_report_definitions()
    assert [r["ReportName"] for r in first["ReportDefinitions"]] == names[:5]
    second = cur.describe_report_definitions(MaxResults=5, NextToken=first["NextToken"])
    assert [r["ReportName"] for r in second["ReportDefinitions"]] == names[5:]
    assert "NextToken" not in second


def test_empty_account_lists_nothing(cur: Any) -> None:
    page = cur.describe_report_definitions()
    assert page["ReportDefinitions"] == [] and "NextToken" not in page


def test_max_results_is_fixed_at_five(raw: Any) -> None:
    code, message, _ = error_of(raw.describe_report_definitions, MaxResults=4)
    assert code == "ValidationException"
    assert "maxResults" in message


@pytest.mark.parametrize("token", ["bm90LWEtdG9rZW4=", "garbage", "A" * 80])
def test_forged_next_token_is_refused(cur: Any, token: str) -> None:
    code, _, status = error_of(cur.describe_report_definitions, NextToken=token)
    assert (code, status) == ("ValidationException", 400)


def test_next_token_of_another_account_is_refused(server: ServerProcess, cur: Any) -> None:
    for i in range(6):
        cur.put_report_definition(ReportDefinition=definition(f"t{i}"))
    token = cur.describe_report_definitions()["NextToken"]
    other = make_client(server.endpoint, "cur", fresh_account())
    code, _, _ = error_of(other.describe_report_definitions, NextToken=token)
    assert code == "ValidationException"


# -- Modify -----------------------------------------------------------------------------


def test_modify_replaces_the_mutable_members(cur: Any) -> None:
    cur.put_report_definition(
        ReportDefinition=definition(
            "m", AdditionalArtifacts=["REDSHIFT"], RefreshClosedReports=False
        )
    )
    changed = definition(
        "m", Format="Parquet", Compression="Parquet", S3Bucket="elsewhere", S3Prefix=""
    )
    assert set(cur.modify_report_definition(ReportName="m", ReportDefinition=changed)) == {
        "ResponseMetadata"
    }
    got = reports(cur)["m"]
    assert got["Format"] == "Parquet" and got["S3Bucket"] == "elsewhere" and got["S3Prefix"] == ""
    assert got["AdditionalArtifacts"] == []  # an omitted list is an empty one
    assert got["RefreshClosedReports"] is False  # an omitted scalar keeps its value


def test_modify_of_an_unknown_report_is_a_validation_error(cur: Any) -> None:
    code, message, _ = error_of(
        cur.modify_report_definition, ReportName="ghost", ReportDefinition=definition("ghost")
    )
    assert (code, message) == ("ValidationException", "Report ghost does not exist.")


def test_modify_cannot_rename(cur: Any) -> None:
    cur.put_report_definition(ReportDefinition=definition("old"))
    code, message, _ = error_of(
        cur.modify_report_definition, ReportName="old", ReportDefinition=definition("new")
    )
    assert code == "ValidationException" and "cannot be renamed" in message
    assert "new" not in reports(cur)


@pytest.mark.parametrize(
    "change",
    [
        {"TimeUnit": "HOURLY"},
        {"AdditionalSchemaElements": []},
        {"ReportVersioning": "OVERWRITE_REPORT"},
        {"BillingViewArn": "custom-view-1"},
    ],
)
def test_modify_cannot_change_create_only_members(cur: Any, change: dict[str, Any]) -> None:
    cur.put_report_definition(ReportDefinition=definition("fixed"))
    code, message, _ = error_of(
        cur.modify_report_definition,
        ReportName="fixed",
        ReportDefinition=definition("fixed", **change),
    )
    field = next(iter(change))
    assert code == "ValidationException" and f"{field} of report fixed" in message


def test_modify_accepts_the_same_schema_elements_in_another_order(cur: Any) -> None:
    elements = ["RESOURCES", "SPLIT_COST_ALLOCATION_DATA"]
    cur.put_report_definition(
        ReportDefinition=definition("order", AdditionalSchemaElements=elements)
    )
    cur.modify_report_definition(
        ReportName="order",
        ReportDefinition=definition("order", AdditionalSchemaElements=elements[::-1], S3Prefix="x"),
    )
    assert reports(cur)["order"]["S3Prefix"] == "x"


def test_modify_checks_the_combination_rules(cur: Any) -> None:
    cur.put_report_definition(ReportDefinition=definition("combo"))
    code, _, _ = error_of(
        cur.modify_report_definition,
        ReportName="combo",
        ReportDefinition=definition("combo", Compression="Parquet"),
    )
    assert code == "ValidationException"
    assert reports(cur)["combo"]["Compression"] == "GZIP"


# -- Delete -----------------------------------------------------------------------------


def test_delete_returns_a_message_and_removes_report_and_tags(cur: Any) -> None:
    cur.put_report_definition(
        ReportDefinition=definition("gone"), Tags=[{"Key": "k", "Value": "v"}]
    )
    out = cur.delete_report_definition(ReportName="gone")
    assert out["ResponseMessage"] == "Report gone was deleted."
    assert "gone" not in reports(cur)
    cur.put_report_definition(ReportDefinition=definition("gone"))
    assert cur.list_tags_for_resource(ReportName="gone")["Tags"] == []


def test_delete_of_an_unknown_report_is_a_validation_error(cur: Any) -> None:
    """Terraform's provider relies on this: it treats ValidationException as 'already gone'."""
    code, message, status = error_of(cur.delete_report_definition, ReportName="nope")
    assert (code, message, status) == ("ValidationException", "Report nope does not exist.", 400)


# -- tags -------------------------------------------------------------------------------


def test_tags_round_trip(cur: Any) -> None:
    cur.put_report_definition(
        ReportDefinition=definition("tagged"),
        Tags=[{"Key": "team", "Value": "finops"}, {"Key": "env", "Value": "dev"}],
    )
    assert cur.list_tags_for_resource(ReportName="tagged")["Tags"] == [
        {"Key": "team", "Value": "finops"},
        {"Key": "env", "Value": "dev"},
    ]
    cur.tag_resource(
        ReportName="tagged",
        Tags=[{"Key": "env", "Value": "prod"}, {"Key": "cost", "Value": ""}],
    )
    cur.untag_resource(ReportName="tagged", TagKeys=["team", "not-there"])
    assert cur.list_tags_for_resource(ReportName="tagged")["Tags"] == [
        {"Key": "env", "Value": "prod"},
        {"Key": "cost", "Value": ""},
    ]


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("list_tags_for_resource", {}),
        ("tag_resource", {"Tags": [{"Key": "a", "Value": "b"}]}),
        ("untag_resource", {"TagKeys": ["a"]}),
    ],
)
def test_tag_operations_on_an_unknown_report(
    cur: Any, operation: str, kwargs: dict[str, Any]
) -> None:
    code, message, status = error_of(getattr(cur, operation), ReportName="missing", **kwargs)
    assert (code, message, status) == (
        "ResourceNotFoundException",
        "Report missing does not exist.",
        400,
    )


@pytest.mark.parametrize(
    "tags",
    [
        [{"Key": "aws:reserved", "Value": "x"}],
        [{"Key": "same", "Value": "1"}, {"Key": "same", "Value": "2"}],
        [{"Key": "k", "Value": "v" * 257}],
        [{"Key": f"k{i}", "Value": "v"} for i in range(201)],
    ],
)
def test_bad_tags_are_refused_and_nothing_is_created(raw: Any, tags: list[dict[str, str]]) -> None:
    code, _, _ = error_of(raw.put_report_definition, ReportDefinition=definition("bad"), Tags=tags)
    assert code == "ValidationException"
    assert "bad" not in reports(raw)


def test_tag_limit_counts_existing_tags(cur: Any) -> None:
    cur.put_report_definition(
        ReportDefinition=definition("full"),
        Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(200)],
    )
    code, _, _ = error_of(
        cur.tag_resource, ReportName="full", Tags=[{"Key": "one", "Value": "more"}]
    )
    assert code == "ValidationException"
    cur.tag_resource(ReportName="full", Tags=[{"Key": "k0", "Value": "overwrite is fine"}])


# -- validation -------------------------------------------------------------------------

BAD_COMBINATIONS = {
    "parquet format with gzip": {"Format": "Parquet", "Compression": "GZIP"},
    "parquet format with zip": {"Format": "Parquet", "Compression": "ZIP"},
    "csv with parquet compression": {"Compression": "Parquet"},
    "athena with csv": {"AdditionalArtifacts": ["ATHENA"], "ReportVersioning": "OVERWRITE_REPORT"},
    "athena with another artifact": {
        "Format": "Parquet",
        "Compression": "Parquet",
        "AdditionalArtifacts": ["ATHENA", "QUICKSIGHT"],
        "ReportVersioning": "OVERWRITE_REPORT",
    },
    "athena creating new reports": {
        "Format": "Parquet",
        "Compression": "Parquet",
        "AdditionalArtifacts": ["ATHENA"],
    },
    "athena without prefix": {
        "Format": "Parquet",
        "Compression": "Parquet",
        "AdditionalArtifacts": ["ATHENA"],
        "ReportVersioning": "OVERWRITE_REPORT",
        "S3Prefix": "",
    },
    "redshift with parquet": {
        "Format": "Parquet",
        "Compression": "Parquet",
        "AdditionalArtifacts": ["REDSHIFT"],
    },
    "quicksight with parquet": {
        "Format": "Parquet",
        "Compression": "Parquet",
        "AdditionalArtifacts": ["QUICKSIGHT"],
    },
}

GOOD_COMBINATIONS = {
    "csv gzip": {},
    "csv zip, redshift and quicksight": {
        "Compression": "ZIP",
        "AdditionalArtifacts": ["REDSHIFT", "QUICKSIGHT"],
    },
    "csv overwrite with redshift": {
        "AdditionalArtifacts": ["REDSHIFT"],
        "ReportVersioning": "OVERWRITE_REPORT",
    },
    "parquet without artifacts": {"Format": "Parquet", "Compression": "Parquet"},
    "athena": {
        "Format": "Parquet",
        "Compression": "Parquet",
        "AdditionalArtifacts": ["ATHENA"],
        "ReportVersioning": "OVERWRITE_REPORT",
    },
    "empty prefix without athena": {"S3Prefix": ""},
    "no schema elements": {"AdditionalSchemaElements": []},
    "repeated artifact": {"AdditionalArtifacts": ["REDSHIFT", "REDSHIFT"]},
}


@pytest.mark.parametrize("change", BAD_COMBINATIONS.values(), ids=list(BAD_COMBINATIONS))
def test_broken_combinations_are_refused(cur: Any, change: dict[str, Any]) -> None:
    code, message, status = error_of(
        cur.put_report_definition, ReportDefinition=definition("combo", **change)
    )
    assert (code, status) == ("ValidationException", 400)
    assert message
    assert reports(cur) == {}


@pytest.mark.parametrize("change", GOOD_COMBINATIONS.values(), ids=list(GOOD_COMBINATIONS))
def test_valid_combinations_are_accepted(cur: Any, change: dict[str, Any]) -> None:
    cur.put_report_definition(ReportDefinition=definition("combo", **change))
    assert "combo" in reports(cur)


def test_repeated_list_entries_are_stored_once(cur: Any) -> None:
    cur.put_report_definition(
        ReportDefinition=definition(
            "dups",
            AdditionalArtifacts=["REDSHIFT", "REDSHIFT"],
            AdditionalSchemaElements=["RESOURCES"] * 2,
        )
    )
    got = reports(cur)["dups"]
    assert got["AdditionalArtifacts"] == ["REDSHIFT"]
    assert got["AdditionalSchemaElements"] == ["RESOURCES"]


MODEL_VIOLATIONS = {
    "name with a space": ({"ReportName": "my report"}, "reportDefinition.reportName"),
    "name too long": ({"ReportName": "n" * 257}, "reportDefinition.reportName"),
    "time unit": ({"TimeUnit": "WEEKLY"}, "reportDefinition.timeUnit"),
    "format": ({"Format": "csv"}, "reportDefinition.format"),
    "compression": ({"Compression": "BZIP2"}, "reportDefinition.compression"),
    "schema element": ({"AdditionalSchemaElements": ["TAGS"]}, "additionalSchemaElements"),
    "artifact": ({"AdditionalArtifacts": ["GLUE"]}, "additionalArtifacts"),
    "region": ({"S3Region": "mars-north-1"}, "reportDefinition.s3Region"),
    "prefix with a space": ({"S3Prefix": "a b"}, "reportDefinition.s3Prefix"),
    "bucket": ({"S3Bucket": "bad/bucket"}, "reportDefinition.s3Bucket"),
    "versioning": ({"ReportVersioning": "KEEP"}, "reportDefinition.reportVersioning"),
    "billing view too long": ({"BillingViewArn": "b" * 129}, "reportDefinition.billingViewArn"),
    "missing prefix": ({"S3Prefix": None}, "reportDefinition.s3Prefix"),
    "missing schema elements": (
        {"AdditionalSchemaElements": None},
        "reportDefinition.additionalSchemaElements",
    ),
}


@pytest.mark.parametrize(("change", "path"), MODEL_VIOLATIONS.values(), ids=list(MODEL_VIOLATIONS))
def test_model_constraints_are_enforced(raw: Any, change: dict[str, Any], path: str) -> None:
    report = {**definition("model"), **change}
    report = {k: v for k, v in report.items() if v is not None}
    code, message, status = error_of(raw.put_report_definition, ReportDefinition=report)
    assert (code, status) == ("ValidationException", 400)
    assert path in message


def test_refresh_closed_reports_must_be_a_boolean(raw: Any) -> None:
    code, _, _ = error_of(
        raw.put_report_definition, ReportDefinition=definition("b", RefreshClosedReports="yes")
    )
    assert code == "SerializationException"


def test_billing_view_of_another_account_is_not_found(cur: Any) -> None:
    arn = "arn:aws:billing::999999999999:billingview/primary"
    code, message, _ = error_of(
        cur.put_report_definition, ReportDefinition=definition("bv", BillingViewArn=arn)
    )
    assert (code, message) == ("ResourceNotFoundException", f"Billing view {arn} not found.")


def test_billing_group_view_of_the_caller_is_accepted(cur: Any, account: str) -> None:
    arn = f"arn:aws:billing::{account}:billingview/billing-group-123456789012"
    cur.put_report_definition(ReportDefinition=definition("bg", BillingViewArn=arn))
    assert reports(cur)["bg"]["BillingViewArn"] == arn


# -- accounts ---------------------------------------------------------------------------


def test_accounts_never_see_each_others_reports(server: ServerProcess) -> None:
    one = make_client(server.endpoint, "cur", "111111111111")
    two = make_client(server.endpoint, "cur", "222222222222")
    one.put_report_definition(
        ReportDefinition=definition("shared-name"), Tags=[{"Key": "o", "Value": "1"}]
    )
    assert "shared-name" not in reports(two)
    two.put_report_definition(ReportDefinition=definition("shared-name", TimeUnit="HOURLY"))
    assert reports(one)["shared-name"]["TimeUnit"] == "DAILY"
    assert two.list_tags_for_resource(ReportName="shared-name")["Tags"] == []
    two.delete_report_definition(ReportName="shared-name")
    assert "shared-name" in reports(one)
    assert (
        error_of(two.delete_report_definition, ReportName="shared-name")[0] == "ValidationException"
    )


# -- AWS CLI ----------------------------------------------------------------------------


def test_cli_round_trip(server: ServerProcess, tmp_path: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "333333333333"}

    def aws(*args: str, **kw: Any) -> Any:
        return run_cli(server.endpoint, "cur", *args, env=env, **kw)

    spec = tmp_path / "report.json"
    spec.write_text(
        '{"ReportName": "cli-report", "TimeUnit": "HOURLY", "Format": "textORcsv", '
        '"Compression": "ZIP", "AdditionalSchemaElements": ["RESOURCES"], '
        '"S3Bucket": "cli-bucket", "S3Prefix": "cur", "S3Region": "us-east-1", '
        '"AdditionalArtifacts": ["REDSHIFT", "QUICKSIGHT"]}'
    )
    aws("put-report-definition", "--report-definition", f"file://{spec}", "--tags", "Key=a,Value=1")
    listed = aws("describe-report-definitions")["ReportDefinitions"]
    assert [r["ReportName"] for r in listed] == ["cli-report"]
    assert listed[0]["AdditionalArtifacts"] == ["REDSHIFT", "QUICKSIGHT"]
    spec.write_text(spec.read_text().replace('"cur"', '"cur2"'))
    aws(
        "modify-report-definition",
        "--report-name",
        "cli-report",
        "--report-definition",
        f"file://{spec}",
    )
    assert aws("describe-report-definitions")["ReportDefinitions"][0]["S3Prefix"] == "cur2"
    aws("tag-resource", "--report-name", "cli-report", "--tags", "Key=b,Value=2")
    aws("untag-resource", "--report-name", "cli-report", "--tag-keys", "a")
    tags = aws("list-tags-for-resource", "--report-name", "cli-report")["Tags"]
    assert tags == [{"Key": "b", "Value": "2"}]
    deleted = aws("delete-report-definition", "--report-name", "cli-report")
    assert deleted == {"ResponseMessage": "Report cli-report was deleted."}
    failed = aws("delete-report-definition", "--report-name", "cli-report", check=False)
    assert failed.returncode != 0 and "ValidationException" in failed.stderr
    duplicate = [
        aws("put-report-definition", "--report-definition", f"file://{spec}", check=False)
        for _ in range(2)
    ][1]
    assert "DuplicateReportNameException" in duplicate.stderr


# -- persistence ------------------------------------------------------------------------


def test_reports_tags_and_tokens_survive_a_restart(tmp_path: Path) -> None:
    env = {"FLOCI_SERVICES_CUR_EMIT_MODE": "off", "BCM_LOCAL_CUR_REPORT_LIMIT": "10"}
    with ServerProcess(data_dir=tmp_path, env=env) as first:
        cur = make_client(first.endpoint, "cur", "444444444444")
        for i in range(7):
            cur.put_report_definition(ReportDefinition=definition(f"keep{i}"))
        cur.tag_resource(ReportName="keep3", Tags=[{"Key": "persist", "Value": "yes"}])
        token = cur.describe_report_definitions()["NextToken"]
    with ServerProcess(data_dir=tmp_path, env=env) as second:
        cur = make_client(second.endpoint, "cur", "444444444444")
        assert list(reports(cur)) == [f"keep{i}" for i in range(7)]
        assert cur.list_tags_for_resource(ReportName="keep3")["Tags"] == [
            {"Key": "persist", "Value": "yes"}
        ]
        rest = cur.describe_report_definitions(NextToken=token)["ReportDefinitions"]
        assert [r["ReportName"] for r in rest] == ["keep5", "keep6"]
        error = error_of(cur.put_report_definition, ReportDefinition=definition("keep0"))
        assert error[0] == "DuplicateReportNameException"
